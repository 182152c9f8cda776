package boltstore_test

import (
	"path/filepath"
	"testing"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/bot/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := boltstore.Open(filepath.Join(t.TempDir(), "contract.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func BenchmarkStore(b *testing.B) {
	db, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.Bench(b, db)
}
