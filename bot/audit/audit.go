// Package audit keeps the audit trail of SPEC §6 in an append-only bucket:
// every command and every denial, who, where, what, outcome, when. Keys sort
// by time, so an export from a given time reads only what it returns.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// Bucket holds the audit records.
const Bucket = "audit"

// keyTime is the sortable time prefix of an audit key.
const keyTime = "20060102T150405.000000000Z"

// Log writes audit records to a store.
type Log struct {
	Store store.Store
}

var _ bot.Auditor = (*Log)(nil)

// Record appends one record. The sequence number makes keys unique even when
// two records share a timestamp.
func (l *Log) Record(ctx context.Context, r bot.AuditRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return l.Store.Update(ctx, func(tx store.Tx) error {
		seq, err := tx.NextSequence(Bucket)
		if err != nil {
			return err
		}
		return tx.Put(Bucket, fmt.Sprintf("%s-%012d", r.Time.UTC().Format(keyTime), seq), data)
	})
}

// Export writes the records at or after since as JSON lines, oldest first.
func (l *Log) Export(ctx context.Context, w io.Writer, since time.Time) (int, error) {
	n := 0
	from := ""
	if !since.IsZero() {
		from = since.UTC().Format(keyTime)
	}
	err := l.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(Bucket, from, "", func(_ string, v []byte) error {
			// v belongs to the database's read-only memory map: never append to it.
			if _, err := w.Write(v); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
			n++
			return nil
		})
	})
	return n, err
}
