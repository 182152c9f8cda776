package main

import (
	"context"
	"time"
)

// every runs fn at once, then every d until ctx ends: the shape of the
// periodic housekeeping serve runs beside the platforms.
func every(ctx context.Context, d time.Duration, fn func()) {
	fn()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
