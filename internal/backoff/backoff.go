// Package backoff is the one jittered exponential delay the bot uses to
// reconnect to a platform and to retry a post, so that many bots restarted
// at once do not come back in step.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields Min, 2·Min, 4·Min … up to Max, each drawn from the upper
// half of its value. The zero value is not useful: set Min and Max.
type Backoff struct {
	Min, Max time.Duration
	n        int
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	d := Delay(b.Min, b.Max, b.n)
	b.n++
	return d
}

// Reset starts again from Min (after a success).
func (b *Backoff) Reset() { b.n = 0 }

// Delay is the jittered delay after attempt failures (0 gives about min).
func Delay(min, max time.Duration, attempt int) time.Duration {
	d := min << min_(attempt, 30)
	if d <= 0 || d > max {
		d = max
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

func min_(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// Sleep waits d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
