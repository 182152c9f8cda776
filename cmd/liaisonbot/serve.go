package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"liaisonbot/adapters/console"
	"liaisonbot/bot"
	"liaisonbot/bot/leader"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/commands/directory"
)

// leaderOnlyPlatform: with replicas, the Mattermost websocket (thread
// replies, catch-up of posts since the last seen) runs on the leader only;
// Slack's Socket Mode and every HTTP endpoint run on all replicas.
func leaderOnlyPlatform(p string) bool { return p == bot.Mattermost }

// replicate sets up leader election when the store is etcd: the elector
// runs the background work on one replica, and the outbox claims entries.
// id names this replica in the election and in outbox claims.
func (a *app) replicate(id string) {
	db, ok := a.store.(*etcdstore.DB)
	if !ok {
		return
	}
	a.elector = &leader.Elector{Client: db.Client(), Key: db.Prefix() + "leader", ID: id, Logger: a.log}
	a.outbox.Owner = id
}

// shutdownGrace bounds how long SIGTERM waits for requests in flight.
const shutdownGrace = 10 * time.Second

// platform is an adapter serve can run. start registers its HTTP routes on
// mux and returns nil, nil when the platform is not configured. Each
// platform's file adds itself in an init function, so wiring a new one
// touches only its own file.
type platform struct {
	name  string
	start func(ctx context.Context, a *app, mux *http.ServeMux) (bot.Adapter, error)
}

var platforms []platform

// startPlatforms starts every configured platform: its HTTP routes on mux
// and its adapter in the outbox. Posts for console channels are printed on
// out, labelled. It returns the adapters to run.
func (a *app) startPlatforms(ctx context.Context, mux *http.ServeMux, out io.Writer) ([]bot.Adapter, error) {
	var adapters []bot.Adapter
	for _, p := range platforms {
		ad, err := p.start(ctx, a, mux)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		if ad != nil {
			adapters = append(adapters, ad)
			a.log.Info("platform enabled", "platform", p.name)
		}
	}
	a.outbox.Adapters[bot.Console] = &console.Adapter{Out: out}
	for _, ad := range adapters {
		a.outbox.Adapters[ad.Platform()] = ad
	}
	return adapters, nil
}

// serve runs the HTTP listener and every configured platform until SIGTERM
// or SIGINT, then stops intake and lets requests in flight finish.
func (e *environment) serve(args []string) error {
	if len(args) > 0 {
		return usageErr("serve: unexpected argument %q", args[0])
	}
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := e.open(ctx, slog.LevelInfo)
	if err != nil {
		return err
	}
	defer a.close()
	defer a.serveControl()() // stopped before the store closes
	a.replicate(e.replicaID())
	startPprof(a.log)

	mux := http.NewServeMux()
	adapters, err := a.startPlatforms(ctx, mux, e.stdout)
	if err != nil {
		return err
	}
	a.observe(mux, adapters)

	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second}
	a.log.Info("serving", "addr", ln.Addr().String(), "missions", len(a.directory.Snapshot().Missions))

	runCtx, cancelRun := context.WithCancel(ctx)
	wait := a.run(runCtx, adapters)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	// Commands answered late (acknowledged, still working) finish before
	// the store closes.
	for _, ad := range adapters {
		if d, ok := ad.(interface{ Drain() }); ok {
			d.Drain()
		}
	}
	cancelRun()
	wait()
	// Send what is queued before closing the store, paced posts included,
	// within a bound; what cannot go by then (a platform down, a retry
	// later) stays in the outbox for the next start. With replicas the
	// next leader sends it (this one resigned as it stopped).
	if a.elector == nil {
		fctx, fcancel := context.WithTimeout(context.Background(), shutdownGrace)
		left, ferr := a.outbox.Drain(fctx)
		fcancel()
		switch {
		case ferr != nil || left != 0:
			a.log.Warn("outbox not fully flushed at shutdown", "left", left, "err", ferr)
		default:
			a.log.Info("outbox flushed")
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// run starts the adapters and the background work (on the elected replica
// only, when there is an elector) until ctx ends; wait waits for all of it
// to stop.
func (a *app) run(ctx context.Context, adapters []bot.Adapter) (wait func()) {
	var wg sync.WaitGroup
	runAdapter := func(ctx context.Context, ad bot.Adapter) {
		if err := ad.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("platform stopped", "platform", ad.Platform(), "err", err)
		}
	}
	var leaderOnly []bot.Adapter
	for _, ad := range adapters {
		if a.elector != nil && leaderOnlyPlatform(ad.Platform()) {
			leaderOnly = append(leaderOnly, ad)
			continue
		}
		wg.Go(func() { runAdapter(ctx, ad) })
	}
	// The background work: in this process, or on the elected replica
	// only when several share an etcd store.
	background := func(ctx context.Context) {
		var bg sync.WaitGroup
		for _, ad := range leaderOnly {
			bg.Go(func() { runAdapter(ctx, ad) })
		}
		if db, ok := a.store.(*etcdstore.DB); ok {
			// Posts queued on another replica wake this one's outbox.
			bg.Go(func() { db.Watch(ctx, outbox.BucketPending, a.outbox.Notify) })
		}
		bg.Go(func() { _ = a.outbox.Run(ctx) })
		bg.Go(func() { a.incidents.RunNudges(ctx, time.Minute) })
		bg.Go(func() { a.handoff.Run(ctx) })
		bg.Go(func() { a.pruneAudit(ctx) })
		bg.Wait()
	}
	if db, ok := a.store.(*etcdstore.DB); ok {
		wg.Go(func() { a.followDirectory(ctx, db) })
	}
	wg.Go(func() { a.releaseMapped(ctx) })
	if a.elector != nil {
		wg.Go(func() { _ = a.elector.Run(ctx, background) })
	} else {
		wg.Go(func() { background(ctx) })
	}
	return wg.Wait
}

// replicaID is LIAISON_REPLICA, else host/pid.
func (e *environment) replicaID() string {
	if v := e.env("LIAISON_REPLICA"); v != "" {
		return v
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// followDirectory reloads this replica's directory when another replica
// imports one (every replica answers look-ups from its own snapshot). An
// import is many etcd writes: the reloads they trigger coalesce.
func (a *app) followDirectory(ctx context.Context, db *etcdstore.DB) {
	changed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		db.WatchBuckets(ctx, directory.BucketPrefix, func() {
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	})
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		if err := a.directory.Reload(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("directory: reload after another replica's import failed", "err", err)
		}
	}
}
