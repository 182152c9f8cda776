package incident

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/config"
)

// ---- a directory with a few real-looking missions ----

var testMissions = []Mission{
	{ID: "emb-dc-canada", Name: "Embassy of Canada", Country: "Canada", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "cg-chicago-canada", Name: "Consulate General of Canada in Chicago", Country: "Canada", Kind: "consulate_general", City: "Chicago", State: "IL"},
	{ID: "cg-chicago-japan", Name: "Consulate General of Japan in Chicago", Country: "Japan", Kind: "consulate_general", City: "Chicago", State: "IL"},
	{ID: "cg-houston-japan", Name: "Consulate General of Japan in Houston", Country: "Japan", Kind: "consulate_general", City: "Houston", State: "TX"},
}

const testGuidance = "In an emergency call 911 first (local police, fire or ambulance), then the Diplomatic Security Command Center, 24 hours: 571-345-3146 (toll free 866-217-2089)."

type fakeDirectory struct{}

func (fakeDirectory) SearchMissions(q string, limit int) MissionSearch {
	q = strings.ToLower(strings.TrimSpace(q))
	var res MissionSearch
	for _, m := range testMissions {
		if m.ID == q {
			return MissionSearch{Missions: []Mission{m}, Total: 1}
		}
	}
	for _, m := range testMissions {
		hay := strings.ToLower(m.ID + " " + m.Country + " " + m.Name + " " + m.City)
		match := true
		for _, w := range strings.Fields(q) {
			match = match && strings.Contains(hay, w)
		}
		if match {
			res.Total++
			if len(res.Missions) < limit {
				res.Missions = append(res.Missions, m)
			}
		}
	}
	return res
}

func (fakeDirectory) EmergencyGuidance() string { return testGuidance }

// ---- a recording adapter per platform ----

type sentPost struct {
	Platform, Channel, ThreadRef, ID, Text string
	Link                                   string
	Message                                bot.Message
}

func (p sentPost) String() string {
	return fmt.Sprintf("%s:%s thread=%q id=%s %q", p.Platform, p.Channel, p.ThreadRef, p.ID, p.Text)
}

type recorder struct {
	platform string
	mu       sync.Mutex
	posts    []sentPost
	attempts int
	fail     func(attempt int, p bot.Post) error // optional
	// links makes refs carry a permalink, as Slack's and Mattermost's do.
	links bool
}

func (r *recorder) Platform() string              { return r.platform }
func (r *recorder) Run(ctx context.Context) error { return nil }
func (r *recorder) Update(context.Context, bot.MessageRef, bot.Message) error {
	return errors.New("not used")
}

func (r *recorder) Post(_ context.Context, p bot.Post) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail != nil {
		if err := r.fail(r.attempts, p); err != nil {
			return bot.MessageRef{}, err
		}
	}
	id := fmt.Sprintf("%s-%d", r.platform, len(r.posts)+1)
	ref := bot.MessageRef{Platform: r.platform, Channel: p.Channel, ID: id}
	if r.links {
		ref.Link = "https://" + r.platform + ".example/" + p.Channel + "/" + id
	}
	r.posts = append(r.posts, sentPost{Platform: r.platform, Channel: p.Channel, ThreadRef: p.ThreadRef, ID: id, Text: flatten(p.Message), Link: ref.Link, Message: p.Message})
	return ref, nil
}

func (r *recorder) sent() []sentPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentPost(nil), r.posts...)
}

// flatten is every string of a message, one per line.
func flatten(m bot.Message) string {
	parts := []string{m.Title, m.Text}
	for _, s := range m.Sections {
		parts = append(parts, s.Title, s.Text)
		for _, f := range s.Fields {
			parts = append(parts, f.Label+": "+f.Value)
			if f.URL != "" && f.URL != f.Value {
				parts = append(parts, "  link: "+f.URL)
			}
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

// ---- a fake clock ----

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ---- the wired feature on a real bbolt file ----

const testConfig = `
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["console:mpd"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["console:uspp"]
incidents:
  stale_after: 30m
`

// crossConfig puts MPD on console and Mattermost, USPP on Slack.
const crossConfig = `
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["console:mpd", "mattermost:mm-mpd"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["slack:C0USPP"]
`

type env struct {
	t     *testing.T
	path  string
	cfg   *config.Config
	db    *boltstore.DB
	svc   *Service
	out   *outbox.Dispatcher
	mux   *bot.Mux
	ads   map[string]*recorder
	clock *clock
}

var (
	agent     = bot.Role{Kind: bot.RoleAgent}
	asMPD     = bot.Role{Kind: bot.RolePartner, Partner: "mpd"}
	asUSPP    = bot.Role{Kind: bot.RolePartner, Partner: "uspp"}
	startTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

func newEnv(t *testing.T, yaml string) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml", nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e := &env{t: t, path: filepath.Join(t.TempDir(), "incidents.db"), cfg: cfg, clock: &clock{t: startTime}}
	e.start()
	return e
}

// start opens the store and wires the feature, as the program does at
// each start; the adapters are fresh, like a new process.
func (e *env) start() {
	e.t.Helper()
	db, err := boltstore.Open(e.path, boltstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.t.Cleanup(func() { db.Close() })
	e.ads = map[string]*recorder{}
	adapters := map[string]bot.Adapter{}
	for _, p := range []string{bot.Console, bot.Slack, bot.Mattermost} {
		r := &recorder{platform: p, links: p != bot.Console}
		e.ads[p] = r
		adapters[p] = r
	}
	e.out = &outbox.Dispatcher{Store: db, Adapters: adapters, Now: e.clock.now, BaseDelay: time.Second, MaxDelay: time.Minute}
	e.svc = New(Options{Store: db, Config: e.cfg, Directory: fakeDirectory{}, Outbox: e.out, Now: e.clock.now})
	e.mux = bot.NewMux("liaison", nil)
	e.mux.Use(bot.Authorize(e.mux))
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

// do runs a command line as someone with the role, typed in a console channel.
func (e *env) do(role bot.Role, channel, text string) *bot.Message {
	e.t.Helper()
	name := "Agent Smith"
	if role.Kind == bot.RolePartner {
		name = "Officer " + strings.ToUpper(role.Partner)
	}
	req := &bot.Request{Platform: bot.Console, Channel: channel, User: bot.User{ID: "u-" + name, Name: name}, Role: role, Text: text, Time: e.clock.now()}
	return e.mux.Serve(context.Background(), req)
}

// ok runs a command that must succeed and returns its answer as text.
func (e *env) ok(role bot.Role, text string) string {
	e.t.Helper()
	m := e.do(role, "console", text)
	if m.Error {
		e.t.Fatalf("%q: error answer %q", text, flatten(*m))
	}
	return flatten(*m)
}

// fail runs a command that must be refused and returns the refusal.
func (e *env) fail(role bot.Role, text string) string {
	e.t.Helper()
	m := e.do(role, "console", text)
	if !m.Error {
		e.t.Fatalf("%q: want an error, got %q", text, flatten(*m))
	}
	return flatten(*m)
}

func (e *env) flush() {
	e.t.Helper()
	if _, err := e.out.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// posts is everything sent since start, on every platform.
func (e *env) posts() []sentPost {
	var out []sentPost
	for _, p := range []string{bot.Console, bot.Mattermost, bot.Slack} {
		out = append(out, e.ads[p].sent()...)
	}
	return out
}

func (e *env) postsTo(platform, channel string) []sentPost {
	var out []sentPost
	for _, p := range e.ads[platform].sent() {
		if p.Channel == channel {
			out = append(out, p)
		}
	}
	return out
}

func (e *env) incident(id string) *Incident {
	e.t.Helper()
	inc, ok, err := e.svc.Get(context.Background(), id)
	if err != nil || !ok {
		e.t.Fatalf("incident %s: %v %v", id, ok, err)
	}
	return inc
}

func (e *env) count(bucket string) int {
	e.t.Helper()
	var n int
	if err := e.db.View(context.Background(), func(tx store.Tx) (err error) {
		n, err = tx.Count(bucket)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return n
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

// inOrder asserts each want appears after the previous one.
func inOrder(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	rest := s
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%s: missing %q (in order):\n%s", what, w, s)
		}
		rest = rest[i+len(w):]
	}
}
