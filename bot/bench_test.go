package bot_test

import (
	"context"
	"testing"

	"liaisonbot/bot"
)

var benchTexts = []struct{ name, text string }{
	{"contact", "contact canada"},
	{"incident", "incident update INC-2026-0001 Crowd at the north gate, police on site"},
}

func BenchmarkResolve(b *testing.B) {
	m, _ := newMux(b)
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := bot.Request{Text: bt.text}
				if err := m.Resolve(&req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServe is one command through the Mux with the usual middleware,
// the request made as an adapter makes it (with its id).
func BenchmarkServe(b *testing.B) {
	m, audit := newMux(b)
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := &bot.Request{ID: "0123456789abcdef", Platform: bot.Slack, Channel: "C1", User: bot.User{ID: "U1"},
					Role: bot.Role{Kind: bot.RoleAgent}, Text: bt.text}
				if msg := m.Serve(context.Background(), req); msg.Error {
					b.Fatal(msg.Text)
				}
				audit.records = audit.records[:0]
			}
		})
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = bot.NewRequestID()
	}
}

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, bot.AuditRecord) error { return nil }

// BenchmarkServeParallel is BenchmarkServe from every core at once, as a
// server under load runs it: what the cores share shows here.
func BenchmarkServeParallel(b *testing.B) {
	m := bot.NewMux("liaison", nil)
	m.Use(bot.Audit(nopAuditor{}, nil, nil), bot.Recover(discard()), bot.Authorize(m))
	m.HandleFunc("contact <query>", "contacts", bot.AccessAgents, func(context.Context, *bot.Request) (*bot.Message, error) {
		return nil, nil
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &bot.Request{ID: "0123456789abcdef", Platform: bot.Slack, Channel: "C1", User: bot.User{ID: "U1"},
				Role: bot.Role{Kind: bot.RoleAgent}, Text: "contact canada"}
			if msg := m.Serve(context.Background(), req); msg.Error {
				b.Fatal(msg.Text)
			}
		}
	})
}
