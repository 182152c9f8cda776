package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
)

func enqueueN(t *testing.T, db store.Store, now time.Time, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			// One channel each: pacing and ordering do not hold anyone back.
			if _, err := outbox.Enqueue(tx, now, outbox.Entry{Platform: "fake", Channel: fmt.Sprintf("C%02d", i), Message: bot.Message{Text: fmt.Sprint(i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two replicas' dispatchers on one store flush at the same time: each post
// goes out once. (Without claims both would send every entry they scanned.)
func TestClaimsTwoDispatchersSendEachOnce(t *testing.T) {
	db, a, ad, c := setup(t, "")
	a.Owner = "a"
	b := &outbox.Dispatcher{Store: db, Adapters: map[string]bot.Adapter{"fake": ad}, Now: c.now, BaseDelay: time.Second, MaxDelay: time.Minute, Owner: "b"}
	enqueueN(t, db, c.now(), 20)
	var wg sync.WaitGroup
	for _, d := range []*outbox.Dispatcher{a, b} {
		wg.Go(func() {
			if _, err := d.Flush(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, p := range ad.sent() {
		seen[p]++
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct posts, want 20", len(seen))
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times", p, n)
		}
	}
	st, err := outbox.Count(context.Background(), db)
	if err != nil || st.Pending != 0 {
		t.Errorf("pending after flush: %+v %v", st, err)
	}
	if err := db.View(context.Background(), func(tx store.Tx) error {
		n, err := tx.Count(outbox.BucketClaims)
		if n != 0 {
			t.Errorf("%d claims left after sending", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// A replica died holding a claim: the others leave the entry alone until
// the claim lapses, then one sends it.
func TestExpiredClaimIsTakenOver(t *testing.T) {
	db, d, ad, c := setup(t, "")
	d.Owner = "alive"
	enqueueN(t, db, c.now(), 1)
	entries, err := outbox.List(context.Background(), db)
	if err != nil || len(entries) != 1 {
		t.Fatalf("list: %v %v", entries, err)
	}
	err = db.Update(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, outbox.BucketClaims, entries[0].ID, outbox.Claim{Owner: "dead", Until: c.now().Add(30 * time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	next, err := d.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ad.sent()) != 0 {
		t.Fatalf("sent while another replica's claim runs: %v", ad.sent())
	}
	if want := c.now().Add(30 * time.Second); !next.Equal(want) {
		t.Errorf("next look at %v, want the claim's end %v", next, want)
	}
	c.advance(31 * time.Second)
	if _, err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ad.sent(); len(got) != 1 {
		t.Fatalf("after the claim lapsed: %v, want one post", got)
	}
}

// A console session beside serving replicas leaves the posts for platforms
// it has no adapter for untouched: not attempted, not marked failed.
func TestOnlyOwnPlatforms(t *testing.T) {
	db, d, ad, c := setup(t, "")
	d.OnlyOwnPlatforms = true
	err := db.Update(context.Background(), func(tx store.Tx) error {
		if _, err := outbox.Enqueue(tx, c.now(), outbox.Entry{Platform: "slack", Channel: "C1", Message: bot.Message{Text: "for slack"}}); err != nil {
			return err
		}
		_, err := outbox.Enqueue(tx, c.now(), outbox.Entry{Platform: "fake", Channel: "F1", Message: bot.Message{Text: "mine"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ad.sent(); len(got) != 1 || got[0] != "F1/:mine" {
		t.Fatalf("sent %v", got)
	}
	list, err := outbox.List(context.Background(), db)
	if err != nil || len(list) != 1 {
		t.Fatalf("left: %+v %v", list, err)
	}
	if e := list[0]; e.Platform != "slack" || e.LastError != "" || e.Attempts != 0 || !e.NextAttempt.Equal(c.now()) {
		t.Fatalf("the slack post was touched: %+v", e)
	}
}
