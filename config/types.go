package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
	if day := Duration(24 * time.Hour); d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d" // "400d", as written
	}
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
// time.ParseDuration accepts, and whole days ("400d").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
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
