package slack

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// interactionJSON is a block_actions payload for a press of one of the
// bot's buttons, shaped like Slack's documentation of the payload.
func interactionJSON(command, responseURL, user, team, channel string) string {
	return fmt.Sprintf(`{
  "type": "block_actions",
  "user": {"id": %q, "username": "lee", "name": "lee", "team_id": %q},
  "api_app_id": "A123456",
  "token": "9s8d9as89d8as9d8as989",
  "container": {"type": "message", "message_ts": "1700000800.000800", "channel_id": %q, "is_ephemeral": true},
  "trigger_id": "12466734323.1395872398.c5b7a8e9e8cc1f4e0e4d3b0ee3cc8c6d",
  "team": {"id": %q, "domain": "pld"},
  "enterprise": null,
  "is_enterprise_install": false,
  "channel": {"id": %q, "name": "watch"},
  "state": {"values": {}},
  "response_url": %q,
  "actions": [{
    "action_id": "liaison.run.0",
    "block_id": "x8Hm",
    "text": {"type": "plain_text", "text": "Embassy of Canada", "emoji": true},
    "value": %q,
    "type": "button",
    "action_ts": "1700000810.123456"
  }]
}`, user, team, channel, homeTeam, channel, responseURL, command)
}

// interactionForm is how Slack posts it: one form field, payload.
func interactionForm(t *testing.T, command, responseURL, user, team, channel string) []byte {
	t.Helper()
	return []byte("payload=" + url.QueryEscape(interactionJSON(command, responseURL, user, team, channel)))
}

func TestButtonRunsItsCommand(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := interactionForm(t, "contact emb-dc-canada", h.slack.hookURL(), agentID, homeTeam, "C2147483705")
	if code, answer := h.send(t, "/slack/interactions", body, "application/x-www-form-urlencoded"); code != 200 || answer != "" {
		t.Fatalf("ack: %d %q", code, answer)
	}
	c := h.slack.next(t)
	r := decodeReply(t, c.Body)
	if c.Method != "response_url" || r["response_type"] != "ephemeral" || r["replace_original"] != false || !strings.Contains(c.Body, "Embassy of Canada") {
		t.Fatalf("answer: %+v", c)
	}
}

func TestButtonPressedByPartnerIsDenied(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := interactionForm(t, "contact emb-dc-canada", h.slack.hookURL(), "UMPD0001", mpdTeam, mpdChannel)
	h.send(t, "/slack/interactions", body, "application/x-www-form-urlencoded")
	c := h.slack.next(t)
	if !strings.Contains(c.Body, "not allowed") || strings.Contains(c.Body, "Embassy of Canada") {
		t.Fatalf("partner's answer: %s", c.Body)
	}
}

func TestOtherInteractionsAreAcknowledged(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A button that is not ours, and a shortcut: 200, nothing run.
	notOurs := strings.Replace(interactionJSON("contact canada", h.slack.hookURL(), agentID, homeTeam, "C1"), "liaison.run.0", "approve", 1)
	shortcut := `{"type":"shortcut","token":"x","action_ts":"1.2","team":{"id":"TDIV"},"user":{"id":"U1"},"callback_id":"c","trigger_id":"t"}`
	for _, p := range []string{notOurs, shortcut} {
		if code, _ := h.send(t, "/slack/interactions", []byte("payload="+url.QueryEscape(p)), "application/x-www-form-urlencoded"); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if code, _ := h.send(t, "/slack/interactions", []byte("payload=%7Bnot+json"), "application/x-www-form-urlencoded"); code != 400 {
		t.Fatalf("bad payload: %d", code)
	}
	select {
	case c := <-h.slack.calls:
		t.Fatalf("unexpected call %+v", c)
	default:
	}
}
