package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/internal/benchcpu"
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

// openBenchApp opens the app as serve would, with config as its
// configuration file (none when empty), vars as its environment and a
// database of its own; it is closed when the benchmark ends.
func openBenchApp(b *testing.B, config string, vars map[string]string) *app {
	b.Helper()
	env := map[string]string{"LIAISON_DB": filepath.Join(b.TempDir(), "liaison.db")}
	maps.Copy(env, vars)
	e := &environment{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(k string) string { return env[k] }}
	if config != "" {
		e.configPath = filepath.Join(b.TempDir(), "liaison.yaml")
		if err := os.WriteFile(e.configPath, []byte(config), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	a, err := e.open(context.Background(), slog.LevelWarn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.close() })
	return a
}

// backendConfig is the configuration that selects backend: nothing for
// bbolt, the test etcd for "etcd".
func backendConfig(b *testing.B, backend string) string {
	if backend != "etcd" {
		return ""
	}
	return fmt.Sprintf("store: etcd\netcd:\n  endpoints: [%q]\n  prefix: %s\n", etcdtest.Shared(b).Endpoint(), etcdtest.Prefix(b))
}

// BenchmarkIncidentOpen is `incident open` end to end through the mux
// (grammar, authorisation, audit, metrics, the mission search, the one
// transaction that numbers the incident, writes its timeline and queues a
// root post per partner), on each backend. The outbox does not run.
func BenchmarkIncidentOpen(b *testing.B) {
	for _, backend := range []string{"bbolt", "etcd"} {
		b.Run(backend, func(b *testing.B) {
			a := openBenchApp(b, benchPartners+backendConfig(b, backend), nil)
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
			a := openBenchApp(b, backendConfig(b, backend), nil)
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

// BenchmarkSlackSlashCommand is the bot's own work for one signed slash
// command, wired as serve wires it (Slack adapter, metrics, audit to a bbolt
// file, authorisation, the directory), without the network and net/http's
// connection handling: what it adds to the bare handler of SPEC §8. The
// request is signed once (valid for minutes) and replayed.
func BenchmarkSlackSlashCommand(b *testing.B) {
	const secret = "bench-secret"
	a := openBenchApp(b, "", map[string]string{"SLACK_SIGNING_SECRET": secret})
	mux := http.NewServeMux()
	if _, err := a.startPlatforms(context.Background(), mux, io.Discard); err != nil {
		b.Fatal(err)
	}
	body := []byte("api_app_id=A1&channel_id=C0WATCH&channel_name=watch&command=%2Fliaison" +
		"&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&team_domain=pld&team_id=T0DIVISION" +
		"&text=contact+canada&token=x&trigger_id=1.2.3&user_id=U0AGENT&user_name=agent")
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	header := http.Header{
		"Content-Type":              {"application/x-www-form-urlencoded"},
		"X-Slack-Request-Timestamp": {ts},
		"X-Slack-Signature":         {"v0=" + hex.EncodeToString(mac.Sum(nil))},
	}
	req, err := http.NewRequest(http.MethodPost, "http://bot/slack/commands", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header = header
	var rd bytes.Reader
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	cpu := benchcpu.Start(b)
	for b.Loop() {
		rd.Reset(body)
		req.Body, req.ContentLength = io.NopCloser(&rd), int64(len(body))
		clear(w.header)
		w.status, w.n = 0, 0
		mux.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n < 1000 {
			b.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	}
	// Under load what counts is CPU, the audit writer's and the collector's
	// included, not the wall time of one goroutine.
	cpu.Report(b)
}

// discardWriter is the least a ResponseWriter can be: it keeps the status
// and counts the body.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
