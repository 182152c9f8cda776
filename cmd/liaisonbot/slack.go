package main

import (
	"context"
	"net/http"

	slackadapter "liaisonbot/adapters/slack"
	"liaisonbot/bot"
)

func init() {
	platforms = append(platforms, platform{name: "slack", start: startSlack})
}

// startSlack wires the Slack adapter: HTTP endpoints when a signing secret
// is set, Socket Mode when an app token is. Neither set: Slack is off.
func startSlack(ctx context.Context, a *app, mux *http.ServeMux) (bot.Adapter, error) {
	s := a.cfg.Slack
	if s.SigningSecret == "" && s.AppToken == "" {
		return nil, nil
	}
	ad, err := slackadapter.New(slackadapter.Options{
		Config: a.cfg,
		Mux:    a.mux,
		Store:  a.store,
		Logger: a.log,

		OnRateLimit: a.metrics.RateLimited(bot.Slack),
	})
	if err != nil {
		return nil, err
	}
	ad.Register(mux)
	return ad, nil
}
