package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"liaisonbot/bot"
)

// interaction is the part of a block_actions payload the bot reads
// (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"` // the presser's own workspace
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	ResponseURL string   `json:"response_url"`
	Actions     []action `json:"actions"`
}

type action struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
}

// decodeInteraction reads the form-encoded body of an interaction: one
// field, payload, holding JSON.
func decodeInteraction(body []byte) (interaction, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return interaction{}, fmt.Errorf("interaction form: %w", err)
	}
	return decodeInteractionJSON([]byte(v.Get("payload")))
}

// decodeInteractionJSON reads an interaction payload (Socket Mode sends it
// as JSON directly).
func decodeInteractionJSON(payload []byte) (interaction, error) {
	var in interaction
	if err := json.Unmarshal(payload, &in); err != nil {
		return interaction{}, fmt.Errorf("interaction payload: %w", err)
	}
	if in.Type == "" {
		return interaction{}, errors.New("interaction payload without a type")
	}
	return in, nil
}

// command is the command line of the first of our buttons pressed, "" when
// the payload is not a press of one.
func (in interaction) command() string {
	if in.Type != "block_actions" {
		return ""
	}
	for _, ac := range in.Actions {
		if ac.Type == "button" && strings.HasPrefix(ac.ActionID, buttonActionBase) {
			return ac.Value
		}
	}
	return ""
}

// buttonRequest is the command a button runs, as if the presser had typed it.
func (a *Adapter) buttonRequest(in interaction) (*bot.Request, bool) {
	line := in.command()
	channel := in.Channel.ID
	if channel == "" {
		channel = in.Container.ChannelID
	}
	if line == "" || in.User.ID == "" || channel == "" {
		return nil, false
	}
	team := in.User.TeamID
	if team == "" {
		team = in.Team.ID
	}
	name := in.User.Username
	if name == "" {
		name = in.User.Name
	}
	return &bot.Request{
		ID:       bot.NewRequestID(),
		Platform: bot.Slack,
		Channel:  channel,
		User:     bot.User{ID: in.User.ID, Name: name, Team: team},
		Role:     a.role(asker{Channel: channel, UserID: in.User.ID, UserTeam: team, HomeTeam: in.Team.ID}),
		Text:     line,
		Time:     a.now(),
	}, true
}

// handleInteraction serves POST /slack/interactions: it acknowledges at
// once and answers through the payload's response_url.
func (a *Adapter) handleInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	in, err := decodeInteraction(body)
	if err != nil {
		a.log.Warn("bad interaction payload", "err", err)
		http.Error(w, "bad interaction payload", http.StatusBadRequest)
		return
	}
	a.pressed(context.WithoutCancel(r.Context()), in)
	w.WriteHeader(http.StatusOK)
}

// pressed runs a button's command in the background and posts the answer,
// ephemeral, next to the message whose button was pressed.
func (a *Adapter) pressed(ctx context.Context, in interaction) {
	req, ok := a.buttonRequest(in)
	if !ok {
		return
	}
	a.inflight.Go(func() {
		ctx, cancel := context.WithTimeout(bot.WithRequestLog(ctx, req), commandTimeout)
		defer cancel()
		msg := a.mux.Serve(ctx, req)
		rep := replyFor(msg)
		rep.ResponseType = "ephemeral"
		if err := a.respond(ctx, in.ResponseURL, rep); err != nil {
			a.log.ErrorContext(ctx, "button answer not delivered", "err", err)
			if a.api != nil {
				if err := a.PostEphemeral(ctx, req.Channel, req.User.ID, *msg); err != nil {
					a.log.ErrorContext(ctx, "button answer not delivered through the Web API either", "err", err)
				}
			}
		}
	})
}
