package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"liaisonbot/bot"
	"liaisonbot/bot/metrics"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/commands/incident"
)

// observe mounts what operators and orchestrators watch (SPEC §4):
// GET /healthz, the process is alive; GET /readyz, the store is open and
// every adapter that holds a connection has it, else 503 with what is not
// ready, one line each; GET /metrics, Prometheus.
func (a *app) observe(mux *http.ServeMux, adapters []bot.Adapter) {
	platforms := map[string]bot.Readiness{}
	var names []string
	for _, ad := range adapters {
		names = append(names, ad.Platform())
		if rc, ok := ad.(bot.Readiness); ok {
			platforms[ad.Platform()] = rc
		}
	}
	teams := make([]string, len(a.cfg.Teams))
	for i, t := range a.cfg.Teams {
		teams[i] = t.ID
	}
	a.metrics.Init(names, teams)
	src := metrics.Sources{
		Outbox: func(ctx context.Context) (int, int, error) {
			s, err := outbox.Count(ctx, a.store)
			return s.Pending, s.Failing, err
		},
		OpenIncidents: func(ctx context.Context) (n int, err error) {
			err = a.store.View(ctx, func(tx store.Tx) error {
				n, err = incident.OpenCount(tx)
				return err
			})
			return n, err
		},
		Platforms: platforms,
	}
	if a.elector != nil {
		src.Leading = a.elector.Leading
		src.Held = func(p string) bool { return !leaderOnlyPlatform(p) || a.elector.Leading() }
	}
	if db, ok := a.store.(*etcdstore.DB); ok {
		src.StoreRetries = db.Conflicts
	}
	if a.cfg.Store != "etcd" { // etcd's size is the cluster's to watch
		src.StoreSize = func() (int64, error) {
			fi, err := os.Stat(a.cfg.DB)
			if err != nil {
				return 0, err
			}
			return fi.Size(), nil
		}
	}
	a.metrics.Observe(src)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var problems []string
		if err := a.store.View(r.Context(), func(store.Tx) error { return nil }); err != nil {
			problems = append(problems, "store: "+err.Error())
		}
		for _, ad := range adapters {
			if a.elector != nil && leaderOnlyPlatform(ad.Platform()) && !a.elector.Leading() {
				continue // the leader holds this connection
			}
			if rc, ok := ad.(bot.Readiness); ok {
				if err := rc.Ready(); err != nil {
					problems = append(problems, ad.Platform()+": "+err.Error())
				}
			}
		}
		if len(problems) > 0 {
			http.Error(w, "not ready\n"+strings.Join(problems, "\n"), http.StatusServiceUnavailable)
			return
		}
		switch {
		case a.elector == nil:
			fmt.Fprintln(w, "ready")
		case a.elector.Leading():
			fmt.Fprintln(w, "ready (leader)")
		default:
			fmt.Fprintln(w, "ready (follower)")
		}
	})
	mux.Handle("GET /metrics", a.metrics.Handler(a.log))
}
