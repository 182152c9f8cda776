package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
)

// messageEnvelope is an event_callback around a message event, shaped like
// the examples in Slack's Events API documentation. A thread reply carries
// thread_ts and parent_user_id; in a Slack Connect channel the event names
// the poster's workspace (user_team, source_team) and the envelope says the
// channel is shared.
func messageEnvelope(eventID, channel, user, team, text, ts, threadTS string, shared bool) string {
	thread := ""
	if threadTS != "" {
		thread = fmt.Sprintf(`"thread_ts": %q, "parent_user_id": %q,`, threadTS, botUserID)
	}
	connect := ""
	if shared {
		connect = fmt.Sprintf(`"user_team": %q, "source_team": %q, "user_profile": {"real_name": "Sgt. Lee", "display_name": "lee", "team": %q},`, team, team, team)
	}
	return fmt.Sprintf(`{
  "token": "XXYYZZ",
  "team_id": %q,
  "context_team_id": %q,
  "api_app_id": "A123456",
  "event": {
    "client_msg_id": "5ee10bc4-ae0a-4a26-a1bc-3aef1bb4d36b",
    "type": "message",
    "text": %q,
    "user": %q,
    "ts": %q,
    "blocks": [{"type": "rich_text", "block_id": "Zt6Kz", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": %q}]}]}],
    "team": %q,
    %s
    %s
    "channel": %q,
    "event_ts": %q,
    "channel_type": "channel"
  },
  "type": "event_callback",
  "event_id": %q,
  "event_time": 1700000100,
  "authorizations": [{"enterprise_id": null, "team_id": %q, "user_id": %q, "is_bot": true, "is_enterprise_install": false}],
  "is_ext_shared_channel": %t,
  "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDAwMDAwMDAiLCJhaWQiOiJBMDAwMDAwMDAiLCJjaWQiOiJDMDAwMDAwMDAifQ"
}`, homeTeam, homeTeam, text, user, ts, text, team, thread, connect, channel, ts, eventID, homeTeam, botUserID, shared)
}

func (h *harness) sendEvent(t *testing.T, body string, retry int) int {
	t.Helper()
	req := signed(t, h.srv.URL+"/slack/events", testSecret, []byte(body), "application/json", 0)
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", fmt.Sprint(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	code, _ := do(t, req)
	return code
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := `{"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}`
	code, answer := h.send(t, "/slack/events", []byte(body), "application/json")
	if code != 200 || answer != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("challenge: %d %q", code, answer)
	}
	// Unsigned, the challenge is refused like anything else.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/slack/events", strings.NewReader(body))
	if code, _ := do(t, req); code != 401 {
		t.Fatalf("unsigned challenge: %d", code)
	}
}

func TestMessageEvents(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A message in a watch channel, by an agent.
	if code := h.sendEvent(t, messageEnvelope("Ev01", "CWATCH", agentID, homeTeam, "all quiet", "1700000100.000100", "", false), 0); code != 200 {
		t.Fatalf("status %d", code)
	}
	e := h.nextEvent(t)
	want := bot.Event{Kind: bot.EventPosted, Platform: "slack", Channel: "CWATCH", MessageID: "1700000100.000100",
		User: bot.User{ID: agentID, Team: homeTeam}, Role: bot.Role{Kind: bot.RoleAgent}, Text: "all quiet",
		Time: time.Unix(1700000100, 100000).UTC()}
	if e != want {
		t.Fatalf("got  %+v\nwant %+v", e, want)
	}

	// A thread reply by a partner officer in the Slack Connect channel.
	h.sendEvent(t, messageEnvelope("Ev02", mpdChannel, "UMPD0001", mpdTeam, "units on scene", "1700000200.000200", "1700000150.000150", true), 0)
	e = h.nextEvent(t)
	if e.ThreadRef != "1700000150.000150" || e.Role != (bot.Role{Kind: bot.RolePartner, Partner: "mpd"}) || e.User.Team != mpdTeam || e.FromBot {
		t.Fatalf("thread reply: %+v", e)
	}

	// The bot's own post (bot_id set) is FromBot, so it is never mirrored.
	own := strings.Replace(messageEnvelope("Ev03", mpdChannel, botUserID, homeTeam, "INC-2026-0042 opened", "1700000300.000300", "", true), `"type": "message",`, `"type": "message", "bot_id": "BBOT0001", "app_id": "A123456",`, 1)
	h.sendEvent(t, own, 0)
	if e = h.nextEvent(t); !e.FromBot || e.Role.Kind != bot.RoleNone {
		t.Fatalf("own post: %+v", e)
	}
}

func TestEditedAndDeletedMessages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	edited := `{"token":"XXYYZZ","team_id":"TDIV","api_app_id":"A123456","type":"event_callback","event_id":"EvEDIT","event_time":1700000400,
 "authorizations":[{"team_id":"TDIV","user_id":"UBOT0001","is_bot":true}],"is_ext_shared_channel":true,
 "event":{"type":"message","subtype":"message_changed","hidden":true,"channel":"CMPDSHR","ts":"1700000400.000400","event_ts":"1700000400.000400","channel_type":"channel",
  "message":{"type":"message","user":"UMPD0001","team":"TMPD","user_team":"TMPD","text":"units on scene, two blocks north","edited":{"user":"UMPD0001","ts":"1700000400.000000"},"ts":"1700000200.000200","thread_ts":"1700000150.000150"},
  "previous_message":{"type":"message","user":"UMPD0001","team":"TMPD","text":"units on scene","ts":"1700000200.000200","thread_ts":"1700000150.000150"}}}`
	h.sendEvent(t, edited, 0)
	e := h.nextEvent(t)
	if e.Kind != bot.EventEdited || e.MessageID != "1700000200.000200" || e.ThreadRef != "1700000150.000150" ||
		e.Text != "units on scene, two blocks north" || e.Role.Partner != "mpd" {
		t.Fatalf("edit: %+v", e)
	}

	// An unfurl changes no text: not an edit anyone needs mirrored.
	unfurl := strings.NewReplacer("EvEDIT", "EvUNFURL", "units on scene, two blocks north", "units on scene").Replace(edited)
	h.sendEvent(t, unfurl, 0)

	deleted := `{"token":"XXYYZZ","team_id":"TDIV","api_app_id":"A123456","type":"event_callback","event_id":"EvDEL","event_time":1700000500,
 "is_ext_shared_channel":false,
 "event":{"type":"message","subtype":"message_deleted","hidden":true,"channel":"CWATCH","ts":"1700000500.000500","deleted_ts":"1700000100.000100","event_ts":"1700000500.000500","channel_type":"channel",
  "previous_message":{"type":"message","user":"UAGENT01","team":"TDIV","text":"all quiet","ts":"1700000100.000100"}}}`
	h.sendEvent(t, deleted, 0)
	// The deletion (of message 1700000100.000100) comes next: the unfurl
	// before it was not dispatched.
	h.noEventBefore(t, "1700000100.000100")
}

func TestDeletedMessageEvent(t *testing.T) {
	a := &Adapter{cfg: mustConfig(t, testConfig)}
	a.self.Store(&identity{UserID: botUserID, TeamID: homeTeam})
	env, err := decodeEnvelope([]byte(`{"type":"event_callback","team_id":"TDIV","event_id":"EvDEL","event":{"type":"message","subtype":"message_deleted","hidden":true,"channel":"CWATCH","ts":"1700000500.000500","deleted_ts":"1700000100.000100","event_ts":"1700000500.000500","previous_message":{"type":"message","user":"UAGENT01","team":"TDIV","text":"all quiet","ts":"1700000100.000100","thread_ts":"1700000050.000050"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := a.toEvent(env)
	if !ok || e.Kind != bot.EventDeleted || e.MessageID != "1700000100.000100" || e.ThreadRef != "1700000050.000050" || e.Text != "" || e.User.ID != agentID || e.Role.Kind != bot.RoleAgent {
		t.Fatalf("deletion: %v %+v", ok, e)
	}
	// Joins and other system messages are not followed.
	env.Event.Subtype = "channel_join"
	if _, ok := a.toEvent(env); ok {
		t.Fatal("channel_join dispatched")
	}
}

func TestEventDedupe(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := messageEnvelope("EvDUP1", "CWATCH", agentID, homeTeam, "first", "1700000600.000600", "", false)
	if code := h.sendEvent(t, body, 0); code != 200 {
		t.Fatalf("first delivery: %d", code)
	}
	h.nextEvent(t)
	// The same event again, then as Slack's retries: 200, nothing dispatched.
	for retry := range 3 {
		if code := h.sendEvent(t, body, retry); code != 200 {
			t.Fatalf("repeat %d: %d", retry, code)
		}
	}
	// A retry of an event never seen (its first delivery was lost) is new.
	if code := h.sendEvent(t, messageEnvelope("EvLOST", "CWATCH", agentID, homeTeam, "second", "1700000700.000700", "", false), 2); code != 200 {
		t.Fatalf("unseen retry: %d", code)
	}
	h.noEventBefore(t, "1700000700.000700")
	if n := h.count(t, EventsBucket); n != 2 {
		t.Fatalf("%d ids recorded, want 2", n)
	}
}

func TestDedupePrunesOldIDs(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	d := &dedupe{store: h.store, now: func() time.Time { return now }}
	for _, id := range []string{"EvA", "EvB"} {
		if seen, err := d.mark(ctx, id); seen || err != nil {
			t.Fatalf("mark %s: %v %v", id, seen, err)
		}
	}
	if seen, _ := d.mark(ctx, "EvA"); !seen {
		t.Fatal("EvA not seen the second time")
	}
	// 70 minutes later the next mark sweeps: the first two have expired.
	now = now.Add(70 * time.Minute)
	if seen, err := d.mark(ctx, "EvC"); seen || err != nil {
		t.Fatalf("mark EvC: %v %v", seen, err)
	}
	if n := h.count(t, EventsBucket); n != 1 {
		t.Fatalf("%d ids after the sweep, want 1 (EvC)", n)
	}
	if seen, _ := d.mark(ctx, "EvA"); seen {
		t.Fatal("EvA still remembered after an hour")
	}
}
