package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"liaisonbot/bot"
)

// slashCommand is what Slack sends when someone types /liaison: form fields
// over HTTP, the same names as JSON over Socket Mode. The deprecated
// verification token is not kept: the signature is what is checked.
type slashCommand struct {
	TeamID         string `json:"team_id"`
	TeamDomain     string `json:"team_domain"`
	EnterpriseID   string `json:"enterprise_id"`
	EnterpriseName string `json:"enterprise_name"`
	ChannelID      string `json:"channel_id"`
	ChannelName    string `json:"channel_name"`
	UserID         string `json:"user_id"`
	UserName       string `json:"user_name"`
	// UserTeam is not in Slack's documented payload; should Slack send it
	// (as it does in shared-channel events) it names the person's own
	// workspace, which team_id may not.
	UserTeam    string `json:"user_team"`
	Command     string `json:"command"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
	APIAppID    string `json:"api_app_id"`
}

// errSSLCheck is Slack checking the endpoint's certificate
// (ssl_check=1): it wants a 200 and nothing more.
var errSSLCheck = errors.New("ssl_check")

// decodeSlashCommand reads the form-encoded body of a slash command. It
// reads the fields it knows in one pass instead of building a url.Values of
// every field: this is on the path of every command. A value without
// escapes is a substring of one copy of the body; the escaped ones are
// unescaped into one buffer that becomes one string, so a command costs
// two allocations here however many of its fields are escaped. Fields are
// gathered by number in arrays on the stack, not through pointers into the
// result, which would move it to the heap.
func decodeSlashCommand(body []byte) (slashCommand, error) {
	var values [numFormFields]string
	var taken [numFormFields]bool // a value, or an escaped one pending: a repeat does not count
	var escapedArr [numFormFields]escapedField
	escaped := escapedArr[:0]
	var unescaped []byte
	form := string(body)
	for rest := form; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		key, value, _ := strings.Cut(pair, "=")
		f := formFieldOf(key)
		if f < 0 || taken[f] || value == "" {
			continue // a field the bot does not read, or a repeat: the first non-empty counts
		}
		taken[f] = true
		// Two byte searches, not ContainsAny: they run in vector
		// instructions where ContainsAny builds a set and walks bytes.
		if strings.IndexByte(value, '%') < 0 && strings.IndexByte(value, '+') < 0 {
			values[f] = value
			continue
		}
		if unescaped == nil {
			unescaped = make([]byte, 0, len(form))
		}
		start := len(unescaped)
		var err error
		if unescaped, err = appendQueryUnescaped(unescaped, value); err != nil {
			return slashCommand{}, fmt.Errorf("slash command form, field %s: %w", key, err)
		}
		escaped = append(escaped, escapedField{f, start, len(unescaped)})
	}
	if len(escaped) > 0 {
		all := string(unescaped)
		for _, e := range escaped {
			values[e.field] = all[e.start:e.end]
		}
	}
	if values[fieldSSLCheck] == "1" && values[fieldUserID] == "" {
		return slashCommand{}, errSSLCheck
	}
	sc := slashCommand{
		TeamID: values[fieldTeamID], TeamDomain: values[fieldTeamDomain],
		EnterpriseID: values[fieldEnterpriseID], EnterpriseName: values[fieldEnterpriseName],
		ChannelID: values[fieldChannelID], ChannelName: values[fieldChannelName],
		UserID: values[fieldUserID], UserName: values[fieldUserName], UserTeam: values[fieldUserTeam],
		Command: values[fieldCommand], Text: values[fieldText], ResponseURL: values[fieldResponseURL],
		TriggerID: values[fieldTriggerID], APIAppID: values[fieldAPIAppID],
	}
	return sc, sc.check()
}

// The form fields the bot reads, by number.
const (
	fieldTeamID = iota
	fieldTeamDomain
	fieldEnterpriseID
	fieldEnterpriseName
	fieldChannelID
	fieldChannelName
	fieldUserID
	fieldUserName
	fieldUserTeam
	fieldCommand
	fieldText
	fieldResponseURL
	fieldTriggerID
	fieldAPIAppID
	fieldSSLCheck
	numFormFields
)

// formFieldOf numbers the form field key; -1 for one the bot ignores.
func formFieldOf(key string) int {
	switch key {
	case "team_id":
		return fieldTeamID
	case "team_domain":
		return fieldTeamDomain
	case "enterprise_id":
		return fieldEnterpriseID
	case "enterprise_name":
		return fieldEnterpriseName
	case "channel_id":
		return fieldChannelID
	case "channel_name":
		return fieldChannelName
	case "user_id":
		return fieldUserID
	case "user_name":
		return fieldUserName
	case "user_team":
		return fieldUserTeam
	case "command":
		return fieldCommand
	case "text":
		return fieldText
	case "response_url":
		return fieldResponseURL
	case "trigger_id":
		return fieldTriggerID
	case "api_app_id":
		return fieldAPIAppID
	case "ssl_check":
		return fieldSSLCheck
	}
	return -1
}

// escapedField is a form value waiting for the unescaped buffer to become
// a string: which field, and where it lies in the buffer.
type escapedField struct {
	field      int
	start, end int
}

// appendQueryUnescaped appends s decoded as url.QueryUnescape decodes it
// ("+" is a space, "%XX" a byte), with the same error for a bad escape.
func appendQueryUnescaped(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				bad := s[i:]
				if len(bad) > 3 {
					bad = bad[:3]
				}
				return dst, url.EscapeError(bad)
			}
			hi, _ := fromHex(s[i+1])
			lo, _ := fromHex(s[i+2])
			dst = append(dst, hi<<4|lo)
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func isHex(c byte) bool { _, ok := fromHex(c); return ok }

// decodeSlashCommandJSON reads a Socket Mode slash_commands payload. Fields
// it does not use, such as is_enterprise_install (a bool, or over Socket
// Mode a string), are not decoded.
func decodeSlashCommandJSON(payload []byte) (slashCommand, error) {
	var sc slashCommand
	if err := json.Unmarshal(payload, &sc); err != nil {
		return slashCommand{}, fmt.Errorf("slash command payload: %w", err)
	}
	return sc, sc.check()
}

func (sc slashCommand) check() error {
	if sc.UserID == "" || sc.ChannelID == "" {
		return errors.New("slash command without user_id or channel_id")
	}
	return nil
}

// commandRequest turns the command into what the Mux serves.
func (a *Adapter) commandRequest(sc slashCommand) *bot.Request {
	team := sc.UserTeam
	if team == "" {
		team = sc.TeamID
	}
	return &bot.Request{
		ID:       bot.NewRequestID(),
		Platform: bot.Slack,
		Channel:  sc.ChannelID,
		User:     bot.User{ID: sc.UserID, Name: sc.UserName, Team: team},
		Role:     a.role(asker{Channel: sc.ChannelID, UserID: sc.UserID, UserTeam: team, HomeTeam: sc.TeamID}),
		Text:     plainText(sc.Text),
		Time:     a.now(),
	}
}

// handleCommand serves POST /slack/commands.
func (a *Adapter) handleCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	sc, err := decodeSlashCommand(body)
	if errors.Is(err, errSSLCheck) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		a.log.Warn("bad slash command", "err", err)
		http.Error(w, "bad slash command", http.StatusBadRequest)
		return
	}
	// The command outlives this request when it is answered late; it is
	// not cancelled when Slack hangs up.
	ctx := context.WithoutCancel(r.Context())
	a.serveCommand(ctx, a.commandRequest(sc), sc.ResponseURL, func(rep reply, final bool) {
		// An acknowledgement must reach Slack while the command goes on;
		// a final answer leaves with the end of the handler, saving a
		// flush on the hot path.
		writeReply(w, rep, !final)
	})
}

// working is the acknowledgement of a command that takes longer than
// InlineWait; the answer follows through response_url.
var working = reply{ResponseType: "ephemeral", Text: "Working on it…"}

// serveCommand runs req and delivers the answer: through answer (the HTTP
// response or the Socket Mode ack) when ready within InlineWait; otherwise
// the adapter's watchdog gives answer "Working on it…" (final false) at
// InlineWait and the answer goes to responseURL once ready. answer is
// called exactly once. serveCommand returns when the command is answered
// either way, so a server shutting down gracefully waits for late answers
// too.
//
// The command runs on the caller's goroutine and the watchdog does the
// acknowledging, rather than the other way round: most commands answer at
// once, and a goroutine per command costs a fresh stack grown to the depth
// of the middleware chain.
func (a *Adapter) serveCommand(ctx context.Context, req *bot.Request, responseURL string, answer func(rep reply, final bool)) {
	start := time.Now()
	f := &flight{ackAt: start.Add(a.inlineWait), answer: answer}
	f.ctx.init(bot.WithRequestLog(ctx, req), start.Add(a.commandTimeout))
	defer f.ctx.cancel(context.Canceled)
	a.watchdog.add(f)
	msg := a.mux.Serve(&f.ctx, req)
	a.watchdog.remove(f)
	if !f.finish(func() reply { return replyFor(msg) }) {
		return
	}
	// A fresh bound: the command may have used most of its own.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(&f.ctx), lateTimeout)
	defer cancel()
	if err := a.answerLate(lctx, req, responseURL, msg); err != nil {
		a.log.ErrorContext(lctx, "late answer not delivered", "err", err)
	}
}

// answerLate posts an answer to the response_url; when that is refused or
// fails, and there is a bot token, it posts through the Web API instead.
func (a *Adapter) answerLate(ctx context.Context, req *bot.Request, responseURL string, msg *bot.Message) error {
	err := a.respond(ctx, responseURL, replyFor(msg))
	if err == nil || a.api == nil {
		return err
	}
	a.log.WarnContext(ctx, "response_url failed; posting through the Web API", "err", err)
	if msg.Visibility == bot.InChannel {
		_, perr := a.Post(ctx, bot.Post{Channel: req.Channel, Message: *msg})
		return perr
	}
	return a.PostEphemeral(ctx, req.Channel, req.User.ID, *msg)
}

// writeReply sends an answer as the HTTP response, at once: after
// "Working on it…" the handler goes on to answer through the response_url.
func writeReply(w http.ResponseWriter, rep reply, flush bool) {
	buf := replyBuffers.Get().(*[]byte)
	data := rep.appendJSON((*buf)[:0])
	h := w.Header()
	h["Content-Type"] = jsonContentType // set as is: the key is canonical
	h["Content-Length"] = []string{strconv.Itoa(len(data))}
	_, _ = w.Write(data) // copied into the connection's buffer: data is free after
	if flush {
		_ = http.NewResponseController(w).Flush()
	}
	if cap(data) <= 64<<10 { // keep ordinary answers' buffers, not a rare huge one
		*buf = data
		replyBuffers.Put(buf)
	}
}

// jsonContentType is shared by every answer: net/http copies a handler's
// header when it writes it, and nothing appends to it (its capacity is its
// length, so an append would copy anyway).
var jsonContentType = []string{"application/json; charset=utf-8"}

// replyBuffers recycles the JSON of inline answers: one per command was the
// largest allocation on the HTTP path.
var replyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}
