package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

func TestRecordAndExportSince(t *testing.T) {
	db := openDB(t)
	log := &audit.Log{Store: db}
	defer log.Close()
	ctx := context.Background()
	base := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	for i, cmd := range []string{"contact", "office", "contact"} {
		r := bot.AuditRecord{Time: base.Add(time.Duration(i) * time.Hour), Command: cmd, Outcome: "ok", UserID: "u"}
		if err := log.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Same timestamp twice must not overwrite.
	if err := log.Record(ctx, bot.AuditRecord{Time: base, Command: "help", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	if n, err := log.Export(ctx, &all, time.Time{}); err != nil || n != 4 {
		t.Fatalf("export all: %d, %v", n, err)
	}
	var since bytes.Buffer
	n, err := log.Export(ctx, &since, base.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("export since: %d, %v", n, err)
	}
	var rec bot.AuditRecord
	if err := json.Unmarshal([]byte(strings.TrimSpace(since.String())), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Command != "contact" || !rec.Time.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("record since = %+v", rec)
	}
}

func TestCloseWritesWhatIsQueued(t *testing.T) {
	db := openDB(t)
	log := &audit.Log{Store: db}
	ctx := context.Background()
	for i := range 5000 {
		if err := log.Record(ctx, bot.AuditRecord{Time: time.Unix(int64(i), 0), Command: "help"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if err := log.Record(ctx, bot.AuditRecord{}); err != audit.ErrClosed {
		t.Fatalf("Record after Close: %v", err)
	}
	fresh := &audit.Log{Store: db}
	defer fresh.Close()
	if n, err := fresh.Export(ctx, io.Discard, time.Time{}); err != nil || n != 5000 {
		t.Fatalf("exported %d, %v; want 5000", n, err)
	}
}

// A burst of long records is stored as several values, none over what the
// etcd backend takes, and exports whole and in order.
func TestLongGroupsAreCut(t *testing.T) {
	db := openDB(t)
	log := &audit.Log{Store: db}
	ctx := context.Background()
	const n = 1000
	long := strings.Repeat("x", 2000) // 2 MB in all: more than one value
	base := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if err := log.Record(ctx, bot.AuditRecord{Time: base.Add(time.Duration(i) * time.Millisecond), Command: "incident", Text: long}); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	values, biggest := 0, 0
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(audit.Bucket, "", "", func(_ string, v []byte) error {
			values++
			biggest = max(biggest, len(v))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if values < 8 || biggest > 256<<10 {
		t.Fatalf("%d values, the biggest %d bytes", values, biggest)
	}
	var out bytes.Buffer
	fresh := &audit.Log{Store: db}
	defer fresh.Close()
	if got, err := fresh.Export(ctx, &out, time.Time{}); err != nil || got != n {
		t.Fatalf("exported %d, %v", got, err)
	}
	prev := time.Time{}
	for line := range strings.Lines(out.String()) {
		var r bot.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Time.Before(prev) {
			t.Fatalf("out of order: %v after %v", r.Time, prev)
		}
		prev = r.Time
	}
}

// Prune deletes whole groups older than the cutoff less an hour, in
// batches, and nothing newer.
func TestPruneKeepsWhatIsWithinRetention(t *testing.T) {
	db := openDB(t)
	log := &audit.Log{Store: db}
	defer log.Close()
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	// 250 old groups (more than one batch), one just inside the margin, and
	// a recent one; each Flush commits its own group.
	var old []time.Time
	for i := range 250 {
		old = append(old, now.Add(-30*24*time.Hour+time.Duration(i)*time.Minute))
	}
	times := append(old, now.Add(-24*time.Hour-30*time.Minute), now.Add(-time.Hour))
	for _, at := range times {
		if err := log.Record(ctx, bot.AuditRecord{Time: at, Command: "contact", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		if err := log.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, err := log.Prune(ctx, now.Add(-24*time.Hour))
	if err != nil || n != 250 {
		t.Fatalf("pruned %d groups (%v), want 250", n, err)
	}
	var out bytes.Buffer
	if n, err := log.Export(ctx, &out, time.Time{}); err != nil || n != 2 {
		t.Fatalf("left %d records (%v), want the 2 within retention and its margin:\n%s", n, err, out.String())
	}
	if n, err := log.Prune(ctx, now.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second prune deleted %d (%v)", n, err)
	}
}

// blockingStore holds the writer in its first Update until released.
type blockingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
	once    bool
}

func (s *blockingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if !s.once {
		s.once = true // only the writer calls Update here
		close(s.entered)
		<-s.release
	}
	return s.Store.Update(ctx, fn)
}

// Record tries the queue before the context, so a cancelled context does
// not refuse a record there is room for; with the queue full it returns
// the context's error instead of waiting.
func TestRecordWithFullQueueReturnsContextError(t *testing.T) {
	db := openDB(t)
	st := &blockingStore{Store: db, entered: make(chan struct{}), release: make(chan struct{})}
	log := &audit.Log{Store: st}
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := log.Record(cancelled, bot.AuditRecord{Time: time.Unix(0, 0), Command: "help"}); err != nil {
		t.Fatal(err)
	}
	<-st.entered // the writer holds that record and waits in Update
	n := 1
	for ; ; n++ {
		err := log.Record(cancelled, bot.AuditRecord{Time: time.Unix(int64(n), 0), Command: "help"})
		if err == context.Canceled {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 1<<20 {
			t.Fatal("the queue never filled")
		}
	}
	close(st.release)
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := &audit.Log{Store: db}
	defer fresh.Close()
	if got, err := fresh.Export(ctx, io.Discard, time.Time{}); err != nil || got != n {
		t.Fatalf("exported %d, %v; want the %d records queued", got, err, n)
	}
}

// Records' buffers and the value's buffer are reused from group to group:
// what is exported is still exactly what was recorded.
func TestExportEqualsWhatWasRecorded(t *testing.T) {
	db := openDB(t)
	log := &audit.Log{Store: db}
	defer log.Close()
	ctx := context.Background()
	base := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var want strings.Builder
	for i := range 3000 {
		r := bot.AuditRecord{Time: base.Add(time.Duration(i) * time.Second), Command: "contact", Outcome: "ok",
			UserID: "u" + strings.Repeat("x", i%300), Text: strings.Repeat("é", i%700)} // some longer than a pooled buffer
		want.Write(r.AppendJSON(nil))
		want.WriteByte('\n')
		if err := log.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i%97 == 0 {
			if err := log.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got bytes.Buffer
	if _, err := log.Export(ctx, &got, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatal("export differs from what was recorded")
	}
}

// openDB opens a bbolt store in a temporary directory, closed at the end.
func openDB(tb testing.TB) *boltstore.DB {
	tb.Helper()
	db, err := boltstore.Open(filepath.Join(tb.TempDir(), "a.db"), boltstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
