package slack

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/help"
)

// BenchmarkSlashCommand is the server's work for one slash command without
// the network: verify, parse, look up, render, write. With "audit" each command
// also commits its audit record to bbolt, as in production; "no-audit"
// shows what the rest costs.
func BenchmarkSlashCommand(b *testing.B) {
	for _, name := range []string{"audit", "no-audit"} {
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
			if name == "audit" {
				log := &audit.Log{Store: st}
				defer log.Close()
				auditor = log
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
