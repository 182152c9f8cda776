package mmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// The server's side of integrations: calling a slash command's URL,
// pressing an interactive button, and receiving on a command's response_url.

// hook is a response_url the server handed to a command: it lives 30
// minutes and takes 5 posts.
type hook struct {
	channelID, userID, rootID string
	created                   time.Time
	uses                      int
}

// HookCall is one post to a response_url.
type HookCall struct {
	HookID    string
	ChannelID string
	UserID    string
	Response  *model.CommandResponse
}

// Invocation is a slash command typed by a user.
type Invocation struct {
	UserID    string
	ChannelID string
	RootID    string // the thread it was typed in, if any
	Trigger   string // without the slash; default "liaison"
	Text      string // what follows the trigger
	Token     string // overrides the registered token (tests of a wrong one)
}

// Result is what the integration answered.
type Result struct {
	Status   int
	Header   http.Header
	Body     []byte
	Response *model.CommandResponse // decoded when Status is 200
}

// CommandForm builds the outgoing request body of a slash command as the
// server does (app/command.go): the same fields, a response_url hook.
func (s *Server) CommandForm(inv Invocation) (*model.Command, url.Values, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	trigger := inv.Trigger
	if trigger == "" {
		trigger = "liaison"
	}
	ch, ok := s.channels[inv.ChannelID]
	if !ok {
		return nil, nil, fmt.Errorf("mmtest: channel %s: %w", inv.ChannelID, errNotFound)
	}
	team := s.teams[ch.TeamId]
	user, ok := s.users[inv.UserID]
	if !ok {
		return nil, nil, fmt.Errorf("mmtest: user %s: %w", inv.UserID, errNotFound)
	}
	var cmd *model.Command
	for _, c := range s.commands {
		if c.TeamId == team.Id && c.Trigger == trigger && c.DeleteAt == 0 {
			cmd = c
		}
	}
	if cmd == nil {
		return nil, nil, fmt.Errorf("mmtest: no /%s command in team %s", trigger, team.Name)
	}
	hookID := model.NewId()
	s.hooks[hookID] = &hook{channelID: ch.Id, userID: user.Id, rootID: inv.RootID, created: time.Now()}
	token := cmd.Token
	if inv.Token != "" {
		token = inv.Token
	}
	form := url.Values{}
	form.Set("token", token)
	form.Set("team_id", team.Id)
	form.Set("team_domain", team.Name)
	form.Set("channel_id", ch.Id)
	form.Set("channel_name", ch.Name)
	form.Set("user_id", user.Id)
	form.Set("user_name", user.Username)
	form.Set("command", "/"+trigger)
	form.Set("text", inv.Text)
	form.Set("trigger_id", model.NewId())
	form.Set("root_id", inv.RootID)
	form.Set("response_url", s.URL+"/hooks/commands/"+hookID)
	cc := *cmd
	return &cc, form, nil
}

// Execute runs a slash command the way the server does: it POSTs the form
// to the command's URL with "Authorization: Token <token>" and reads the
// answer as a CommandResponse when it is JSON.
func (s *Server) Execute(ctx context.Context, inv Invocation) (*Result, error) {
	cmd, form, err := s.CommandForm(inv)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cmd.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("mmtest: execute: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Token "+form.Get("token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doIntegration(req)
}

func doIntegration(req *http.Request) (*Result, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mmtest: integration request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("mmtest: integration response: %w", err)
	}
	res := &Result{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if resp.StatusCode == http.StatusOK {
		cr, err := model.CommandResponseFromHTTPBody(resp.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			return res, fmt.Errorf("mmtest: decode command response: %w", err)
		}
		res.Response = cr
	}
	return res, nil
}

// Click is a user pressing an interactive button.
type Click struct {
	UserID    string
	ChannelID string
	PostID    string
	Action    *model.PostAction
}

// DoAction presses a button as the server does (DoPostAction): it POSTs a
// PostActionIntegrationRequest carrying the action's context to the
// action's integration URL and decodes a PostActionIntegrationResponse.
func (s *Server) DoAction(ctx context.Context, c Click) (int, *model.PostActionIntegrationResponse, error) {
	if c.Action == nil || c.Action.Integration == nil {
		return 0, nil, fmt.Errorf("mmtest: action without integration")
	}
	s.mu.Lock()
	ch := s.channels[c.ChannelID]
	user := s.users[c.UserID]
	s.mu.Unlock()
	if ch == nil || user == nil {
		return 0, nil, fmt.Errorf("mmtest: unknown channel or user: %w", errNotFound)
	}
	s.mu.Lock()
	team := s.teams[ch.TeamId]
	s.mu.Unlock()
	body, err := json.Marshal(&model.PostActionIntegrationRequest{
		UserId: user.Id, UserName: user.Username, ChannelId: ch.Id, ChannelName: ch.Name,
		TeamId: team.Id, TeamName: team.Name, PostId: c.PostID, TriggerId: model.NewId(),
		Type: c.Action.Type, Context: c.Action.Integration.Context,
	})
	if err != nil {
		return 0, nil, fmt.Errorf("mmtest: encode action: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Action.Integration.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("mmtest: action: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("mmtest: action request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	var out model.PostActionIntegrationResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("mmtest: decode action response: %w", err)
	}
	return resp.StatusCode, &out, nil
}

// Actions returns the interactive buttons of a post's or a command
// response's props (props.attachments[].actions), in order.
func Actions(props map[string]any) []*model.PostAction {
	raw, ok := props[model.PostPropsAttachments]
	if !ok {
		return nil
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var atts []*model.MessageAttachment
	if err := json.Unmarshal(js, &atts); err != nil {
		return nil
	}
	var out []*model.PostAction
	for _, a := range atts {
		out = append(out, a.Actions...)
	}
	return out
}

// commandHook is a command's response_url: each post is recorded and, like
// the server, refused once the hook has expired or been used 5 times.
func (s *Server) commandHook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	resp, err := model.CommandResponseFromHTTPBody(r.Header.Get("Content-Type"), r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hooks[id]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "app.command_webhook.get.missing", "The webhook could not be found.")
		return
	case s.hookExpired(h):
		writeError(w, http.StatusBadRequest, "app.command_webhook.try_use.invalid", "Invalid webhook.")
		return
	case err != nil || resp == nil:
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid command response.")
		return
	}
	h.uses++
	s.hookCalls = append(s.hookCalls, HookCall{HookID: id, ChannelID: h.channelID, UserID: h.userID, Response: resp})
	s.notifyLocked()
	w.WriteHeader(http.StatusOK)
}

// HookCalls returns the posts made to response_url hooks.
func (s *Server) HookCalls() []HookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hookCalls)
}
