package main

import (
	"context"
	"net/http"

	"liaisonbot/adapters/mattermost"
	"liaisonbot/bot"
)

func init() {
	platforms = append(platforms, platform{name: "mattermost", start: startMattermost})
}

// startMattermost mounts /mattermost/command and /mattermost/actions and
// returns the adapter when a server URL and a bot token are configured.
// With only MATTERMOST_COMMAND_TOKEN it serves the slash command alone
// (no posts, no websocket) and returns no adapter to run.
func startMattermost(ctx context.Context, a *app, mux *http.ServeMux) (bot.Adapter, error) {
	cfg := a.cfg
	if !cfg.MattermostEnabled() && cfg.Mattermost.CommandToken == "" {
		return nil, nil
	}
	ad, err := mattermost.New(ctx, mattermost.Options{Config: cfg, Mux: a.mux, Store: a.store, Logger: a.log,
		OnRateLimit: a.metrics.RateLimited(bot.Mattermost)})
	if err != nil {
		return nil, err
	}
	ad.Register(mux)
	if !cfg.MattermostEnabled() {
		a.log.Info("mattermost: serving the slash command only (no MATTERMOST_BOT_TOKEN: no posts, no thread replies)", "platform", bot.Mattermost)
		return nil, nil
	}
	return ad, nil
}
