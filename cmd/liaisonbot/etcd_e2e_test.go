package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/internal/etcdtest"
)

// etcdConfig is a configuration file with store: etcd on the shared test
// server, under a prefix of the test's own.
func etcdConfig(t *testing.T, extra string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	body := fmt.Sprintf("store: etcd\netcd:\n  endpoints: [%q]\n  prefix: %s\n", etcdtest.Shared(t).Endpoint(), etcdtest.Prefix(t)) + extra
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Two processes on one etcd share their state: the second sees the first's
// incident, and the incident sequence carries on across them. No bbolt file
// is made.
func TestEtcdStoreSharedAcrossProcesses(t *testing.T) {
	cfg := etcdConfig(t, twoPartners)
	dbFile := filepath.Join(t.TempDir(), "must-not-exist.db")
	environ := env(t, "LIAISON_CONFIG="+cfg, "LIAISON_DB="+dbFile)
	year := time.Now().UTC().Year()
	first := fmt.Sprintf("INC-%d-0001", year)
	second := fmt.Sprintf("INC-%d-0002", year)

	r := run(t, environ, "incident open mission:canada sev:2 Protest at the front gate\n", "console")
	if r.code != 0 {
		t.Fatalf("first process: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, first+" opened: Embassy of Canada")

	r = run(t, environ, strings.Join([]string{
		"incident show " + first,
		"incident open mission:canada sev:3 Second gathering",
		"directory find canada",
	}, "\n")+"\n", "console")
	if r.code != 0 {
		t.Fatalf("second process: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, first+" · Embassy of Canada", "Protest at the front gate", second+" opened: Embassy of Canada")
	if _, err := os.Stat(dbFile); !os.IsNotExist(err) {
		t.Errorf("store: etcd made or touched the bbolt file: %v", err)
	}
}

// An unreachable cluster stops the start with one clear line, in time.
func TestEtcdUnreachable(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte("store: etcd\netcd:\n  endpoints: [\"127.0.0.1:1\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := run(t, env(t, "LIAISON_CONFIG="+cfg), "help\n", "console")
	if r.code == 0 {
		t.Fatalf("started without etcd:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "etcd 127.0.0.1:1") {
		t.Errorf("stderr does not name the endpoint:\n%s", r.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s to give up", d)
	}
}

// store migrate moves a bbolt bot onto etcd (where it carries on: the
// incident is there, the sequence continues) and back, each copy verified.
func TestStoreMigrateBothWays(t *testing.T) {
	year := time.Now().UTC().Year()
	dbFile := filepath.Join(t.TempDir(), "liaison.db")
	plain := filepath.Join(t.TempDir(), "plain.yaml")
	if err := os.WriteFile(plain, []byte(twoPartners), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, env(t, "LIAISON_CONFIG="+plain, "LIAISON_DB="+dbFile), "incident open mission:canada sev:2 Protest at the front gate\n", "console")
	if r.code != 0 {
		t.Fatalf("bbolt bot: exit %d\n%s", r.code, r.stderr)
	}

	cfg := etcdConfig(t, twoPartners)
	environ := env(t, "LIAISON_CONFIG="+cfg)
	r = run(t, environ, "", "store", "migrate", "--from", "bbolt:"+dbFile, "--to", "etcd")
	if r.code != 0 {
		t.Fatalf("migrate to etcd: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	inOrder(t, r.stdout, "BUCKET", "incidents", "counts and checksums match")

	r = run(t, environ, "incident show "+fmt.Sprintf("INC-%d-0001", year)+"\nincident open mission:canada sev:3 Again\n", "console")
	if r.code != 0 {
		t.Fatalf("etcd bot: exit %d\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "Protest at the front gate", fmt.Sprintf("INC-%d-0002 opened", year))

	r = run(t, environ, "", "store", "migrate", "--from", "etcd", "--to", "bbolt:"+dbFile)
	if r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("migrate onto a used file: exit %d\n%s", r.code, r.stderr)
	}
	back := filepath.Join(t.TempDir(), "back.db")
	r = run(t, environ, "", "store", "migrate", "--from", "etcd", "--to", "bbolt:"+back)
	if r.code != 0 {
		t.Fatalf("migrate back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env(t, "LIAISON_CONFIG="+plain, "LIAISON_DB="+back), "incident show "+fmt.Sprintf("INC-%d-0002", year)+"\n", "console")
	if r.code != 0 || !strings.Contains(r.stdout, "Again") {
		t.Fatalf("bbolt bot after migrating back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type serveProc struct {
	name, base string
	cmd        *exec.Cmd
	logs       *lockedBuffer
	exited     chan struct{}
}

func readyz(base string) string {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// Three real `serve` processes on one etcd: one says it leads; SIGKILL it
// and another leads within 10 s (the default 5 s session TTL), and says so
// in /readyz and its log.
func TestThreeServeProcessesLeaderKilled(t *testing.T) {
	cfg := etcdConfig(t, "")
	var procs []*serveProc
	for i := range 3 {
		addr := freeAddr(t)
		p := &serveProc{name: fmt.Sprintf("p%d", i), base: "http://" + addr, logs: &lockedBuffer{}, exited: make(chan struct{})}
		p.cmd = exec.Command(binary, "serve")
		p.cmd.Env = env(t, "LIAISON_CONFIG="+cfg, "LIAISON_LISTEN="+addr, "LIAISON_REPLICA="+p.name)
		p.cmd.Stderr = p.logs
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() { p.cmd.Process.Signal(os.Interrupt); <-p.exited })
		procs = append(procs, p)
	}
	for _, p := range procs {
		waitHealthy(t, p.base, p.exited, p.logs.String)
	}
	leaderAmong := func(ps []*serveProc) (*serveProc, bool) {
		var lead *serveProc
		for _, p := range ps {
			switch readyz(p.base) {
			case "ready (leader)":
				if lead != nil {
					t.Errorf("%s and %s both say they lead", lead.name, p.name)
				}
				lead = p
			case "ready (follower)":
			default:
				return nil, false
			}
		}
		return lead, lead != nil
	}
	poll := func(what string, ps []*serveProc) *serveProc {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if p, ok := leaderAmong(ps); ok {
				return p
			}
			if time.Now().After(deadline) {
				for _, p := range ps {
					t.Logf("%s: %q\n%s", p.name, readyz(p.base), p.logs.String())
				}
				t.Fatalf("%s: not within 10 s", what)
			}
			<-tick.C
		}
	}
	first := poll("a first leader", procs)

	killed := time.Now()
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	var rest []*serveProc
	for _, p := range procs {
		if p != first {
			rest = append(rest, p)
		}
	}
	second := poll("a leader after SIGKILL", rest)
	t.Logf("leadership moved from %s to %s %s after SIGKILL", first.name, second.name, time.Since(killed).Round(10*time.Millisecond))
	if !strings.Contains(second.logs.String(), "this replica now leads") {
		t.Errorf("%s does not log that it leads:\n%s", second.name, second.logs.String())
	}
}
