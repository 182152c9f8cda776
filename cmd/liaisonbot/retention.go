package main

import (
	"context"
	"time"
)

// pruneEvery is how often serve applies the audit's retention.
const pruneEvery = time.Hour

// pruneAudit deletes audit records older than audit.retention, now and then
// every pruneEvery until ctx ends. Without a retention it does nothing:
// every record is kept.
func (a *app) pruneAudit(ctx context.Context) {
	retention := a.cfg.Audit.Retention.Std()
	if retention <= 0 {
		return
	}
	prune := func() {
		n, err := a.audit.Prune(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("audit retention: old records not deleted", "err", err)
		case n > 0:
			a.log.Info("audit retention: old records deleted", "groups", n, "retention", a.cfg.Audit.Retention.String())
		}
	}
	prune()
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			prune()
		}
	}
}
