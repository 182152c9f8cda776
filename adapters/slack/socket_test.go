package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ackFrame is what the client sends back for an envelope.
type ackFrame struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

// socketHarness is a harness in Socket Mode whose fake Slack is the
// websocket end too; acks holds what the adapter sends over it.
func socketHarness(t *testing.T, opt harnessOptions) (*harness, chan ackFrame) {
	t.Helper()
	opt.socket = true
	h := newHarness(t, opt)
	acks := make(chan ackFrame, 20)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	// slacktest blocks its websocket reader until someone takes each
	// inbound frame from SeenFeed.
	go func() {
		for {
			select {
			case m := <-h.slack.SeenFeed:
				var a ackFrame
				if json.Unmarshal([]byte(m), &a) == nil && a.EnvelopeID != "" {
					acks <- a
				}
			case <-done:
				return
			}
		}
	}()
	return h, acks
}

const helloFrame = `{"type": "hello", "num_connections": 1, "debug_info": {"host": "applink-7fc4fdbb64-4x5xq", "build_number": 10, "approximate_connection_time": 18060}, "connection_info": {"app_id": "A123456"}}`

// waitReady polls Ready until the connection is up.
func waitReady(t *testing.T, h *harness) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for h.ad.Ready() != nil {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("never ready: %v", h.ad.Ready())
		}
	}
}

func waitAck(t *testing.T, acks chan ackFrame, id string) ackFrame {
	t.Helper()
	for {
		select {
		case a := <-acks:
			if a.EnvelopeID == id {
				return a
			}
		case <-time.After(deadline):
			t.Fatalf("envelope %s never acknowledged", id)
			return ackFrame{}
		}
	}
}

func TestSocketMode(t *testing.T) {
	h, acks := socketHarness(t, harnessOptions{})
	if h.ad.Ready() == nil {
		t.Fatal("ready before the connection said hello")
	}
	h.slack.SendToWebsocket(helloFrame)
	waitReady(t, h)

	// An event: acknowledged by envelope id, then dispatched.
	event := messageEnvelope("EvSOCK1", mpdChannel, "UMPD0001", mpdTeam, "on our way", "1700000900.000900", "1700000150.000150", true)
	h.slack.SendToWebsocket(fmt.Sprintf(`{"envelope_id": "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545", "payload": %s, "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": ""}`, event))
	waitAck(t, acks, "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545")
	if e := h.nextEvent(t); e.MessageID != "1700000900.000900" || e.ThreadRef != "1700000150.000150" || e.Role.Partner != "mpd" {
		t.Fatalf("event %+v", e)
	}
	// Redelivered (as Slack does when an ack is late): acknowledged again,
	// not dispatched again.
	h.slack.SendToWebsocket(fmt.Sprintf(`{"envelope_id": "e2", "payload": %s, "type": "events_api", "accepts_response_payload": false, "retry_attempt": 1, "retry_reason": "timeout"}`, event))
	waitAck(t, acks, "e2")

	// A slash command: the answer rides in the ack.
	cmd := `{"token":"gIkuvaNzQIHg97ATvDxqgjtO","team_id":"TDIV","team_domain":"pld","channel_id":"CWATCH","channel_name":"watch","user_id":"UAGENT01","user_name":"alice","command":"/liaison","text":"emergency","api_app_id":"A123456","is_enterprise_install":"false","response_url":"` + h.slack.hookURL() + `","trigger_id":"1.2.3"}`
	h.slack.SendToWebsocket(`{"envelope_id": "1d3c2f6a-slash", "payload": ` + cmd + `, "type": "slash_commands", "accepts_response_payload": true}`)
	ack := waitAck(t, acks, "1d3c2f6a-slash")
	var rep map[string]any
	if err := json.Unmarshal(ack.Payload, &rep); err != nil || rep["response_type"] != "ephemeral" || !strings.Contains(string(ack.Payload), "911") {
		t.Fatalf("command ack payload %s: %v", ack.Payload, err)
	}

	// A button press: acknowledged empty, answered through response_url.
	press := interactionJSON("office Miami", h.slack.hookURL(), agentID, homeTeam, "CWATCH")
	h.slack.SendToWebsocket(`{"envelope_id": "press-1", "payload": ` + press + `, "type": "interactive", "accepts_response_payload": false}`)
	if a := waitAck(t, acks, "press-1"); len(a.Payload) != 0 {
		t.Fatalf("interactive ack carries %s", a.Payload)
	}
	if c := h.slack.next(t); c.Method != "response_url" || !strings.Contains(c.Body, "DSS Miami Field Office") {
		t.Fatalf("button answer %+v", c)
	}

	// An envelope slack-go cannot read is still acknowledged, so Slack
	// stops redelivering it.
	h.slack.SendToWebsocket(`{"envelope_id": "bad-1", "payload": {"type": "event_callback", "event": "not an object"}, "type": "events_api"}`)
	waitAck(t, acks, "bad-1")

	// Then the marker: the redelivered event above was not dispatched.
	h.slack.SendToWebsocket(fmt.Sprintf(`{"envelope_id": "e3", "payload": %s, "type": "events_api"}`,
		messageEnvelope("EvSOCK2", "CWATCH", agentID, homeTeam, "marker", "1700001000.000100", "", false)))
	waitAck(t, acks, "e3")
	h.noEventBefore(t, "1700001000.000100")
}

func TestSocketModeReconnects(t *testing.T) {
	// The first apps.connections.open says invalid_auth, on which
	// slack-go's RunContext gives up: the adapter must start it again.
	h, _ := socketHarness(t, harnessOptions{connFails: 1})
	h.slack.SendToWebsocket(helloFrame)
	waitReady(t, h)
	select {
	case d := <-h.waits:
		if d <= 0 || d > reconnectMin {
			t.Fatalf("first reconnect after %s", d)
		}
	default:
		t.Fatal("connected without backing off after the refusal")
	}
}

func TestSocketModeSlowCommand(t *testing.T) {
	h, acks := socketHarness(t, harnessOptions{inlineWait: 1}) // "slow" blocks until released
	h.slack.SendToWebsocket(helloFrame)
	waitReady(t, h)
	cmd := `{"team_id":"TDIV","channel_id":"CWATCH","user_id":"UAGENT01","user_name":"alice","command":"/liaison","text":"slow","response_url":"` + h.slack.hookURL() + `"}`
	h.slack.SendToWebsocket(`{"envelope_id": "slow-1", "payload": ` + cmd + `, "type": "slash_commands", "accepts_response_payload": true}`)
	if a := waitAck(t, acks, "slow-1"); len(a.Payload) != 0 {
		t.Fatalf("a slow command's ack carries %s, want nothing", a.Payload)
	}
	close(h.release)
	if c := h.slack.next(t); c.Method != "response_url" || !strings.Contains(c.Body, "Slow answer") {
		t.Fatalf("late answer %+v", c)
	}
}
