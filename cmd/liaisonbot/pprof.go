package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// startPprof serves Go's profiler on LIAISON_PPROF (e.g. 127.0.0.1:6060)
// when set: a separate listener, never the public one, for measuring the
// HTTP path under load.
func startPprof(log *slog.Logger) {
	addr := os.Getenv("LIAISON_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("pprof listener stopped", "addr", addr, "err", err)
		}
	}()
}
