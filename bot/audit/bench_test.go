package audit_test

import (
	"context"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/internal/benchcpu"
)

// BenchmarkRecord is what the audit costs a command: Record, and the
// writer's share of grouping and committing it to a bbolt file. cpu-ns/op
// is the process's CPU per record, the writer goroutine's and the GC's
// included.
func BenchmarkRecord(b *testing.B) {
	log := &audit.Log{Store: openDB(b)}
	defer log.Close()
	rec := bot.AuditRecord{
		Time: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC), RequestID: "0123456789abcdef", Platform: bot.Slack,
		Channel: "C0WATCH", UserID: "U0AGENT", UserName: "agent", Role: "agent",
		Command: "contact", Text: "contact canada", Outcome: "ok", Millis: 0.123,
	}
	b.ReportAllocs()
	cpu := benchcpu.Start(b)
	for b.Loop() {
		// Each command has a context of its own that can be cancelled,
		// as a request's is: its cost is part of the benchmark's.
		ctx, cancel := context.WithCancel(context.Background())
		rec.Time = rec.Time.Add(time.Microsecond)
		if err := log.Record(ctx, rec); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	if err := log.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	cpu.Report(b)
}
