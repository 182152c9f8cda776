package handoff

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// ---- a directory with a few missions, for opening incidents ----

var testMissions = []incident.Mission{
	{ID: "emb-dc-canada", Name: "Embassy of Canada", Country: "Canada", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-japan", Name: "Embassy of Japan", Country: "Japan", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-france", Name: "Embassy of France", Country: "France", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "cg-houston-japan", Name: "Consulate General of Japan in Houston", Country: "Japan", Kind: "consulate_general", City: "Houston", State: "TX"},
}

type fakeDirectory struct{}

func (fakeDirectory) SearchMissions(q string, limit int) incident.MissionSearch {
	q = strings.ToLower(strings.TrimSpace(q))
	for _, m := range testMissions {
		if m.ID == q || strings.ToLower(m.Country) == q && m.Kind == "embassy" {
			return incident.MissionSearch{Missions: []incident.Mission{m}, Total: 1}
		}
	}
	return incident.MissionSearch{}
}

func (fakeDirectory) EmergencyGuidance() string { return "Call 911 first, then 571-345-3146." }

// ---- a recording adapter ----

type sent struct {
	Platform, Channel, ID string
	Msg                   bot.Message
}

type update struct {
	Ref bot.MessageRef
	Msg bot.Message
}

type recorder struct {
	platform string
	mu       sync.Mutex
	posts    []sent
	updates  []update
	failEdit bool
}

func (r *recorder) Platform() string              { return r.platform }
func (r *recorder) Run(ctx context.Context) error { return nil }

func (r *recorder) Post(_ context.Context, p bot.Post) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := fmt.Sprintf("%s-%d", r.platform, len(r.posts)+1)
	r.posts = append(r.posts, sent{Platform: r.platform, Channel: p.Channel, ID: id, Msg: p.Message})
	return bot.MessageRef{Platform: r.platform, Channel: p.Channel, ID: id}, nil
}

func (r *recorder) Update(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failEdit {
		return fmt.Errorf("%s is down", r.platform)
	}
	r.updates = append(r.updates, update{Ref: ref, Msg: m})
	return nil
}

// ---- a fake clock ----

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ---- the wired features on a real bbolt file ----

const watchConfig = `
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["slack:C0WATCH", "console:watch"]
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

var (
	newYork = mustZone("America/New_York")
	agent   = bot.Role{Kind: bot.RoleAgent}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// ny is a wall time in New York.
func ny(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, newYork) }

type env struct {
	t     *testing.T
	path  string
	cfg   *config.Config
	db    *boltstore.DB
	clock *fakeClock
	logs  *syncBuffer
	out   *outbox.Dispatcher
	inc   *incident.Service
	svc   *Service
	mux   *bot.Mux
	ads   map[string]*recorder
	hooks []string // what the metrics hooks were told, in order
}

func newEnv(t *testing.T, yaml string, start time.Time) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml", nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e := &env{t: t, path: filepath.Join(t.TempDir(), "handoff.db"), cfg: cfg, clock: &fakeClock{t: start}, logs: &syncBuffer{}}
	e.ads = map[string]*recorder{bot.Console: {platform: bot.Console}, bot.Slack: {platform: bot.Slack}}
	e.start()
	return e
}

// start opens the store and wires the features as the program does at
// each start. The recording adapters survive restarts, so that a test
// sees everything ever posted.
func (e *env) start() {
	e.t.Helper()
	db, err := boltstore.Open(e.path, boltstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.t.Cleanup(func() { db.Close() })
	adapters := map[string]bot.Adapter{}
	for p, r := range e.ads {
		adapters[p] = r
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.out = &outbox.Dispatcher{Store: db, Adapters: adapters, Now: e.clock.now, BaseDelay: time.Second, MaxDelay: time.Minute}
	e.inc = incident.New(incident.Options{Store: db, Config: e.cfg, Directory: fakeDirectory{}, Outbox: e.out, Now: e.clock.now})
	e.svc = New(Options{Store: db, Config: e.cfg, Outbox: e.out, Logger: log, Now: e.clock.now, StaleAfter: e.inc.StaleAfter(),
		OnDigestPosted: func(team string, scheduled bool) {
			e.hooks = append(e.hooks, fmt.Sprint("posted ", team, " ", scheduled))
		},
		OnDigestAcknowledged: func(team string) { e.hooks = append(e.hooks, "acknowledged "+team) },
		OnDigestEscalated:    func(team string) { e.hooks = append(e.hooks, "escalated "+team) },
	})
	e.mux = bot.NewMux("liaison", nil)
	e.mux.Use(bot.Authorize(e.mux))
	e.inc.Register(e.mux)
	e.svc.Register(e.mux)
}

// restart closes the store (the process dies) and starts again.
func (e *env) restart() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

// tick moves the clock to at, runs the scheduler and sends what it queued.
func (e *env) tick(at time.Time) time.Time {
	e.t.Helper()
	e.clock.set(at)
	next, err := e.svc.Tick(context.Background(), at)
	if err != nil {
		e.t.Fatalf("tick at %s: %v", at, err)
	}
	e.flush()
	return next
}

func (e *env) flush() {
	e.t.Helper()
	if _, err := e.out.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// at runs a command line at a time, as an agent typing in a channel.
func (e *env) at(when time.Time, channel, text string) *bot.Message {
	e.t.Helper()
	e.clock.set(when)
	req := &bot.Request{Platform: bot.Console, Channel: channel, User: bot.User{ID: "u1", Name: "tester"}, Role: agent, Text: text, Time: when}
	m := e.mux.Serve(context.Background(), req)
	e.flush()
	return m
}

// ok runs a command in console:watch that must succeed.
func (e *env) ok(when time.Time, text string) string {
	e.t.Helper()
	m := e.at(when, "watch", text)
	if m.Error {
		e.t.Fatalf("%q: error %q", text, m.Text)
	}
	return flatten(m)
}

// posts returns what was sent to console:<channel> whose title starts with prefix.
func (e *env) posts(channel, prefix string) []sent {
	r := e.ads[bot.Console]
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sent
	for _, p := range r.posts {
		if p.Channel == channel && strings.HasPrefix(p.Msg.Title, prefix) {
			out = append(out, p)
		}
	}
	return out
}

func (e *env) updates(platform string) []update {
	r := e.ads[platform]
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]update(nil), r.updates...)
}

func (e *env) allPosts() []sent {
	var out []sent
	for _, r := range e.ads {
		r.mu.Lock()
		out = append(out, r.posts...)
		r.mu.Unlock()
	}
	return out
}

// fires lists the recorded fires, in key order.
func (e *env) fires() []fire {
	e.t.Helper()
	var out []fire
	if err := e.db.View(context.Background(), func(tx store.Tx) error {
		return store.ScanJSON(tx, bucketFires, "", "", func(_ string, f fire) error {
			out = append(out, f)
			return nil
		})
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// flatten is every string of a message, one per line.
func flatten(m *bot.Message) string {
	parts := []string{m.Title, m.Text}
	for _, s := range m.Sections {
		parts = append(parts, s.Title, s.Text)
		for _, f := range s.Fields {
			parts = append(parts, f.Label+": "+f.Value)
		}
	}
	for _, b := range m.Buttons {
		parts = append(parts, b.Label+" → "+b.Command)
	}
	parts = append(parts, m.Footer)
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func lacks(t *testing.T, what, s string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			t.Fatalf("%s has %q:\n%s", what, w, s)
		}
	}
}
