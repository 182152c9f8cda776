package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

func open(t *testing.T) (*boltstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func keys(t *testing.T, db store.Store, reverse bool, from, to string) string {
	t.Helper()
	var got []string
	err := db.View(context.Background(), func(tx store.Tx) error {
		scan := tx.Scan
		if reverse {
			scan = tx.ScanReverse
		}
		return scan("b", from, to, func(k string, _ []byte) error {
			got = append(got, k)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, ",")
}

func TestTxBasics(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	err := db.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"a1", "a2", "b1", "c1"} {
			if err := tx.Put("b", k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		reverse  bool
		from, to string
		want     string
	}{
		{false, "", "", "a1,a2,b1,c1"},
		{false, "a", store.PrefixEnd("a"), "a1,a2"},
		{false, "a2", "c1", "a2,b1"},
		{true, "", "", "c1,b1,a2,a1"},
		{true, "a2", "c1", "b1,a2"},
		{true, "a", store.PrefixEnd("a"), "a2,a1"},
		{true, "", "b", "a2,a1"},
	} {
		if got := keys(t, db, tt.reverse, tt.from, tt.to); got != tt.want {
			t.Errorf("scan reverse=%v [%q,%q) = %s, want %s", tt.reverse, tt.from, tt.to, got, tt.want)
		}
	}
	err = db.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("b", "a1")
		if err != nil || string(v) != "va1" {
			return fmt.Errorf("get a1 = %q, %v", v, err)
		}
		if _, err := tx.Get("b", "zz"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get missing key: %v", err)
		}
		if _, err := tx.Get("nobucket", "a"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get missing bucket: %v", err)
		}
		if n, err := tx.Count("b"); n != 4 || err != nil {
			return fmt.Errorf("count = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUpdateIsAllOrNothing(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("b", "k", []byte("v")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v", err)
	}
	if got := keys(t, db, false, "", ""); got != "" {
		t.Fatalf("rolled-back write is visible: %s", got)
	}
}

func TestSequenceNeverReused(t *testing.T) {
	db, path := open(t)
	ctx := context.Background()
	next := func(s store.Store) uint64 {
		var n uint64
		if err := s.Update(ctx, func(tx store.Tx) (err error) { n, err = tx.NextSequence("seq"); return }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := next(db), next(db); a != 1 || b != 2 {
		t.Fatalf("sequence %d, %d", a, b)
	}
	db.Close()
	db2, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if c := next(db2); c != 3 {
		t.Fatalf("after reopen sequence = %d, want 3", c)
	}
}

func TestOpenInUseFailsFast(t *testing.T) {
	_, path := open(t)
	_, err := boltstore.Open(path, boltstore.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second open: %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), "in use") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one clear line: %q", err)
	}
}

func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(garbage, boltstore.Options{}); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("garbage file: %v, want ErrCorrupt", err)
	}
	if _, err := boltstore.Open(dir, boltstore.Options{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := boltstore.Open(filepath.Join(dir, "missing", "x.db"), boltstore.Options{}); err == nil {
		t.Errorf("missing parent directory accepted")
	}
}

func TestBackupIsOpenable(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := boltstore.Open(copyPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := keys(t, c, false, "", ""); got != "k" {
		t.Fatalf("backup holds %q", got)
	}
}
