package metrics_test

import (
	"context"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/metrics"
)

// BenchmarkMiddleware is what counting and timing costs a command: the
// middleware around a handler that does nothing, the command resolved.
func BenchmarkMiddleware(b *testing.B) {
	m := metrics.New()
	mux := bot.NewMux("liaison", nil)
	mux.HandleFunc("contact", "contacts", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil })
	req := &bot.Request{Platform: bot.Slack, Text: "contact"}
	if err := mux.Resolve(req); err != nil {
		b.Fatal(err)
	}
	h := m.Middleware()(bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil }))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req.Time = time.Now()
		h.ServeCommand(ctx, req)
	}
}
