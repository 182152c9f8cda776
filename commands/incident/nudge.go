package incident

import (
	"context"
	"fmt"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// NudgeStale posts one nudge in each thread of every open incident that has
// been quiet for the stale period: no timeline entry since then, and no
// nudge either, so a quiet incident is nudged once per quiet period. A
// nudge is recorded in the timeline but is not activity. It returns how
// many incidents were nudged.
func (s *Service) NudgeStale(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	after := s.StaleAfter()
	var due []string
	if err := s.store.View(ctx, func(tx store.Tx) error {
		open, err := OpenIncidents(tx)
		for _, sm := range open {
			if isStale(sm.LastActivity, sm.LastNudge, now, after) {
				due = append(due, sm.ID)
			}
		}
		return err
	}); err != nil {
		return 0, err
	}
	nudged := 0
	for _, id := range due {
		did := false
		err := s.store.Update(ctx, func(tx store.Tx) error {
			did = false // fn may run again (etcd store)
			inc, ok, err := Load(tx, id)
			if err != nil || !ok {
				return err
			}
			// Checked again: a reply may have come in since the scan.
			if inc.Status != StatusOpen || !isStale(inc.LastActivity, inc.LastNudge, now, after) {
				return nil
			}
			quiet := now.Sub(inc.LastActivity).Round(time.Minute)
			text := fmt.Sprintf("No update on %s for %s.", inc.ID, elapsed(quiet))
			if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindNudge, Author: Author{Name: "liaisonbot", Agency: Division}, Text: text}); err != nil {
				return err
			}
			if _, err := postToThreads(tx, now, inc, KindNudge, func(t Thread) bot.Message {
				who := s.partnerName(t.Partner)
				if p, ok := s.cfg.PartnerByID(t.Partner); ok && p.Oncall != "" {
					who = p.Oncall
				}
				return bot.Message{Visibility: bot.InChannel, Text: fmt.Sprintf("%s: %s Any news? Reply in this thread; every agency on the incident sees it.", who, text)}
			}, nil); err != nil {
				return err
			}
			did = true
			return save(tx, inc)
		})
		if err != nil {
			if nudged > 0 {
				s.notify()
			}
			return nudged, fmt.Errorf("nudge %s: %w", id, err)
		}
		if did {
			nudged++
		}
	}
	if nudged > 0 {
		s.notify()
		s.log.Info("stale incidents nudged", "count", nudged)
	}
	return nudged, nil
}

// isStale: quiet for the whole period since the last entry and since the
// last nudge.
func isStale(lastActivity, lastNudge, now time.Time, after time.Duration) bool {
	last := lastActivity
	if lastNudge.After(last) {
		last = lastNudge
	}
	return !now.Before(last.Add(after))
}

// RunNudges calls NudgeStale every period until ctx ends.
func (s *Service) RunNudges(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.NudgeStale(ctx, s.now()); err != nil && ctx.Err() == nil {
				s.log.Error("incident nudges failed", "err", err)
			}
		}
	}
}
