// Package benchcpu reports a benchmark's CPU per operation: the process's
// user and system time, other goroutines' (a writer, the collector)
// included. Under load that is what limits a server, and on a shared
// machine it is steadier than wall time.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Meter is the process's CPU time when a measurement started.
type Meter struct{ start time.Duration }

// Start begins a measurement; call it just before the benchmark's loop.
func Start(b *testing.B) Meter { return Meter{start: used(b)} }

// Report adds cpu-ns/op to the benchmark's results; call it just after
// the loop.
func (m Meter) Report(b *testing.B) {
	b.ReportMetric(float64(used(b)-m.start)/float64(b.N), "cpu-ns/op")
}

func used(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
