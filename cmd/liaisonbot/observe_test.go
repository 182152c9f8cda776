package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"liaisonbot/bot"
)

// fakeConn is an adapter holding a connection that the test cuts.
type fakeConn struct {
	name string
	down atomic.Pointer[error]
}

func (f *fakeConn) Platform() string              { return f.name }
func (f *fakeConn) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeConn) Post(context.Context, bot.Post) (bot.MessageRef, error) {
	return bot.MessageRef{}, errors.New("not connected")
}
func (f *fakeConn) Update(context.Context, bot.MessageRef, bot.Message) error { return nil }
func (f *fakeConn) Ready() error {
	if err := f.down.Load(); err != nil {
		return *err
	}
	return nil
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// /healthz says the process is alive whatever its connections; /readyz
// names everything that is not ready, and turns ready when it all is.
func TestHealthAndReadiness(t *testing.T) {
	vars := map[string]string{"LIAISON_DB": filepath.Join(t.TempDir(), "liaison.db")}
	e := &environment{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(k string) string { return vars[k] }}
	a, err := e.open(context.Background(), slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			a.close()
		}
	})
	socket, ws := &fakeConn{name: "slack"}, &fakeConn{name: "mattermost"}
	mux := http.NewServeMux()
	a.observe(mux, []bot.Adapter{socket, ws})

	if code, body := get(t, mux, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("all up: /readyz %d %q", code, body)
	}
	cut := errors.New("socket mode not connected: Slack asked to reconnect")
	socket.down.Store(&cut)
	dropped := errors.New("websocket connecting")
	ws.down.Store(&dropped)
	code, body := get(t, mux, "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("two platforms down: /readyz %d %q", code, body)
	}
	for _, want := range []string{"not ready", "slack: socket mode not connected: Slack asked to reconnect", "mattermost: websocket connecting"} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz body lacks %q:\n%s", want, body)
		}
	}
	if code, body := get(t, mux, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz while not ready: %d %q", code, body)
	}
	_, metrics := get(t, mux, "/metrics")
	for _, want := range []string{`liaisonbot_platform_connected{platform="mattermost"} 0`, `liaisonbot_platform_connected{platform="slack"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	socket.down.Store(nil)
	ws.down.Store(nil)
	if code, body := get(t, mux, "/readyz"); code != http.StatusOK {
		t.Fatalf("reconnected: /readyz %d %q", code, body)
	}

	// The store closed (a failing disk, a shutdown under way).
	a.close()
	closed = true
	code, body = get(t, mux, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "store: ") {
		t.Errorf("store closed: /readyz %d %q", code, body)
	}
	if code, _ := get(t, mux, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the store closed: %d", code)
	}
}

// LIAISON_LOG_FORMAT and LIAISON_LOG_LEVEL: known values take effect, and
// an unknown one stops the program with the variable named, rather than
// silently logging otherwise.
func TestLoggerSettings(t *testing.T) {
	for _, tt := range []struct {
		format, level string
		want          string // in the output of a warning, or the error
	}{
		{"", "", `"level":"WARN"`}, // not a terminal: JSON
		{"json", "", `"msg":"hello"`},
		{"TEXT", "", "level=WARN msg=hello"},
		{"text", "error", ""}, // the warning is below the level
		{"yaml", "", "LIAISON_LOG_FORMAT"},
		{"", "verbose", "LIAISON_LOG_LEVEL"},
	} {
		var out strings.Builder
		vars := map[string]string{"LIAISON_LOG_FORMAT": tt.format, "LIAISON_LOG_LEVEL": tt.level}
		e := &environment{stderr: &out, getenv: func(k string) string { return vars[k] }}
		log, err := e.logger(slog.LevelInfo)
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q/%q: %v", tt.format, tt.level, err)
			}
			continue
		}
		log.Warn("hello")
		if got := out.String(); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%q/%q: logged %q, want %q", tt.format, tt.level, got, tt.want)
		}
	}
}
