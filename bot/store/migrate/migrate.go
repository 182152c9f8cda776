// Package migrate copies a whole store into another, empty one (bbolt to
// etcd and back) and proves the copy: per bucket, the number of keys, the
// sequence and a SHA-256 over every key and value in order must match.
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"liaisonbot/bot/store"
)

// Bucket is what is checked of one bucket.
type Bucket struct {
	Name     string
	Keys     int
	Sequence uint64
	SHA256   string
}

// Report lists the buckets copied, with the destination's figures.
type Report struct {
	Buckets    []Bucket
	Mismatches []string // empty when the copy is verified
}

// batch bounds one destination transaction: under etcd's default of 128
// operations a transaction commits in one go, where a bigger one is staged
// in chunks and committed twice over.
const batch = 100

// Summarize computes every bucket's figures at one snapshot.
func Summarize(ctx context.Context, s store.Store) ([]Bucket, error) {
	l, ok := s.(store.Lister)
	if !ok {
		return nil, errors.New("this store cannot list its buckets")
	}
	seqs, err := l.Buckets(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(seqs))
	for n := range seqs {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Bucket, 0, len(names))
	err = s.View(ctx, func(tx store.Tx) error {
		for _, name := range names {
			h := sha256.New()
			n := 0
			var lb [binary.MaxVarintLen64]byte
			if err := tx.Scan(name, "", "", func(k string, v []byte) error {
				h.Write(lb[:binary.PutUvarint(lb[:], uint64(len(k)))])
				h.Write([]byte(k))
				h.Write(lb[:binary.PutUvarint(lb[:], uint64(len(v)))])
				h.Write(v)
				n++
				return nil
			}); err != nil {
				return err
			}
			out = append(out, Bucket{Name: name, Keys: n, Sequence: seqs[name], SHA256: hex.EncodeToString(h.Sum(nil))})
		}
		return nil
	})
	return out, err
}

// Copy copies every bucket of src into dst, which must be empty, then
// verifies. src must not change meanwhile (stop the bot).
func Copy(ctx context.Context, src, dst store.Store) (*Report, error) {
	before, err := Summarize(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	if len(before) > 0 {
		return nil, fmt.Errorf("the destination is not empty (%d buckets, e.g. %s): migrate copies into an empty store only", len(before), before[0].Name)
	}
	want, err := Summarize(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	for _, b := range want {
		if err := copyBucket(ctx, src, dst, b); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", b.Name, err)
		}
	}
	got, err := Summarize(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return compare(want, got), nil
}

func copyBucket(ctx context.Context, src, dst store.Store, b Bucket) error {
	type kv struct {
		k string
		v []byte
	}
	from := ""
	for {
		var page []kv
		err := src.View(ctx, func(tx store.Tx) error {
			page = page[:0]
			return tx.Scan(b.Name, from, "", func(k string, v []byte) error {
				page = append(page, kv{k, append([]byte(nil), v...)})
				if len(page) == batch {
					return store.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		last := len(page) < batch
		err = dst.Update(ctx, func(tx store.Tx) error {
			for _, e := range page {
				if err := tx.Put(b.Name, e.k, e.v); err != nil {
					return err
				}
			}
			if last && b.Sequence > 0 {
				ss, ok := tx.(store.SequenceSetter)
				if !ok {
					return errors.New("the destination cannot set sequences")
				}
				return ss.SetSequence(b.Name, b.Sequence)
			}
			return nil
		})
		if err != nil || last {
			return err
		}
		from = page[len(page)-1].k + "\x00"
	}
}

func compare(want, got []Bucket) *Report {
	r := &Report{Buckets: got}
	g := map[string]Bucket{}
	for _, b := range got {
		g[b.Name] = b
	}
	for _, w := range want {
		d, ok := g[w.Name]
		switch {
		case !ok:
			r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: missing in the destination", w.Name))
		case d != w:
			r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: source %d keys, sequence %d, sha256 %.12s; destination %d keys, sequence %d, sha256 %.12s",
				w.Name, w.Keys, w.Sequence, w.SHA256, d.Keys, d.Sequence, d.SHA256))
		}
		delete(g, w.Name)
	}
	for name := range g {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: in the destination only", name))
	}
	return r
}
