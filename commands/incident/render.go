package incident

import (
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
)

// Times are shown in UTC: an incident's partners may sit in several zones.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// entryLine is one timeline entry on one line (its text may span more).
func entryLine(e Entry) string {
	var b strings.Builder
	b.WriteString(formatTime(e.Time))
	b.WriteString(" · ")
	b.WriteString(e.Kind)
	if e.Internal {
		b.WriteString(" [internal]")
	}
	b.WriteString(" · ")
	b.WriteString(e.Author.Via())
	if e.Text != "" {
		b.WriteString(": ")
		b.WriteString(e.Text)
	}
	return b.String()
}

// maxShownEntries bounds the timeline `incident show` prints; the report
// carries the whole of it.
const maxShownEntries = 100

// showMessage is one incident with its timeline, as the role may see it.
func (s *Service) showMessage(inc *Incident, r bot.Role) *bot.Message {
	m := &bot.Message{Title: fmt.Sprintf("%s · %s · severity %s · %s", inc.ID, inc.MissionName, severityLabel(inc.Severity), inc.Status)}
	m.Text = inc.Summary
	fields := []bot.Field{
		{Label: "Mission", Value: missionLine(inc) + " [" + inc.MissionID + "]"},
		{Label: "Agencies", Value: s.partnerNames(inc.Partners)},
		{Label: "Opened", Value: formatTime(inc.Opened) + " by " + inc.OpenedBy.Label()},
	}
	if inc.Status == StatusClosed {
		fields = append(fields, bot.Field{Label: "Closed", Value: formatTime(inc.Closed)},
			bot.Field{Label: "Resolution", Value: inc.Resolution})
	} else {
		fields = append(fields, bot.Field{Label: "Last activity", Value: formatTime(inc.LastActivity)})
	}
	m.Sections = append(m.Sections, bot.Section{Fields: fields})

	var threads []bot.Field
	for _, t := range inc.Threads {
		if !r.AtLeastAgent() && !strings.EqualFold(t.Partner, r.Partner) {
			continue // a partner sees where its own agency is reached, not the others' channels
		}
		f := bot.Field{Label: fmt.Sprintf("%s (%s)", t.ChannelRef(), s.partnerName(t.Partner)), Value: "root post not sent yet"}
		switch {
		case t.Link != "":
			f.Value, f.URL = t.Link, t.Link
		case t.Ref != "":
			f.Value = "thread " + t.Ref
		}
		threads = append(threads, f)
	}
	if len(threads) > 0 {
		m.Sections = append(m.Sections, bot.Section{Title: "Threads", Fields: threads})
	}

	var lines []string
	for _, e := range inc.Timeline {
		if e.Internal && !r.AtLeastAgent() {
			continue
		}
		lines = append(lines, entryLine(e))
	}
	total := len(lines)
	if n := total - maxShownEntries; n > 0 {
		lines = append([]string{fmt.Sprintf("(%d earlier entries not shown: incident report %s has them all)", n, inc.ID)}, lines[n:]...)
	}
	m.Sections = append(m.Sections, bot.Section{Title: fmt.Sprintf("Timeline (%d entries)", total), Text: strings.Join(lines, "\n")})
	return m
}

// summaryLine is one incident in a list.
func summaryLine(s Summary) string {
	line := fmt.Sprintf("%s · %s · sev %d · %s · %s", s.ID, s.Status, s.Severity, s.MissionName, oneLine(s.Summary, 80))
	if s.Status == StatusOpen {
		return line + " · last activity " + formatTime(s.LastActivity)
	}
	return line + " · closed " + formatTime(s.Closed)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
