package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/internal/backoff"
)

// SentHook runs in the transaction that marks an entry sent, so that what a
// feature records about the post (a thread ref) and the sent mark commit
// together.
type SentHook func(tx store.Tx, e Entry) error

// Dispatcher sends due entries through the adapters.
type Dispatcher struct {
	Store    store.Store
	Adapters map[string]bot.Adapter // by platform
	Logger   *slog.Logger
	Now      func() time.Time
	// Pace is the least time between two posts to one channel, per
	// platform (Slack allows about one message per second per channel).
	Pace map[string]time.Duration
	// BaseDelay and MaxDelay bound the exponential backoff.
	BaseDelay, MaxDelay time.Duration
	// SendTimeout bounds one attempt.
	SendTimeout time.Duration
	// OnAttempt, optional, is called after each send attempt with its
	// number for the entry (1 the first time, more for a retry) and its
	// error, nil when the post went out. For metrics.
	OnAttempt func(platform string, attempt int, err error)
	// Owner, when set, names this replica: an entry is then claimed in
	// the store before it is sent, so that two replicas sharing a store
	// (etcd) never send one post, and the claim of a replica that died
	// mid-send expires after ClaimTTL and is taken over. Empty (one
	// process on bbolt): no claims.
	Owner string
	// ClaimTTL bounds a claim; default SendTimeout + 10s, so that a live
	// owner's attempt always ends before its claim does.
	ClaimTTL time.Duration
	// OnlyOwnPlatforms leaves entries for platforms without an adapter
	// here alone (not even counted as failed): another process sharing the
	// store sends them (a console session beside serving replicas).
	OnlyOwnPlatforms bool

	mu       sync.Mutex
	hooks    []hookEntry
	lastPost map[string]time.Time // channel ref → last send
	wake     chan struct{}
}

type hookEntry struct {
	prefix string
	hook   SentHook
}

// OnSent registers a hook for entries whose Origin starts with prefix.
func (d *Dispatcher) OnSent(prefix string, h SentHook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks = append(d.hooks, hookEntry{prefix, h})
}

func (d *Dispatcher) init() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wake == nil {
		d.wake = make(chan struct{}, 1)
		d.lastPost = map[string]time.Time{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.BaseDelay <= 0 {
		d.BaseDelay = time.Second
	}
	if d.MaxDelay <= 0 {
		d.MaxDelay = 5 * time.Minute
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = 20 * time.Second
	}
	if d.ClaimTTL <= 0 {
		// An attempt may look for an earlier post (findSent) and then send,
		// each within SendTimeout: the claim outlasts both.
		d.ClaimTTL = 2*d.SendTimeout + 10*time.Second
	}
}

// Notify wakes the dispatcher after an Enqueue.
func (d *Dispatcher) Notify() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends entries as they become due until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	for {
		next, err := d.Flush(ctx)
		if err != nil && ctx.Err() == nil {
			d.Logger.Error("outbox pass failed", "err", err)
			next = d.Now().Add(d.BaseDelay)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(d.Now()), 10*time.Millisecond)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// maxPasses bounds the rescans of one Flush.
const maxPasses = 8

// Flush attempts every entry due now once, in order, and returns when the
// next entry becomes due (zero when none waits). Posts that sent hooks
// queue during the flush (an incident's thread links, due once its last
// root post is out) are due now too: Flush scans again while a pass sent
// something, so they go in the same flush instead of waiting for the next
// wake-up. Tests drive the outbox with Flush and a fake clock; the console
// calls it after each line; SIGTERM calls it to drain.
func (d *Dispatcher) Flush(ctx context.Context) (time.Time, error) {
	d.init()
	tried := map[string]bool{}
	for pass := 1; ; pass++ {
		next, sent, err := d.pass(ctx, d.Now(), tried)
		switch {
		case err != nil || sent == 0:
			return next, err
		case pass == maxPasses:
			// What the last pass's hooks queued is due now.
			return d.Now(), nil
		}
	}
}

// Drain is Flush until the outbox has nothing left that becomes due before
// ctx's deadline: posts held back by their channel's pace or waiting for
// their thread's root post are sent too, as soon as they may go. It is
// SIGTERM's flush. Entries whose next attempt (a retry after a failure)
// falls after the deadline stay for the next start, as do all that wait
// when ctx ends; without a deadline Drain stops at the first wait longer
// than MaxDelay. It returns how many entries it left pending.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	d.init()
	limit, bounded := ctx.Deadline()
	for {
		next, err := d.Flush(ctx)
		if err != nil {
			return d.left(), err
		}
		if next.IsZero() {
			return 0, nil
		}
		wait := next.Sub(d.Now())
		if bounded && time.Now().Add(wait).After(limit) || !bounded && wait > d.MaxDelay {
			return d.left(), nil
		}
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return d.left(), ctx.Err()
			case <-timer.C:
			}
		}
	}
}

// left counts the entries still pending, for Drain's answer.
func (d *Dispatcher) left() int {
	st, err := Count(context.Background(), d.Store)
	if err != nil {
		return -1
	}
	return st.Pending + st.Failing
}

// pass attempts, once, each entry due at now that this flush has not tried
// yet (so an entry that failed waits for its next attempt, even one due at
// once). It returns the earliest next attempt of the entries left waiting
// and how many entries it sent.
func (d *Dispatcher) pass(ctx context.Context, now time.Time, tried map[string]bool) (time.Time, int, error) {
	var due []Entry
	var next time.Time
	// Posts to one channel keep their order: once one waits, the ones
	// behind it in the same channel wait too.
	blocked := map[string]bool{}
	wait := func(e Entry, at time.Time) {
		blocked[e.ChannelRef()] = true
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	err := d.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, BucketPending, "", "", func(_ string, e Entry) error {
			if _, ok := d.Adapters[e.Platform]; !ok && d.OnlyOwnPlatforms {
				return nil
			}
			switch {
			case tried[e.ID] || e.NextAttempt.After(now):
				wait(e, e.NextAttempt)
			case !blocked[e.ChannelRef()]:
				due = append(due, e)
			}
			return nil
		})
	})
	if err != nil {
		return time.Time{}, 0, err
	}
	sent := 0
	for _, e := range due {
		if ctx.Err() != nil {
			return next, sent, ctx.Err()
		}
		if blocked[e.ChannelRef()] {
			continue
		}
		tried[e.ID] = true
		at, err := d.attempt(ctx, e)
		if err != nil {
			return next, sent, err
		}
		if at.IsZero() {
			sent++
		} else {
			wait(e, at)
		}
	}
	return next, sent, nil
}

// attempt sends one entry, or reschedules it. It returns the entry's next
// attempt time when it stays pending.
func (d *Dispatcher) attempt(ctx context.Context, e Entry) (time.Time, error) {
	now := d.Now()
	// A reply waits for its root post's message reference.
	if e.ThreadOf != "" && e.ThreadRef == "" {
		var root Entry
		var ok bool
		if err := d.Store.View(ctx, func(tx store.Tx) (err error) {
			root, ok, err = Lookup(tx, e.ThreadOf)
			return err
		}); err != nil {
			return time.Time{}, err
		}
		switch {
		case !ok:
			return d.reschedule(ctx, e, now, fmt.Errorf("its thread's root post %s is gone", e.ThreadOf), false)
		case root.Status != StatusSent:
			// Not an error: try again shortly after the root's next attempt.
			return d.defer_(ctx, e, maxTime(root.NextAttempt, now).Add(d.BaseDelay/4))
		}
		e.ThreadRef = root.Ref.ID
	}
	// Pacing per channel.
	if pace := d.Pace[e.Platform]; pace > 0 {
		d.mu.Lock()
		last := d.lastPost[e.ChannelRef()]
		d.mu.Unlock()
		if at := last.Add(pace); at.After(now) {
			return d.defer_(ctx, e, at)
		}
	}
	ad, ok := d.Adapters[e.Platform]
	if !ok {
		return d.reschedule(ctx, e, now, fmt.Errorf("platform %s is not enabled", e.Platform), false)
	}
	if d.Owner != "" {
		until, mine, err := d.claim(ctx, e, now)
		if err != nil || !mine {
			return until, err
		}
	}
	post := bot.Post{Channel: e.Channel, ThreadRef: e.ThreadRef, Message: e.Message, Key: e.ID}
	finder, canFind := ad.(bot.PostFinder)
	if canFind && !e.Uncertain {
		// Recorded before the send: after a crash during it, the next
		// start looks for the post before sending it again.
		e.Uncertain = true
		gone := false
		if err := d.Store.Update(ctx, func(tx store.Tx) error {
			ours, err := d.pendingAndOurs(tx, e.ID)
			if gone = !ours; err != nil || gone {
				return err // sent or claimed meanwhile by another replica
			}
			return store.PutJSON(tx, BucketPending, e.ID, e)
		}); err != nil || gone {
			return time.Time{}, err
		}
	} else if canFind {
		if done, at, err := d.findSent(ctx, finder, post, e); done || err != nil {
			return at, err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	ref, err := ad.Post(sctx, post)
	cancel()
	if canFind && errors.Is(err, bot.ErrNotPosted) {
		e.Uncertain = false
	}
	d.mu.Lock()
	d.lastPost[e.ChannelRef()] = d.Now()
	d.mu.Unlock()
	if d.OnAttempt != nil {
		d.OnAttempt(e.Platform, e.Attempts+1, err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		return d.reschedule(ctx, e, now, err, true)
	}
	e.Attempts++
	return time.Time{}, d.recordSent(ctx, e, ref)
}

// findSent asks a PostFinder whether an earlier attempt made e's post. When
// it did, the entry is recorded sent with what was found; when the look-up
// fails, the entry is rescheduled and at is its next attempt. Either way
// done is true: only when the post is certainly not there (done false) may
// the caller send it.
func (d *Dispatcher) findSent(ctx context.Context, finder bot.PostFinder, post bot.Post, e Entry) (done bool, at time.Time, err error) {
	fctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	// Created less a minute: the platform's clock may be behind ours.
	ref, found, err := finder.FindPost(fctx, post, e.Created.Add(-time.Minute))
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, time.Time{}, ctx.Err()
		}
		at, rerr := d.reschedule(ctx, e, d.Now(), fmt.Errorf("looking for an earlier attempt's post: %w", err), true)
		return true, at, rerr
	}
	if !found {
		return false, time.Time{}, nil
	}
	d.Logger.Info("outbox: an earlier attempt had made the post; not sending it again", "outbox_id", e.ID, "platform", e.Platform, "channel", e.Channel, "ref", ref.ID)
	return true, time.Time{}, d.recordSent(ctx, e, ref)
}

// recordSent moves e to the sent bucket with its platform reference and
// runs the sent hooks, in one transaction.
func (d *Dispatcher) recordSent(ctx context.Context, e Entry, ref bot.MessageRef) error {
	e.Ref, e.Status, e.Sent, e.LastError, e.Uncertain = ref, StatusSent, d.Now().UTC(), "", false
	err := d.Store.Update(ctx, func(tx store.Tx) error {
		if d.Owner != "" {
			// Our claim lapsed and another replica sent it too: keep its
			// record (the adapters' Key makes the second send a lookup
			// where the platform allows).
			if _, ok, err := store.GetJSON[Entry](tx, BucketPending, e.ID); err != nil || !ok {
				if err == nil {
					d.Logger.Warn("outbox: sent after another replica did", "outbox_id", e.ID)
				}
				return err
			}
		}
		if err := tx.Delete(BucketPending, e.ID); err != nil {
			return err
		}
		if err := tx.Delete(BucketClaims, e.ID); err != nil {
			return err
		}
		if err := store.PutJSON(tx, BucketSent, e.ID, e); err != nil {
			return err
		}
		for _, h := range d.hooksFor(e.Origin) {
			if err := h(tx, e); err != nil {
				return fmt.Errorf("outbox %s sent hook: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		// The platform has the post but the store could not record it: the
		// entry stays pending and its resend carries the same Key, which the
		// adapter uses to find the post instead of duplicating it.
		d.Logger.Error("outbox: sent but not recorded", "outbox_id", e.ID, "err", err)
		return err
	}
	d.Logger.Debug("outbox: sent", "outbox_id", e.ID, "platform", e.Platform, "channel", e.Channel, "ref", ref.ID)
	return nil
}

// claim takes the entry for this replica until now+ClaimTTL, unless it is
// gone (sent meanwhile) or another replica's claim is still running; then
// it returns when to look again.
func (d *Dispatcher) claim(ctx context.Context, e Entry, now time.Time) (time.Time, bool, error) {
	var until time.Time
	mine := false
	err := d.Store.Update(ctx, func(tx store.Tx) error {
		until, mine = time.Time{}, false // fn may run again
		cur, ok, err := store.GetJSON[Entry](tx, BucketPending, e.ID)
		if err != nil || !ok {
			return err // sent by another replica
		}
		if !cur.NextAttempt.Equal(e.NextAttempt) || cur.Attempts != e.Attempts {
			until = cur.NextAttempt // changed under us: look again then
			return nil
		}
		c, ok, err := store.GetJSON[Claim](tx, BucketClaims, e.ID)
		if err != nil {
			return err
		}
		if ok && c.Owner != d.Owner && c.Until.After(now) {
			until = c.Until
			return nil
		}
		if ok && c.Owner != d.Owner {
			d.Logger.Warn("outbox: taking over an expired claim", "outbox_id", e.ID, "from", c.Owner, "expired", c.Until)
		}
		mine = true
		return store.PutJSON(tx, BucketClaims, e.ID, Claim{Owner: d.Owner, Until: now.Add(d.ClaimTTL).UTC()})
	})
	return until, mine, err
}

func (d *Dispatcher) hooksFor(origin string) []SentHook {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []SentHook
	for _, h := range d.hooks {
		if origin != "" && len(origin) >= len(h.prefix) && origin[:len(h.prefix)] == h.prefix {
			out = append(out, h.hook)
		}
	}
	return out
}

// defer_ moves an entry's next attempt without counting a failure.
func (d *Dispatcher) defer_(ctx context.Context, e Entry, at time.Time) (time.Time, error) {
	e.NextAttempt = at.UTC()
	return at, d.Store.Update(ctx, func(tx store.Tx) error {
		if ours, err := d.pendingAndOurs(tx, e.ID); err != nil || !ours {
			return err
		}
		return store.PutJSON(tx, BucketPending, e.ID, e)
	})
}

// reschedule records a failed attempt and when to try again: the
// platform's Retry-After when it gave one, else exponential backoff with
// full jitter, capped. Nothing is ever dropped.
func (d *Dispatcher) reschedule(ctx context.Context, e Entry, now time.Time, cause error, counted bool) (time.Time, error) {
	if counted {
		e.Attempts++
	}
	e.LastError = oneLine(cause.Error())
	delay, ok := retryAfter(cause)
	if !ok {
		delay = backoff.Delay(d.BaseDelay, d.MaxDelay, e.Attempts)
	}
	if e.Attempts >= FailingAfter {
		e.Status = StatusFailing
	}
	e.NextAttempt = now.Add(delay).UTC()
	level := slog.LevelWarn
	if e.Status == StatusFailing {
		level = slog.LevelError
	}
	d.Logger.Log(ctx, level, "outbox: send failed", "outbox_id", e.ID, "platform", e.Platform, "channel", e.Channel,
		"attempts", e.Attempts, "retry_in", delay.String(), "err", cause)
	err := d.Store.Update(ctx, func(tx store.Tx) error {
		// A replica whose claim lapsed must not bring back a post another
		// one sent, nor take the claim of the one sending it now.
		if ours, err := d.pendingAndOurs(tx, e.ID); err != nil || !ours {
			return err
		}
		if err := tx.Delete(BucketClaims, e.ID); err != nil {
			return err
		}
		return store.PutJSON(tx, BucketPending, e.ID, e)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return time.Time{}, err
	}
	return e.NextAttempt, nil
}

// pendingAndOurs reports whether entry id is still pending and, with
// replicas, not claimed by another one: only then may this dispatcher write
// it back.
func (d *Dispatcher) pendingAndOurs(tx store.Tx, id string) (bool, error) {
	if _, ok, err := store.GetJSON[Entry](tx, BucketPending, id); err != nil || !ok {
		return false, err
	}
	if d.Owner == "" {
		return true, nil
	}
	c, ok, err := store.GetJSON[Claim](tx, BucketClaims, id)
	if err != nil {
		return false, err
	}
	return !ok || c.Owner == d.Owner, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
