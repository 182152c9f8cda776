package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/handoff"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// The handoff feature as Slack shows it: the reminder, the digest, the
// escalation and the acknowledged digest, produced by the real incident
// and handoff features on a fake clock and sent through this adapter's
// Post and Update to the fake Slack, whose chat.postMessage and
// chat.update calls (text and blocks) are the golden files. Refresh with:
// go test ./adapters/slack -run HandoffGolden -update

const handoffChannel = "C0WATCH"

const handoffConfig = `
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["slack:C0WATCH"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    remind_before: 30m
    ack_within: 15m
    escalate_to: "@pld-duty-officer"
    leads: ["@alice", "@bob", "@carol"]
incidents:
  stale_after: 30m
handoff:
  catchup_window: 2h
`

// User-supplied text that Slack would turn into mentions and links if it
// were not escaped: an incident summary and a handoff note.
const (
	handoffEvilSummary = "Sign reading <!channel> & <https://evil.example|click> at the *east* gate"
	handoffEvilNote    = "<@U0ADMIN> says use <https://evil.example|the map> & tell <!here>"
)

// handoffSteps is one night shift of PLD Watch (19:00 → 07:00 EST, 2 → 3
// March 2026). A step without text runs the scheduler; golden names the
// file its one Slack call is compared with.
var handoffSteps = []struct {
	d, h, mi int
	text     string
	golden   string
}{
	{d: 2, h: 15, text: "incident open mission:canada sev:2 Protest at the front gate, about 200 people"}, // 0001
	{d: 2, h: 18, mi: 59, text: "incident open mission:france sev:3 Vehicle parked at the barrier"},       // 0002
	{d: 2, h: 19, mi: 30}, // the scheduler's first run: earlier changes were not missed
	{d: 2, h: 20, text: "incident open mission:canada sev:2 Drone over the residence"}, // 0003
	{d: 2, h: 20, mi: 30, text: "incident note INC-2026-0003 informant is the night guard"},
	{d: 2, h: 21, text: "incident update INC-2026-0001 Crowd down to about 50"},
	{d: 2, h: 22, text: "handoff note Gate 3 camera is down, tech coming at 09:00"},
	{d: 2, h: 23, text: "incident open mission:japan sev:1 " + handoffEvilSummary}, // 0004
	{d: 3, h: 1, text: "incident close INC-2026-0004 Left after talking to the guard"},
	{d: 3, h: 6, mi: 30, golden: "handoff-reminder"},
	{d: 3, h: 6, mi: 45, text: "handoff note " + handoffEvilNote},
	{d: 3, h: 6, mi: 50, text: "incident update INC-2026-0003 Drone gone, MPD checking the park"},
	{d: 3, h: 7, golden: "handoff-digest"},
	{d: 3, h: 7, mi: 15, golden: "handoff-escalation"},
	{d: 3, h: 7, mi: 20, text: "handoff ack", golden: "handoff-digest-acknowledged"},
}

func TestHandoffGolden(t *testing.T) {
	s := newHandoffScene(t)
	got := map[string]call{}
	for _, st := range handoffSteps {
		at := time.Date(2026, time.March, st.d, st.h, st.mi, 0, 0, s.loc)
		if st.text == "" {
			s.tick(at)
		} else {
			s.run(at, st.text)
		}
		calls := s.drain()
		if st.golden == "" {
			if len(calls) != 0 {
				t.Fatalf("%s %q: %d unexpected Slack calls: %+v", at, st.text, len(calls), calls)
			}
			continue
		}
		if len(calls) != 1 {
			t.Fatalf("%s %q: %d Slack calls, want 1: %+v", at, st.text, len(calls), calls)
		}
		got[st.golden] = calls[0]
	}

	for _, tc := range []struct {
		golden, method, title string
		ack                   string // the command of the Acknowledge button; "" for none
	}{
		{"handoff-reminder", "chat.postMessage", "Shift change in 30m · PLD Watch", ""},
		{"handoff-digest", "chat.postMessage", "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST", "handoff ack watch-0001"},
		{"handoff-escalation", "chat.postMessage", "Handoff not acknowledged · PLD Watch", "handoff ack watch-0001"},
		{"handoff-digest-acknowledged", "chat.update", "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST", ""},
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
	for _, name := range []string{"handoff-digest", "handoff-digest-acknowledged"} {
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
	if doc := string(handoffDoc(t, got["handoff-digest-acknowledged"])); !strings.Contains(doc, "Acknowledged by tester at Tue 3 Mar 07:20 EST.") {
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

type handoffScene struct {
	t     *testing.T
	loc   *time.Location
	clock *handoffClock
	slack *fakeSlack
	out   *outbox.Dispatcher
	svc   *handoff.Service
	mux   *bot.Mux
}

func newHandoffScene(t *testing.T) *handoffScene {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s := &handoffScene{t: t, loc: loc, slack: newFakeSlack(t),
		clock: &handoffClock{at: time.Date(2026, time.March, 2, 14, 0, 0, 0, loc)}}
	env := map[string]string{
		"SLACK_SIGNING_SECRET": testSecret,
		"SLACK_BOT_TOKEN":      testBot,
		"SLACK_API_URL":        s.slack.GetAPIURL(),
	}
	cfg, err := config.Parse([]byte(handoffConfig), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.mux = bot.NewMux("liaison", nil)
	s.mux.Use(bot.Authorize(s.mux))
	ad, err := New(Options{
		Config: cfg, Mux: s.mux, Store: st, Logger: slogDiscard(), Now: s.clock.now,
		Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.out = &outbox.Dispatcher{Store: st, Adapters: map[string]bot.Adapter{bot.Slack: ad}, Now: s.clock.now, BaseDelay: time.Second, MaxDelay: time.Minute}
	inc := incident.New(incident.Options{Store: st, Config: cfg, Directory: handoffDirectory{}, Outbox: s.out, Logger: slogDiscard(), Now: s.clock.now})
	s.svc = handoff.New(handoff.Options{Store: st, Config: cfg, Outbox: s.out, Logger: slogDiscard(), Now: s.clock.now, StaleAfter: inc.StaleAfter()})
	inc.Register(s.mux)
	s.svc.Register(s.mux)
	return s
}

// tick moves the clock to at, runs the scheduler and sends what it queued.
func (s *handoffScene) tick(at time.Time) {
	s.t.Helper()
	s.clock.set(at)
	if _, err := s.svc.Tick(context.Background(), at); err != nil {
		s.t.Fatalf("tick at %s: %v", at, err)
	}
	s.flush()
}

// run types a command in the team's channel at a time, as an agent.
func (s *handoffScene) run(at time.Time, text string) {
	s.t.Helper()
	s.clock.set(at)
	req := &bot.Request{Platform: bot.Slack, Channel: handoffChannel, User: bot.User{ID: agentID, Name: "tester", Team: homeTeam},
		Role: bot.Role{Kind: bot.RoleAgent}, Text: text, Time: at}
	if m := s.mux.Serve(context.Background(), req); m == nil || m.Error {
		s.t.Fatalf("%q: %+v", text, m)
	}
	s.flush()
}

func (s *handoffScene) flush() {
	s.t.Helper()
	if _, err := s.out.Flush(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	entries, err := outbox.List(context.Background(), s.out.Store)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(entries) > 0 {
		s.t.Fatalf("%d posts left in the outbox: %+v", len(entries), entries)
	}
}

// drain returns the calls the fake Slack received since the last drain;
// posts and edits are synchronous, so they are all there.
func (s *handoffScene) drain() []call {
	var out []call
	for {
		select {
		case c := <-s.slack.calls:
			out = append(out, c)
		default:
			return out
		}
	}
}

type handoffClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *handoffClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *handoffClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

// handoffDirectory resolves a country to its embassy, for opening incidents.
type handoffDirectory struct{}

var handoffMissions = []incident.Mission{
	{ID: "emb-dc-canada", Name: "Embassy of Canada", Country: "Canada", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-japan", Name: "Embassy of Japan", Country: "Japan", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-france", Name: "Embassy of France", Country: "France", Kind: "embassy", City: "Washington", State: "DC"},
}

func (handoffDirectory) SearchMissions(q string, limit int) incident.MissionSearch {
	q = strings.ToLower(strings.TrimSpace(q))
	for _, m := range handoffMissions {
		if m.ID == q || strings.ToLower(m.Country) == q {
			return incident.MissionSearch{Missions: []incident.Mission{m}, Total: 1}
		}
	}
	return incident.MissionSearch{}
}

func (handoffDirectory) EmergencyGuidance() string { return "Call 911 first, then 571-345-3146." }
