package main

import "liaisonbot/commands/handoff"

// registerHandoff wires the handoff feature: its commands on the mux, its
// sent hook on the outbox (which also lends it the adapters that edit an
// acknowledged digest), its digests counted in the metrics. serve runs its
// scheduler.
func (a *app) registerHandoff() {
	a.handoff = handoff.New(handoff.Options{
		Store: a.store, Config: a.cfg, Outbox: a.outbox, Logger: a.log, Now: a.now,
		StaleAfter:           a.incidents.StaleAfter(),
		OnDigestPosted:       a.metrics.DigestPosted,
		OnDigestAcknowledged: a.metrics.DigestAcknowledged,
		OnDigestEscalated:    a.metrics.DigestEscalated,
	})
	a.handoff.Register(a.mux)
}
