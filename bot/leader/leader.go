// Package leader elects one replica among several sharing an etcd cluster
// (go.etcd.io/etcd/client/v3/concurrency) and runs the leader-only work
// there: while this replica leads, and only then.
//
// Safety: a leader must stop acting before another replica can win. etcd
// expires the election key when the lease is not renewed for its TTL, on
// the server's clock; the client's own session notices later than that
// (it counts from the keep-alive answer, not from the request). So besides
// the session this package renews the lease itself with KeepAliveOnce and
// keeps, as its deadline, the time a successful renewal was SENT plus the
// TTL, less a margin: the server cannot expire the lease before that
// instant, and the leader's context is canceled at it. Work in flight when
// it is canceled (a post already on the wire) is what outbox claims and
// the platforms' idempotency keys are for.
package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultTTL is the session TTL: a dead leader is replaced within about
// this long plus a campaign round.
const DefaultTTL = 5 * time.Second

// Elector campaigns for one election.
type Elector struct {
	Client *clientv3.Client
	// Key is the election's key prefix, e.g. "/liaisonbot/leader".
	Key string
	// ID names this replica (hostname, pid); it is the election value.
	ID     string
	TTL    time.Duration // default DefaultTTL; whole seconds
	Logger *slog.Logger
	// OnChange, optional, is called with true when this replica starts
	// leading and false when it stops.
	OnChange func(leading bool)
	leading  atomic.Bool
}

// Leading reports whether this replica leads now.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Run campaigns until ctx ends. Each time this replica wins, work runs
// with a context canceled when leadership ends (ctx ends, the session is
// lost, or the renewal deadline passes); Run waits for work to return
// before campaigning again.
func (e *Elector) Run(ctx context.Context, work func(ctx context.Context)) error {
	if e.TTL <= 0 {
		e.TTL = DefaultTTL
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	retry := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.term(ctx, work)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// Once per outage, not once a second.
			level := slog.LevelDebug
			if retry == 100*time.Millisecond {
				level = slog.LevelWarn
			}
			e.Logger.Log(ctx, level, "leader election: cannot campaign, will try again", "replica", e.ID, "err", err)
			t := time.NewTimer(retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			retry = min(2*retry, time.Second)
		} else {
			retry = 100 * time.Millisecond
		}
	}
	return nil
}

// term is one session: campaign, lead until it ends, clean up.
func (e *Elector) term(ctx context.Context, work func(ctx context.Context)) error {
	ttl := int64(e.TTL / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	sent := time.Now()
	grant, err := e.Client.Grant(ctx, ttl)
	if err != nil {
		return err
	}
	// Before deadline the lease surely lives (monotonic clock).
	var dmu sync.Mutex
	deadline := sent.Add(e.TTL - e.margin())
	renewedAt := func(sent time.Time) {
		dmu.Lock()
		deadline = sent.Add(e.TTL - e.margin())
		dmu.Unlock()
	}
	timeLeft := func() time.Duration {
		dmu.Lock()
		defer dmu.Unlock()
		return time.Until(deadline)
	}
	sessCtx, endSession := context.WithCancel(ctx)
	defer endSession()
	sess, err := concurrency.NewSession(e.Client, concurrency.WithLease(grant.ID), concurrency.WithContext(sessCtx))
	if err != nil {
		e.revoke(grant.ID)
		return err
	}
	defer func() {
		endSession()
		e.revoke(grant.ID)
	}()
	// Our own renewals, to know the deadline (see the package comment).
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		for {
			t := time.NewTimer(e.TTL / 3)
			select {
			case <-sessCtx.Done():
				t.Stop()
				return
			case <-sess.Done(): // also ends a campaign still waiting
				t.Stop()
				endSession()
				return
			case <-t.C:
			}
			sent := time.Now()
			rctx, cancel := context.WithTimeout(sessCtx, e.TTL/3)
			_, err := e.Client.KeepAliveOnce(rctx, grant.ID)
			cancel()
			if err == nil {
				renewedAt(sent)
			} else if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				endSession()
				return
			}
		}
	}()
	defer func() { endSession(); <-renewed }()

	el := concurrency.NewElection(sess, e.Key)
	if err := el.Campaign(sessCtx, e.ID); err != nil {
		return err
	}
	// Won: lead until the session, the deadline or ctx ends.
	leadCtx, stop := context.WithCancel(sessCtx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			left := timeLeft()
			if left <= 0 {
				e.Logger.Warn("leader: lease not renewed in time, stepping down", "replica", e.ID)
				stop()
				return
			}
			t := time.NewTimer(min(left, 100*time.Millisecond))
			select {
			case <-leadCtx.Done():
				t.Stop()
				return
			case <-sess.Done():
				t.Stop()
				e.Logger.Warn("leader: etcd session lost, stepping down", "replica", e.ID)
				stop()
				return
			case <-t.C:
			}
		}
	})
	e.setLeading(true)
	work(leadCtx)
	stop()
	wg.Wait()
	e.setLeading(false)
	// Resign promptly when we still can, so a successor need not wait
	// for the TTL.
	rctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = el.Resign(rctx)
	cancel()
	return nil
}

func (e *Elector) margin() time.Duration { return max(e.TTL/5, 500*time.Millisecond) }

func (e *Elector) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = e.Client.Revoke(ctx, id)
}

func (e *Elector) setLeading(v bool) {
	if e.leading.Swap(v) == v {
		return
	}
	if v {
		e.Logger.Info("leader: this replica now leads", "replica", e.ID)
	} else {
		e.Logger.Info("leader: this replica no longer leads", "replica", e.ID)
	}
	if e.OnChange != nil {
		e.OnChange(v)
	}
}

// Leader returns the ID of the replica leading now ("" when none).
func Leader(ctx context.Context, cli *clientv3.Client, key string) (string, error) {
	resp, err := cli.Get(ctx, key+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
