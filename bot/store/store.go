// Package store is the small typed storage API features use: named buckets of
// ordered keys, read and written inside transactions. Like database/sql it
// separates what callers use (this package) from a backend (boltstore, the
// embedded default), so a second backend can come later without touching
// features.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

var (
	// ErrNotFound is returned by Get for a missing key or bucket.
	ErrNotFound = errors.New("not found")
	// ErrInUse means another process holds the database.
	ErrInUse = errors.New("database is in use by another process")
	// ErrCorrupt means the file is not a readable database.
	ErrCorrupt = errors.New("database file is corrupt or not a liaisonbot database")
	// ErrForeign means the file is a sound database of another program.
	ErrForeign = errors.New("not a liaisonbot database")
)

// Store is an open database.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns
	// nil and rolled back otherwise: all or nothing.
	Update(ctx context.Context, fn func(Tx) error) error
	// Backup writes a consistent copy of the whole database to w.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	Close() error
}

// Tx is a transaction. Byte slices passed to Scan callbacks are valid only
// during the callback; Get returns a copy.
type Tx interface {
	Get(bucket, key string) ([]byte, error)
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	// Scan calls fn for each key in [from, to) in byte order; to "" means to
	// the end. Returning ErrStop from fn ends the scan without error.
	Scan(bucket, from, to string, fn func(key string, value []byte) error) error
	// ScanReverse is Scan from the last key down.
	ScanReverse(bucket, from, to string, fn func(key string, value []byte) error) error
	// NextSequence returns the bucket's next integer (from 1). Once its
	// transaction commits the number is never handed out again.
	NextSequence(bucket string) (uint64, error)
	// DeleteBucket removes a bucket and everything in it; missing is not an error.
	DeleteBucket(bucket string) error
	// Count returns the number of keys in a bucket.
	Count(bucket string) (int, error)
}

// Lister is a backend that can list its buckets and their sequences, so a
// whole store can be copied (store migrate). Both backends are Listers.
type Lister interface {
	// Buckets returns every bucket that holds keys or a sequence, with
	// its sequence (0 when NextSequence never ran).
	Buckets(ctx context.Context) (map[string]uint64, error)
}

// SequenceSetter is a Tx that can set a bucket's sequence (store migrate).
type SequenceSetter interface {
	SetSequence(bucket string, n uint64) error
}

// ErrStop ends a Scan early.
var ErrStop = errors.New("stop scan")

// PrefixEnd returns the smallest key greater than every key with the prefix,
// for Scan(bucket, prefix, PrefixEnd(prefix), …).
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// GetJSON reads a JSON value; ok is false when the key is absent.
func GetJSON[T any](tx Tx, bucket, key string) (v T, ok bool, err error) {
	data, err := tx.Get(bucket, key)
	if errors.Is(err, ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return v, true, nil
}

// PutJSON writes a value as JSON.
func PutJSON(tx Tx, bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return tx.Put(bucket, key, data)
}

// ScanJSON decodes each value in [from, to) into a T and calls fn.
func ScanJSON[T any](tx Tx, bucket, from, to string, fn func(key string, v T) error) error {
	return tx.Scan(bucket, from, to, func(k string, data []byte) error {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", bucket, k, err)
		}
		return fn(k, v)
	})
}
