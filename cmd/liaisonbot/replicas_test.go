package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/internal/etcdtest"
)

// platform is the fake chat platform every replica posts to: it counts
// deliveries, and while held it keeps a post in flight (the sender's
// context ending makes it fail, as a crash mid-send would).
type countingPlatform struct {
	mu        sync.Mutex
	delivered map[string]int // by outbox key
	texts     []string
	held      bool
	inFlight  chan string
}

func (p *countingPlatform) Platform() string              { return bot.Console }
func (p *countingPlatform) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (p *countingPlatform) Update(context.Context, bot.MessageRef, bot.Message) error {
	return nil
}
func (p *countingPlatform) Post(ctx context.Context, post bot.Post) (bot.MessageRef, error) {
	p.mu.Lock()
	held := p.held
	p.mu.Unlock()
	if held {
		select {
		case p.inFlight <- post.Key:
		default:
		}
		<-ctx.Done()
		return bot.MessageRef{}, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delivered[post.Key]++
	p.texts = append(p.texts, post.Message.Title+" | "+post.Message.Text)
	return bot.MessageRef{Platform: bot.Console, Channel: post.Channel, ID: fmt.Sprint(len(p.texts))}, nil
}

func (p *countingPlatform) hold(v bool) {
	p.mu.Lock()
	p.held = v
	p.mu.Unlock()
}

// syncBuffer is a log a replica writes while the test reads it.
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

type testReplica struct {
	id     string
	a      *app
	proxy  *etcdtest.Proxy
	log    *syncBuffer
	cancel context.CancelFunc
	wait   func()
	leads  atomic.Int64 // unix nanos of the last start of leading
	stops  atomic.Int64 // unix nanos of the last end of leading
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		<-tick.C
	}
}

// Three replicas on one etcd. The leader is cut off from etcd (a crash as
// etcd sees it, a partition as it sees itself) while it is sending a post,
// more posts wait in the outbox and a digest falls due: it stops acting
// before another replica takes over, which happens within 10 s, and every
// post and the digest reach the platform exactly once.
func TestThreeReplicasLeaderDies(t *testing.T) {
	ctx := context.Background()
	prefix := etcdtest.Prefix(t)
	var clockNanos atomic.Int64
	// 06:58 UTC, two minutes before the 07:00 shift change.
	clockNanos.Store(time.Date(2026, 12, 7, 6, 58, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clockNanos.Load()).UTC() }
	plat := &countingPlatform{delivered: map[string]int{}, inFlight: make(chan string, 1)}

	var rs []*testReplica
	for i := range 3 {
		r := &testReplica{id: fmt.Sprintf("replica-%d", i), log: &syncBuffer{}}
		r.proxy = etcdtest.NewProxy(t, etcdtest.Shared(t).Endpoint())
		cfg := filepath.Join(t.TempDir(), "liaison.yaml")
		body := fmt.Sprintf(`store: etcd
etcd:
  endpoints: [%q]
  prefix: %s
teams:
  - id: watch
    name: PLD Watch
    timezone: UTC
    channels: ["console:watch"]
    shift_changes: ["0 7 * * *"]
    leads: ["@alice", "@bob"]
`, r.proxy.Endpoint(), prefix)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"LIAISON_LOG_FORMAT": "text"}
		e := &environment{configPath: cfg, stdin: strings.NewReader(""), stdout: io.Discard, stderr: r.log,
			getenv: func(k string) string { return vars[k] }, now: now}
		a, err := e.open(ctx, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.close() })
		a.replicate(r.id)
		a.elector.TTL = 2 * time.Second
		a.elector.OnChange = func(leading bool) {
			if leading {
				r.leads.Store(time.Now().UnixNano())
			} else {
				r.stops.Store(time.Now().UnixNano())
			}
		}
		a.outbox.Adapters[bot.Console] = plat
		a.outbox.SendTimeout = time.Second
		a.outbox.BaseDelay = 50 * time.Millisecond
		r.a = a
		rs = append(rs, r)
	}
	// The team's scheduler counts from here (its first tick on a fresh store).
	if _, err := rs[0].a.handoff.Tick(ctx, now()); err != nil {
		t.Fatal(err)
	}
	plat.hold(true)
	for _, r := range rs {
		rctx, cancel := context.WithCancel(ctx)
		r.cancel, r.wait = cancel, r.a.run(rctx, nil)
		t.Cleanup(func() { cancel(); r.wait() })
	}
	var first *testReplica
	waitUntil(t, "a first leader", 10*time.Second, func() bool {
		for _, r := range rs {
			if r.a.elector.Leading() {
				first = r
				return true
			}
		}
		return false
	})

	// Posts queued by a follower (an incident opened there): the leader's
	// outbox wakes on the etcd watch and starts sending; the platform
	// holds the first one in flight.
	var follower *testReplica
	for _, r := range rs {
		if r != first {
			follower = r
			break
		}
	}
	const posts = 5
	err := follower.a.store.Update(ctx, func(tx store.Tx) error {
		for i := range posts {
			if _, err := outbox.Enqueue(tx, now(), outbox.Entry{Platform: bot.Console, Channel: fmt.Sprintf("ch%d", i), Message: bot.Message{Text: fmt.Sprintf("post %d", i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-plat.inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader did not start sending the queued posts")
	}

	// The leader is cut off from etcd (to etcd, a crash; to itself, a
	// partition): it keeps running, and must stop acting on its own.
	cut := time.Now()
	first.proxy.Cut()
	plat.hold(false)
	// The digest falls due.
	clockNanos.Store(time.Date(2026, 12, 7, 7, 0, 30, 0, time.UTC).UnixNano())

	var second *testReplica
	waitUntil(t, "a new leader", 10*time.Second, func() bool {
		for _, r := range rs {
			if r != first && r.a.elector.Leading() {
				second = r
				return true
			}
		}
		return false
	})
	took := time.Since(cut)
	t.Logf("leadership moved from %s to %s in %s", first.id, second.id, took.Round(time.Millisecond))
	if first.a.elector.Leading() {
		t.Errorf("the partitioned replica still thinks it leads")
	}
	if stopped, started := first.stops.Load(), second.leads.Load(); stopped == 0 || stopped > started {
		t.Errorf("old leader stopped at %d, new one started at %d", stopped, started)
	}

	digests := func() int {
		plat.mu.Lock()
		defer plat.mu.Unlock()
		n := 0
		for _, s := range plat.texts {
			if strings.Contains(s, "Handoff digest") {
				n++
			}
		}
		return n
	}
	defer func() {
		if t.Failed() {
			list, err := outbox.List(ctx, second.a.store)
			t.Logf("outbox: %+v %v", list, err)
			plat.mu.Lock()
			t.Logf("delivered: %v", plat.texts)
			plat.mu.Unlock()
			t.Logf("new leader's log:\n%s", second.log.String())
		}
	}()
	waitUntil(t, "every post and the digest delivered", 15*time.Second, func() bool {
		st, err := outbox.Count(ctx, second.a.store)
		return err == nil && st.Pending == 0 && digests() >= 1
	})
	// Nothing left for anyone to send again: check exactly once.
	plat.mu.Lock()
	defer plat.mu.Unlock()
	if len(plat.delivered) != posts+1 {
		t.Errorf("%d distinct posts delivered, want %d (%v)", len(plat.delivered), posts+1, plat.texts)
	}
	for key, n := range plat.delivered {
		if n != 1 {
			t.Errorf("post %s delivered %d times", key, n)
		}
	}
	n := 0
	for _, s := range plat.texts {
		if strings.Contains(s, "Handoff digest") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d digests delivered, want 1", n)
	}
	if !strings.Contains(second.log.String(), "this replica now leads") {
		t.Errorf("the new leader did not log it:\n%s", second.log.String())
	}

	// readyz and metrics tell leader from follower; only the leader holds
	// (and reports) the Mattermost connection.
	mux := http.NewServeMux()
	second.a.observe(mux, []bot.Adapter{&fakeConn{name: bot.Mattermost}})
	if code, body := get(t, mux, "/readyz"); code != http.StatusOK || body != "ready (leader)\n" {
		t.Errorf("leader's readyz: %d %q", code, body)
	}
	if _, body := get(t, mux, "/metrics"); !strings.Contains(body, "liaisonbot_leader 1") || !strings.Contains(body, `liaisonbot_platform_connected{platform="mattermost"} 1`) ||
		!strings.Contains(body, "liaisonbot_store_retries_total ") {
		t.Errorf("leader's metrics lack liaisonbot_leader 1, its Mattermost connection or the store retries:\n%s", body)
	}
	for _, r := range rs {
		if r != first && r != second {
			mux := http.NewServeMux()
			down := &fakeConn{name: bot.Mattermost}
			notHeld := errors.New("not connected: the leader holds it")
			down.down.Store(&notHeld)
			r.a.observe(mux, []bot.Adapter{down})
			if code, body := get(t, mux, "/readyz"); code != http.StatusOK || body != "ready (follower)\n" {
				t.Errorf("follower's readyz: %d %q", code, body)
			}
			_, body := get(t, mux, "/metrics")
			if !strings.Contains(body, "liaisonbot_leader 0") {
				t.Errorf("follower's metrics lack liaisonbot_leader 0")
			}
			if strings.Contains(body, "liaisonbot_platform_connected") {
				t.Errorf("a follower reports the Mattermost connection it does not hold")
			}
		}
	}
}

// A directory import on one replica reaches the others' snapshots.
func TestDirectoryImportReachesOtherReplicas(t *testing.T) {
	ctx := context.Background()
	prefix := etcdtest.Prefix(t)
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	body := fmt.Sprintf("store: etcd\netcd:\n  endpoints: [%q]\n  prefix: %s\n", etcdtest.Shared(t).Endpoint(), prefix)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var apps []*app
	for i := range 2 {
		e := &environment{configPath: cfg, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
			getenv: func(string) string { return "" }}
		a, err := e.open(ctx, slog.LevelWarn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.close() })
		a.replicate(fmt.Sprintf("r%d", i))
		rctx, cancel := context.WithCancel(ctx)
		wait := a.run(rctx, nil)
		t.Cleanup(func() { cancel(); wait() })
		apps = append(apps, a)
	}
	f, err := dirdata.Read("contacts.csv", strings.NewReader("mission_id,name,title,phone,email\nemb-dc-canada,Jordan Avery,Liaison,202-555-0101,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apps[0].directory.Import(ctx, f, false, false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the other replica sees the import", 10*time.Second, func() bool {
		m, _ := apps[1].directory.Snapshot().Mission("emb-dc-canada")
		return len(m.Contacts) == 1 && m.Contacts[0].Name == "Jordan Avery"
	})
}
