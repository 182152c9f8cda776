package handoff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// maxNote bounds a note; the command line is already bounded by the grammar.
const maxNote = 1000

func (s *Service) cmdNote(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	t, err := s.team(req, req.Args.Get("team"))
	if err != nil {
		return nil, err
	}
	text := oneLine(req.Args.Get("text"), maxNote)
	if text == "" {
		return nil, bot.Usagef(req, "missing <text>")
	}
	now := s.now()
	sc := s.schedule(t)
	n := note{Team: t.ID, Time: now.UTC(), Author: requester(req), Text: text}
	var count int
	err = s.store.Update(ctx, func(tx store.Tx) error {
		seq, err := tx.NextSequence(bucketNotes)
		if err != nil {
			return err
		}
		if err := store.PutJSON(tx, bucketNotes, noteKey(t.ID, now, seq), n); err != nil {
			return err
		}
		notes, err := notesBetween(tx, t.ID, s.currentShiftStart(sc, now), now.Add(time.Nanosecond))
		count = len(notes)
		return err
	})
	if err != nil {
		return nil, err
	}
	when := "the next digest"
	if c := sc.next(now); !c.IsZero() {
		when = "the digest at " + day(c, t.Location)
	}
	return &bot.Message{Text: fmt.Sprintf("Note left for the next shift of %s (%s this shift). It goes in %s.",
		teamName(t), plural(count, "note", "notes"), when)}, nil
}

// currentShiftStart is when the shift now is in began, as the digest
// `handoff now` would count it.
func (s *Service) currentShiftStart(sc *schedule, now time.Time) time.Time {
	switch p := sc.prev(now); {
	case !p.IsZero():
		return p
	case sc.empty():
		return now.Add(-12 * time.Hour)
	default:
		return now.Add(-24 * time.Hour)
	}
}

func (s *Service) cmdNow(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	t, err := s.team(req, req.Args.Get("team"))
	if err != nil {
		return nil, err
	}
	now := s.now()
	var d *digest
	err = s.store.Update(ctx, func(tx store.Tx) (err error) {
		d, err = s.postDigest(tx, t, s.schedule(t), time.Time{}, now, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	if s.onPosted != nil {
		s.onPosted(t.ID, false)
	}
	s.log.InfoContext(ctx, "handoff: digest on request", "team", t.ID, "digest", d.ID)
	return &bot.Message{Text: fmt.Sprintf("Handoff digest %s for %s posted in %s.", d.ID, teamName(t), channelList(d.Posts))}, nil
}

func (s *Service) cmdWho(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	t, err := s.team(req, req.Args.Get("team"))
	if err != nil {
		return nil, err
	}
	sc := s.schedule(t)
	loc := t.Location
	m := &bot.Message{Title: "Shift leads · " + teamName(t)}
	if sc.empty() {
		m.Text = teamName(t) + " has no shift changes configured (shift_changes in the team's configuration)."
		return m, nil
	}
	now := s.now()
	k := sc.index(now)
	cur, nxt := lead(t, k), lead(t, k+1)
	start, next := sc.prev(now), sc.next(now)
	if cur == "" {
		cur, nxt = "no rotation configured", "no rotation configured"
		m.Text = "No lead rotation is configured for " + teamName(t) + " (leads in the team's configuration)."
	} else {
		m.Text = fmt.Sprintf("%s leads now; %s from %s.", cur, nxt, day(next, loc))
	}
	since := "before the oldest change on record"
	if !start.IsZero() {
		since = day(start, loc)
	}
	m.Sections = []bot.Section{
		{Title: "Current shift", Fields: []bot.Field{{Label: "Lead", Value: cur}, {Label: "Since", Value: since}}},
		{Title: "Next shift", Fields: []bot.Field{{Label: "Lead", Value: nxt}, {Label: "From", Value: day(next, loc)}}},
	}
	m.Footer = "Shift changes: " + strings.Join(t.ShiftChanges, ", ") + " (" + zone(loc).String() + ")."
	return m, nil
}
