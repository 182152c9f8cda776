package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// listLimit bounds one list answer.
const listLimit = 50

// missionFilterLimit is how many missions a list's mission:<q> may cover.
const missionFilterLimit = 50

// listing is a bounded, newest-first list and how many matched in all.
type listing struct {
	shown []Summary
	total int
}

func (l *listing) add(s Summary) {
	l.total++
	if len(l.shown) < listLimit {
		l.shown = append(l.shown, s)
	}
}

func (s *Service) cmdList(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	all := req.Args.Get("open|all") == "all"
	var missions map[string]bool
	q := req.Args.Get("mission")
	if req.Args.Has("mission") {
		res := s.dir.SearchMissions(q, missionFilterLimit)
		if res.Total == 0 {
			return nil, problemf("No mission matches %q.", q)
		}
		missions = map[string]bool{}
		for _, m := range res.Missions {
			missions[m.ID] = true
		}
	}
	var l listing
	err := s.store.View(ctx, func(tx store.Tx) error {
		if all {
			return listAll(tx, req.Role, missions, &l)
		}
		return listOpen(tx, req.Role, missions, &l)
	})
	if err != nil {
		return nil, err
	}
	title := "Open incidents"
	if all {
		title = "All incidents, newest first"
	}
	if missions != nil {
		title += fmt.Sprintf(" for missions matching %q", q)
	}
	m := &bot.Message{Title: fmt.Sprintf("%s: %d", title, l.total)}
	if l.total == 0 {
		m.Text = "None."
		if !all {
			m.Footer = "incident list all includes the closed ones."
		}
		return m, nil
	}
	lines := make([]string, len(l.shown))
	for i, sm := range l.shown {
		lines[i] = summaryLine(sm)
	}
	if more := l.total - len(l.shown); more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more", more))
	}
	m.Text = strings.Join(lines, "\n")
	m.Footer = "incident show <id> for the timeline."
	return m, nil
}

func summaryVisible(sm *Summary, r bot.Role, missions map[string]bool) bool {
	if missions != nil && !missions[sm.MissionID] {
		return false
	}
	if r.AtLeastAgent() {
		return true
	}
	return r.Kind == bot.RolePartner && slices.ContainsFunc(sm.Partners, func(p string) bool { return strings.EqualFold(p, r.Partner) })
}

// listOpen reads the open set only: its cost follows the open incidents,
// never the history.
func listOpen(tx store.Tx, r bot.Role, missions map[string]bool, l *listing) error {
	var open []Summary
	if err := store.ScanJSON(tx, BucketOpen, "", "", func(_ string, sm Summary) error {
		if summaryVisible(&sm, r, missions) {
			open = append(open, sm)
		}
		return nil
	}); err != nil {
		return err
	}
	for i := len(open) - 1; i >= 0; i-- {
		l.add(open[i])
	}
	return nil
}

// listAll walks the history newest first and decodes only what it shows:
// filters are answered from the mission and partner index keys.
func listAll(tx store.Tx, r bot.Role, missions map[string]bool, l *listing) error {
	partner := ""
	if !r.AtLeastAgent() {
		if r.Kind != bot.RolePartner {
			return nil
		}
		partner = r.Partner
	}
	switch {
	case missions != nil:
		var keys []string
		for id := range missions {
			prefix := missionIndexPrefix(id)
			if err := tx.Scan(bucketIndex, prefix, store.PrefixEnd(prefix), func(k string, _ []byte) error {
				keys = append(keys, strings.TrimPrefix(k, prefix))
				return nil
			}); err != nil {
				return err
			}
		}
		slices.Sort(keys)
		for i := len(keys) - 1; i >= 0; i-- {
			if partner != "" {
				if _, err := tx.Get(bucketIndex, partnerIndexPrefix(partner)+keys[i]); err != nil {
					continue // not this partner's: absent from its index
				}
			}
			if err := addStored(tx, keys[i], l); err != nil {
				return err
			}
		}
		return nil
	case partner != "":
		prefix := partnerIndexPrefix(partner)
		return tx.ScanReverse(bucketIndex, prefix, store.PrefixEnd(prefix), func(k string, _ []byte) error {
			return addStored(tx, strings.TrimPrefix(k, prefix), l)
		})
	default:
		err := tx.ScanReverse(BucketIncidents, "", "", func(k string, v []byte) error {
			if len(l.shown) == listLimit {
				return store.ErrStop
			}
			sm, err := decodeSummary(k, v)
			if err != nil {
				return err
			}
			l.shown = append(l.shown, sm)
			return nil
		})
		if err != nil {
			return err
		}
		n, err := lastSeq(tx)
		l.total = max(int(n), len(l.shown))
		return err
	}
}

// addStored counts an incident by key and decodes it only when shown.
func addStored(tx store.Tx, key string, l *listing) error {
	if len(l.shown) == listLimit {
		l.total++
		return nil
	}
	v, err := tx.Get(BucketIncidents, key)
	if err != nil {
		return fmt.Errorf("incident %s: %w", key, err)
	}
	sm, err := decodeSummary(key, v)
	if err != nil {
		return err
	}
	l.add(sm)
	return nil
}
