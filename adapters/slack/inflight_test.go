package slack

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type ctxKey struct{}

// A command's context behaves as context.WithDeadline's would: its
// deadline, values, cancellation reaching derived contexts and AfterFunc,
// and its parent's cancellation reaching it.
func TestCommandContextIsADeadlineContext(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	deadline := time.Now().Add(time.Hour)
	var c commandContext
	c.init(parent, deadline)
	if d, ok := c.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	if c.Value(ctxKey{}) != "v" || c.Err() != nil {
		t.Fatalf("value %v, err %v", c.Value(ctxKey{}), c.Err())
	}
	child, cancelChild := context.WithTimeout(&c, time.Hour)
	defer cancelChild()
	if d, _ := child.Deadline(); !d.Equal(deadline) {
		t.Fatalf("a derived context's deadline %v, want the command's", d)
	}
	ran := make(chan struct{})
	context.AfterFunc(&c, func() { close(ran) })
	stopped := context.AfterFunc(&c, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped() {
		t.Fatal("stop before cancellation said false")
	}
	c.cancel(context.DeadlineExceeded)
	c.cancel(context.Canceled) // the first counts
	waitClosed(t, c.Done(), "Done")
	waitClosed(t, child.Done(), "the derived context's Done")
	waitClosed(t, ran, "AfterFunc")
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("errors %v and %v, want the deadline's", c.Err(), child.Err())
	}
	late := make(chan struct{})
	context.AfterFunc(&c, func() { close(late) })
	waitClosed(t, late, "AfterFunc registered after cancellation")

	p2, cancelP2 := context.WithCancel(context.Background())
	var c2 commandContext
	c2.init(p2, deadline)
	cancelP2()
	waitClosed(t, c2.Done(), "Done after the parent's cancellation")
	if !errors.Is(c2.Err(), context.Canceled) {
		t.Fatalf("err %v, want the parent's", c2.Err())
	}
	sooner, cancelSooner := context.WithDeadline(context.Background(), time.Now().Add(time.Minute))
	defer cancelSooner()
	var c3 commandContext
	c3.init(sooner, deadline)
	if d, _ := c3.Deadline(); d.After(time.Now().Add(time.Minute)) {
		t.Fatalf("deadline %v is later than the parent's", d)
	}
}

// The watchdog acknowledges a command past its InlineWait once, cancels
// one past its time limit, and leaves alone one removed in time.
func TestWatchdogAcknowledgesAndCancels(t *testing.T) {
	w := &watchdog{tick: time.Hour} // it checks when told to, below
	var acks atomic.Int32
	acked := make(chan struct{}, 1)
	answer := func(rep reply, final bool) {
		if final || rep.Text != working.Text {
			t.Errorf("answer %+v final %v, want the acknowledgement", rep, final)
		}
		acks.Add(1)
		acked <- struct{}{}
	}
	now := time.Now()
	due := &flight{ackAt: now, answer: answer}
	due.ctx.init(context.Background(), now)
	notDue := &flight{ackAt: now.Add(time.Hour), answer: func(reply, bool) { t.Error("acknowledged before its time") }}
	notDue.ctx.init(context.Background(), now.Add(time.Hour))
	removed := &flight{ackAt: now, answer: func(reply, bool) { t.Error("acknowledged after removal") }}
	removed.ctx.init(context.Background(), now)
	w.add(removed)
	w.remove(removed)
	w.add(notDue)
	w.add(due)
	w.check()
	waitClosed(t, due.ctx.Done(), "the expired command's Done")
	if !errors.Is(due.ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", due.ctx.Err())
	}
	<-acked
	if due.finish(func() reply { return reply{Text: "late"} }) != true {
		t.Fatal("the answer after the acknowledgement was not late")
	}
	w.remove(due)
	w.remove(notDue)
	w.check()
	if w.armed || w.first != nil {
		t.Fatal("the watchdog still ticks with nothing in flight")
	}
	if notDue.ctx.Err() != nil || removed.ctx.Err() != nil || acks.Load() != 1 {
		t.Fatalf("errs %v %v, %d acknowledgements", notDue.ctx.Err(), removed.ctx.Err(), acks.Load())
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second): // a guard against hanging, not a timing
		t.Fatalf("%s never closed", what)
	}
}
