package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// shiftParser is the one cron dialect of shift changes: standard 5 fields plus
// descriptors such as @daily.
var shiftParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ShiftSchedule is a parsed shift-change expression bound to a team's time
// zone. It implements cron.Schedule.
//
// It uses cron only to parse: cron v3.0.1's SpecSchedule.Next loops forever
// in zones whose DST change skips midnight or a whole day (Pacific/Apia,
// Pacific/Chatham, Kwajalein, …), and a scheduler must never hang. Next and
// Prev here walk calendar days and build each candidate with time.Date, so
// they are bounded, and a wall-clock time that a DST change skips fires once,
// at the instant time.Date maps it to (02:30 on a spring-forward night fires
// at 03:30), while one that a DST change repeats fires once.
type ShiftSchedule struct {
	Expr     string // as configured
	Location *time.Location

	minute, hour, dom, month, dow uint64 // cron's bit sets
}

// starBit is cron's marker for a "*" (or "?") field, which changes how day of
// month and day of week combine.
const starBit = 1 << 63

// searchDays bounds a search, like cron's five years: a schedule that does not
// fire within it (30 February) never fires.
const searchDays = 5*366 + 2

// ParseShiftChange parses a team's shift-change cron expression exactly as
// the configuration is validated, bound to loc (the team's Location; nil means
// UTC), so that Next and Prev work in the team's zone whatever the location of
// the time passed in.
//
// It refuses a "CRON_TZ=" or "TZ=" prefix, because the team's timezone
// applies; "@every", because a shift change is a time of day, not an interval
// from whenever the bot started; and expressions that never fire.
func ParseShiftChange(expr string, loc *time.Location) (*ShiftSchedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := strings.TrimSpace(expr)
	switch {
	case s == "":
		return nil, errors.New("empty cron expression")
	case strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ="):
		return nil, errors.New("no CRON_TZ= or TZ= prefix: the team's timezone applies")
	case strings.HasPrefix(s, "@every"):
		return nil, errors.New("@every is an interval, not a time of day: write the shift change as 5 cron fields")
	}
	sched, err := shiftParser.Parse(s)
	if err != nil {
		msg := err.Error()
		// The parser appends the split fields ("found 4: [0 7 * *]"); the
		// expression is already quoted in our message.
		if i := strings.Index(msg, ": ["); i > 0 && strings.HasPrefix(msg, "expected ") {
			msg = msg[:i]
		}
		// Other parser errors echo the offending part raw; keep that short
		// and on one line.
		return nil, errors.New(oneLine(clip(msg, 160)))
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok || spec.Second != 1 {
		return nil, errors.New("not a time-of-day schedule")
	}
	ss := &ShiftSchedule{
		Expr:     expr,
		Location: loc,
		minute:   spec.Minute,
		hour:     spec.Hour,
		dom:      spec.Dom,
		month:    spec.Month,
		dow:      spec.Dow,
	}
	// Any reference time will do: a schedule fires within five years of
	// every instant or of none.
	if ss.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, errors.New("never fires")
	}
	return ss, nil
}

// String returns the expression as configured.
func (s *ShiftSchedule) String() string { return s.Expr }

// Next returns the first shift change strictly after t, in t's location; the
// zero time if there is none within five years.
func (s *ShiftSchedule) Next(t time.Time) time.Time { return s.search(t, 1) }

// Prev returns the last shift change at or before t, in t's location; the zero
// time if there is none within five years. Together with Next it brackets the
// shift t falls in: Prev(t) <= t < Next(t).
func (s *ShiftSchedule) Prev(t time.Time) time.Time { return s.search(t, -1) }

// search walks calendar days from t's date in direction dir (+1 or -1). A
// candidate built with time.Date may land up to a day away from its wall
// date when a DST change or a skipped day moves it, so the walk starts a day
// early and, once it has a best candidate, looks at two more days.
func (s *ShiftSchedule) search(t time.Time, dir int) time.Time {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	var best time.Time
	extra := -1
	for k := -dir; k*dir <= searchDays; k += dir {
		// Calendar arithmetic in UTC: no DST, every day exists.
		day := time.Date(y, m, d+k, 0, 0, 0, 0, time.UTC)
		if s.dayMatches(day) {
			for h := 0; h < 24; h++ {
				if s.hour&(1<<h) == 0 {
					continue
				}
				for mi := 0; mi < 60; mi++ {
					if s.minute&(1<<mi) == 0 {
						continue
					}
					c := wallTime(day, h, mi, loc)
					if dir > 0 && c.After(t) && (best.IsZero() || c.Before(best)) ||
						dir < 0 && !c.After(t) && (best.IsZero() || c.After(best)) {
						best = c
					}
				}
			}
		}
		if !best.IsZero() {
			if extra < 0 {
				extra = 2
			} else if extra--; extra == 0 {
				break
			}
		}
	}
	if best.IsZero() {
		return best
	}
	return best.In(t.Location())
}

// wallTime is the instant of a wall-clock time on day in loc. A wall time
// that a DST change (or a skipped day) leaves out is moved forward by the
// length of the gap, as most calendar libraries do (02:30 on a spring-forward
// night is 03:30): time.Date leaves the direction unspecified and in practice
// moves it back, which would fire a shift change early.
func wallTime(day time.Time, h, mi int, loc *time.Location) time.Time {
	c := time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, loc)
	want := time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, time.UTC)
	l := c.In(loc)
	got := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
	if d := want.Sub(got); d > 0 {
		c = c.Add(d)
	}
	return c
}

func (s *ShiftSchedule) dayMatches(day time.Time) bool {
	if s.month&(1<<uint(day.Month())) == 0 {
		return false
	}
	domMatch := s.dom&(1<<uint(day.Day())) != 0
	dowMatch := s.dow&(1<<uint(day.Weekday())) != 0
	if s.dom&starBit != 0 || s.dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// Schedules returns the team's shift changes parsed with ParseShiftChange, in
// the order configured. In a Config that loaded without problems it never
// fails.
func (t *Team) Schedules() ([]*ShiftSchedule, error) {
	out := make([]*ShiftSchedule, 0, len(t.ShiftChanges))
	for _, expr := range t.ShiftChanges {
		s, err := ParseShiftChange(expr, t.Location)
		if err != nil {
			return nil, fmt.Errorf("team %s: bad cron expression %s: %w", t.ID, quote(expr), err)
		}
		out = append(out, s)
	}
	return out, nil
}

var _ cron.Schedule = (*ShiftSchedule)(nil)
