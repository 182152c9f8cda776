package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/handoff/handofftest"
	"liaisonbot/config"
)

// The handoff feature as Slack shows it: the reminder, the digest, the
// escalation and the acknowledged digest, produced by the real incident
// and handoff features on a fake clock and sent through this adapter's
// Post and Update to the fake Slack, whose chat.postMessage and
// chat.update calls (text and blocks) are the golden files. Refresh with:
// go test ./adapters/slack -run HandoffGolden -update

const handoffChannel = "C0WATCH"

// User-supplied text that Slack would turn into mentions and links if it
// were not escaped: an incident summary and a handoff note.
const (
	handoffEvilSummary = "Sign reading <!channel> & <https://evil.example|click> at the *east* gate"
	handoffEvilNote    = "<@U0ADMIN> says use <https://evil.example|the map> & tell <!here>"
)

func TestHandoffGolden(t *testing.T) {
	s, fake, loc := newHandoffScene(t)
	got := map[string]call{}
	for _, st := range handofftest.NightShift(loc, handoffEvilSummary, handoffEvilNote) {
		s.Play(st)
		calls := drainCalls(fake)
		if st.Golden == "" {
			if len(calls) != 0 {
				t.Fatalf("%s %q: %d unexpected Slack calls: %+v", st.At, st.Text, len(calls), calls)
			}
			continue
		}
		if len(calls) != 1 {
			t.Fatalf("%s %q: %d Slack calls, want 1: %+v", st.At, st.Text, len(calls), calls)
		}
		got[st.Golden] = calls[0]
	}

	for _, tc := range []struct {
		golden, method, title string
		ack                   string // the command of the Acknowledge button; "" for none
	}{
		{handofftest.Reminder, "chat.postMessage", handofftest.ReminderTitle, ""},
		{handofftest.Digest, "chat.postMessage", handofftest.DigestTitle, handofftest.AcknowledgeCommand},
		{handofftest.Escalation, "chat.postMessage", handofftest.EscalationTitle, handofftest.AcknowledgeCommand},
		{handofftest.DigestAcknowledged, "chat.update", handofftest.DigestTitle, ""},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			c := got[tc.golden]
			if c.Method != tc.method || c.Channel != handoffChannel {
				t.Fatalf("%s to %s, want %s to %s", c.Method, c.Channel, tc.method, handoffChannel)
			}
			doc := handoffDoc(t, c)
			checkGolden(t, filepath.Join("testdata", tc.golden+".golden"), doc)
			checkLimits(t, doc)

			var msg struct {
				Blocks []struct {
					Type     string          `json:"type"`
					Text     json.RawMessage `json:"text"`
					Elements []struct {
						Type     string          `json:"type"`
						ActionID string          `json:"action_id"`
						Value    string          `json:"value"`
						Style    string          `json:"style"`
						Text     json.RawMessage `json:"text"` // a button's is an object, a context's a string
					} `json:"elements"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal(doc, &msg); err != nil {
				t.Fatal(err)
			}
			plain := func(raw json.RawMessage) string {
				var o struct{ Text string }
				_ = json.Unmarshal(raw, &o)
				return o.Text
			}
			if len(msg.Blocks) == 0 || msg.Blocks[0].Type != "header" || plain(msg.Blocks[0].Text) != tc.title {
				t.Fatalf("the first block is not the header %q:\n%s", tc.title, doc)
			}
			var acks []string
			for _, b := range msg.Blocks {
				if b.Type != "actions" {
					continue
				}
				for _, e := range b.Elements {
					if e.Type == "button" && plain(e.Text) == "Acknowledge" && strings.HasPrefix(e.ActionID, buttonActionBase) && e.Style == "primary" {
						acks = append(acks, e.Value)
					}
				}
			}
			switch {
			case tc.ack == "" && len(acks) > 0:
				t.Fatalf("an Acknowledge button %q where none belongs", acks)
			case tc.ack != "" && (len(acks) != 1 || acks[0] != tc.ack):
				t.Fatalf("Acknowledge buttons %q, want one running %q", acks, tc.ack)
			}
			checkHandoffInert(t, doc)
		})
	}

	// The digest carries the user-supplied text, escaped, before and after
	// it is acknowledged.
	for _, name := range []string{handofftest.Digest, handofftest.DigestAcknowledged} {
		doc := string(handoffDoc(t, got[name]))
		for _, want := range []string{
			"Sign reading &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; at the *east* gate",
			"tester: &lt;@U0ADMIN&gt; says use &lt;https://evil.example|the map&gt; &amp; tell &lt;!here&gt;",
			"Gate 3 camera is down",
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(doc, "informant") {
			t.Errorf("%s quotes an internal note", name)
		}
	}
	if doc := string(handoffDoc(t, got[handofftest.DigestAcknowledged])); !strings.Contains(doc, handofftest.AcknowledgedMessage) {
		t.Errorf("the edit does not show the acknowledgement:\n%s", doc)
	}
}

// handoffDoc is a call as Slack received it: the fallback text and the
// blocks, indented, with &, < and > written as themselves so that Slack's
// own escaping reads plainly.
func handoffDoc(t *testing.T, c call) []byte {
	t.Helper()
	var blocks any
	if err := json.Unmarshal([]byte(c.Blocks), &blocks); err != nil {
		t.Fatalf("blocks %q: %v", c.Blocks, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Text   string `json:"text"`
		Blocks any    `json:"blocks"`
	}{c.Text, blocks}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkHandoffInert asserts that no text Slack parses holds a <, > or &
// that is not one of the entities the adapter writes: nothing typed by a
// person becomes a mention or a link.
func checkHandoffInert(t *testing.T, doc []byte) {
	t.Helper()
	entities := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "")
	for _, s := range textsOf(t, doc) {
		if strings.ContainsAny(entities.Replace(s), "<>&") {
			t.Errorf("unescaped text: %q", s)
		}
	}
}

// ---- the incident and handoff features over a bbolt file, on a fake clock ----

// newHandoffScene plays the shift through this adapter against a fake Slack.
func newHandoffScene(t *testing.T) (*handofftest.Scene, *fakeSlack, *time.Location) {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeSlack(t)
	clock := handofftest.NewClock(handofftest.Start(loc))
	env := map[string]string{
		"SLACK_SIGNING_SECRET": testSecret,
		"SLACK_BOT_TOKEN":      testBot,
		"SLACK_API_URL":        fake.GetAPIURL(),
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(handofftest.TeamYAML, "slack:"+handoffChannel)), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mux := bot.NewMux("liaison", nil)
	mux.Use(bot.Authorize(mux))
	ad, err := New(Options{
		Config: cfg, Mux: mux, Store: st, Logger: slogDiscard(), Now: clock.Now,
		Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	s := handofftest.New(t, handofftest.Options{Store: st, Config: cfg, Clock: clock, Mux: mux, Adapter: ad,
		Channel: handoffChannel, User: bot.User{ID: agentID, Name: "tester", Team: homeTeam}})
	return s, fake, loc
}

// drainCalls returns the calls the fake Slack received since the last
// drain; posts and edits are synchronous, so they are all there.
func drainCalls(fake *fakeSlack) []call {
	var out []call
	for {
		select {
		case c := <-fake.calls:
			out = append(out, c)
		default:
			return out
		}
	}
}
