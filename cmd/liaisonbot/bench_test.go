package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/internal/etcdtest"
)

const benchPartners = `partners:
  - id: mpd
    name: Metropolitan Police Department
    channels: ["console:mpd"]
  - id: uspp
    name: United States Park Police
    channels: ["console:uspp"]
`

// BenchmarkIncidentOpen is `incident open` end to end through the mux
// (grammar, authorisation, audit, metrics, the mission search, the one
// transaction that numbers the incident, writes its timeline and queues a
// root post per partner), on each backend. The outbox does not run.
func BenchmarkIncidentOpen(b *testing.B) {
	for _, backend := range []string{"bbolt", "etcd"} {
		b.Run(backend, func(b *testing.B) {
			cfg := filepath.Join(b.TempDir(), "liaison.yaml")
			body := benchPartners
			if backend == "etcd" {
				body += fmt.Sprintf("store: etcd\netcd:\n  endpoints: [%q]\n  prefix: %s\n", etcdtest.Shared(b).Endpoint(), etcdtest.Prefix(b))
			}
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				b.Fatal(err)
			}
			vars := map[string]string{"LIAISON_DB": filepath.Join(b.TempDir(), "liaison.db")}
			e := &environment{configPath: cfg, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
				getenv: func(k string) string { return vars[k] }}
			a, err := e.open(context.Background(), slog.LevelWarn)
			if err != nil {
				b.Fatal(err)
			}
			defer a.close()
			ctx := context.Background()
			for b.Loop() {
				msg := a.mux.Serve(ctx, &bot.Request{
					Platform: bot.Console, Channel: "console", User: bot.User{ID: "tester", Name: "tester"},
					Role: bot.Role{Kind: bot.RoleAgent}, Text: "incident open mission:canada sev:3 partners:mpd,uspp Gathering at the gate", Time: time.Now(),
				})
				if msg == nil || !strings.Contains(msg.Text+msg.Title, "opened") {
					b.Fatalf("answer: %+v", msg)
				}
			}
		})
	}
}

// BenchmarkDirectoryImport50k imports 50,000 missions with --replace in one
// transaction: the biggest transaction the bot makes (on etcd, committed
// in steps, see etcdstore).
func BenchmarkDirectoryImport50k(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("id,country,kind,name,city,state,address,lat,lon\n")
	for i := range 50_000 {
		fmt.Fprintf(&csv, "m-%06d,Country %d,embassy,Embassy of Country %d,City %d,DC,%d Main Street,38.%04d,-77.%04d\n", i, i%50, i, i%20, i%5000, i%10000, i%10000)
	}
	for _, backend := range []string{"bbolt", "etcd"} {
		b.Run(backend, func(b *testing.B) {
			cfg := filepath.Join(b.TempDir(), "liaison.yaml")
			body := ""
			if backend == "etcd" {
				body = fmt.Sprintf("store: etcd\netcd:\n  endpoints: [%q]\n  prefix: %s\n", etcdtest.Shared(b).Endpoint(), etcdtest.Prefix(b))
			}
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				b.Fatal(err)
			}
			vars := map[string]string{"LIAISON_DB": filepath.Join(b.TempDir(), "liaison.db")}
			e := &environment{configPath: cfg, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
				getenv: func(k string) string { return vars[k] }}
			a, err := e.open(context.Background(), slog.LevelWarn)
			if err != nil {
				b.Fatal(err)
			}
			defer a.close()
			for b.Loop() {
				f, err := dirdata.Read("missions.csv", strings.NewReader(csv.String()))
				if err != nil {
					b.Fatal(err)
				}
				rep, err := a.directory.Import(context.Background(), f, true, false)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(a.directory.Snapshot().Missions); n != 50_000 {
					b.Fatalf("%d missions after import (%+v)", n, rep)
				}
			}
		})
	}
}
