// Package boltstore is the embedded store backend: one bbolt file, one
// process. It turns bbolt's failure modes into the store package's errors, so
// that a locked or corrupt file gives a clear message instead of a hang.
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"liaisonbot/bot/store"
)

// DefaultLockTimeout is how long Open waits for another process to release
// the file before saying it is in use. bbolt's own default waits forever.
const DefaultLockTimeout = 2 * time.Second

// Options tune Open.
type Options struct {
	LockTimeout time.Duration // 0 means DefaultLockTimeout
	ReadOnly    bool
	// Identity, when set, is how the program recognises its own file: a
	// database holding any bucket must hold it, or Open refuses it as
	// another program's (store.ErrForeign) instead of writing into it.
	Identity Identity
}

// Identity is a key every database of the program holds from its first
// start.
type Identity struct{ Bucket, Key string }

func (id Identity) set() bool { return id.Bucket != "" }

// DB is a bbolt-backed store.Store.
type DB struct {
	bolt *bolt.DB
	path string
}

var _ store.Store = (*DB)(nil)

// Open opens or creates the database file.
func Open(path string, opts Options) (*DB, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil, fmt.Errorf("open %s: is a directory, not a database file", path)
	}
	if err == nil && fi.Size() > 0 && !opts.ReadOnly {
		// Look read-only first: opened for writing, bbolt reads the
		// freelist at once, and on a damaged file it panics holding the
		// lock, which the recover below cannot release.
		ro, err := openBolt(path, timeout, true)
		if err != nil {
			return nil, openError(path, err)
		}
		err = sane(ro, opts.Identity, false)
		ro.Close()
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	db, err := openBolt(path, timeout, opts.ReadOnly)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := sane(db, opts.Identity, false); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &DB{bolt: db, path: path}, nil
}

// openError turns bbolt's failures to open into the store's errors, one
// line each.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open %s: %w (another liaisonbot is running on it? stop it or set LIAISON_DB to another file)", path, store.ErrInUse)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum), isCorruption(err):
		return fmt.Errorf("open %s: %w: %v", path, store.ErrCorrupt, err)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// sane makes the checks that cost nothing at every start: the file is as
// long as its own meta page says (bbolt maps a truncated file and the
// process dies of SIGBUS on the first read past its end), and it is the
// program's own database when id is set. With required, a database with no
// bucket at all is not the program's either (a backup must hold data).
func sane(db *bolt.DB, id Identity, required bool) (err error) {
	defer guard("", &err)
	fi, err := os.Stat(db.Path())
	if err != nil {
		return err
	}
	return db.View(func(btx *bolt.Tx) error {
		if want := btx.Size(); fi.Size() < want {
			return fmt.Errorf("%w: truncated: %d bytes, the database needs %d", store.ErrCorrupt, fi.Size(), want)
		}
		if !id.set() {
			return nil
		}
		if b := btx.Bucket([]byte(id.Bucket)); b != nil && b.Get([]byte(id.Key)) != nil {
			return nil
		}
		var names []string
		_ = btx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			if len(names) == 5 {
				return errStopForEach
			}
			return nil
		})
		switch {
		case len(names) > 0:
			return fmt.Errorf("%w: a bbolt database of another program (buckets %s); refusing to use it", store.ErrForeign, strings.Join(names, ", "))
		case required:
			return fmt.Errorf("%w: an empty bbolt database", store.ErrForeign)
		}
		return nil
	})
}

var errStopForEach = errors.New("enough")

// guard turns a panic of bbolt's own (its assertions on a damaged page, an
// index out of range on garbage) into store.ErrCorrupt, so a damaged file
// is a clear error, not a crash. bbolt has rolled the transaction back by
// then. A panic of the caller's code inside a transaction is not the
// file's fault, and goes on.
// The error names path unless it is "" (the caller names it).
func guard(path string, err *error) {
	p := recover()
	if p == nil {
		return
	}
	if !panickedInBolt(debug.Stack()) {
		panic(p)
	}
	*err = fmt.Errorf("%w: %v", store.ErrCorrupt, p)
	if path != "" {
		*err = fmt.Errorf("%s: %w", path, *err)
	}
}

// panickedInBolt reads a goroutine's stack, taken in a deferred function,
// for whether the function that panicked (the first frame under panic,
// past the runtime's own) is bbolt's.
func panickedInBolt(stack []byte) bool {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "panic(") {
			continue
		}
		for _, fn := range lines[i+1:] {
			if strings.HasPrefix(fn, "\t") || strings.HasPrefix(fn, "runtime.") {
				continue
			}
			return strings.HasPrefix(fn, "go.etcd.io/bbolt")
		}
	}
	return false
}

// openBolt recovers bbolt's panics on some malformed files, so a foreign
// file is an error, not a crash.
func openBolt(path string, timeout time.Duration, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", berrors.ErrInvalid, p)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
}

func isCorruption(err error) bool {
	msg := err.Error()
	return bytes.Contains([]byte(msg), []byte("invalid")) || bytes.Contains([]byte(msg), []byte("file size too small"))
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Bolt exposes the underlying handle for backup and diagnostics.
func (db *DB) Bolt() *bolt.DB { return db.bolt }

// Close closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer guard(db.path, &err)
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(&tx{btx}) })
}

// Update runs fn in a read-write transaction.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer guard(db.path, &err)
	return db.bolt.Update(func(btx *bolt.Tx) error { return fn(&tx{btx}) })
}

// Backup writes a consistent snapshot; bbolt allows it alongside writers.
func (db *DB) Backup(ctx context.Context, w io.Writer) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	defer guard(db.path, &err)
	err = db.bolt.View(func(btx *bolt.Tx) error {
		var err error
		n, err = btx.WriteTo(w)
		return err
	})
	return n, err
}

// Buckets lists every bucket with its sequence.
func (db *DB) Buckets(ctx context.Context) (map[string]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	err := db.bolt.View(func(btx *bolt.Tx) error {
		return btx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if b.Sequence() != 0 || b.Stats().KeyN != 0 {
				out[string(name)] = b.Sequence()
			}
			return nil
		})
	})
	return out, err
}

type tx struct{ b *bolt.Tx }

// SetSequence sets a bucket's sequence (store migrate).
func (t *tx) SetSequence(bucket string, n uint64) error {
	b, err := t.bucket(bucket, true)
	if err != nil {
		return err
	}
	return b.SetSequence(n)
}

func (t *tx) bucket(name string, create bool) (*bolt.Bucket, error) {
	if b := t.b.Bucket([]byte(name)); b != nil || !create {
		return b, nil
	}
	return t.b.CreateBucketIfNotExists([]byte(name))
}

func (t *tx) Get(bucket, key string) ([]byte, error) {
	b, _ := t.bucket(bucket, false)
	if b == nil {
		return nil, store.ErrNotFound
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	b, err := t.bucket(bucket, true)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	// bbolt keeps the slice until commit: copy it, so callers may reuse theirs.
	return b.Put([]byte(key), bytes.Clone(value))
}

func (t *tx) Delete(bucket, key string) error {
	b, _ := t.bucket(bucket, false)
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

func (t *tx) Scan(bucket, from, to string, fn func(string, []byte) error) error {
	b, _ := t.bucket(bucket, false)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek([]byte(from)); k != nil; k, v = c.Next() {
		if to != "" && string(k) >= to {
			break
		}
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, store.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (t *tx) ScanReverse(bucket, from, to string, fn func(string, []byte) error) error {
	b, _ := t.bucket(bucket, false)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	if to == "" {
		k, v = c.Last()
	} else {
		k, _ = c.Seek([]byte(to))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for ; k != nil && string(k) >= from; k, v = c.Prev() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, store.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (t *tx) NextSequence(bucket string) (uint64, error) {
	if !t.b.Writable() {
		return 0, fmt.Errorf("sequence %s: read-only transaction", bucket)
	}
	b, err := t.bucket(bucket, true)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

func (t *tx) DeleteBucket(bucket string) error {
	err := t.b.DeleteBucket([]byte(bucket))
	if errors.Is(err, berrors.ErrBucketNotFound) {
		return nil
	}
	return err
}

func (t *tx) Count(bucket string) (int, error) {
	b, _ := t.bucket(bucket, false)
	if b == nil {
		return 0, nil
	}
	return b.Stats().KeyN, nil
}
