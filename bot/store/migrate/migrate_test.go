package migrate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/bot/store/migrate"
	"liaisonbot/internal/etcdtest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

var ctx = context.Background()

func openBolt(t *testing.T) *boltstore.DB {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "m.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openEtcd(t *testing.T) *etcdstore.DB {
	t.Helper()
	db, err := etcdstore.Open(ctx, etcdstore.Config{Endpoints: []string{etcdtest.Shared(t).Endpoint()}, Options: etcdstore.Options{Prefix: etcdtest.Prefix(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func fill(t *testing.T, s store.Store) {
	t.Helper()
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 1234 { // more than one copy batch
			if err := tx.Put("incidents", fmt.Sprintf("INC-%05d", i), []byte(strings.Repeat("x", i%50))); err != nil {
				return err
			}
		}
		for range 7 {
			if _, err := tx.NextSequence("incidents.seq"); err != nil {
				return err
			}
		}
		if err := tx.Put("bin/ary", "\x00\xff", []byte{0, 1, 2}); err != nil {
			return err
		}
		return tx.Put("empty-value", "k", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bbolt → etcd → bbolt: every bucket, key, value and sequence arrives, the
// per-bucket figures match, and sequences carry on where they were.
func TestRoundTrip(t *testing.T) {
	src := openBolt(t)
	fill(t, src)
	want, err := migrate.Summarize(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 4 {
		t.Fatalf("source buckets: %+v", want)
	}
	mid := openEtcd(t)
	rep, err := migrate.Copy(ctx, src, mid)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Mismatches) > 0 || len(rep.Buckets) != 4 {
		t.Fatalf("to etcd: %+v", rep)
	}
	back := openBolt(t)
	rep, err = migrate.Copy(ctx, mid, back)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Mismatches) > 0 {
		t.Fatalf("back to bbolt: %v", rep.Mismatches)
	}
	got, err := migrate.Summarize(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the round trip\n got %+v\nwant %+v", got, want)
	}
	for _, s := range []store.Store{mid, back} {
		var n uint64
		if err := s.Update(ctx, func(tx store.Tx) (err error) { n, err = tx.NextSequence("incidents.seq"); return }); err != nil {
			t.Fatal(err)
		}
		if n != 8 {
			t.Errorf("%T: next sequence after migrate = %d, want 8", s, n)
		}
	}
}

func TestRefusesNonEmptyDestination(t *testing.T) {
	src, dst := openBolt(t), openEtcd(t)
	fill(t, src)
	if err := dst.Update(ctx, func(tx store.Tx) error { return tx.Put("other", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Copy(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a non-empty store: %v", err)
	}
}

// The checksum catches a changed value even when the counts agree.
func TestChecksumCatchesDifferences(t *testing.T) {
	a, b := openBolt(t), openEtcd(t)
	for _, s := range []store.Store{a, b} {
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("x", "k", []byte("v")) }); err != nil {
			t.Fatal(err)
		}
	}
	sa, _ := migrate.Summarize(ctx, a)
	sb, _ := migrate.Summarize(ctx, b)
	if fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatalf("same data, different figures: %v %v", sa, sb)
	}
	if err := b.Update(ctx, func(tx store.Tx) error { return tx.Put("x", "k", []byte("w")) }); err != nil {
		t.Fatal(err)
	}
	sb, _ = migrate.Summarize(ctx, b)
	if sa[0].Keys != sb[0].Keys || sa[0].SHA256 == sb[0].SHA256 {
		t.Fatalf("a changed value went unnoticed: %v %v", sa, sb)
	}
}
