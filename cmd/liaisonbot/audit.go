package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

func (e *environment) audit(args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return usageErr("audit: want `audit export [--since TIME]`")
	}
	fs := quietFlags("audit export", e.stderr)
	since := fs.String("since", "", "only records at or after TIME (RFC 3339, a date 2006-01-02, or a duration like 24h meaning that long ago)")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("audit export: unexpected argument %q", rest[0])
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		return usageErr("audit export --since: %v", err)
	}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	_, err = a.audit.Export(ctx, e.stdout, from)
	return err
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (2026-11-26, 2026-11-26T08:00:00Z) or a duration (24h)", s)
}
