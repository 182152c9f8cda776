package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Channel is a chat channel on one platform, written "platform:id" in the
// configuration ("slack:C0123", "mattermost:4xp9…", "console:mpd"). The same
// form names users in roles.admins.
type Channel struct {
	Platform string // "slack", "mattermost" or "console"
	ID       string
}

// maxIDLen bounds channel and user ids; real ones are far shorter.
const maxIDLen = 256

// ParseChannel parses "platform:id". The platform must be slack, mattermost or
// console (any case; it is returned in lower case); the id must be non-empty and
// hold no whitespace or control characters.
func ParseChannel(s string) (Channel, error) {
	platform, id, ok := strings.Cut(s, ":")
	if !ok {
		return Channel{}, fmt.Errorf("%s is not platform:id (e.g. slack:C0123)", quote(s))
	}
	platform = strings.ToLower(platform)
	switch platform {
	case PlatformSlack, PlatformMattermost, PlatformConsole:
	default:
		return Channel{}, fmt.Errorf("unknown platform %s in %s: use slack, mattermost or console", quote(platform), quote(s))
	}
	if id == "" {
		return Channel{}, fmt.Errorf("%s has no id after the colon", quote(s))
	}
	if len(id) > maxIDLen {
		return Channel{}, fmt.Errorf("id in %s is longer than %d bytes", quote(s), maxIDLen)
	}
	if strings.IndexFunc(id, isSpaceOrControl) >= 0 {
		return Channel{}, fmt.Errorf("id in %s contains a space or control character", quote(s))
	}
	return Channel{Platform: platform, ID: id}, nil
}

// String renders "platform:id", the form ParseChannel reads.
func (c Channel) String() string { return c.Platform + ":" + c.ID }

// IsZero reports whether c is the zero Channel.
func (c Channel) IsZero() bool { return c == Channel{} }

// MarshalText implements encoding.TextMarshaler ("platform:id").
func (c Channel) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseChannel.
func (c *Channel) UnmarshalText(b []byte) error {
	ch, err := ParseChannel(string(b))
	if err != nil {
		return err
	}
	*c = ch
	return nil
}

// normalized lower-cases the platform so that lookups with a Channel built by
// hand ("Slack") still match.
func (c Channel) normalized() Channel {
	c.Platform = strings.ToLower(c.Platform)
	return c
}

// Duration is a time.Duration written like "30m", "2h" or "90s" (see
// time.ParseDuration). Every configured duration must be positive.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String renders d compactly ("30m", "2h", "1h30m", "90s" as "1m30s"); the
// result parses back to the same value.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") { // "30m0s" -> "30m"
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") { // "2h0m" -> "2h"
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// time.ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// shiftParser is the one cron dialect of shift changes: standard 5 fields plus
// descriptors such as @daily.
var shiftParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseShiftChange parses a team's shift-change cron expression the way the
// configuration is validated, and binds the schedule to loc (the team's
// Location; nil means UTC) so that Next works in the team's time zone whatever
// the location of the time passed to it.
//
// It refuses a "CRON_TZ=" or "TZ=" prefix, because the team's timezone applies,
// "@every", because a shift change is a time of day and not an interval from
// whenever the bot started, and expressions that never fire ("0 0 30 2 *").
func ParseShiftChange(expr string, loc *time.Location) (cron.Schedule, error) {
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
		// Other parser errors echo the offending part raw; callers quote the
		// whole expression, so keep the echo short and on one line.
		return nil, errors.New(oneLine(clip(msg, 160)))
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, errors.New("not a time-of-day schedule")
	}
	spec.Location = loc
	// Next searches five years ahead, so this catches 30 February and
	// friends while allowing 29 February.
	if spec.Next(time.Now()).IsZero() {
		return nil, errors.New("never fires")
	}
	return spec, nil
}

// Schedules returns the team's shift changes parsed with ParseShiftChange and
// bound to its Location, in the order configured. In a Config that loaded
// without problems it never fails.
func (t *Team) Schedules() ([]cron.Schedule, error) {
	out := make([]cron.Schedule, 0, len(t.ShiftChanges))
	for _, expr := range t.ShiftChanges {
		s, err := ParseShiftChange(expr, t.Location)
		if err != nil {
			return nil, fmt.Errorf("team %s: bad cron expression %s: %w", t.ID, quote(expr), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// quote renders a value for a message: Go-quoted so that control characters and
// newlines cannot break the one-line format, and clipped so that a huge value
// cannot flood it.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", strings.TrimSuffix(clip(s, max), "…"))
	}
	return fmt.Sprintf("%q", s)
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
