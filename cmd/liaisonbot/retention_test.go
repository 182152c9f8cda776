package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
)

// With audit.retention set, one pass of the retention (pruneAudit runs it
// hourly in serve) deletes the records past it and keeps the others.
func TestAuditRetentionApplied(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "liaison.yaml")
	if err := os.WriteFile(cfgPath, []byte("audit:\n  retention: 30d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"LIAISON_DB": filepath.Join(dir, "liaison.db")}
	e := &environment{configPath: cfgPath, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(k string) string { return vars[k] }}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelError)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, age := range []time.Duration{90 * 24 * time.Hour, 31 * 24 * time.Hour, 2 * time.Hour} {
		if err := a.audit.Record(ctx, bot.AuditRecord{Time: time.Now().Add(-age), Command: "contact", Text: age.String(), Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		if err := a.audit.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	export := func() string {
		var out bytes.Buffer
		if _, err := a.audit.Export(ctx, &out, time.Time{}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got := export(); !strings.Contains(got, "2160h") || !strings.Contains(got, "744h") {
		t.Fatalf("the old records were not written:\n%s", got)
	}
	a.pruneAuditOnce(ctx, time.Now())
	got := export()
	if strings.Contains(got, "2160h") || strings.Contains(got, "744h") || !strings.Contains(got, `"text":"2h0m0s"`) {
		t.Fatalf("want only the record within 30 days left:\n%s", got)
	}
}
