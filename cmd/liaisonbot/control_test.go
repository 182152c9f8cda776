package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/config"
)

// scriptedStore is a store whose Backup the test scripts.
type scriptedStore struct {
	store.Store
	backup func(ctx context.Context, w io.Writer) (int64, error)
}

func (s *scriptedStore) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return s.backup(ctx, w)
}

func controlFixture(t *testing.T, backup func(ctx context.Context, w io.Writer) (int64, error)) (sock string, stop func()) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "liaison.db")
	st, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var s store.Store = st
	if backup != nil {
		s = &scriptedStore{Store: st, backup: backup}
	}
	a := &app{cfg: &config.Config{DB: db}, log: slog.New(slog.DiscardHandler), store: s}
	stop = a.serveControl()
	sock = controlPath(db)
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", err, fi)
	}
	return sock, stop
}

func TestControlBackupWhole(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // several chunks
	sock, stop := controlFixture(t, func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write(payload)
		return int64(n), err
	})
	var got bytes.Buffer
	n, pid, err := fetchBackup(sock, &got)
	if err != nil || n != int64(len(payload)) || !bytes.Equal(got.Bytes(), payload) || pid == "" {
		t.Fatalf("fetch: %d bytes, pid %q, %v", n, pid, err)
	}
	stop()
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after stop: %v", err)
	}
	if _, _, err := fetchBackup(sock, io.Discard); !errors.Is(err, errNoControl) {
		t.Fatalf("after stop: %v, want errNoControl", err)
	}
}

// A snapshot that fails half way is an error, never a short copy taken
// for a whole one.
func TestControlBackupFailingHalfWay(t *testing.T) {
	sock, stop := controlFixture(t, func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write(bytes.Repeat([]byte{1}, 200_000))
		if err != nil {
			return int64(n), err
		}
		return int64(n), errors.New("disk on fire")
	})
	defer stop()
	_, _, err := fetchBackup(sock, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "could not finish the backup: disk on fire") {
		t.Fatalf("fetch: %v", err)
	}
}

// The bot stopping during a backup cuts it short: the client says so.
func TestControlStopDuringBackup(t *testing.T) {
	started := make(chan struct{})
	sock, stop := controlFixture(t, func(ctx context.Context, w io.Writer) (int64, error) {
		n, err := w.Write(bytes.Repeat([]byte{1}, 200_000))
		close(started)
		<-ctx.Done()
		return int64(n), errors.Join(err, ctx.Err())
	})
	errc := make(chan error, 1)
	go func() {
		_, _, err := fetchBackup(sock, io.Discard)
		errc <- err
	}()
	<-started
	stop()
	// Either the trailer says it (the backup saw the cancellation first) or
	// the connection ends without one.
	if err := <-errc; err == nil || !(strings.Contains(err.Error(), "could not finish the backup: context canceled") || strings.Contains(err.Error(), "stopped sending after")) {
		t.Fatalf("fetch cut short: %v", err)
	}
}

func TestControlUnknownRequest(t *testing.T) {
	sock, stop := controlFixture(t, nil)
	defer stop()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "restore 1\n")
	answer, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(answer), "error unknown request \"restore 1\"") {
		t.Fatalf("answer: %q", answer)
	}
}

// A crashed process's socket is replaced; anything else at the path is
// not, and the bot runs on without online backup.
func TestControlSocketLeftovers(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // as a killed process leaves it
	if _, _, err := fetchBackup(stale, io.Discard); !errors.Is(err, errNoControl) {
		t.Fatalf("stale socket: %v, want errNoControl", err)
	}
	ln2, err := listenControl(stale)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln2.Close()

	regular := filepath.Join(dir, "regular.sock")
	if err := os.WriteFile(regular, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listenControl(regular); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("over a regular file: %v", err)
	}
	if data, _ := os.ReadFile(regular); string(data) != "mine" {
		t.Fatal("a regular file was replaced")
	}
	if got, _ := os.ReadDir(dir); len(got) != 2 {
		t.Fatalf("left behind in the directory: %v", got)
	}
}
