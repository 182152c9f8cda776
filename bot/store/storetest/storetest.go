// Package storetest is the contract every store backend keeps: the same
// tests run against boltstore and etcdstore, so that features cannot tell
// which one they run on.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

// Opener returns a fresh, empty store for one test; the backend's own
// cleanup is registered on t.
type Opener func(t *testing.T) store.Store

// Run runs the whole contract against the backend open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"ReadYourWrites", testReadYourWrites},
		{"ScanBoundsAndOrder", testScanBoundsAndOrder},
		{"ScanSeesPendingWrites", testScanSeesPendingWrites},
		{"ScanStopAndError", testScanStopAndError},
		{"BinaryKeysAndValues", testBinaryKeysAndValues},
		{"BucketsAreSeparate", testBucketsAreSeparate},
		{"RollbackOnError", testRollbackOnError},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"Sequence", testSequence},
		{"SequenceRolledBack", testSequenceRolledBack},
		{"DeleteBucket", testDeleteBucket},
		{"Count", testCount},
		{"LargeTransaction", testLargeTransaction},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"ConcurrentSequences", testConcurrentSequences},
		{"ViewIsSnapshot", testViewIsSnapshot},
		{"CanceledContext", testCanceledContext},
		{"Backup", testBackup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t *testing.T, s store.Store, bucket string, kv ...string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.Put(bucket, kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

func get(t *testing.T, s store.Store, bucket, key string) (string, bool) {
	t.Helper()
	var v []byte
	var err error
	view(t, s, func(tx store.Tx) error {
		v, err = tx.Get(bucket, key)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", false
	}
	if err != nil {
		t.Fatalf("Get %s/%s: %v", bucket, key, err)
	}
	return string(v), true
}

// scan lists key=value pairs in scan order.
func scan(t *testing.T, tx store.Tx, reverse bool, bucket, from, to string) string {
	t.Helper()
	f := tx.Scan
	if reverse {
		f = tx.ScanReverse
	}
	var got []string
	if err := f(bucket, from, to, func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	}); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return strings.Join(got, ",")
}

func testGetPutDelete(t *testing.T, s store.Store) {
	if _, ok := get(t, s, "b", "k"); ok {
		t.Fatal("empty store has b/k")
	}
	put(t, s, "b", "k", "v1")
	if v, ok := get(t, s, "b", "k"); !ok || v != "v1" {
		t.Fatalf("b/k = %q %v", v, ok)
	}
	put(t, s, "b", "k", "v2")
	if v, _ := get(t, s, "b", "k"); v != "v2" {
		t.Fatalf("overwrite: b/k = %q", v)
	}
	put(t, s, "b", "empty", "")
	if v, ok := get(t, s, "b", "empty"); !ok || v != "" {
		t.Fatalf("empty value: %q %v", v, ok)
	}
	update(t, s, func(tx store.Tx) error { return tx.Delete("b", "k") })
	if _, ok := get(t, s, "b", "k"); ok {
		t.Fatal("deleted key still there")
	}
	// Deleting a missing key or in a missing bucket is not an error.
	update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("b", "nope"); err != nil {
			return err
		}
		return tx.Delete("nobucket", "nope")
	})
}

func testGetReturnsCopy(t *testing.T, s store.Store) {
	put(t, s, "b", "k", "value")
	update(t, s, func(tx store.Tx) error {
		v, err := tx.Get("b", "k")
		if err != nil {
			return err
		}
		v[0] = 'X'
		w, err := tx.Get("b", "k")
		if err != nil {
			return err
		}
		if string(w) != "value" {
			return fmt.Errorf("get returned shared memory: %q", w)
		}
		// Put must not keep the caller's slice either.
		buf := []byte("mine")
		if err := tx.Put("b", "p", buf); err != nil {
			return err
		}
		copy(buf, "XXXX")
		return nil
	})
	if v, _ := get(t, s, "b", "p"); v != "mine" {
		t.Fatalf("Put kept the caller's slice: %q", v)
	}
}

func testReadYourWrites(t *testing.T, s store.Store) {
	put(t, s, "b", "old", "1")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("b", "new", []byte("2")); err != nil {
			return err
		}
		if v, err := tx.Get("b", "new"); err != nil || string(v) != "2" {
			return fmt.Errorf("own put not visible: %q %v", v, err)
		}
		if err := tx.Delete("b", "old"); err != nil {
			return err
		}
		if _, err := tx.Get("b", "old"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("own delete not visible: %v", err)
		}
		return nil
	})
}

func testScanBoundsAndOrder(t *testing.T, s store.Store) {
	put(t, s, "b", "a1", "1", "a2", "2", "b1", "3", "c1", "4", "a", "0")
	view(t, s, func(tx store.Tx) error {
		for _, tt := range []struct {
			reverse  bool
			from, to string
			want     string
		}{
			{false, "", "", "a=0,a1=1,a2=2,b1=3,c1=4"},
			{false, "a", store.PrefixEnd("a"), "a=0,a1=1,a2=2"},
			{false, "a1", store.PrefixEnd("a"), "a1=1,a2=2"},
			{false, "a2", "c1", "a2=2,b1=3"},
			{false, "a15", "b", "a2=2"},
			{false, "c2", "", ""},
			{false, "b", "b", ""},
			{true, "", "", "c1=4,b1=3,a2=2,a1=1,a=0"},
			{true, "a2", "c1", "b1=3,a2=2"},
			{true, "a", store.PrefixEnd("a"), "a2=2,a1=1,a=0"},
			{true, "", "b", "a2=2,a1=1,a=0"},
			{true, "", "a1", "a=0"},
			{true, "b", "zz", "c1=4,b1=3"},
		} {
			if got := scan(t, tx, tt.reverse, "b", tt.from, tt.to); got != tt.want {
				t.Errorf("scan reverse=%v [%q,%q) = %s, want %s", tt.reverse, tt.from, tt.to, got, tt.want)
			}
		}
		if got := scan(t, tx, false, "missing", "", ""); got != "" {
			t.Errorf("missing bucket scans %s", got)
		}
		return nil
	})
}

func testScanSeesPendingWrites(t *testing.T, s store.Store) {
	put(t, s, "b", "a", "1", "c", "3", "e", "5")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("b", "b", []byte("2")); err != nil {
			return err
		}
		if err := tx.Put("b", "c", []byte("33")); err != nil {
			return err
		}
		if err := tx.Delete("b", "e"); err != nil {
			return err
		}
		if got, want := scan(t, tx, false, "b", "", ""), "a=1,b=2,c=33"; got != want {
			t.Errorf("scan in tx = %s, want %s", got, want)
		}
		if got, want := scan(t, tx, true, "b", "b", ""), "c=33,b=2"; got != want {
			t.Errorf("reverse scan in tx = %s, want %s", got, want)
		}
		return nil
	})
}

func testScanStopAndError(t *testing.T, s store.Store) {
	put(t, s, "b", "1", "a", "2", "b", "3", "c")
	boom := errors.New("boom")
	view(t, s, func(tx store.Tx) error {
		for _, reverse := range []bool{false, true} {
			f := tx.Scan
			if reverse {
				f = tx.ScanReverse
			}
			n := 0
			if err := f("b", "", "", func(string, []byte) error {
				n++
				if n == 2 {
					return store.ErrStop
				}
				return nil
			}); err != nil || n != 2 {
				t.Errorf("reverse=%v: ErrStop: err %v after %d keys, want nil after 2", reverse, err, n)
			}
			n = 0
			if err := f("b", "", "", func(string, []byte) error {
				n++
				return fmt.Errorf("wrapped: %w", boom)
			}); !errors.Is(err, boom) || n != 1 {
				t.Errorf("reverse=%v: error from fn: %v after %d keys", reverse, err, n)
			}
		}
		return nil
	})
}

func testBinaryKeysAndValues(t *testing.T, s store.Store) {
	keys := []string{"\x00", "\x00\x01", "a\x00b", "a", "a/b", "\xff", "\xff\xff", "é", "a\xff"}
	update(t, s, func(tx store.Tx) error {
		for i, k := range keys {
			if err := tx.Put("bin/ary\x00", k, []byte{byte(i), 0, 0xff}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		var got []string
		if err := tx.Scan("bin/ary\x00", "", "", func(k string, v []byte) error {
			got = append(got, k)
			if want := []byte{v[0], 0, 0xff}; !bytes.Equal(v, want) || keys[v[0]] != k {
				t.Errorf("key %q value %v", k, v)
			}
			return nil
		}); err != nil {
			return err
		}
		want := []string{"\x00", "\x00\x01", "a", "a\x00b", "a/b", "a\xff", "é", "\xff", "\xff\xff"}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("byte order: %q, want %q", got, want)
		}
		return nil
	})
}

func testBucketsAreSeparate(t *testing.T, s store.Store) {
	// Bucket names that are prefixes of each other, or contain the
	// separator a backend might use, must not leak into each other.
	put(t, s, "a", "b/c", "1", "x", "2")
	put(t, s, "a/b", "c", "3")
	put(t, s, "ab", "c", "4")
	view(t, s, func(tx store.Tx) error {
		if got, want := scan(t, tx, false, "a", "", ""), "b/c=1,x=2"; got != want {
			t.Errorf("bucket a: %s, want %s", got, want)
		}
		if got, want := scan(t, tx, true, "a/b", "", ""), "c=3"; got != want {
			t.Errorf("bucket a/b: %s, want %s", got, want)
		}
		if n, err := tx.Count("a"); err != nil || n != 2 {
			t.Errorf("count a = %d, %v", n, err)
		}
		return nil
	})
}

func testRollbackOnError(t *testing.T, s store.Store) {
	put(t, s, "b", "keep", "1")
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("b", "k", []byte("v")); err != nil {
			return err
		}
		if err := tx.Delete("b", "keep"); err != nil {
			return err
		}
		if err := tx.DeleteBucket("other"); err != nil {
			return err
		}
		if _, err := tx.NextSequence("b"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want boom", err)
	}
	if _, ok := get(t, s, "b", "k"); ok {
		t.Error("rolled-back put is visible")
	}
	if _, ok := get(t, s, "b", "keep"); !ok {
		t.Error("rolled-back delete took effect")
	}
	var seq uint64
	update(t, s, func(tx store.Tx) (err error) { seq, err = tx.NextSequence("b"); return })
	if seq != 1 {
		t.Errorf("sequence after rolled-back NextSequence = %d, want 1", seq)
	}
}

func testViewIsReadOnly(t *testing.T, s store.Store) {
	err := s.View(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) })
	if err == nil {
		t.Error("Put in View succeeded")
	}
	err = s.View(ctx, func(tx store.Tx) error { _, err := tx.NextSequence("b"); return err })
	if err == nil {
		t.Error("NextSequence in View succeeded")
	}
	if _, ok := get(t, s, "b", "k"); ok {
		t.Error("Put in View was stored")
	}
}

func testSequence(t *testing.T, s store.Store) {
	var got []uint64
	for range 3 {
		var n, m uint64
		update(t, s, func(tx store.Tx) (err error) {
			if n, err = tx.NextSequence("seq"); err != nil {
				return err
			}
			m, err = tx.NextSequence("seq")
			return err
		})
		got = append(got, n, m)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Fatalf("sequence %v, want 1 to 6", got)
	}
	var other uint64
	update(t, s, func(tx store.Tx) (err error) { other, err = tx.NextSequence("other"); return })
	if other != 1 {
		t.Errorf("sequences are per bucket: other = %d", other)
	}
	// A sequence does not count as a key.
	view(t, s, func(tx store.Tx) error {
		if n, err := tx.Count("seq"); err != nil || n != 0 {
			t.Errorf("count of a sequence-only bucket = %d, %v", n, err)
		}
		return nil
	})
}

func testSequenceRolledBack(t *testing.T, s store.Store) {
	var a uint64
	update(t, s, func(tx store.Tx) (err error) { a, err = tx.NextSequence("s"); return })
	_ = s.Update(ctx, func(tx store.Tx) error {
		_, _ = tx.NextSequence("s")
		return errors.New("roll back")
	})
	var b uint64
	update(t, s, func(tx store.Tx) (err error) { b, err = tx.NextSequence("s"); return })
	if a != 1 || b != 2 {
		t.Fatalf("sequence %d then %d, want 1 then 2 (a rolled-back number may be handed out again; a committed one never)", a, b)
	}
}

func testDeleteBucket(t *testing.T, s store.Store) {
	put(t, s, "b", "1", "a", "2", "b")
	put(t, s, "b2", "1", "x")
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteBucket("b"); err != nil {
			return err
		}
		if got := scan(t, tx, false, "b", "", ""); got != "" {
			t.Errorf("deleted bucket scans %s in its tx", got)
		}
		if err := tx.Put("b", "3", []byte("c")); err != nil {
			return err
		}
		return tx.DeleteBucket("never-existed")
	})
	view(t, s, func(tx store.Tx) error {
		if got, want := scan(t, tx, false, "b", "", ""), "3=c"; got != want {
			t.Errorf("after delete+put: %s, want %s", got, want)
		}
		if got, want := scan(t, tx, false, "b2", "", ""), "1=x"; got != want {
			t.Errorf("neighbour bucket: %s, want %s", got, want)
		}
		return nil
	})
}

func testCount(t *testing.T, s store.Store) {
	put(t, s, "b", "1", "a", "2", "b", "3", "c")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("b", "4", []byte("d")); err != nil {
			return err
		}
		if err := tx.Put("b", "1", []byte("aa")); err != nil {
			return err
		}
		if err := tx.Delete("b", "2"); err != nil {
			return err
		}
		if n, err := tx.Count("b"); err != nil || n != 3 {
			t.Errorf("count with pending writes = %d, %v; want 3", n, err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		if n, err := tx.Count("b"); err != nil || n != 3 {
			t.Errorf("count = %d, %v; want 3", n, err)
		}
		if n, err := tx.Count("missing"); err != nil || n != 0 {
			t.Errorf("count missing = %d, %v", n, err)
		}
		return nil
	})
}

// testLargeTransaction writes more keys in one transaction than etcd takes
// in one request by default (128 operations), including a bucket
// deletion, and checks that all of it is visible afterwards.
func testLargeTransaction(t *testing.T, s store.Store) {
	const n = 1000
	put(t, s, "old", "1", "x", "2", "y")
	value := bytes.Repeat([]byte("v"), 2000) // 2 MB in all: over one request's size
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteBucket("old"); err != nil {
			return err
		}
		for i := range n {
			if err := tx.Put("big", fmt.Sprintf("%04d", i), value); err != nil {
				return err
			}
		}
		return tx.Put("old", "3", []byte("z"))
	})
	view(t, s, func(tx store.Tx) error {
		if c, err := tx.Count("big"); err != nil || c != n {
			t.Errorf("count = %d, %v; want %d", c, err, n)
		}
		i := 0
		if err := tx.Scan("big", "", "", func(k string, v []byte) error {
			if k != fmt.Sprintf("%04d", i) || !bytes.Equal(v, value) {
				return fmt.Errorf("key %d is %q (%d bytes)", i, k, len(v))
			}
			i++
			return nil
		}); err != nil {
			t.Error(err)
		}
		if got, want := scan(t, tx, false, "old", "", ""), "3=z"; got != want {
			t.Errorf("old = %s, want %s", got, want)
		}
		return nil
	})
	// And all of it can go again in one transaction.
	update(t, s, func(tx store.Tx) error { return tx.DeleteBucket("big") })
	view(t, s, func(tx store.Tx) error {
		if c, err := tx.Count("big"); err != nil || c != 0 {
			t.Errorf("count after delete = %d, %v", c, err)
		}
		return nil
	})
}

// testConcurrentIncrements: read-modify-write from many goroutines must
// serialise; a lost update shows as a short total.
func testConcurrentIncrements(t *testing.T, s store.Store) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, func(tx store.Tx) error {
					n := 0
					if v, err := tx.Get("c", "n"); err == nil {
						fmt.Sscan(string(v), &n)
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return tx.Put("c", "n", []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, _ := get(t, s, "c", "n"); v != fmt.Sprint(workers*each) {
		t.Fatalf("counter = %s, want %d", v, workers*each)
	}
}

// testConcurrentSequences: numbers from concurrent transactions that
// commit are unique, and each names the record written with it.
func testConcurrentSequences(t *testing.T, s store.Store) {
	const workers, each = 6, 8
	var mu sync.Mutex
	committed := map[uint64]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				var n uint64
				err := s.Update(ctx, func(tx store.Tx) (err error) {
					if n, err = tx.NextSequence("inc"); err != nil {
						return err
					}
					return tx.Put("inc", fmt.Sprintf("%08d", n), []byte(fmt.Sprint(w, i)))
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				committed[n]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for n, c := range committed {
		if c != 1 {
			t.Errorf("sequence %d handed to %d committed transactions", n, c)
		}
	}
	if len(committed) != workers*each {
		t.Errorf("%d distinct numbers, want %d", len(committed), workers*each)
	}
	view(t, s, func(tx store.Tx) error {
		if c, err := tx.Count("inc"); err != nil || c != workers*each {
			t.Errorf("records = %d, %v", c, err)
		}
		return nil
	})
}

// testViewIsSnapshot: a View does not see a write committed after it began.
func testViewIsSnapshot(t *testing.T, s store.Store) {
	put(t, s, "b", "k", "before")
	started, written := make(chan struct{}), make(chan error, 1)
	go func() {
		<-started
		written <- s.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("after")) })
	}()
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Get("b", "k"); err != nil {
			return err
		}
		close(started)
		// bbolt lets the writer commit alongside this reader; either way
		// this transaction keeps reading its own snapshot.
		// (bbolt may hold the writer while it grows its memory map:
		// then wait no longer than a moment.)
		select {
		case err := <-written:
			if err != nil {
				return err
			}
			written <- nil
		case <-time.After(2 * time.Second):
		}
		v, err := tx.Get("b", "k")
		if err != nil || string(v) != "before" {
			t.Errorf("snapshot read = %q, %v", v, err)
		}
		return nil
	})
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, s, "b", "k"); v != "after" {
		t.Fatalf("after the write: %q", v)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	if err := s.Update(c, func(tx store.Tx) error { ran = true; return tx.Put("b", "k", nil) }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled context: %v", err)
	}
	if err := s.View(c, func(tx store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with canceled context: %v", err)
	}
	if ran {
		t.Error("fn ran with a canceled context")
	}
}

func testBackup(t *testing.T, s store.Store) {
	put(t, s, "b", "k", "v")
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup says %d bytes, wrote %d", n, buf.Len())
	}
	// Every backend's backup is a bbolt file (restore and migrate take it):
	// it must open as one and hold what was written.
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	copied, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open as a bbolt file: %v", err)
	}
	defer copied.Close()
	if v, _ := get(t, copied, "b", "k"); v != "v" {
		t.Fatalf("the backup holds b/k = %q, want %q", v, "v")
	}
}
