package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"liaisonbot/bot"
)

// envelope is the outer Events API payload: url_verification, or an
// event_callback around one event.
type envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	TeamID    string `json:"team_id"` // the workspace the event was delivered for
	APIAppID  string `json:"api_app_id"`
	EventID   string `json:"event_id"`
	EventTime int64  `json:"event_time"`
	// IsExtSharedChannel marks a Slack Connect channel: its messages may
	// come from people of other organisations.
	IsExtSharedChannel bool            `json:"is_ext_shared_channel"`
	Authorizations     []authorization `json:"authorizations"`
	Event              *messageEvent   `json:"event"`
}

type authorization struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	IsBot  bool   `json:"is_bot"`
}

// messageEvent is a message event (https://docs.slack.dev/reference/events/message)
// with the subtypes the bot follows.
type messageEvent struct {
	Type      string `json:"type"`
	Subtype   string `json:"subtype"`
	Channel   string `json:"channel"`
	User      string `json:"user"`
	BotID     string `json:"bot_id"`
	Text      string `json:"text"`
	TS        string `json:"ts"`
	ThreadTS  string `json:"thread_ts"`
	EventTS   string `json:"event_ts"`
	Team      string `json:"team"`
	UserTeam  string `json:"user_team"`   // Slack Connect: the poster's workspace
	Source    string `json:"source_team"` // Slack Connect: where it was posted from
	DeletedTS string `json:"deleted_ts"`
	// Message is the message after an edit (message_changed);
	// PreviousMessage is it before the edit or the deletion.
	Message         *innerMessage `json:"message"`
	PreviousMessage *innerMessage `json:"previous_message"`
}

type innerMessage struct {
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
	Team     string `json:"team"`
	UserTeam string `json:"user_team"`
}

// decodeEnvelope reads an Events API body (HTTP) or payload (Socket Mode).
func decodeEnvelope(data []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return envelope{}, fmt.Errorf("events payload: %w", err)
	}
	if env.Type == "" {
		return envelope{}, errors.New("events payload without a type")
	}
	if len(env.EventID) > maxEventID {
		return envelope{}, errors.New("events payload with an oversized event_id")
	}
	return env, nil
}

// toEvent turns a message event into a bot.Event; ok is false for what the
// bot does not follow (joins, topic changes, edits that change no text).
func (a *Adapter) toEvent(env envelope) (bot.Event, bool) {
	m := env.Event
	if m == nil || m.Type != "message" || m.Channel == "" {
		return bot.Event{}, false
	}
	ev := bot.Event{Platform: bot.Slack, Channel: m.Channel, Time: slackTime(m.TS, m.EventTS)}
	var who innerMessage
	switch m.Subtype {
	case "", "thread_broadcast", "bot_message", "file_share", "me_message":
		ev.Kind = bot.EventPosted
		who = innerMessage{User: m.User, BotID: m.BotID, Text: m.Text, TS: m.TS, ThreadTS: m.ThreadTS, Team: m.Team, UserTeam: m.UserTeam}
	case "message_changed":
		if m.Message == nil {
			return bot.Event{}, false
		}
		// Slack also reports unfurls and reply counts as changes.
		if m.PreviousMessage != nil && m.PreviousMessage.Text == m.Message.Text {
			return bot.Event{}, false
		}
		ev.Kind = bot.EventEdited
		who = *m.Message
	case "message_deleted":
		ev.Kind = bot.EventDeleted
		if m.PreviousMessage != nil {
			who = *m.PreviousMessage
		}
		who.TS = m.DeletedTS
		who.Text = ""
	default:
		return bot.Event{}, false
	}
	if who.TS == "" {
		return bot.Event{}, false
	}
	ev.MessageID = who.TS
	ev.ThreadRef = who.ThreadTS // the root's ts; equal to MessageID on a root
	ev.Text = plainText(who.Text)
	team := who.UserTeam
	if team == "" && m.Subtype == "" {
		team = m.Source
	}
	if team == "" {
		team = who.Team
	}
	if team == "" && !env.IsExtSharedChannel {
		team = env.TeamID // an unshared channel holds only the workspace's own people
	}
	ev.User = bot.User{ID: who.User, Team: team}
	self := a.identity().UserID
	if self == "" {
		self = botUser(env)
	}
	ev.FromBot = who.BotID != "" || (who.User != "" && who.User == self)
	if !ev.FromBot && who.User != "" {
		ev.Role = a.role(asker{Channel: m.Channel, UserID: who.User, UserTeam: team, HomeTeam: env.TeamID})
	}
	return ev, true
}

// botUser is the installation's bot user named in the envelope.
func botUser(env envelope) string {
	for _, au := range env.Authorizations {
		if au.IsBot {
			return au.UserID
		}
	}
	return ""
}

// slackTime reads a Slack timestamp ("1355517523.000005"), trying each in
// turn; the zero time when none reads.
func slackTime(candidates ...string) time.Time {
	for _, ts := range candidates {
		sec, frac, _ := strings.Cut(ts, ".")
		s, err := strconv.ParseInt(sec, 10, 64)
		if err != nil || s <= 0 {
			continue
		}
		var ns int64
		if frac != "" {
			if len(frac) > 9 {
				frac = frac[:9]
			}
			f, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			if err == nil {
				ns = f
			}
		}
		return time.Unix(s, ns).UTC()
	}
	return time.Time{}
}

// handleEvents serves POST /slack/events.
func (a *Adapter) handleEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	env, err := decodeEnvelope(body)
	if err != nil {
		a.log.Warn("bad events payload", "err", err)
		http.Error(w, "bad events payload", http.StatusBadRequest)
		return
	}
	switch env.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, env.Challenge)
	case "event_callback":
		retry := r.Header.Get("X-Slack-Retry-Num")
		if err := a.acceptEvent(r.Context(), env, retry); err != nil {
			// Not recorded, not dispatched: let Slack deliver it again.
			a.log.Error("event not recorded", "event_id", env.EventID, "err", err)
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "app_rate_limited":
		a.log.Warn("slack is dropping events: the app exceeded its event rate limit")
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// acceptEvent dedupes an event_callback and queues it for dispatch. It
// returns quickly: Slack wants its 200 within 3 seconds, and handlers may
// post or write to the store. An error means the event was not recorded.
func (a *Adapter) acceptEvent(ctx context.Context, env envelope, retry string) error {
	if self := botUser(env); self != "" && a.identity().UserID == "" {
		a.self.CompareAndSwap(nil, &identity{UserID: self, TeamID: env.TeamID})
	}
	ev, ok := a.toEvent(env)
	if !ok {
		return nil
	}
	if env.EventID != "" {
		seen, err := a.dedupe.mark(ctx, env.EventID)
		if err != nil {
			return err
		}
		if seen {
			a.log.Debug("duplicate event skipped", "event_id", env.EventID, "retry", retry)
			return nil
		}
	}
	select {
	case a.events <- ev:
	default:
		// The queue is full: dispatch here rather than drop it. The
		// delay pushes back on Slack, which is what a full queue asks for.
		a.dispatch(context.WithoutCancel(ctx), ev)
	}
	return nil
}

// dispatchLoop hands queued events to the Mux one at a time, in the order
// they came, until ctx ends; then it dispatches what is still queued.
func (a *Adapter) dispatchLoop(ctx context.Context) {
	for {
		select {
		case ev := <-a.events:
			// A handler already running finishes even as Run stops.
			a.dispatch(context.WithoutCancel(ctx), ev)
		case <-ctx.Done():
			a.drainEvents(ctx)
			return
		}
	}
}

// drainEvents dispatches what is queued at shutdown, within drainTimeout.
func (a *Adapter) drainEvents(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	for {
		select {
		case ev := <-a.events:
			a.dispatch(ctx, ev)
		default:
			return
		}
	}
}

// eventTimeout bounds one event's handlers.
const eventTimeout = 30 * time.Second

func (a *Adapter) dispatch(ctx context.Context, ev bot.Event) {
	ctx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic in event handler", "message", ev.MessageID, "panic", fmt.Sprint(p))
		}
	}()
	if err := a.mux.DispatchEvent(ctx, ev); err != nil {
		a.log.Error("event handler failed", "channel", ev.Channel, "message", ev.MessageID, "user", ev.User.ID, "err", err)
	}
}
