package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
