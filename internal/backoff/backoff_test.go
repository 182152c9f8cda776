package backoff

import (
	"context"
	"testing"
	"time"
)

func TestBackoffGrowsWithinBoundsAndResets(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 30 * time.Second}
	for i := range 40 {
		want := min(time.Second<<min(i, 30), 30*time.Second)
		if d := b.Next(); d < want/2 || d > want {
			t.Fatalf("attempt %d: %v outside [%v, %v]", i, d, want/2, want)
		}
	}
	b.Reset()
	if d := b.Next(); d < time.Second/2 || d > time.Second {
		t.Fatalf("after reset: %v", d)
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0) = %v", err)
	}
}
