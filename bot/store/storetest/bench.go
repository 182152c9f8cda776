package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"liaisonbot/bot/store"
)

// Bench measures the store operations features use, on one backend. Each
// Update is a real commit (an fsync for bbolt, a raft round for etcd).
func Bench(b *testing.B, s store.Store) {
	ctx := context.Background()
	// 1,000 keys of 200 bytes to read and scan.
	value := make([]byte, 200)
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 1000 {
			if err := tx.Put("bench", fmt.Sprintf("k%05d", i), value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("View/Get", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.Get("bench", fmt.Sprintf("k%05d", i%1000))
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("View/Scan100", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := s.View(ctx, func(tx store.Tx) error {
				return tx.Scan("bench", "k00100", "k00200", func(string, []byte) error { n++; return nil })
			}); err != nil || n != 100 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("View/Count", func(b *testing.B) {
		for b.Loop() {
			if err := s.View(ctx, func(tx store.Tx) error {
				n, err := tx.Count("bench")
				if n != 1000 {
					return fmt.Errorf("count %d", n)
				}
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/Put", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := s.Update(ctx, func(tx store.Tx) error {
				return tx.Put("bench.put", strconv.Itoa(i%1000), value)
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/ReadModifyWrite", func(b *testing.B) {
		for b.Loop() {
			if err := s.Update(ctx, func(tx store.Tx) error {
				n := 0
				if v, err := tx.Get("bench.rmw", "n"); err == nil {
					n, _ = strconv.Atoi(string(v))
				}
				return tx.Put("bench.rmw", "n", []byte(strconv.Itoa(n+1)))
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/NextSequence+Put", func(b *testing.B) {
		for b.Loop() {
			if err := s.Update(ctx, func(tx store.Tx) error {
				n, err := tx.NextSequence("bench.seq")
				if err != nil {
					return err
				}
				return tx.Put("bench.seq", fmt.Sprintf("%012d", n), value)
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/ReadModifyWrite-4way", func(b *testing.B) {
		// Four writers on one key at once: bbolt queues them, etcd retries
		// the losers (the cost of serialisable conflicts).
		b.SetParallelism(2) // 2 × GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Update(ctx, func(tx store.Tx) error {
					n := 0
					if v, err := tx.Get("bench.rmw4", "n"); err == nil {
						n, _ = strconv.Atoi(string(v))
					}
					return tx.Put("bench.rmw4", "n", []byte(strconv.Itoa(n+1)))
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
