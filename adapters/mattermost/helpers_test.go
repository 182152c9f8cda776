package mattermost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/config"
)

const botToken = "mmbottoken0000000000000001"

// world is a fake Mattermost with the division's team, a partner's team,
// users of every kind and channels, plus the bot's HTTP endpoint.
type world struct {
	t   *testing.T
	srv *mmtest.Server

	team, other              *model.Team
	bot, agent, admin        *model.User
	guest, remote, outsider  *model.User
	shared, internal, others *model.Channel // shared: mpd's watched channel

	web     *httptest.Server // the bot's public endpoint
	handler atomic.Pointer[http.ServeMux]
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	w := &world{t: t, srv: srv}
	w.team = srv.AddTeam("pld")
	w.other = srv.AddTeam("mpd")
	w.bot = srv.AddUser(mmtest.UserOptions{Username: "liaisonbot", Bot: true, Token: botToken, Roles: "system_user system_admin"})
	w.agent = srv.AddUser(mmtest.UserOptions{Username: "alice"})
	w.admin = srv.AddUser(mmtest.UserOptions{Username: "root"})
	w.guest = srv.AddUser(mmtest.UserOptions{Username: "sgt.lee", Roles: "system_guest"})
	w.remote = srv.AddUser(mmtest.UserOptions{Username: "officer", RemoteID: model.NewId()})
	w.outsider = srv.AddUser(mmtest.UserOptions{Username: "mallory"})
	for _, u := range []*model.User{w.bot, w.agent, w.admin, w.remote} {
		srv.AddTeamMember(w.team.Id, u.Id, false)
	}
	srv.AddTeamMember(w.team.Id, w.guest.Id, true)
	srv.AddTeamMember(w.other.Id, w.outsider.Id, false)
	srv.AddTeamMember(w.other.Id, w.bot.Id, false)
	everyone := []string{w.bot.Id, w.agent.Id, w.admin.Id, w.guest.Id, w.remote.Id, w.outsider.Id}
	w.shared = srv.AddChannel(w.team.Id, "mpd-shared", everyone...)
	w.internal = srv.AddChannel(w.team.Id, "watch", everyone...)
	w.others = srv.AddChannel(w.team.Id, "town-square", everyone...)
	w.web = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h := w.handler.Load(); h != nil {
			h.ServeHTTP(rw, r)
			return
		}
		http.NotFound(rw, r)
	}))
	t.Cleanup(w.web.Close)
	return w
}

// config is the bot's configuration for this world; env overrides.
func (w *world) config(env map[string]string) *config.Config {
	w.t.Helper()
	yaml := fmt.Sprintf(`mattermost:
  internal_teams: [pld]
roles:
  admins: ["mattermost:%s"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    channels: ["mattermost:%s"]
teams:
  - id: watch
    channels: ["mattermost:%s"]
`, w.admin.Id, w.shared.Id, w.internal.Id)
	vars := map[string]string{
		"MATTERMOST_URL":       w.srv.URL,
		"MATTERMOST_BOT_TOKEN": botToken,
		"MATTERMOST_TEAM":      "pld",
		"LIAISON_PUBLIC_URL":   w.web.URL,
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(k string) string { return vars[k] })
	if err != nil {
		w.t.Fatalf("config: %v", err)
	}
	return cfg
}

// memAuditor keeps audit records in memory.
type memAuditor struct {
	mu      sync.Mutex
	records []bot.AuditRecord
}

func (m *memAuditor) Record(_ context.Context, r bot.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, r)
	return nil
}

func (m *memAuditor) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records)
}

// events collects what the adapter dispatches.
type events struct {
	mu   sync.Mutex
	list []bot.Event
}

func (e *events) HandleEvent(_ context.Context, ev bot.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	return nil
}

func (e *events) all() []bot.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bot.Event(nil), e.list...)
}

// waiter replaces the adapter's sleeps: it records every wait and, when
// gated, blocks until the test opens the gate.
type waiter struct {
	mu    sync.Mutex
	waits []time.Duration
	gate  chan struct{}
	calls chan time.Duration
}

func newWaiter() *waiter { return &waiter{calls: make(chan time.Duration, 1000)} }

func (w *waiter) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	gate := w.gate
	w.mu.Unlock()
	select {
	case w.calls <- d:
	default:
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

func (w *waiter) close(gate chan struct{}) {
	w.mu.Lock()
	w.gate = gate
	w.mu.Unlock()
}

func (w *waiter) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// syncBuffer is a log sink safe for concurrent writes.
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

// bot is one running adapter over a store.
type running struct {
	ad     *Adapter
	mux    *bot.Mux
	audit  *memAuditor
	events *events
	waiter *waiter
	logs   *syncBuffer
	store  store.Store
	stop   func()
}

type startOptions struct {
	env       map[string]string
	store     store.Store // reuse (a restart); nil opens a new one
	register  func(m *bot.Mux)
	slowAfter time.Duration
	noRun     bool
	waiter    *waiter
	mutate    func(*config.Config) // after parsing: settings validation would refuse
}

// start builds and runs an adapter against the world, with test commands.
func (w *world) start(o startOptions) *running {
	w.t.Helper()
	st := o.store
	if st == nil {
		db, err := boltstore.Open(filepath.Join(w.t.TempDir(), "liaison.db"), boltstore.Options{})
		if err != nil {
			w.t.Fatal(err)
		}
		w.t.Cleanup(func() { db.Close() })
		st = db
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := &running{audit: &memAuditor{}, events: &events{}, waiter: o.waiter, logs: logs, store: st}
	if r.waiter == nil {
		r.waiter = newWaiter()
	}
	r.mux = bot.NewMux("liaison", log)
	r.mux.Use(bot.Audit(r.audit, log, nil), bot.Recover(log), bot.Authorize(r.mux))
	r.mux.OnEvent(r.events)
	if o.register != nil {
		o.register(r.mux)
	} else {
		registerTestCommands(r.mux)
	}
	cfg := w.config(o.env)
	if o.mutate != nil {
		o.mutate(cfg)
	}
	ad, err := New(context.Background(), Options{
		Config: cfg, Mux: r.mux, Store: st, Logger: log,
		Wait: r.waiter.wait, SlowAfter: o.slowAfter,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	r.ad = ad
	// Each start gets a fresh route table on the same public URL.
	mux := http.NewServeMux()
	ad.Register(mux)
	w.handler.Store(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if o.noRun {
		close(done)
	} else {
		go func() {
			defer close(done)
			if err := ad.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				w.t.Errorf("Run: %v", err)
			}
		}()
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	w.t.Cleanup(r.stop)
	return r
}

// registerTestCommands installs small commands that show what the adapter
// passed to the mux.
func registerTestCommands(m *bot.Mux) {
	m.HandleFunc("whoami", "who the bot thinks you are", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Text: fmt.Sprintf("role=%s user=%s name=%s channel=%s thread=%s", req.Role, req.User.ID, req.User.Name, req.Channel, req.ThreadRef)}, nil
	})
	m.HandleFunc("secret", "agents only", bot.AccessAgents, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Text: "the secret"}, nil
	})
	m.HandleFunc("choose", "offers buttons", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Title: "Which one?", Buttons: []bot.Button{
			{Label: "Who am I", Command: "whoami", Primary: true},
			{Label: "Announce", Command: "announce done"},
		}}, nil
	})
	m.HandleFunc("announce <text>", "posts in the channel", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Visibility: bot.InChannel, Text: "announced: " + req.Args.Get("text")}, nil
	})
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// await waits on the fake server's state.
func (w *world) await(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.srv.Await(ctx, cond); err != nil {
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (r *running) ready(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for r.ad.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("adapter not ready: %v\nlog:\n%s", r.ad.Ready(), r.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// execute types a slash command in a channel.
func (w *world) execute(user *model.User, ch *model.Channel, text string) *mmtest.Result {
	w.t.Helper()
	res, err := w.srv.Execute(context.Background(), mmtest.Invocation{UserID: user.Id, ChannelID: ch.Id, Text: text})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func contains(s string, subs ...string) error {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return fmt.Errorf("%q not in:\n%s", sub, s)
		}
	}
	return nil
}

// mustServe runs a command line through the running adapter's mux as an agent.
func mustServe(t *testing.T, r *running, line string) *bot.Message {
	t.Helper()
	return r.mux.Serve(context.Background(), &bot.Request{Platform: bot.Mattermost, Channel: "c", User: bot.User{ID: "u"}, Role: bot.Role{Kind: bot.RoleAgent}, Text: line})
}
