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
)

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
	var wg sync.WaitGroup
	for _, ad := range adapters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ad.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("platform stopped", "platform", ad.Platform(), "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = a.outbox.Run(runCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.incidents.RunNudges(runCtx, time.Minute)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.handoff.Run(runCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.releaseMapped(runCtx)
	}()
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
	cancelRun()
	wg.Wait()
	// Send what is queued before closing the store, paced posts included,
	// within a bound; what cannot go by then (a platform down, a retry
	// later) stays in the outbox for the next start.
	fctx, fcancel := context.WithTimeout(context.Background(), shutdownGrace)
	left, ferr := a.outbox.Drain(fctx)
	fcancel()
	switch {
	case ferr != nil || left != 0:
		a.log.Warn("outbox not fully flushed at shutdown", "left", left, "err", ferr)
	default:
		a.log.Info("outbox flushed")
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
