package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot/store"
)

// Report returns the Markdown after-action report of an incident: mission,
// severity, partners, key times, the whole timeline (internal notes marked)
// with authors and platforms, and the resolution. It is for the division.
func (s *Service) Report(ctx context.Context, id string) (string, error) {
	var inc *Incident
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		inc, err = mustLoad(tx, id)
		return err
	})
	if err != nil {
		return "", err
	}
	return s.RenderReport(inc), nil
}

// RenderReport writes the report of an incident already read.
func (s *Service) RenderReport(inc *Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# After-action report: %s\n\n", inc.ID)
	field := func(label, value string) { fmt.Fprintf(&b, "- **%s:** %s\n", label, mdInline(value)) }
	field("Mission", missionLine(inc)+" ["+inc.MissionID+"]")
	field("Severity", severityLabel(inc.Severity))
	field("Status", inc.Status)
	var partners []string
	for _, p := range inc.Partners {
		_, label := s.partnerLabel(p)
		partners = append(partners, s.partnerName(p)+" ("+label+")")
	}
	if len(partners) == 0 {
		partners = []string{"none"}
	}
	field("Partners", strings.Join(partners, ", "))
	field("Opened", formatTime(inc.Opened)+" by "+inc.OpenedBy.Via())
	if e, ok := inc.FirstPartnerReply(); ok {
		field("First partner reply", formatTime(e.Time)+" by "+e.Author.Via()+" ("+elapsed(e.Time.Sub(inc.Opened))+" after opening)")
	} else {
		field("First partner reply", "none")
	}
	if inc.Status == StatusClosed {
		field("Closed", formatTime(inc.Closed)+" ("+elapsed(inc.Closed.Sub(inc.Opened))+" after opening)")
	} else {
		field("Closed", "still open")
	}
	if len(inc.Threads) > 0 {
		var ts []string
		for _, t := range inc.Threads {
			ref := "not sent"
			if t.Ref != "" {
				ref = "thread " + t.Ref
			}
			ts = append(ts, t.ChannelRef()+" ("+t.Partner+", "+ref+")")
		}
		field("Threads", strings.Join(ts, "; "))
	}

	b.WriteString("\n## Summary\n\n")
	b.WriteString(mdBlock(inc.Summary))
	b.WriteString("\n\n## Timeline\n\n")
	for _, e := range inc.Timeline {
		tag := e.Kind
		if e.Internal {
			tag += ", internal"
		}
		fmt.Fprintf(&b, "- %s **%s** %s", formatTime(e.Time), tag, mdInline(e.Author.Via()))
		if e.Text != "" {
			b.WriteString(": ")
			b.WriteString(strings.ReplaceAll(mdBlock(e.Text), "\n", "\n  "))
		}
		b.WriteByte('\n')
	}
	b.WriteString("\n## Resolution\n\n")
	if inc.Status == StatusClosed {
		b.WriteString(mdBlock(inc.Resolution))
	} else {
		b.WriteString("Still open.")
	}
	b.WriteByte('\n')
	return b.String()
}

// mdInline keeps a value on its line.
func mdInline(s string) string { return strings.Join(strings.Fields(s), " ") }

// mdBlock keeps typed text from turning into headings or rules in the
// report: a leading '#', '-', '>', '=' or '*' on a line is escaped.
func mdBlock(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if t := strings.TrimLeft(l, " "); t != "" && strings.ContainsRune("#->=*+|`", rune(t[0])) {
			l = strings.Repeat(" ", len(l)-len(t)) + `\` + t
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// elapsed is a duration as a person reads it: "45s", "12m", "3h05m".
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return max(d, 0).Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
