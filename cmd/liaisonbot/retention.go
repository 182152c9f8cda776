package main

import (
	"context"
	"time"
)

// pruneEvery is how often serve applies the audit's retention.
const pruneEvery = time.Hour

// pruneAudit applies audit.retention every pruneEvery until ctx ends.
// Without a retention it does nothing: every record is kept.
func (a *app) pruneAudit(ctx context.Context) {
	if a.cfg.Audit.Retention <= 0 {
		return
	}
	every(ctx, pruneEvery, func() { a.pruneAuditOnce(ctx, time.Now()) })
}

// pruneAuditOnce deletes the audit records older than audit.retention
// before now.
func (a *app) pruneAuditOnce(ctx context.Context, now time.Time) {
	n, err := a.audit.Prune(ctx, now.Add(-a.cfg.Audit.Retention.Std()))
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("audit retention: old records not deleted", "err", err)
	case n > 0:
		a.log.Info("audit retention: old records deleted", "groups", n, "retention", a.cfg.Audit.Retention.String())
	}
}
