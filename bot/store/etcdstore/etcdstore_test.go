package etcdstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/bot/store/storetest"
	"liaisonbot/internal/etcdtest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

func open(t *testing.T) *etcdstore.DB {
	t.Helper()
	db, err := etcdstore.Open(context.Background(), etcdstore.Config{
		Endpoints: []string{etcdtest.Shared(t).Endpoint()},
		Options:   etcdstore.Options{Prefix: etcdtest.Prefix(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// Two replicas (two clients) on one prefix: their read-modify-writes
// serialise through etcd, not through anything in the process.
func TestReplicasSerialise(t *testing.T) {
	prefix := etcdtest.Prefix(t)
	var dbs []*etcdstore.DB
	for range 2 {
		db, err := etcdstore.Open(context.Background(), etcdstore.Config{
			Endpoints: []string{etcdtest.Shared(t).Endpoint()},
			Options:   etcdstore.Options{Prefix: prefix},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	const each = 30
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Go(func() {
			for range each {
				err := db.Update(context.Background(), func(tx store.Tx) error {
					n := 0
					if v, err := tx.Get("c", "n"); err == nil {
						n, _ = strconv.Atoi(string(v))
					}
					return tx.Put("c", "n", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var got []byte
	if err := dbs[1].View(context.Background(), func(tx store.Tx) (err error) { got, err = tx.Get("c", "n"); return }); err != nil {
		t.Fatal(err)
	}
	if string(got) != strconv.Itoa(2*each) {
		t.Fatalf("counter = %s, want %d", got, 2*each)
	}
	t.Logf("conflicts retried: %d + %d", dbs[0].Conflicts(), dbs[1].Conflicts())
}

// A backup is a bbolt file boltstore opens, with the data and sequences.
func TestBackupIsBoltFile(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	err := db.Update(ctx, func(tx store.Tx) error {
		for i := range 300 { // more than one page of keys
			if err := tx.Put("b/1", fmt.Sprintf("k%03d", i), []byte{byte(i)}); err != nil {
				return err
			}
		}
		for range 5 {
			if _, err := tx.NextSequence("seq"); err != nil {
				return err
			}
		}
		return tx.Put("other", "x", []byte("y"))
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	bdb, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.Count("b/1"); err != nil || n != 300 {
			return fmt.Errorf("count b/1 = %d, %v", n, err)
		}
		if v, err := tx.Get("b/1", "k299"); err != nil || !bytes.Equal(v, []byte{byte(299 % 256)}) {
			return fmt.Errorf("b/1/k299 = %v, %v", v, err)
		}
		if v, err := tx.Get("other", "x"); err != nil || string(v) != "y" {
			return fmt.Errorf("other/x = %q, %v", v, err)
		}
		if n, err := tx.NextSequence("seq"); err != nil || n != 6 {
			return fmt.Errorf("sequence after restore = %d, %v; want 6", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStore runs on the package's embedded single-member etcd, with
// fsync on when benchmarking (etcdtest.Main), over loopback.
func BenchmarkStore(b *testing.B) {
	db, err := etcdstore.Open(context.Background(), etcdstore.Config{
		Endpoints: []string{etcdtest.Shared(b).Endpoint()},
		Options:   etcdstore.Options{Prefix: etcdtest.Prefix(b)},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.Bench(b, db)
	b.Logf("conflicts retried: %d", db.Conflicts())
}

// TLS and authentication, as store: etcd configures them (etcd.tls.ca,
// LIAISON_ETCD_USER and LIAISON_ETCD_PASSWORD), on a server of its own.
func TestTLSAndAuth(t *testing.T) {
	srv, err := etcdtest.StartTLS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	admin, err := etcdstore.Open(ctx, etcdstore.Config{Endpoints: []string{srv.Endpoint()}, CA: srv.CA})
	if err != nil {
		t.Fatalf("TLS without auth: %v", err)
	}
	cli := admin.Client()
	if _, err := cli.UserAdd(ctx, "root", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	admin.Close()

	short := etcdstore.Config{Endpoints: []string{srv.Endpoint()}, CA: srv.CA, DialTimeout: time.Second}
	if db, err := etcdstore.Open(ctx, short); err == nil {
		db.Close()
		t.Error("opened without credentials while auth is on")
	}
	wrong := short
	wrong.Username, wrong.Password = "root", "wrong"
	if db, err := etcdstore.Open(ctx, wrong); err == nil {
		db.Close()
		t.Error("opened with a wrong password")
	}
	noCA := short
	noCA.CA, noCA.Username, noCA.Password = "", "root", "s3cret"
	if db, err := etcdstore.Open(ctx, noCA); err == nil {
		db.Close()
		t.Error("opened over TLS without trusting the server's CA")
	}
	good := short
	good.Username, good.Password = "root", "s3cret"
	db, err := etcdstore.Open(ctx, good)
	if err != nil {
		t.Fatalf("TLS and auth: %v", err)
	}
	defer db.Close()
	if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
}
