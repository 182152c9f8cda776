package slack

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/help"
)

// BenchmarkSlashCommand is the server's work for one slash command without
// the network: verify, parse, look up, render, write. With "audit" each command
// also commits its audit record to bbolt, as in production; "no-audit"
// shows what the rest costs.
func BenchmarkSlashCommand(b *testing.B) {
	for _, name := range []string{"audit", "audit-grouped", "no-audit"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "l.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			dir, err := directory.Open(ctx, st)
			if err != nil {
				b.Fatal(err)
			}
			mux := bot.NewMux("liaison", nil)
			var auditor bot.Auditor = nopAuditor{}
			switch name {
			case "audit":
				auditor = &audit.Log{Store: st}
			case "audit-grouped":
				g := newGroupAuditor(st)
				defer g.close()
				auditor = g
			}
			mux.Use(bot.Audit(auditor, nil, nil), bot.Recover(slogDiscard()), bot.Authorize(mux))
			help.Register(mux)
			directory.Register(mux, dir)
			cfg := mustConfig(b, testConfig)
			ad, err := New(Options{Config: cfg, Mux: mux, Store: st})
			if err != nil {
				b.Fatal(err)
			}
			handler := http.NewServeMux()
			ad.Register(handler)
			body := slashForm("contact canada", "https://hooks.slack.com/commands/T/1/x", nil)
			// Signed once: the signature stays valid for minutes, and the
			// client's signing is not the server's cost.
			header := signed(b, "http://bot/slack/commands", testSecret, body, "application/x-www-form-urlencoded", 0).Header
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
				req.Header = header
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, bot.AuditRecord) error { return nil }

// groupAuditor is a sketch of the fix proposed for the audit bottleneck
// (see the load figures): Record queues the record and returns; one writer
// commits whatever has queued in a single transaction, so N commands cost
// one fsync instead of N. It lives here only to measure the idea.
type groupAuditor struct {
	st   store.Store
	q    chan bot.AuditRecord
	done chan struct{}
}

func newGroupAuditor(st store.Store) *groupAuditor {
	g := &groupAuditor{st: st, q: make(chan bot.AuditRecord, 4096), done: make(chan struct{})}
	go g.run()
	return g
}

func (g *groupAuditor) Record(_ context.Context, r bot.AuditRecord) error {
	g.q <- r
	return nil
}

func (g *groupAuditor) run() {
	defer close(g.done)
	for r := range g.q {
		batch := []bot.AuditRecord{r}
	more:
		for len(batch) < 512 {
			select {
			case r, ok := <-g.q:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		_ = g.st.Update(context.Background(), func(tx store.Tx) error {
			for _, r := range batch {
				seq, err := tx.NextSequence(audit.Bucket)
				if err != nil {
					return err
				}
				if err := store.PutJSON(tx, audit.Bucket, fmt.Sprintf("%s-%012d", r.Time.UTC().Format("20060102T150405.000000000Z"), seq), r); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

func (g *groupAuditor) close() { close(g.q); <-g.done }
