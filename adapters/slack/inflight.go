package slack

import (
	"context"
	"sync"
	"time"
)

// A command has two moments: InlineWait, when a command still running is
// acknowledged ("Working on it…") and answered later, and its time limit,
// when it is cancelled. One watchdog per adapter keeps both for every
// command in flight, looking at them each tick, rather than two timers per
// command: nearly every command ends within microseconds, and making and
// stopping two timers (and the context's) was a tenth of the CPU of a slash
// command. The price is precision: a moment is kept up to one tick late.

// watchdogTick bounds how late a moment is kept: a twentieth of InlineWait
// (100 ms by default, well inside Slack's 3 seconds), within these bounds.
func watchdogTick(inlineWait time.Duration) time.Duration {
	return min(max(inlineWait/20, time.Millisecond), 100*time.Millisecond)
}

// watchdog keeps the commands in flight. It ticks only while there are some.
type watchdog struct {
	tick time.Duration

	mu    sync.Mutex
	first *flight // a doubly linked list: adding and removing cost no allocation
	armed bool    // timer is set
	timer *time.Timer
}

// flight is one command in flight: its context, and its answer, given
// once, either in full or as the acknowledgement.
type flight struct {
	prev, next *flight // in the watchdog's list
	ackAt      time.Time
	ackTaken   bool // by the watchdog, which then acknowledges
	ctx        commandContext

	mu       sync.Mutex // held while answering, so the two never overlap
	answered bool
	answer   func(rep reply, final bool)
}

// acknowledge answers "Working on it…" unless the answer went first.
func (f *flight) acknowledge() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.answered {
		f.answered = true
		f.answer(working, false)
	}
}

// finish gives the answer unless the acknowledgement went first; late
// says it did, and the answer must go another way.
func (f *flight) finish(rep func() reply) (late bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	late = f.answered
	f.answered = true
	if !late {
		f.answer(rep(), true)
	}
	return late
}

// add starts watching f, whose ackAt and ctx are set.
func (w *watchdog) add(f *flight) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f.prev, f.next = nil, w.first
	if w.first != nil {
		w.first.prev = f
	}
	w.first = f
	if w.armed {
		return
	}
	w.armed = true
	if w.timer == nil {
		w.timer = time.AfterFunc(w.tick, w.check)
	} else {
		w.timer.Reset(w.tick)
	}
}

// remove stops watching f: the watchdog will not acknowledge it now.
func (w *watchdog) remove(f *flight) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f.prev != nil {
		f.prev.next = f.next
	} else if w.first == f {
		w.first = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	}
	f.prev, f.next = nil, nil
}

// check acknowledges the commands past their InlineWait and cancels those
// past their time limit, then ticks again while any are in flight.
func (w *watchdog) check() {
	now := time.Now()
	var acks []*flight
	var expired []*commandContext
	w.mu.Lock()
	for f := w.first; f != nil; f = f.next {
		if !f.ackTaken && !now.Before(f.ackAt) {
			f.ackTaken = true
			acks = append(acks, f)
		}
		if !now.Before(f.ctx.deadline) {
			expired = append(expired, &f.ctx)
		}
	}
	w.armed = w.first != nil
	if w.armed {
		w.timer.Reset(w.tick)
	}
	w.mu.Unlock()
	// Each in its own goroutine: an acknowledgement writes to a connection,
	// and one slow reader must not hold up the others.
	for _, f := range acks {
		go f.acknowledge()
	}
	for _, c := range expired {
		c.cancel(context.DeadlineExceeded)
	}
}

// commandContext is a command's context: it has the deadline of the
// command's time limit and is cancelled by the watchdog when that passes,
// or by the command's end. It implements what context.WithDeadline's
// context does, without a timer of its own. Its Done channel is made only
// when asked for: most commands never wait on it.
type commandContext struct {
	parent   context.Context
	deadline time.Time
	stop     func() bool // ends the watch on a cancellable parent; nil if none

	mu    sync.Mutex
	done  chan struct{}
	err   error
	after []*afterFunc // to run once cancelled (context.AfterFunc, derived contexts)
}

type afterFunc struct{ f func() }

// init makes c a context of parent with deadline (or parent's, if
// sooner), cancelled with parent.
func (c *commandContext) init(parent context.Context, deadline time.Time) {
	c.parent, c.deadline = parent, deadline
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		c.deadline = d
	}
	if parent.Done() != nil {
		c.stop = context.AfterFunc(parent, func() { c.cancel(parent.Err()) })
	}
}

func (c *commandContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *commandContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *commandContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *commandContext) Value(key any) any { return c.parent.Value(key) }

// AfterFunc is what the context package looks for so that a context
// derived from this one (WithCancel, WithTimeout) is cancelled with it
// without a goroutine of its own waiting on Done.
func (c *commandContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.after {
			if x == a {
				c.after = append(c.after[:i], c.after[i+1:]...)
				return true
			}
		}
		return false // already run, or about to
	}
}

// cancel ends the context with err; the first cancellation counts.
func (c *commandContext) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	after := c.after
	c.after = nil
	c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
	for _, a := range after {
		go a.f()
	}
}

func (c *commandContext) String() string { return "slack command context" }
