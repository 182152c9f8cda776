package main

import (
	"context"
	"time"
)

// releaseEvery is how often serve drops the database file's pages from its
// resident set. Under load the audit adds about 4 MB of pages a second;
// released each second they never add up.
const releaseEvery = time.Second

// releaseMapped keeps the pages of a memory-mapped store out of the
// process's resident memory (boltstore.ReleaseMapped says why), every
// releaseEvery until ctx ends. Stores without a map have nothing to release.
func (a *app) releaseMapped(ctx context.Context) {
	r, ok := a.store.(interface{ ReleaseMapped() error })
	if !ok {
		return
	}
	every(ctx, releaseEvery, func() {
		if err := r.ReleaseMapped(); err != nil {
			a.log.Debug("releasing the database's mapped pages failed", "err", err)
		}
	})
}
