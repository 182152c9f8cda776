package handoff

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// batchStore runs every Update and View of the code it is handed to
// inside one enclosing transaction while tx is set, so that the benchmark
// builds its history through the incident feature's own commands (and its
// own key formats) in large batched transactions.
type batchStore struct {
	store.Store
	tx store.Tx
}

func (b *batchStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if b.tx != nil {
		return fn(b.tx)
	}
	return b.Store.Update(ctx, fn)
}

func (b *batchStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if b.tx != nil {
		return fn(b.tx)
	}
	return b.Store.View(ctx, fn)
}

// BenchmarkDigest builds the digest of a 12-hour shift for a team, over a
// history of 10,000 and of 100,000 incidents, 500 of them still open: an
// incident every 10 minutes, opened, updated, closed 9 minutes later unless
// it is one of the open ones, spread over the history; the shift holds the
// last 72. Its cost follows the shift and the open set (SPEC §8: under
// 100 ms), not the history, so both sizes cost about the same.
func BenchmarkDigest(b *testing.B) {
	for _, total := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("history=%d", total), func(b *testing.B) {
			const open = 500
			svc, team, at := digestHistory(b, total, open)
			ctx := context.Background()
			var msg bot.Message
			check := func() {
				err := svc.store.View(ctx, func(tx store.Tx) error {
					sc := svc.schedule(team)
					r, err := svc.collect(tx, team, sc.shiftStart(at), at, at)
					if err != nil {
						return err
					}
					k := sc.index(at)
					r.outgoing, r.incoming = lead(team, k-1), lead(team, k)
					msg = svc.digestMessage(r, "watch-0001", at, false)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			check()
			fields := sections(msg)["This shift"]
			if want := fmt.Sprintf("Still open: %d", open); !strings.Contains(fields, want) || !strings.Contains(fields, "Opened: 72") {
				b.Fatalf("digest:\n%s", fields)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				check()
			}
		})
	}
}

// digestHistory writes total incidents through the incident commands, in
// batches of 10,000 per transaction, and returns the handoff service and
// the shift change that ends the last 12 hours of it.
func digestHistory(b *testing.B, total, open int) (*Service, *config.Team, time.Time) {
	b.Helper()
	db, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cfg, err := config.Parse([]byte(watchConfig), "bench.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	bs := &batchStore{Store: db}
	clk := &fakeClock{}
	inc := incident.New(incident.Options{Store: bs, Config: cfg, Directory: fakeDirectory{}, Now: clk.now})
	mux := bot.NewMux("liaison", nil)
	inc.Register(mux)
	// The history ends at a shift change: 07:00 EST on 3 March 2026.
	end := ny(2026, 3, 3, 7, 0)
	start := end.Add(-time.Duration(total) * 10 * time.Minute)
	serve := func(at time.Time, text string) *bot.Message {
		clk.set(at)
		m := mux.Serve(context.Background(), &bot.Request{Platform: bot.Console, Channel: "console", User: bot.User{ID: "u1", Name: "Agent Smith"}, Role: agent, Text: text})
		if m.Error {
			b.Fatalf("%q: %s", text, m.Text)
		}
		return m
	}
	missions := []string{"canada", "japan", "france", "cg-houston-japan"}
	const batch = 10_000
	for from := 0; from < total; from += batch {
		err := db.Update(context.Background(), func(tx store.Tx) error {
			bs.tx = tx
			defer func() { bs.tx = nil }()
			for i := from; i < from+batch && i < total; i++ {
				t := start.Add(time.Duration(i) * 10 * time.Minute)
				serve(t, fmt.Sprintf("incident open mission:%s sev:%d Synthetic incident %d at the front gate", missions[i%len(missions)], 1+i%4, i))
				id := incident.FormatID(t.UTC().Year(), uint64(i+1))
				serve(t.Add(5*time.Minute), "incident update "+id+" Two units on scene")
				// The open ones are spread over the history.
				if (i+1)%(total/open) != 0 {
					serve(t.Add(9*time.Minute), "incident close "+id+" All clear")
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	svc := New(Options{Store: db, Config: cfg, Now: clk.now})
	return svc, &cfg.Teams[0], end
}
