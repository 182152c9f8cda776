package leader_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"liaisonbot/bot/leader"
	"liaisonbot/internal/etcdtest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

// events records, in order, who started and stopped leading, and checks
// that two never lead at once.
type events struct {
	mu     sync.Mutex
	active map[string]bool
	log    []event
	t      *testing.T
	change chan struct{}
}

type event struct {
	id    string
	start bool
	at    time.Time
}

func (ev *events) add(id string, start bool) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if start {
		for other := range ev.active {
			ev.t.Errorf("%s starts leading while %s still does", id, other)
		}
		ev.active[id] = true
	} else {
		delete(ev.active, id)
	}
	ev.log = append(ev.log, event{id, start, time.Now()})
	select {
	case ev.change <- struct{}{}:
	default:
	}
}

// waitFor waits (bounded) until cond holds over the log.
func (ev *events) waitFor(t *testing.T, what string, d time.Duration, cond func([]event) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		ev.mu.Lock()
		ok := cond(ev.log)
		ev.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ev.change:
		case <-deadline:
			t.Fatalf("%s: not within %s; events %+v", what, d, ev.log)
		}
	}
}

type replica struct {
	id     string
	proxy  *etcdtest.Proxy
	el     *leader.Elector
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, ev *events, key, id string, ttl time.Duration) *replica {
	t.Helper()
	p := etcdtest.NewProxy(t, etcdtest.Shared(t).Endpoint())
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.Endpoint()}, DialTimeout: 2 * time.Second,
		DialKeepAliveTime: time.Second, DialKeepAliveTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{id: id, proxy: p, cancel: cancel, done: make(chan struct{}),
		el: &leader.Elector{Client: cli, Key: key, ID: id, TTL: ttl}}
	go func() {
		defer close(r.done)
		r.el.Run(ctx, func(ctx context.Context) {
			ev.add(id, true)
			<-ctx.Done()
			ev.add(id, false)
		})
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func leaderOf(log []event) string {
	cur := ""
	for _, e := range log {
		if e.start {
			cur = e.id
		} else if cur == e.id {
			cur = ""
		}
	}
	return cur
}

// Three replicas: one leads; cut the leader off etcd (a partition, or a
// crash as etcd sees it): it stops leading before another starts, and
// another starts within 10 s. Then a clean stop hands over at once.
func TestTakeover(t *testing.T) {
	const ttl = 2 * time.Second
	ev := &events{active: map[string]bool{}, t: t, change: make(chan struct{}, 1)}
	key := etcdtest.Prefix(t) + "leader"
	rs := map[string]*replica{}
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		rs[id] = start(t, ev, key, id, ttl)
	}
	ev.waitFor(t, "a first leader", 10*time.Second, func(l []event) bool { return leaderOf(l) != "" })
	ev.mu.Lock()
	first := leaderOf(ev.log)
	ev.mu.Unlock()
	if !rs[first].el.Leading() {
		t.Errorf("%s's Leading() is false while it leads", first)
	}
	if got, err := leader.Leader(context.Background(), rs[first].el.Client, key); err != nil || got != first {
		t.Errorf("Leader() = %q, %v; want %q", got, err, first)
	}

	cut := time.Now()
	rs[first].proxy.Cut()
	var second string
	ev.waitFor(t, "a new leader after the cut", 10*time.Second, func(l []event) bool {
		second = leaderOf(l)
		return second != "" && second != first
	})
	ev.mu.Lock()
	var stopped, started time.Time
	for _, e := range ev.log {
		if e.id == first && !e.start {
			stopped = e.at
		}
		if e.id == second && e.start {
			started = e.at
		}
	}
	ev.mu.Unlock()
	if stopped.IsZero() || !stopped.Before(started) {
		t.Errorf("partitioned leader stopped at %v, successor started at %v", stopped, started)
	}
	t.Logf("takeover after a cut: %s (old leader stepped down after %s)", started.Sub(cut).Round(time.Millisecond), stopped.Sub(cut).Round(time.Millisecond))
	if d := started.Sub(cut); d > 10*time.Second {
		t.Errorf("takeover took %s", d)
	}

	// A clean stop (SIGTERM) resigns: the third takes over well within the TTL.
	stop := time.Now()
	rs[second].cancel()
	<-rs[second].done
	ev.waitFor(t, "a leader after a clean stop", 10*time.Second, func(l []event) bool {
		c := leaderOf(l)
		return c != "" && c != first && c != second
	})
	if d := time.Since(stop); d > ttl {
		t.Errorf("handover after resigning took %s, more than the TTL", d)
	}
}
