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

var testIdentity = boltstore.Identity{Bucket: "meta", Key: "seeded"}

// mark makes a database the test program's own.
func mark(t *testing.T, db store.Store) {
	t.Helper()
	if err := db.Update(context.Background(), func(tx store.Tx) error { return tx.Put("meta", "seeded", []byte("yes")) }); err != nil {
		t.Fatal(err)
	}
}

// fill writes n keys of 200 bytes, spread over many pages.
func fill(t *testing.T, db store.Store, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put("data", fmt.Sprintf("k%06d", i), bytes.Repeat([]byte{'v'}, 200)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesAnotherProgramsDatabase(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	db, err := boltstore.Open(foreign, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(context.Background(), func(tx store.Tx) error { return tx.Put("sessions", "s1", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = boltstore.Open(foreign, boltstore.Options{Identity: testIdentity})
	if !errors.Is(err, store.ErrForeign) || !strings.Contains(err.Error(), "sessions") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("foreign database: %v, want one line with ErrForeign naming its buckets", err)
	}
	// Nothing was written into it.
	db, err = boltstore.Open(foreign, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Get("meta", "seeded"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("marker written into a foreign database: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// A new file and the program's own database open.
	fresh := filepath.Join(dir, "fresh.db")
	db2, err := boltstore.Open(fresh, boltstore.Options{Identity: testIdentity})
	if err != nil {
		t.Fatalf("new file: %v", err)
	}
	mark(t, db2)
	fill(t, db2, 10)
	db2.Close()
	db2, err = boltstore.Open(fresh, boltstore.Options{Identity: testIdentity})
	if err != nil {
		t.Fatalf("own database: %v", err)
	}
	db2.Close()
}

func TestOpenRefusesTruncatedFile(t *testing.T) {
	db, path := open(t)
	mark(t, db)
	fill(t, db, 2000)
	db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	// Without the check, the first read past the end would kill the
	// process with SIGBUS; with it, a clear error.
	_, err = boltstore.Open(path, boltstore.Options{})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated file: %v", err)
	}
	// Read-only, bbolt does not read the freelist at the end of the file:
	// only the length check stands between it and the fault. (The
	// refusal above left no lock behind.)
	if _, err := boltstore.Verify(path, testIdentity, 0); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("verify truncated file: %v", err)
	}
	if _, err := boltstore.Open(path, boltstore.Options{ReadOnly: true}); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("read-only open of a truncated file: %v", err)
	}
}

func TestVerify(t *testing.T) {
	db, good := open(t)
	mark(t, db)
	fill(t, db, 3000)
	db.Close()
	info, err := boltstore.Verify(good, testIdentity, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Buckets["data"] != 3000 || info.Buckets["meta"] != 1 || info.Size < 3000*200 {
		t.Fatalf("info: %+v", info)
	}

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// A data page overwritten in the middle: meta pages intact, so bbolt
	// opens it; only the full check finds the damage.
	damaged := bytes.Clone(goodBytes)
	pageSize := os.Getpagesize()
	for p := 4; p < len(damaged)/pageSize-1; p += 3 {
		copy(damaged[p*pageSize:p*pageSize+64], bytes.Repeat([]byte{0xff}, 64))
	}
	emptyDB := filepath.Join(dir, "empty.db")
	e, err := boltstore.Open(emptyDB, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	foreign := filepath.Join(dir, "foreign.db")
	f, err := boltstore.Open(foreign, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, f, 10)
	f.Close()

	for _, tt := range []struct {
		name, path string
		want       error
		says       string
	}{
		{"random bytes", write("random.db", bytes.Repeat([]byte("liaison? no. "), 5000)), store.ErrCorrupt, "corrupt"},
		{"too short", write("short.db", []byte("x")), store.ErrCorrupt, "corrupt"},
		{"damaged pages", write("damaged.db", damaged), store.ErrCorrupt, "consistency check"},
		{"another program's", foreign, store.ErrForeign, "data"},
		{"empty database", emptyDB, store.ErrForeign, "empty"},
		{"missing", filepath.Join(dir, "missing.db"), os.ErrNotExist, "no such file"},
		{"directory", dir, nil, "is a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := boltstore.Verify(tt.path, testIdentity, 0)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Verify: %v, want %v saying %q", err, tt.want, tt.says)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("not one line: %q", err)
			}
		})
	}
}

func TestVerifyInUse(t *testing.T) {
	db, path := open(t) // held for writing, as by a running bot
	mark(t, db)
	_, err := boltstore.Verify(path, testIdentity, 100*time.Millisecond)
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("verify of a file held for writing: %v", err)
	}
}

func TestBackupUnderWrites(t *testing.T) {
	db, _ := open(t)
	mark(t, db)
	fill(t, db, 500)
	ctx := context.Background()
	stop, first := make(chan struct{}), make(chan struct{})
	wrote := make(chan int)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		defer func() {
			if n == 0 {
				close(first) // failed before writing: let the test go on and report it
			}
		}()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Update(ctx, func(tx store.Tx) error { return tx.Put("more", fmt.Sprintf("%08d", n), []byte("x")) }); err != nil {
				t.Error(err)
				return
			}
			n++
			if n == 1 {
				close(first)
			}
		}
	}()
	<-first // the writer is running when the backup starts
	var buf bytes.Buffer
	_, err := db.Backup(ctx, &buf)
	close(stop)
	n := <-wrote
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := boltstore.Verify(copyPath, testIdentity, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Buckets["data"] != 500 || info.Buckets["more"] < 1 || info.Buckets["more"] > n {
		t.Fatalf("copy: %+v, %d written", info.Buckets, n)
	}
}

// damage overwrites the start of every third page past the meta and
// freelist pages: bbolt opens the file, and panics where it reads one.
func damage(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	for p := 4; p < len(data)/pageSize-1; p += 3 {
		copy(data[p*pageSize:p*pageSize+64], bytes.Repeat([]byte{0xff}, 64))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedPagesAreErrorsNotCrashes(t *testing.T) {
	db, path := open(t)
	mark(t, db)
	fill(t, db, 3000)
	db.Close()
	damage(t, path)
	// The marker and the root are intact: bbolt opens the file, and
	// finds the damage only where it reads.
	d, err := boltstore.Open(path, boltstore.Options{Identity: testIdentity})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer d.Close()
	ctx := context.Background()
	read := func(tx store.Tx) error {
		return tx.Scan("data", "", "", func(string, []byte) error { return nil })
	}
	if err := d.View(ctx, read); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("View over damaged pages: %v, want ErrCorrupt naming the file", err)
	}
	if err := d.Update(ctx, func(tx store.Tx) error { return tx.Put("data", "k000100", []byte("x")) }); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Update over damaged pages: %v, want ErrCorrupt", err)
	}
}

// A panic of the caller's own code in a transaction is not the file's
// fault: it is not turned into ErrCorrupt.
func TestCallerPanicGoesOn(t *testing.T) {
	db, _ := open(t)
	defer func() {
		if p := recover(); p != "caller bug" {
			t.Fatalf("recovered %v, want the caller's panic", p)
		}
		// The transaction was rolled back and the database still works.
		if err := db.Update(context.Background(), func(tx store.Tx) error { return tx.Put("b", "k", nil) }); err != nil {
			t.Fatal(err)
		}
	}()
	_ = db.View(context.Background(), func(store.Tx) error { panic("caller bug") })
}
