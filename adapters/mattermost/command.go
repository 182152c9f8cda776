package mattermost

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// commandCall is the outgoing request of a slash command, as Mattermost
// sends it: a form with these fields, the token also in
// "Authorization: Token <token>".
type commandCall struct {
	Token       string
	TeamID      string
	TeamDomain  string
	ChannelID   string
	ChannelName string
	UserID      string
	UserName    string
	Command     string // "/" + trigger
	Text        string // what followed the trigger
	ResponseURL string
	TriggerID   string
	RootID      string // the thread the command was typed in
}

// decodeCommand reads a slash command's form body. It checks nothing but
// the encoding: the token is verified by the caller, before the fields.
func decodeCommand(body []byte, authorization string) (commandCall, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return commandCall{}, fmt.Errorf("malformed form body: %w", err)
	}
	get := func(k string) string { return strings.ToValidUTF8(form.Get(k), "\uFFFD") }
	c := commandCall{
		Token: form.Get("token"), TeamID: get("team_id"), TeamDomain: get("team_domain"),
		ChannelID: get("channel_id"), ChannelName: get("channel_name"),
		UserID: get("user_id"), UserName: get("user_name"),
		Command: get("command"), Text: get("text"),
		ResponseURL: form.Get("response_url"), TriggerID: get("trigger_id"), RootID: get("root_id"),
	}
	if c.Token == "" {
		if scheme, tok, ok := strings.Cut(authorization, " "); ok && strings.EqualFold(scheme, "Token") {
			c.Token = strings.TrimSpace(tok)
		}
	}
	return c, nil
}

// missing names the fields a command cannot be answered without.
func (c commandCall) missing() []string {
	var out []string
	for _, f := range []struct{ name, v string }{
		{"user_id", c.UserID}, {"channel_id", c.ChannelID}, {"command", c.Command},
	} {
		if strings.TrimSpace(f.v) == "" {
			out = append(out, f.name)
		}
	}
	return out
}

// tokenOK compares the token in constant time with the registered
// command's and with MATTERMOST_COMMAND_TOKEN.
func (a *Adapter) tokenOK(got string) bool {
	a.mu.Lock()
	registered := a.cmdToken
	a.mu.Unlock()
	ok := 0
	for _, want := range []string{a.cfg.Mattermost.CommandToken, registered} {
		if want != "" {
			ok |= subtle.ConstantTimeCompare([]byte(got), []byte(want))
		}
	}
	return ok == 1 && got != ""
}

// readBody reads at most maxBody bytes, answering 413 above and 400 on a
// broken body; ok is false when it has answered.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read request body", http.StatusBadRequest)
		}
		return nil, false
	}
	return body, true
}

// serveCommand answers POST /mattermost/command. A wrong or missing token
// gets 401 and nothing else happens: no command runs, nothing is audited.
// The answer is JSON (model.CommandResponse); work that takes longer than
// SlowAfter is acknowledged at once and answered through response_url.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	call, err := decodeCommand(body, r.Header.Get("Authorization"))
	if err != nil {
		http.Error(w, "malformed slash command request", http.StatusBadRequest)
		return
	}
	if !a.tokenOK(call.Token) && !(a.reloadCommandToken(r.Context()) && a.tokenOK(call.Token)) {
		a.log.Warn("slash command refused: wrong or missing token", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if m := call.missing(); len(m) > 0 {
		http.Error(w, "missing field(s): "+strings.Join(m, ", "), http.StatusBadRequest)
		return
	}
	req := &bot.Request{
		ID: bot.NewRequestID(), Platform: bot.Mattermost,
		Channel: call.ChannelID, ThreadRef: call.RootID,
		User: bot.User{ID: call.UserID, Name: call.UserName, Team: call.TeamID},
		Text: call.Text, Time: time.Now(),
	}
	// Lines about the request carry its id, platform and user; the work
	// outlives the HTTP request when it is slow: its context does not end
	// with the request, only with maxWork.
	lctx := bot.WithRequestLog(context.WithoutCancel(r.Context()), req)
	work, cancel := context.WithTimeout(lctx, maxWork)
	done := make(chan *bot.Message, 1)
	a.inflight.Go(func() {
		defer cancel()
		req.Role = a.role(work, call.UserID, call.ChannelID)
		done <- a.mux.Serve(work, req)
	})

	hook := a.usableResponseURL(call.ResponseURL)
	patience := a.slowAfter
	if hook == "" {
		patience = syncWait // nowhere to answer later: keep Mattermost waiting instead
	}
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case m := <-done:
		writeJSON(w, a.commandResponse(m))
		a.log.DebugContext(lctx, "slash command answered", "channel", call.ChannelID)
		return
	case <-timer.C:
	case <-r.Context().Done():
	}
	if hook == "" {
		a.log.ErrorContext(lctx, "slash command still running and its response_url is not on MATTERMOST_URL; answering that it timed out", "response_url_host", hostOf(call.ResponseURL))
		writeJSON(w, a.commandResponse(bot.Errorf("This is taking too long. Please try again in a minute.")))
		return
	}
	writeJSON(w, &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: "Working on it…", SkipSlackParsing: true})
	a.inflight.Go(func() {
		m := <-done
		a.answerLater(lctx, hook, a.commandResponse(m))
	})
}

// usableResponseURL returns the response_url if it is on the Mattermost
// server the bot is configured for, and "" otherwise: the bot never posts
// an answer, which may hold mission contacts, to a host named in a request.
func (a *Adapter) usableResponseURL(raw string) string {
	if raw == "" || a.server == nil {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Scheme != a.server.Scheme || !strings.EqualFold(u.Host, a.server.Host) {
		return ""
	}
	base := strings.TrimSuffix(a.server.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, base) || strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return ""
	}
	return u.String()
}

// answerLater posts a late answer to the command's response_url; ctx
// carries the request's log attributes.
func (a *Adapter) answerLater(ctx context.Context, hook string, resp *model.CommandResponse) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	body, err := json.Marshal(resp)
	if err != nil {
		a.log.ErrorContext(ctx, "encode late answer", "err", err)
		return
	}
	err = a.call(ctx, "post to response_url", func(ctx context.Context) (*model.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := a.httpc.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		if res.StatusCode/100 != 2 {
			return model.BuildResponse(res), fmt.Errorf("HTTP %s", res.Status)
		}
		return model.BuildResponse(res), nil
	})
	if err != nil {
		a.log.ErrorContext(ctx, "late answer not delivered", "err", err)
		return
	}
	a.log.DebugContext(ctx, "slash command answered through response_url")
}

// writeJSON answers with v. HTML escaping is off: "<" in an answer is
// Markdown-escaped text, and \u003c would only make it harder to read.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}
