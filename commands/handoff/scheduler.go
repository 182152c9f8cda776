package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// maxFiresPerTick bounds the fires of one kind handled in one tick (a
// catch-up window configured very wide over a schedule firing every
// minute); the next tick goes on where it stopped.
const maxFiresPerTick = 500

// Run fires what is due until ctx ends. It sleeps until the next fire is
// due, never longer than PollEvery.
//
// The runner is this loop rather than robfig/cron: cron computes its next
// times from "now" at start, keeps nothing, collapses missed runs and
// doubles or skips wall times around DST changes, and v3.0.1's Next can
// loop forever in some zones. What is due is decided here from the fires
// recorded in the store and config.ShiftSchedule, so all that is left for a
// runner is a timer.
func (s *Service) Run(ctx context.Context) {
	for {
		next, err := s.Tick(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.Error("handoff: scheduler tick failed", "err", err)
		}
		wait := PollEvery
		if !next.IsZero() {
			if d := next.Sub(s.now()); d < wait {
				wait = max(d, 50*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Tick handles every reminder, digest and escalation due at now that has
// not been handled yet, retries acknowledgement edits still waiting, and
// returns when the next fire is due (zero when none is).
func (s *Service) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	var errs []error
	for i := range s.cfg.Teams {
		t := &s.cfg.Teams[i]
		n, err := s.tickTeam(ctx, t, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("team %s: %w", t.ID, err))
		}
		earliest(n)
	}
	left, err := s.applyPendingEdits(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if left {
		earliest(now.Add(editRetry))
	}
	return next, errors.Join(errs...)
}

func (s *Service) tickTeam(ctx context.Context, t *config.Team, now time.Time) (time.Time, error) {
	var next time.Time
	if sc := s.sched[t.ID]; sc != nil && !sc.empty() {
		since, last, err := s.marks(ctx, t.ID, now)
		if err != nil {
			return time.Time{}, err
		}
		for _, k := range []struct {
			kind   string
			offset time.Duration
		}{{KindReminder, t.RemindBefore.Std()}, {KindDigest, 0}} {
			start := since.Add(k.offset - time.Nanosecond) // the first change whose fire is at or after since
			if f, ok := last[k.kind]; ok {
				start = f.Change
			}
			n, err := s.tickKind(ctx, t, sc, k.kind, k.offset, start, now)
			if err != nil {
				return time.Time{}, err
			}
			if !n.IsZero() && (next.IsZero() || n.Before(next)) {
				next = n
			}
		}
	}
	n, err := s.tickEscalations(ctx, t, now)
	if !n.IsZero() && (next.IsZero() || n.Before(next)) {
		next = n
	}
	return next, err
}

// marks returns when the scheduler first ran for the team (recording now
// when it never did: changes before a team's first run are not "missed")
// and the last fire of each kind.
func (s *Service) marks(ctx context.Context, team string, now time.Time) (time.Time, map[string]fire, error) {
	var since time.Time
	var haveSince bool
	last := map[string]fire{}
	read := func(tx store.Tx) error {
		var err error
		if since, haveSince, err = store.GetJSON[time.Time](tx, bucketSince, team); err != nil {
			return err
		}
		for _, kind := range []string{KindReminder, KindDigest} {
			f, ok, err := lastFire(tx, team, kind)
			if err != nil {
				return err
			}
			if ok {
				last[kind] = f
			}
		}
		return nil
	}
	if err := s.store.View(ctx, read); err != nil {
		return since, nil, err
	}
	if haveSince {
		return since, last, nil
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := read(tx); err != nil || haveSince {
			return err
		}
		since = now.UTC()
		return store.PutJSON(tx, bucketSince, team, since)
	})
	return since, last, err
}

// tickKind handles the fires of one kind for changes after start whose
// fire time is at or before now, and returns the next fire time.
func (s *Service) tickKind(ctx context.Context, t *config.Team, sc *schedule, kind string, offset time.Duration, start, now time.Time) (time.Time, error) {
	catch := now.Add(-s.catchup)
	c := sc.next(start)
	if !c.IsZero() && c.Add(-offset).Before(catch) {
		// Missed beyond the catch-up window: skipped, with one log line
		// and one record, so that the next tick starts after them.
		lastSkipped := sc.prev(catch.Add(offset - time.Nanosecond))
		if lastSkipped.After(start) {
			if err := s.skip(ctx, t, kind, lastSkipped, now, "beyond the catch-up window"); err != nil {
				return time.Time{}, err
			}
			s.log.Warn("handoff: missed shift changes beyond the catch-up window were skipped",
				"team", t.ID, "kind", kind, "count", sc.index(lastSkipped)-sc.index(start),
				"first_due", c.Add(-offset), "last_due", lastSkipped.Add(-offset), "catchup_window", s.catchup.String())
			start = lastSkipped
		}
		c = sc.next(start)
	}
	for i := 0; !c.IsZero() && !c.Add(-offset).After(now); i++ {
		if i == maxFiresPerTick {
			return now, nil
		}
		if err := s.fire(ctx, t, sc, kind, c, now); err != nil {
			return time.Time{}, err
		}
		c = sc.next(c)
	}
	if c.IsZero() {
		return c, nil
	}
	return c.Add(-offset), nil
}

// skip records a fire that is not posted.
func (s *Service) skip(ctx context.Context, t *config.Team, kind string, change, now time.Time, reason string) error {
	key := fireKey(t.ID, kind, change)
	return s.store.Update(ctx, func(tx store.Tx) error {
		if _, ok, err := store.GetJSON[fire](tx, bucketFires, key); err != nil || ok {
			return err
		}
		return store.PutJSON(tx, bucketFires, key, fire{Team: t.ID, Kind: kind, Change: change.UTC(),
			Due: change.Add(-offsetOf(t, kind)).UTC(), At: now.UTC(), Status: fireSkipped, Reason: reason})
	})
}

func offsetOf(t *config.Team, kind string) time.Duration {
	if kind == KindReminder {
		return t.RemindBefore.Std()
	}
	return 0
}

// fire posts the reminder or digest of one shift change, once: the fire is
// recorded in the transaction that queues its posts, and a fire already
// recorded is not made again.
func (s *Service) fire(ctx context.Context, t *config.Team, sc *schedule, kind string, change, now time.Time) error {
	key := fireKey(t.ID, kind, change)
	due := change.Add(-offsetOf(t, kind))
	late := now.Sub(due) > LateAfter
	var f fire
	done := false
	err := s.store.Update(ctx, func(tx store.Tx) error {
		done = false // fn may run again (etcd store)
		if _, ok, err := store.GetJSON[fire](tx, bucketFires, key); err != nil || ok {
			return err
		}
		f = fire{Team: t.ID, Kind: kind, Change: change.UTC(), Due: due.UTC(), At: now.UTC(), Status: firePosted, Late: late}
		switch kind {
		case KindReminder:
			if !change.After(now) {
				// The change has come: its digest says everything the
				// reminder would have.
				f.Status, f.Reason, f.Late = fireSkipped, "the shift change had passed", false
				break
			}
			open, stale, err := s.openCount(tx, now)
			if err != nil {
				return err
			}
			notes, err := notesBetween(tx, t.ID, sc.shiftStart(change), now.Add(time.Nanosecond))
			if err != nil {
				return err
			}
			k := sc.index(change)
			msg := reminderMessage(t, change, now, late, lead(t, k-1), lead(t, k), open, stale, len(notes))
			posts, err := enqueue(tx, now, t, msg, "handoff/reminder/"+t.ID)
			if err != nil {
				return err
			}
			f.Posts = outboxIDs(posts)
		case KindDigest:
			d, err := s.postDigest(tx, t, sc, change, now, late)
			if err != nil {
				return err
			}
			f.Digest, f.Posts = d.ID, outboxIDs(d.Posts)
		}
		done = true
		return store.PutJSON(tx, bucketFires, key, f)
	})
	if err != nil {
		return fmt.Errorf("%s for %s: %w", kind, change.UTC().Format(time.RFC3339), err)
	}
	if !done {
		return nil
	}
	attrs := []any{"team", t.ID, "kind", kind, "change", change.UTC().Format(time.RFC3339), "due", due.UTC().Format(time.RFC3339)}
	switch {
	case f.Status == fireSkipped:
		s.log.Info("handoff: reminder skipped", append(attrs, "reason", f.Reason)...)
	case late:
		s.notify()
		s.log.Warn("handoff: posted late", append(attrs, "digest", f.Digest, "posts", len(f.Posts))...)
	default:
		s.notify()
		s.log.Info("handoff: posted", append(attrs, "digest", f.Digest, "posts", len(f.Posts))...)
	}
	if kind == KindDigest && f.Status == firePosted && s.onPosted != nil {
		s.onPosted(t.ID, true)
	}
	return nil
}

func outboxIDs(ps []digestPost) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.OutboxID
	}
	return out
}

// openCount counts the open incidents and the stale ones among them.
func (s *Service) openCount(tx store.Tx, now time.Time) (open, stale int, err error) {
	sums, err := incident.OpenIncidents(tx)
	for _, sm := range sums {
		if now.Sub(sm.LastActivity) >= s.staleAfter {
			stale++
		}
	}
	return len(sums), stale, err
}

// postDigest builds a digest, queues it for every channel of the team and
// records it, inside tx. change is the scheduled shift change the digest is
// for, or zero for `handoff now`, whose shift is the current one so far.
// Only a scheduled digest waits for an acknowledgement and is escalated.
func (s *Service) postDigest(tx store.Tx, t *config.Team, sc *schedule, change, now time.Time, late bool) (*digest, error) {
	var from, to time.Time
	var k int64 // the incoming shift's index
	if change.IsZero() {
		from, to = s.currentShiftStart(sc, now), now.Add(time.Nanosecond) // up to now, included
		k = sc.index(now) + 1
	} else {
		from, to = sc.shiftStart(change), change
		k = sc.index(change)
	}
	r, err := s.collect(tx, t, from, to, now)
	if err != nil {
		return nil, err
	}
	if !sc.empty() {
		r.outgoing, r.incoming = lead(t, k-1), lead(t, k)
	}
	seq, err := tx.NextSequence(bucketDigests)
	if err != nil {
		return nil, err
	}
	d := &digest{ID: digestID(t.ID, seq), Team: t.ID, Seq: seq, From: from.UTC(), To: to.UTC(), Posted: now.UTC(), Late: late}
	if !change.IsZero() {
		d.Change = change.UTC()
	}
	d.Message = s.digestMessage(r, d.ID, change, late)
	if d.Posts, err = enqueue(tx, now, t, d.Message, originPrefix+d.key()); err != nil {
		return nil, err
	}
	if err := store.PutJSON(tx, bucketDigests, d.key(), d); err != nil {
		return nil, err
	}
	if !change.IsZero() {
		a := awaiting{Digest: d.key(), Change: d.Change, Due: now.Add(t.AckWithin.Std()).UTC()}
		if err := store.PutJSON(tx, bucketAwaiting, d.key(), a); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// tickEscalations escalates the team's scheduled digests not acknowledged
// by their due time, and returns the next due time.
func (s *Service) tickEscalations(ctx context.Context, t *config.Team, now time.Time) (time.Time, error) {
	var due []string
	var next time.Time
	p := t.ID + "|"
	err := s.store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, bucketAwaiting, p, store.PrefixEnd(p), func(k string, a awaiting) error {
			if a.Due.After(now) {
				if next.IsZero() || a.Due.Before(next) {
					next = a.Due
				}
			} else {
				due = append(due, k)
			}
			return nil
		})
	})
	if err != nil {
		return time.Time{}, err
	}
	for _, k := range due {
		if err := s.escalate(ctx, t, k, now); err != nil {
			return next, err
		}
	}
	return next, nil
}

// escalate posts the escalation of one digest, once.
func (s *Service) escalate(ctx context.Context, t *config.Team, key string, now time.Time) error {
	var f fire
	done := false
	err := s.store.Update(ctx, func(tx store.Tx) error {
		done = false // fn may run again (etcd store)
		a, ok, err := store.GetJSON[awaiting](tx, bucketAwaiting, key)
		if err != nil || !ok {
			return err // acknowledged meanwhile
		}
		if err := tx.Delete(bucketAwaiting, key); err != nil {
			return err
		}
		d, ok, err := loadDigest(tx, a.Digest)
		if err != nil || !ok || d.Ack != nil {
			return err
		}
		fk := fireKey(t.ID, KindEscalation, a.Change)
		if _, ok, err := store.GetJSON[fire](tx, bucketFires, fk); err != nil || ok {
			return err
		}
		late := now.Sub(a.Due) > LateAfter
		f = fire{Team: t.ID, Kind: KindEscalation, Change: a.Change, Due: a.Due, At: now.UTC(), Status: firePosted, Late: late, Digest: d.ID}
		if now.Sub(a.Due) > s.catchup {
			f.Status, f.Reason, f.Late = fireSkipped, "beyond the catch-up window", false
		} else {
			incoming := lead(t, s.schedule(t).index(d.Change))
			msg := escalationMessage(t, d, a.Due, now, late, incoming)
			posts, err := enqueue(tx, now, t, msg, "handoff/escalation/"+d.key())
			if err != nil {
				return err
			}
			f.Posts = outboxIDs(posts)
			d.Escalate = now.UTC()
			if err := store.PutJSON(tx, bucketDigests, d.key(), d); err != nil {
				return err
			}
		}
		done = true
		return store.PutJSON(tx, bucketFires, fk, f)
	})
	if err != nil || !done {
		return err
	}
	attrs := []any{"team", t.ID, "kind", KindEscalation, "digest", f.Digest, "due", f.Due.Format(time.RFC3339)}
	if f.Status == fireSkipped {
		s.log.Warn("handoff: escalation skipped", append(attrs, "reason", f.Reason)...)
		return nil
	}
	s.notify()
	if s.onEscalated != nil {
		s.onEscalated(t.ID)
	}
	s.log.Warn("handoff: digest not acknowledged, escalated", append(attrs, "to", t.EscalateTo, "late", f.Late)...)
	return nil
}
