package boltstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"liaisonbot/bot/store"
)

// Info describes a verified database file.
type Info struct {
	Size    int64          // bytes on disk
	Buckets map[string]int // keys in each top-level bucket
}

// maxCheckErrors bounds what Verify reports of a badly damaged file.
const maxCheckErrors = 3

// Verify checks a database file without changing it, for backup (its copy)
// and restore (the file it is given): the file opens read-only (within
// lockTimeout, 0 meaning DefaultLockTimeout, when another process writes to
// it), is as long as its meta page says, passes bbolt's full consistency
// check (every page reachable once, none both used and free, keys in order),
// and holds id. An empty database does not pass: a backup holds data.
func Verify(path string, id Identity, lockTimeout time.Duration) (*Info, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not a database file", path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	db, err := openBolt(path, lockTimeout, true)
	if err != nil {
		return nil, openError(path, err)
	}
	defer db.Close()
	if err := sane(db, id, id.set()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info := &Info{Size: fi.Size(), Buckets: map[string]int{}}
	err = view(db, func(tx *bolt.Tx) error {
		var problems []string
		n := 0
		for err := range tx.Check() {
			if n++; n <= maxCheckErrors {
				problems = append(problems, err.Error())
			}
		}
		if n > 0 {
			if n > maxCheckErrors {
				problems = append(problems, fmt.Sprintf("and %d more", n-maxCheckErrors))
			}
			return fmt.Errorf("%w: consistency check: %s", store.ErrCorrupt, strings.Join(problems, "; "))
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			info.Buckets[string(name)] = b.Stats().KeyN
			return nil
		})
	})
	if err != nil {
		if !errors.Is(err, store.ErrCorrupt) {
			err = fmt.Errorf("%w: %v", store.ErrCorrupt, err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// view is db.View with bbolt's panics on a damaged page turned into errors.
func view(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer guard("", &err)
	return db.View(fn)
}
