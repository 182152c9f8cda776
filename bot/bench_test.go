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
