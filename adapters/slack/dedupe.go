package slack

import (
	"context"
	"errors"
	"sync"
	"time"

	"liaisonbot/bot/store"
)

// EventsBucket holds the ids of the events received lately, each with the
// time it was first received.
const EventsBucket = "slack.events"

const (
	// dedupeKeep is how long an event id is remembered. Slack's last
	// retry comes about 5 minutes after the first delivery.
	dedupeKeep = time.Hour
	// pruneEvery spaces the sweeps of expired ids.
	pruneEvery = 10 * time.Minute
	// maxEventID bounds a key: Slack's ids are a dozen characters.
	maxEventID = 128
)

// dedupe remembers event ids in the store, so a retry after a restart is
// recognised too.
type dedupe struct {
	store store.Store
	now   func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
}

// mark records id as received and reports whether it was already. It runs
// before the event is dispatched: an event that fails in its handler is not
// delivered again (at most once, never twice).
func (d *dedupe) mark(ctx context.Context, id string) (seen bool, err error) {
	now := d.now()
	prune := d.pruneDue(now)
	err = d.store.Update(ctx, func(tx store.Tx) error {
		seen = false // Update may run fn again
		if _, err := tx.Get(EventsBucket, id); err == nil {
			seen = true
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !seen {
			stamp, _ := now.UTC().MarshalText()
			if err := tx.Put(EventsBucket, id, stamp); err != nil {
				return err
			}
		}
		if prune {
			return pruneEvents(tx, now.Add(-dedupeKeep))
		}
		return nil
	})
	return seen, err
}

// pruneDue says whether this mark should also sweep, at most every
// pruneEvery: the sweep reads the whole bucket.
func (d *dedupe) pruneDue(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.lastPrune) < pruneEvery {
		return false
	}
	d.lastPrune = now
	return true
}

// pruneEvents deletes ids received before cutoff (and unreadable entries).
// Keys are collected first: deleting under a cursor is not safe in bbolt.
func pruneEvents(tx store.Tx, cutoff time.Time) error {
	var old []string
	err := tx.Scan(EventsBucket, "", "", func(k string, v []byte) error {
		var t time.Time
		if t.UnmarshalText(v) != nil || t.Before(cutoff) {
			old = append(old, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(EventsBucket, k); err != nil {
			return err
		}
	}
	return nil
}
