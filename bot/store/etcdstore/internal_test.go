package etcdstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"liaisonbot/bot/store"
	"liaisonbot/internal/etcdtest"
)

// A replica that dies after committing a large transaction (marker set)
// but before applying it: the next transaction, on another replica,
// applies it before reading, so nothing half-done is ever seen.
func TestLargeTransactionFinishedByNextReader(t *testing.T) {
	ctx := context.Background()
	prefix := etcdtest.Prefix(t)
	cli := testClient(t)
	a := New(cli, Options{Prefix: prefix, MaxTxnOps: 16})
	if err := a.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "old", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	// What commitLarge does up to its commit point, then "dies".
	rev, commitRev, err := a.begin(ctx, true, "")
	if err != nil {
		t.Fatal(err)
	}
	tx := &tx{db: a, ctx: ctx, rev: rev, writes: map[string]write{}}
	for i := range 100 {
		tx.Put("b", fmt.Sprintf("k%03d", i), []byte("v"))
	}
	tx.Delete("b", "old")
	chunks := a.chunk(tx.ops())
	if len(chunks) < 5 {
		t.Fatalf("%d chunks; the test wants several", len(chunks))
	}
	for i, c := range chunks {
		if _, err := cli.Put(ctx, fmt.Sprintf("%s%06d", a.stagePrefix("dead"), i), string(encodeOps(c))); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(a.commitKey), "=", commitRev)).
		Then(clientv3.OpPut(a.commitKey, fmt.Sprintf("apply dead %d", len(chunks)))).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("marker: %v %v", resp, err)
	}
	// Apply the first chunk only, as if it died mid-way.
	ops, _ := decodeOps(mustGet(t, cli, fmt.Sprintf("%s%06d", a.stagePrefix("dead"), 0)))
	for _, o := range ops {
		if _, err := cli.Do(ctx, o.clientOp()); err != nil {
			t.Fatal(err)
		}
	}

	b := New(cli, Options{Prefix: prefix})
	err = b.View(ctx, func(tx store.Tx) error {
		if n, err := tx.Count("b"); err != nil || n != 100 {
			return fmt.Errorf("count = %d, %v; want 100", n, err)
		}
		if _, err := tx.Get("b", "old"); err != store.ErrNotFound {
			return fmt.Errorf("old: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	left, err := cli.Get(ctx, prefix+"x/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || left.Count != 0 {
		t.Fatalf("staged writes left: %v %v", left.Count, err)
	}
	if c := mustGet(t, cli, a.commitKey); len(c) != 0 {
		t.Fatalf("commit key still %q", c)
	}
}

func mustGet(t *testing.T, cli *clientv3.Client, key string) []byte {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("get %s: %v", key, err)
	}
	return resp.Kvs[0].Value
}

func TestBucketEscaping(t *testing.T) {
	for _, b := range []string{"", "a", "a/b", "%", "x%2Fy", "\x00\xff é"} {
		e := escapeBucket(b)
		for i := 0; i < len(e); i++ {
			if e[i] == '/' || e[i] < 0x21 || e[i] > 0x7e {
				t.Errorf("escape(%q) = %q holds %q", b, e, e[i])
			}
		}
		if got, err := unescapeBucket(e); err != nil || got != b {
			t.Errorf("unescape(escape(%q)) = %q, %v", b, got, err)
		}
	}
}

// etcd compacts old revisions (auto-compaction): a transaction whose
// snapshot is compacted away mid-way runs again on a fresh one instead of
// failing.
func TestCompactedSnapshotRetries(t *testing.T) {
	ctx := context.Background()
	cli := testClient(t)
	db := New(cli, Options{Prefix: etcdtest.Prefix(t)})
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	compactOnce := func() {
		// A write after the snapshot, then compact up to it.
		resp, err := cli.Put(ctx, "/unrelated", "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Compact(ctx, resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}
	runs := 0
	err := db.Update(ctx, func(tx store.Tx) error {
		runs++
		if runs == 1 {
			compactOnce()
		}
		v, err := tx.Get("b", "k")
		if err != nil {
			return err
		}
		return tx.Put("b", "k", append(v, '+'))
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update: %v after %d runs", err, runs)
	}
	views := 0
	err = db.View(ctx, func(tx store.Tx) error {
		views++
		if views == 1 {
			compactOnce()
		}
		v, err := tx.Get("b", "k")
		if err == nil && string(v) != "1+" {
			err = fmt.Errorf("value %q", v)
		}
		return err
	})
	if err != nil || views != 2 {
		t.Fatalf("View: %v after %d runs", err, views)
	}
}

// Endpoints without a scheme, as the configuration allows (host:port).
func TestEndpointWithoutScheme(t *testing.T) {
	ep := strings.TrimPrefix(etcdtest.Shared(t).Endpoint(), "http://")
	db, err := Open(context.Background(), Config{Endpoints: []string{ep}, Options: Options{Prefix: etcdtest.Prefix(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(context.Background(), func(tx store.Tx) error { return tx.Put("b", "k", nil) }); err != nil {
		t.Fatal(err)
	}
}

// Many point reads in one bucket become one read of the whole bucket, and
// what they return is what point reads would.
func TestPointReadsPrefetchTheBucket(t *testing.T) {
	ctx := context.Background()
	cli := testClient(t)
	db := New(cli, Options{Prefix: etcdtest.Prefix(t)})
	if err := db.Update(ctx, func(tx store.Tx) error {
		for i := range 3000 {
			if err := tx.Put("b", fmt.Sprintf("k%04d", i), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := db.Reads()
	err := db.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("b", "k0100", []byte("mine")); err != nil {
			return err
		}
		if err := tx.Delete("b", "k0200"); err != nil {
			return err
		}
		for i := range 3000 {
			v, err := tx.Get("b", fmt.Sprintf("k%04d", i))
			switch {
			case i == 100:
				if string(v) != "mine" {
					return fmt.Errorf("own write: %q %v", v, err)
				}
			case i == 200:
				if err != store.ErrNotFound {
					return fmt.Errorf("own delete: %q %v", v, err)
				}
			case err != nil || string(v) != fmt.Sprint(i):
				return fmt.Errorf("k%04d = %q, %v", i, v, err)
			}
		}
		if _, err := tx.Get("b", "missing"); err != store.ErrNotFound {
			return fmt.Errorf("missing key: %v", err)
		}
		v, _ := tx.Get("b", "k0001")
		v[0] = 'X' // the caller's copy
		if w, _ := tx.Get("b", "k0001"); string(w) != "1" {
			return fmt.Errorf("Get shares the prefetched value: %q", w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads := db.Reads() - before; reads > prefetchAfter+10 {
		t.Errorf("%d reads for 3,000 point reads", reads)
	}
}

// A large transaction (a directory import) while other writers commit
// without pause: it must not be retried for ever.
func TestLargeTransactionIsNotStarved(t *testing.T) {
	ctx := context.Background()
	cli := testClient(t)
	prefix := etcdtest.Prefix(t)
	big := New(cli, Options{Prefix: prefix})
	small := New(cli, Options{Prefix: prefix})
	stop := make(chan struct{})
	smallDone := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				smallDone <- n
				return
			default:
			}
			if err := small.Update(ctx, func(tx store.Tx) error { return tx.Put("busy", "n", []byte(fmt.Sprint(n))) }); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	runs := 0
	bctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := big.Update(bctx, func(tx store.Tx) error {
		runs++
		for i := range 5000 {
			if _, err := tx.Get("dir", fmt.Sprintf("k%05d", i)); err != nil && err != store.ErrNotFound {
				return err
			}
			if err := tx.Put("dir", fmt.Sprintf("k%05d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	close(stop)
	n := <-smallDone
	if err != nil {
		t.Fatalf("large transaction: %v after %d runs (%d small commits meanwhile)", err, runs, n)
	}
	t.Logf("large transaction committed after %d runs; %d small commits meanwhile", runs, n)
	// Once it takes the turn it commits: never more runs than that takes.
	if runs > turnAlways+1 {
		t.Fatalf("large transaction ran %d times: the turn did not stop it losing (at most %d)", runs, turnAlways+1)
	}
	if err := big.View(ctx, func(tx store.Tx) error {
		c, err := tx.Count("dir")
		if c != 5000 {
			return fmt.Errorf("count %d", c)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// While a turn is held, readers go on and writers wait; a holder that died
// stops holding it at its deadline.
func TestTurnHolderDies(t *testing.T) {
	ctx := context.Background()
	cli := testClient(t)
	db := New(cli, Options{Prefix: etcdtest.Prefix(t)})
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	hold := func(until time.Time) {
		if _, err := cli.Put(ctx, db.commitKey, fmt.Sprintf("turn dead %d", until.UnixNano())); err != nil {
			t.Fatal(err)
		}
	}
	hold(time.Now().Add(time.Hour))
	if err := db.View(ctx, func(tx store.Tx) error { _, err := tx.Get("b", "k"); return err }); err != nil {
		t.Fatalf("a reader waited for the turn: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err := db.Update(short, func(tx store.Tx) error { return tx.Put("b", "k", []byte("2")) })
	cancel()
	if err == nil {
		t.Fatal("a writer committed while another held the turn")
	}
	hold(time.Now().Add(300 * time.Millisecond)) // the holder died; its turn lapses
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("3")) }); err != nil {
		t.Fatalf("after the turn lapsed: %v", err)
	}
	if c := mustGet(t, cli, db.commitKey); len(c) != 0 {
		t.Fatalf("commit key still %q", c)
	}
}

// testClient is a client of the shared test etcd, closed when t ends.
func testClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdtest.Shared(t).Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
