// Package outbox makes every post that is not a direct answer durable
// (SPEC §7): it is written to the store before it is sent, sent by a
// dispatcher with retries (backoff with jitter, Retry-After honoured) and
// per-channel pacing, and marked sent with the platform's message reference
// in the same transaction as whatever the feature records about it (an
// incident's thread ref). A restart resends what was not confirmed and never
// a confirmed post twice; the adapters close the last window (a crash after
// the platform accepted a post) with the entry's Key.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// Buckets: entries waiting (or failing) and entries sent, both keyed by id.
const (
	BucketPending = "outbox.pending"
	BucketSent    = "outbox.sent"
	bucketSeq     = "outbox.seq"
	// BucketClaims holds which replica is sending an entry, until when.
	BucketClaims = "outbox.claims"
)

// Claim says a replica is sending an entry; it lapses at Until.
type Claim struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Status of an entry.
const (
	StatusPending = "pending" // not sent yet, or failed and waiting for its next attempt
	StatusFailing = "failing" // failed FailingAfter times or more; still retried
	StatusSent    = "sent"
)

// FailingAfter is how many failed attempts make an entry "failing" (visible
// in `outbox list` and counted); it keeps being retried.
const FailingAfter = 5

// Entry is one post on its way to a platform.
type Entry struct {
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	Channel   string `json:"channel"`
	ThreadRef string `json:"thread_ref,omitempty"`
	// ThreadOf names another entry whose message becomes this one's thread
	// (a reply queued before its root post is sent). The entry waits for it.
	ThreadOf string      `json:"thread_of,omitempty"`
	Message  bot.Message `json:"message"`
	// Origin tells the feature's OnSent hook what the post was for
	// ("incident/INC-2026-0001/root/mpd").
	Origin string `json:"origin,omitempty"`

	Status      string         `json:"status"`
	Created     time.Time      `json:"created"`
	Attempts    int            `json:"attempts,omitempty"`
	NextAttempt time.Time      `json:"next_attempt"`
	LastError   string         `json:"last_error,omitempty"`
	Ref         bot.MessageRef `json:"ref"`
	Sent        time.Time      `json:"sent,omitzero"`
	// Uncertain says an attempt may have reached the platform without the
	// outbox learning it (set before each send to a bot.PostFinder
	// adapter, cleared when the platform certainly refused): the next
	// attempt looks for the post before sending it again.
	Uncertain bool `json:"uncertain,omitempty"`
}

// Channel is the entry's "platform:id".
func (e *Entry) ChannelRef() string { return e.Platform + ":" + e.Channel }

// Enqueue writes a post inside the caller's transaction, so the post exists
// exactly when the change that caused it does. It returns the entry id.
func Enqueue(tx store.Tx, now time.Time, e Entry) (string, error) {
	if e.Platform == "" || e.Channel == "" {
		return "", fmt.Errorf("outbox: a post needs a platform and a channel")
	}
	seq, err := tx.NextSequence(bucketSeq)
	if err != nil {
		return "", err
	}
	e.ID = fmt.Sprintf("ob-%012d", seq)
	e.Status = StatusPending
	e.Created = now.UTC()
	e.NextAttempt = e.Created
	if err := store.PutJSON(tx, BucketPending, e.ID, e); err != nil {
		return "", err
	}
	return e.ID, nil
}

// Lookup finds an entry, pending or sent.
func Lookup(tx store.Tx, id string) (Entry, bool, error) {
	if e, ok, err := store.GetJSON[Entry](tx, BucketPending, id); ok || err != nil {
		return e, ok, err
	}
	return store.GetJSON[Entry](tx, BucketSent, id)
}

// List returns the entries waiting or failing, oldest first.
func List(ctx context.Context, st store.Store) ([]Entry, error) {
	var out []Entry
	err := st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, BucketPending, "", "", func(_ string, e Entry) error {
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Stats counts entries by status.
type Stats struct {
	Pending, Failing, Sent int
}

// Count returns the outbox's counts.
func Count(ctx context.Context, st store.Store) (Stats, error) {
	var s Stats
	err := st.View(ctx, func(tx store.Tx) error {
		if err := tx.Scan(BucketPending, "", "", func(_ string, v []byte) error {
			var e struct{ Status string }
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Status == StatusFailing {
				s.Failing++
			} else {
				s.Pending++
			}
			return nil
		}); err != nil {
			return err
		}
		n, err := tx.Count(BucketSent)
		s.Sent = n
		return err
	})
	return s, err
}

// RetryAfter is implemented by errors that say when to try again (a 429).
type RetryAfter interface {
	RetryAfter() time.Duration
}

// retryAfter extracts a platform's requested wait from an error chain.
func retryAfter(err error) (time.Duration, bool) {
	var ra RetryAfter
	if errors.As(err, &ra) {
		return ra.RetryAfter(), true
	}
	return 0, false
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
