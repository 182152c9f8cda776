package main

import (
	"os"
	"runtime/debug"
)

// tuneGC trades a little memory for CPU on the HTTP path: a server's live
// heap is small (the directory, its index), so the default GOGC=100 collects
// far more often than memory requires. A soft memory limit keeps the total
// under SPEC §8's resident-memory target even with a large directory.
// GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}
