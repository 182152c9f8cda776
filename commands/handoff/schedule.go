package handoff

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/robfig/cron/v3"

	"liaisonbot/config"
)

// RotationEpoch anchors the lead rotation: the shift in progress at
// midnight of this date, in the team's zone, is leads[0]'s, and each shift
// change since passes to the next lead. It must never change, or every
// team's rotation would jump.
var RotationEpoch = civil{2024, time.January, 1}

// schedule is a team's shift changes: the union of its cron expressions,
// in its zone. Next and Prev come from config.ShiftSchedule, which is
// bounded in every zone and fires a wall time that a DST change skips or
// repeats exactly once; the cron bit sets are used only to count changes
// for the rotation.
type schedule struct {
	loc   *time.Location
	specs []*config.ShiftSchedule
	bits  []*cron.SpecSchedule
	// perMask[m] is how many distinct wall times of day fire on a day
	// that exactly the schedules in bit mask m match.
	perMask []int
}

// cronStar is cron's marker bit for a "*" or "?" field (unexported in
// robfig/cron v3.0.1), which changes how day of month and day of week
// combine.
const cronStar = 1 << 63

// bitsParser is the shift-change dialect, as config parses it.
var bitsParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// maxSchedules bounds the per-day union table (2^n entries).
const maxSchedules = 12

func newSchedule(t *config.Team) (*schedule, error) {
	specs, err := t.Schedules()
	if err != nil {
		return nil, err
	}
	if len(specs) > maxSchedules {
		return nil, fmt.Errorf("team %s: more than %d shift changes", t.ID, maxSchedules)
	}
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	s := &schedule{loc: loc, specs: specs}
	for _, sp := range specs {
		parsed, err := bitsParser.Parse(sp.Expr)
		if err != nil {
			return nil, fmt.Errorf("team %s: %q: %w", t.ID, sp.Expr, err)
		}
		b, ok := parsed.(*cron.SpecSchedule)
		if !ok {
			return nil, fmt.Errorf("team %s: %q is not a time-of-day schedule", t.ID, sp.Expr)
		}
		s.bits = append(s.bits, b)
	}
	s.perMask = make([]int, 1<<len(specs))
	for m := 1; m < len(s.perMask); m++ {
		var day [24]uint64 // minutes of each hour that fire
		for i, b := range s.bits {
			if m&(1<<i) == 0 {
				continue
			}
			for h := 0; h < 24; h++ {
				if b.Hour&(1<<h) != 0 {
					day[h] |= b.Minute & (1<<60 - 1)
				}
			}
		}
		n := 0
		for _, v := range day {
			n += bits.OnesCount64(v)
		}
		s.perMask[m] = n
	}
	return s, nil
}

// empty reports a team without shift changes.
func (s *schedule) empty() bool { return len(s.specs) == 0 }

// next is the first change strictly after t; zero when there is none.
func (s *schedule) next(t time.Time) time.Time {
	var best time.Time
	for _, sp := range s.specs {
		if c := sp.Next(t); !c.IsZero() && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	return best
}

// prev is the last change at or before t; zero when there is none.
func (s *schedule) prev(t time.Time) time.Time {
	var best time.Time
	for _, sp := range s.specs {
		if c := sp.Prev(t); !c.IsZero() && c.After(best) {
			best = c
		}
	}
	return best
}

// shiftStart is the start of the shift that ends at change c: the change
// before it, or a day before when the schedule has none.
func (s *schedule) shiftStart(c time.Time) time.Time {
	if p := s.prev(c.Add(-time.Nanosecond)); !p.IsZero() {
		return p
	}
	return c.Add(-24 * time.Hour)
}

// index is the number of shift changes from RotationEpoch up to and
// including t (negative before the epoch): the index of the shift t is in.
// It is computed from the calendar, not from what the bot did, so every
// start of the bot, and every replica, agrees on it; it grows by exactly
// one at each change, DST changes included (a skipped wall time fires once,
// moved; a repeated one fires once). In a zone whose DST change crosses
// midnight it may count a change moved across midnight on the wrong day,
// which shifts the rotation by one there, deterministically.
func (s *schedule) index(t time.Time) int64 {
	if s.empty() {
		return 0
	}
	lt := t.In(s.loc)
	day := civil{lt.Year(), lt.Month(), lt.Day()}
	return s.daysBefore(day) + s.partial(day, t)
}

// daysBefore counts the changes on the whole days from the epoch up to
// day (exclusive), negated for a day before the epoch.
func (s *schedule) daysBefore(day civil) int64 {
	from, to, sign := RotationEpoch.time(), day.time(), int64(1)
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	var n int64
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		n += int64(s.perMask[s.dayMask(d)])
	}
	return sign * n
}

// partial counts the changes on day (in the team's zone) at or before t.
func (s *schedule) partial(day civil, t time.Time) int64 {
	midnight := time.Date(day.y, day.m, day.d, 0, 0, 0, 0, s.loc)
	var n int64
	for c := s.next(midnight.Add(-time.Nanosecond)); !c.IsZero() && !c.After(t); c = s.next(c) {
		if lc := c.In(s.loc); lc.Day() != day.d || lc.Month() != day.m {
			break
		}
		n++
	}
	return n
}

// dayMask says which schedules fire on a calendar day (a UTC midnight
// standing for the date), with cron's rules: day of month and day of week
// must both match when either is "*", else either may.
func (s *schedule) dayMask(day time.Time) int {
	m := 0
	for i, b := range s.bits {
		if b.Month&(1<<uint(day.Month())) == 0 {
			continue
		}
		dom := b.Dom&(1<<uint(day.Day())) != 0
		dow := b.Dow&(1<<uint(day.Weekday())) != 0
		if b.Dom&cronStar != 0 || b.Dow&cronStar != 0 {
			if dom && dow {
				m |= 1 << i
			}
		} else if dom || dow {
			m |= 1 << i
		}
	}
	return m
}

// civil is a calendar date.
type civil struct {
	y int
	m time.Month
	d int
}

func (c civil) time() time.Time { return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC) }

// lead is the rotation's lead of shift k, "" without a rotation.
func lead(t *config.Team, k int64) string {
	n := int64(len(t.Leads))
	if n == 0 {
		return ""
	}
	return t.Leads[((k%n)+n)%n]
}
