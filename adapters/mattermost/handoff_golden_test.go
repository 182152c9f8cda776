package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/handoff"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// The handoff feature as Mattermost shows it: the reminder, the digest,
// the escalation and the acknowledged digest, produced by the real
// incident and handoff features on a fake clock and sent through this
// adapter's Post and Update to the fake server. The golden files are the
// message (Markdown) and props (attachments, buttons) of the create-post
// and patch-post requests the server received; a zero-width space is
// written \u200b so that the escaping shows. Refresh with:
// go test ./adapters/mattermost -run HandoffGolden -update

const handoffPublicURL = "https://liaison.example.gov"

// User-supplied text that Mattermost would turn into mentions, links and
// formatting if it were not escaped: an incident summary and a handoff note.
const (
	handoffEvilSummary = "Sign reading <!channel> & [click](https://evil.example) at the *east* gate, @here"
	handoffEvilNote    = "<@U0ADMIN> says see www.evil.example, ~town-square #urgent & tell @channel"
)

// handoffSteps is one night shift of PLD Watch (19:00 → 07:00 EST, 2 → 3
// March 2026). A step without text runs the scheduler; golden names the
// file its one post or edit is compared with.
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
	got := map[string]mmtest.Request{}
	for _, st := range handoffSteps {
		at := time.Date(2026, time.March, st.d, st.h, st.mi, 0, 0, s.loc)
		if st.text == "" {
			s.tick(at)
		} else {
			s.run(at, st.text)
		}
		reqs := s.writes()
		if st.golden == "" {
			if len(reqs) != 0 {
				t.Fatalf("%s %q: %d unexpected writes to Mattermost", at, st.text, len(reqs))
			}
			continue
		}
		if len(reqs) != 1 {
			t.Fatalf("%s %q: %d writes to Mattermost, want 1", at, st.text, len(reqs))
		}
		got[st.golden] = reqs[0]
	}

	for _, tc := range []struct {
		golden, method, title string
		ack                   string // the command of the Acknowledge button; "" for none
	}{
		{"handoff-reminder", http.MethodPost, "Shift change in 30m · PLD Watch", ""},
		{"handoff-digest", http.MethodPost, "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST", "handoff ack watch-0001"},
		{"handoff-escalation", http.MethodPost, "Handoff not acknowledged · PLD Watch", "handoff ack watch-0001"},
		{"handoff-digest-acknowledged", http.MethodPut, "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST", ""},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := got[tc.golden]
			if r.Method != tc.method || r.Status/100 != 2 {
				t.Fatalf("%s %s answered %d, want a %s", r.Method, r.Path, r.Status, tc.method)
			}
			p := handoffPost(t, r)
			golden(t, tc.golden, handoffDoc(t, p))

			if first, _, _ := strings.Cut(p.Message, "\n"); first != "**"+tc.title+"**" {
				t.Fatalf("message begins %q, want the title %q", first, tc.title)
			}
			var acks []string
			for _, a := range mmtest.Actions(p.Props) {
				if a.Name != "Acknowledge" || a.Integration == nil {
					continue
				}
				cmd, _ := a.Integration.Context["command"].(string)
				sig, _ := a.Integration.Context["sig"].(string)
				if a.Integration.URL != handoffPublicURL+ActionsPath || a.Style != "primary" || !s.ad.verify(cmd, sig) {
					t.Fatalf("Acknowledge button %+v %+v: not a signed call to %s", a, a.Integration, handoffPublicURL+ActionsPath)
				}
				acks = append(acks, cmd)
			}
			switch {
			case tc.ack == "" && len(acks) > 0:
				t.Fatalf("an Acknowledge button %q where none belongs", acks)
			case tc.ack != "" && (len(acks) != 1 || acks[0] != tc.ack):
				t.Fatalf("Acknowledge buttons %q, want one running %q", acks, tc.ack)
			}
			if tc.method == http.MethodPut {
				// An edit replaces the attachments: the button goes away.
				if _, ok := p.Props["attachments"]; !ok {
					t.Fatal("the edit leaves the old attachments in place")
				}
			}
			checkHandoffInert(t, p)
		})
	}

	// The digest carries the user-supplied text, escaped, before and after
	// it is acknowledged.
	for _, name := range []string{"handoff-digest", "handoff-digest-acknowledged"} {
		doc := string(handoffDoc(t, handoffPost(t, got[name])))
		for _, want := range []string{
			`Sign reading \\<!channel\\> & \\[click\\](https:\u200b//evil.example) at the \\*east\\* gate, @\u200bhere`,
			`tester: \\<@\u200bU0ADMIN\\> says see www\u200b.evil.example, ~\u200btown-square #\u200burgent & tell @\u200bchannel`,
			"Gate 3 camera is down",
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s lacks %s", name, want)
			}
		}
		if strings.Contains(doc, "informant") {
			t.Errorf("%s quotes an internal note", name)
		}
	}
	ackd := handoffPost(t, got["handoff-digest-acknowledged"])
	if !strings.Contains(ackd.Message, "Acknowledged by tester at Tue 3 Mar 07:20 EST.") {
		t.Errorf("the edit does not show the acknowledgement:\n%s", ackd.Message)
	}
	// The configured handles stay mentions: they are meant to notify.
	esc := handoffPost(t, got["handoff-escalation"])
	if !strings.Contains(esc.Message, "@pld-duty-officer: handoff digest watch-0001") || !strings.Contains(esc.Message, "Incoming lead: @bob.") {
		t.Errorf("the escalation does not mention the configured handles:\n%s", esc.Message)
	}
}

// handoffWrite is what the adapter sent: a new post's or a patch's
// message and props.
type handoffWrite struct {
	Message string         `json:"message"`
	Props   map[string]any `json:"props"`
}

func handoffPost(t *testing.T, r mmtest.Request) handoffWrite {
	t.Helper()
	var p handoffWrite
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s %s: %v\n%s", r.Method, r.Path, err, r.Body)
	}
	return p
}

// handoffDoc is the golden form of a write: indented, <, > and & written as
// themselves, and zero-width spaces as \u200b.
func handoffDoc(t *testing.T, p handoffWrite) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b.Bytes(), []byte(zwsp), []byte(`\u200b`))
}

// checkHandoffInert asserts that no text of a write, outside the buttons'
// integration (URL, command, signature), holds user-supplied text in a form
// Mattermost would turn into a mention, a link, HTML or formatting.
func checkHandoffInert(t *testing.T, p handoffWrite) {
	t.Helper()
	raw := []string{
		"<!channel>", "<@U0ADMIN>", "[click](", "https://", "*east*", "@here", "@channel",
		"www.evil", "~town-square", "#urgent",
	}
	var texts []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			texts = append(texts, v)
		case map[string]any:
			for k, x := range v {
				if k != "integration" {
					walk(k, x)
				}
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		}
	}
	walk("message", p.Message)
	walk("props", p.Props)
	for _, s := range texts {
		for _, r := range raw {
			if strings.Contains(s, r) {
				t.Errorf("%q left as is in %q", r, s)
			}
		}
		for i := 0; i < len(s); i++ {
			if (s[i] == '<' || s[i] == '>') && (i == 0 || s[i-1] != '\\') && !strings.HasPrefix(s[i+1:], zwsp) {
				t.Errorf("unescaped %q in %q", s[i], s)
			}
		}
	}
}

// ---- the incident and handoff features over a bbolt file, on a fake clock ----

type handoffScene struct {
	t     *testing.T
	w     *world
	loc   *time.Location
	clock *handoffClock
	ad    *Adapter
	out   *outbox.Dispatcher
	svc   *handoff.Service
	mux   *bot.Mux
	seen  int // requests to the fake server already looked at
}

func newHandoffScene(t *testing.T) *handoffScene {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	s := &handoffScene{t: t, w: w, loc: loc, clock: &handoffClock{at: time.Date(2026, time.March, 2, 14, 0, 0, 0, loc)}}
	yaml := fmt.Sprintf(`mattermost:
  internal_teams: [pld]
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["mattermost:%s"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    remind_before: 30m
    ack_within: 15m
    escalate_to: "@pld-duty-officer"
    leads: ["@alice", "@bob", "@carol"]
incidents:
  stale_after: 30m
handoff:
  catchup_window: 2h
`, w.internal.Id)
	env := map[string]string{
		"MATTERMOST_URL":       w.srv.URL,
		"MATTERMOST_BOT_TOKEN": botToken,
		"MATTERMOST_TEAM":      "pld",
		"LIAISON_PUBLIC_URL":   handoffPublicURL,
	}
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fixedSecret(t, st)
	s.mux = bot.NewMux("liaison", nil)
	s.mux.Use(bot.Authorize(s.mux))
	s.ad, err = New(context.Background(), Options{Config: cfg, Mux: s.mux, Store: st, Wait: newWaiter().wait})
	if err != nil {
		t.Fatal(err)
	}
	s.out = &outbox.Dispatcher{Store: st, Adapters: map[string]bot.Adapter{bot.Mattermost: s.ad}, Now: s.clock.now, BaseDelay: time.Second, MaxDelay: time.Minute}
	inc := incident.New(incident.Options{Store: st, Config: cfg, Directory: handoffDirectory{}, Outbox: s.out, Now: s.clock.now})
	s.svc = handoff.New(handoff.Options{Store: st, Config: cfg, Outbox: s.out, Now: s.clock.now, StaleAfter: inc.StaleAfter()})
	inc.Register(s.mux)
	s.svc.Register(s.mux)
	s.seen = len(w.srv.Requests())
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
	req := &bot.Request{Platform: bot.Mattermost, Channel: s.w.internal.Id, User: bot.User{ID: s.w.agent.Id, Name: "tester"},
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

// writes returns the requests other than reads the fake server received
// since the last call; posts and edits are synchronous, so they are all
// there.
func (s *handoffScene) writes() []mmtest.Request {
	all := s.w.srv.Requests()
	var out []mmtest.Request
	for _, r := range all[s.seen:] {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	s.seen = len(all)
	return out
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
