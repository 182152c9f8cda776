package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"liaisonbot/internal/backoff"

	"github.com/mattermost/mattermost/server/public/model"
)

// start checks the bot account, resolves the teams and registers the slash
// command, retrying with backoff until it works or ctx ends. Meanwhile
// Ready says why the adapter is not ready; the HTTP handlers already answer
// with the tokens known from the environment and the store.
func (a *Adapter) start(ctx context.Context) error {
	bo := backoff.Backoff{Min: time.Second, Max: time.Minute}
	for attempt := 1; ; attempt++ {
		err := a.connect(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.setReady(fmt.Errorf("cannot start: %w", err))
		a.log.Warn("mattermost start-up failed, will retry", "err", err, "attempt", attempt)
		if err := a.wait(ctx, bo.Next()); err != nil {
			return err
		}
	}
}

func (a *Adapter) connect(ctx context.Context) error {
	// Read the stored cursors again: with replicas, another one may have
	// followed the channels since this adapter was made, and the catch-up
	// must start where it stopped (a channel with no cursor in memory would
	// otherwise be followed from now, missing what came in between).
	if err := a.loadCursors(ctx); err != nil {
		return err
	}
	var me *model.User
	err := a.call(ctx, "check bot token (GET /users/me)", func(ctx context.Context) (r *model.Response, err error) {
		me, r, err = a.client.GetMe(ctx, "")
		return r, err
	})
	if err != nil {
		if statusIs(err, http.StatusUnauthorized) {
			return fmt.Errorf("MATTERMOST_BOT_TOKEN was refused by %s: create a new token for the bot account: %w", a.cfg.Mattermost.URL, err)
		}
		return err
	}
	if !me.IsBot {
		a.log.Info("the token belongs to a user account, not a bot account; posts will show that user", "user", me.Username)
	}
	a.mu.Lock()
	a.botID = me.Id
	a.mu.Unlock()

	if err := a.resolveTeams(ctx); err != nil {
		return err
	}
	if err := a.ensureCommand(ctx); err != nil {
		return err
	}
	a.checkWatched(ctx)
	a.log.Info("mattermost bot account ready", "bot", me.Username, "team", a.cfg.Mattermost.Team, "watched_channels", len(a.watched))
	return nil
}

// resolveTeams turns MATTERMOST_TEAM and mattermost.internal_teams (names
// or ids) into team ids. A name that matches no team is logged and
// skipped; failures to reach the server are returned, to retry.
func (a *Adapter) resolveTeams(ctx context.Context) error {
	mm := a.cfg.Mattermost
	var teamID, teamName string
	if mm.Team == "" {
		a.log.Error("MATTERMOST_TEAM is not set: the bot cannot register its slash command, and only mattermost.internal_teams make agents")
	} else {
		t, err := a.team(ctx, mm.Team)
		switch {
		case errors.Is(err, errNoTeam):
			return fmt.Errorf("MATTERMOST_TEAM %q: no such team, or the bot account is not a member of it", mm.Team)
		case err != nil:
			return err
		}
		teamID, teamName = t.Id, t.Name
	}
	names := mm.InternalTeams
	if len(names) == 0 && mm.Team != "" {
		names = []string{mm.Team} // the division's own team
	}
	var internal []string
	for _, name := range names {
		t, err := a.team(ctx, name)
		switch {
		case errors.Is(err, errNoTeam):
			a.log.Error("mattermost.internal_teams: no such team, or the bot account is not a member of it; its members will not be agents", "team", name)
			continue
		case err != nil:
			return err
		}
		internal = append(internal, t.Id)
	}
	a.mu.Lock()
	a.teamID, a.teamName, a.internal, a.resolved = teamID, teamName, internal, true
	a.mu.Unlock()
	return nil
}

var errNoTeam = errors.New("no such team")

// team finds a team by name, or by id when the name is not one.
func (a *Adapter) team(ctx context.Context, nameOrID string) (*model.Team, error) {
	var t *model.Team
	err := a.call(ctx, "get team "+nameOrID, func(ctx context.Context) (r *model.Response, err error) {
		t, r, err = a.client.GetTeamByName(ctx, nameOrID, "")
		return r, err
	})
	if err == nil {
		return t, nil
	}
	if !statusIs(err, http.StatusNotFound) && !statusIs(err, http.StatusForbidden) {
		return nil, err
	}
	if !model.IsValidId(nameOrID) {
		return nil, errNoTeam
	}
	err = a.call(ctx, "get team "+nameOrID, func(ctx context.Context) (r *model.Response, err error) {
		t, r, err = a.client.GetTeam(ctx, nameOrID, "")
		return r, err
	})
	if statusIs(err, http.StatusNotFound) || statusIs(err, http.StatusForbidden) {
		return nil, errNoTeam
	}
	return t, err
}

// ensureCommand registers the slash command in the team unless it is
// there already, and keeps its token. When the bot may not manage slash
// commands, or does not know its public URL, it says how to register the
// command by hand and carries on: MATTERMOST_COMMAND_TOKEN then verifies
// the calls.
func (a *Adapter) ensureCommand(ctx context.Context) error {
	a.mu.Lock()
	teamID := a.teamID
	a.mu.Unlock()
	if teamID == "" {
		return nil // reported by resolveTeams
	}
	if a.cfg.PublicURL == "" {
		a.manualRegistration("LIAISON_PUBLIC_URL is not set, so the bot cannot tell Mattermost where to reach it")
		return nil
	}
	want := a.cfg.PublicURL + CommandPath
	trigger := a.cfg.Command
	var cmds []*model.Command
	err := a.call(ctx, "list slash commands", func(ctx context.Context) (r *model.Response, err error) {
		cmds, r, err = a.client.ListCommands(ctx, teamID, true)
		return r, err
	})
	if statusIs(err, http.StatusForbidden) {
		a.manualRegistration("the bot account may not manage slash commands in team " + a.cfg.Mattermost.Team + " (403)")
		return nil
	}
	if err != nil {
		return err
	}
	for _, c := range cmds {
		if c.Trigger != trigger || c.DeleteAt != 0 {
			continue
		}
		if c.URL != want {
			a.log.Error("a slash command with this trigger already exists and calls another URL; change its request URL in Integrations → Slash Commands",
				"trigger", "/"+trigger, "its_url", c.URL, "want_url", want)
		} else {
			a.log.Info("slash command already registered", "trigger", "/"+trigger, "url", want)
		}
		// Its token is what Mattermost sends when the command is used,
		// whatever URL it calls.
		return a.saveRegistration(ctx, registration{TeamID: teamID, CommandID: c.Id, Trigger: c.Trigger, URL: c.URL, Token: c.Token})
	}
	cmd := &model.Command{
		TeamId:           teamID,
		Trigger:          trigger,
		Method:           model.CommandMethodPost,
		URL:              want,
		DisplayName:      "Liaison",
		Description:      clip("Protective Liaison Division: mission contacts, field offices, emergency numbers", 128),
		AutoComplete:     true,
		AutoCompleteHint: a.autocompleteHint(),
		AutoCompleteDesc: "Mission security contacts, the nearest DSS office, emergency numbers. Try: help",
	}
	var created *model.Command
	err = a.call(ctx, "create slash command", func(ctx context.Context) (r *model.Response, err error) {
		created, r, err = a.client.CreateCommand(ctx, cmd)
		return r, err
	})
	if statusIs(err, http.StatusForbidden) {
		a.manualRegistration("the bot account may not create slash commands in team " + a.cfg.Mattermost.Team + " (403)")
		return nil
	}
	if err != nil {
		return err
	}
	a.log.Info("slash command registered", "trigger", "/"+trigger, "url", want, "team", a.cfg.Mattermost.Team)
	return a.saveRegistration(ctx, registration{TeamID: teamID, CommandID: created.Id, Trigger: created.Trigger, URL: created.URL, Token: created.Token})
}

// autocompleteHint lists the subcommands' first words from the mux, so the
// hint Mattermost shows never names a command that does not exist.
func (a *Adapter) autocompleteHint() string {
	var words []string
	seen := map[string]bool{}
	for _, c := range a.mux.Commands() {
		w := c.Spec().Path[0]
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return clip("["+strings.Join(words, " | ")+"]", 120)
}

// manualRegistration tells the operator, once per start, how to register
// the command by hand.
func (a *Adapter) manualRegistration(reason string) {
	url := "<LIAISON_PUBLIC_URL>" + CommandPath
	if a.cfg.PublicURL != "" {
		url = a.cfg.PublicURL + CommandPath
	}
	msg := fmt.Sprintf("the /%s slash command was not registered automatically: %s. Register it by hand: in Mattermost open Integrations → Slash Commands → Add Slash Command in team %q, trigger word %q, request URL %s, request method POST; then set MATTERMOST_COMMAND_TOKEN to the token Mattermost shows and restart the bot",
		a.cfg.Command, reason, a.cfg.Mattermost.Team, a.cfg.Command, url)
	if a.cfg.Mattermost.CommandToken != "" {
		a.log.Info(msg, "command_token", "MATTERMOST_COMMAND_TOKEN is set and will be used")
		return
	}
	a.log.Error(msg)
}

// checkWatched warns about watched channels the bot cannot read: it would
// never see their thread replies.
func (a *Adapter) checkWatched(ctx context.Context) {
	for ch := range a.watched {
		err := a.call(ctx, "get channel "+ch, func(ctx context.Context) (r *model.Response, err error) {
			_, r, err = a.client.GetChannel(ctx, ch)
			return r, err
		})
		if err != nil {
			a.log.Warn("the bot cannot read a watched channel: add the bot account to it, or fix the channel id in the configuration", "channel", ch, "err", err)
		}
	}
}

// statusIs reports whether err is a REST failure with that HTTP status.
func statusIs(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status == status
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
