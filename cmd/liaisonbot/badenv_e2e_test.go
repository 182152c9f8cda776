package main_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

// runBounded is run with a deadline: a process still running after it has
// hung, which SPEC §7 forbids.
func runBounded(t *testing.T, environ []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v hung: killed after 20 s\n%s", args, errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// TestBadDatabaseFile: SPEC §7, a database locked by another process, a
// corrupt, foreign or unreadable file: serve and the console each stop
// with one clear line and a non-zero exit, never a hang or a crash.
func TestBadDatabaseFile(t *testing.T) {
	// A liaisonbot database, for the truncated and locked cases.
	valid := filepath.Join(t.TempDir(), "valid.db")
	contacts, err := filepath.Abs(filepath.Join("..", "..", "commands", "directory", "dirdata", "testdata", "contacts-fictional.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, env(t, "LIAISON_DB="+valid), "", "directory", "import", contacts); r.code != 0 {
		t.Fatalf("setup: %s", r.stderr)
	}
	validBytes, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt grows its file ahead of use: what the pages in use span.
	var used int64
	vdb, err := boltstore.Open(valid, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := vdb.Bolt().View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	vdb.Close()
	file := func(t *testing.T, data []byte) string {
		p := filepath.Join(t.TempDir(), "liaison.db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) string // returns LIAISON_DB
		says  []string
	}{
		{"locked by another process", func(t *testing.T) string {
			p := file(t, validBytes)
			holder, err := boltstore.Open(p, boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { holder.Close() })
			return p
		}, []string{"database is in use by another process", "stop it or set LIAISON_DB"}},
		{"random bytes", func(t *testing.T) string {
			return file(t, bytes.Repeat([]byte("this is not a database\n"), 1000))
		}, []string{"corrupt"}},
		{"shorter than a page", func(t *testing.T) string { return file(t, []byte("hi")) }, []string{"corrupt"}},
		{"truncated", func(t *testing.T) string { return file(t, validBytes[:used/2]) }, []string{"corrupt", "truncated"}},
		{"damaged pages", func(t *testing.T) string {
			data := bytes.Clone(validBytes)
			pageSize := os.Getpagesize()
			for p := 4; p < int(used)/pageSize-1; p += 3 {
				copy(data[p*pageSize:p*pageSize+64], bytes.Repeat([]byte{0xff}, 64))
			}
			return file(t, data)
		}, []string{"corrupt"}},
		{"bbolt file of another program", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "other.db")
			db, err := boltstore.Open(p, boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(context.Background(), func(tx store.Tx) error { return tx.Put("widgets", "w1", []byte("{}")) }); err != nil {
				t.Fatal(err)
			}
			db.Close()
			return p
		}, []string{"not a liaisonbot database", "another program", "widgets", "refusing"}},
		{"directory", func(t *testing.T) string { return t.TempDir() }, []string{"is a directory"}},
		{"under a missing directory", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "missing", "liaison.db")
		}, []string{"no such file or directory"}},
		{"under a regular file", func(t *testing.T) string {
			return filepath.Join(file(t, []byte("x")), "liaison.db")
		}, []string{"not a directory"}},
		{"unreadable", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("running as root: mode 000 does not deny root, so the file would be read")
			}
			p := file(t, validBytes)
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"permission denied"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.setup(t)
			var before []byte
			if fi, err := os.Stat(db); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o400 != 0 {
				before, _ = os.ReadFile(db)
			}
			environ := env(t, "LIAISON_DB="+db, "LIAISON_LISTEN="+freeAddr(t), "LIAISON_LOG_FORMAT=json",
				"SLACK_SIGNING_SECRET="+e2eSecret)
			for _, args := range [][]string{{"serve"}, {"console"}} {
				r := runBounded(t, environ, "emergency\n", args...)
				oneLine(t, args[0], r, append([]string{db}, tt.says...)...)
				if r.code != 1 {
					t.Errorf("%s: exit %d, want 1", args[0], r.code)
				}
				if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
					t.Fatalf("%s crashed:\n%s", args[0], r.stderr)
				}
			}
			if before != nil {
				if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
					t.Errorf("the file was changed")
				}
			}
		})
	}
}

// TestBadConfigFile: a configuration file that cannot be read, or has one
// problem, is one line and exit 2; several problems are each on a line.
func TestBadConfigFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		says string
	}{
		{filepath.Join(dir, "missing.yaml"), "cannot read config file"},
		{dir, "is a directory"},
		{bad, "listen"},
	} {
		for _, args := range [][]string{{"serve"}, {"console"}, {"backup", filepath.Join(dir, "b.db")}} {
			r := runBounded(t, env(t), "", append([]string{"--config", tt.path}, args...)...)
			oneLine(t, args[0]+" with "+tt.path, r, "configuration "+tt.path+": ", tt.says)
			if r.code != 2 {
				t.Errorf("%s with %s: exit %d, want 2", args[0], tt.path, r.code)
			}
		}
	}
	if err := os.WriteFile(bad, []byte("listen: nowhere\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBounded(t, env(t), "", "--config", bad, "console")
	if r.code != 2 || !strings.Contains(r.stderr, "configuration "+bad+": 2 problems:\n  line 1: listen") || !strings.Contains(r.stderr, "\n  line 2: bogus") {
		t.Fatalf("two problems: exit %d\n%s", r.code, r.stderr)
	}
}

// TestSecretFileOthersMayRead: a file holding a secret that others may
// read is named, with the fix, by config check and at every start; the
// bot still starts.
func TestSecretFileOthersMayRead(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "slack_signing_secret")
	if err := os.WriteFile(secret, []byte(e2eSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env(t, "SLACK_SIGNING_SECRET_FILE="+secret, "LIAISON_LOG_FORMAT=json")
	if r := run(t, environ, "", "config", "check"); r.code != 0 || strings.Contains(r.stdout, "warning") {
		t.Fatalf("config check with a 0600 secret file: %d\n%s", r.code, r.stdout)
	}
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "SLACK_SIGNING_SECRET_FILE: \"" + secret + "\" holds a secret and its group and everyone may read it (mode 0644): chmod 600 " + secret
	r := run(t, environ, "", "config", "check")
	if r.code != 0 || !strings.Contains(r.stdout, "warning: "+want) || !strings.Contains(r.stdout, "configuration is valid") {
		t.Fatalf("config check: exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, environ, "emergency\n", "console")
	if r.code != 0 || !strings.Contains(r.stdout, "Call 911 first") || !strings.Contains(r.stderr, `"level":"WARN","msg":"`+strings.ReplaceAll(want, `"`, `\"`)+`"`) {
		t.Fatalf("console: exit %d, want the warning logged and the answer\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	if strings.Contains(r.stderr, e2eSecret) || strings.Contains(r.stdout, e2eSecret) {
		t.Fatal("the secret was printed")
	}
}

// TestSlackDownAtStart: Socket Mode with Slack unreachable. serve runs,
// /healthz says alive, /readyz says not ready and why, the connection is
// retried with growing delays, and SIGTERM still stops it cleanly.
// (TestMattermostServerDownAtStart does the same for Mattermost, and its
// recovery once the server is up.)
func TestSlackDownAtStart(t *testing.T) {
	closed := freeAddr(t) // nothing listens there
	addr := freeAddr(t)
	base := "http://" + addr
	environ := env(t, "LIAISON_LISTEN="+addr, "LIAISON_LOG_FORMAT=json",
		"SLACK_APP_TOKEN=xapp-1-e2e-app-token", "SLACK_BOT_TOKEN="+e2eBotToken, "SLACK_API_URL=http://"+closed+"/")
	bot := mmStartServe(t, environ)
	bot.until(t, "/healthz while Slack is down", func() bool { return mmStatus(base+"/healthz") == http.StatusOK })
	var why string
	bot.until(t, "/readyz to say why", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		why = string(body)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(why, "slack: socket mode not connected") && strings.Contains(why, "connection refused")
	})
	var attempts []time.Time
	bot.until(t, "five attempts to connect", func() bool {
		attempts = attempts[:0]
		for _, rec := range bot.logLines("socket mode connection error") {
			at, err := time.Parse(time.RFC3339Nano, rec["time"].(string))
			if err != nil {
				t.Fatal(err)
			}
			attempts = append(attempts, at)
		}
		return len(attempts) >= 5
	})
	if first, fourth := attempts[1].Sub(attempts[0]), attempts[4].Sub(attempts[3]); fourth <= first {
		t.Errorf("no backoff: %s between the first attempts, %s between the fourth and fifth", first, fourth)
	}
	if mmStatus(base+"/healthz") != http.StatusOK {
		t.Fatal("/healthz not OK while retrying")
	}
	bot.stop(t)
	if strings.Contains(bot.log.String(), "xapp-1-e2e-app-token") || strings.Contains(bot.log.String(), e2eBotToken) {
		t.Fatal("a token reached the log")
	}
}
