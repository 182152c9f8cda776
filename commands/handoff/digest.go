package handoff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// maxListed bounds each list of a digest; the rest is counted, so a digest
// stays readable (and within Slack's block limits) on a busy night.
const maxListed = 20

// report is what a digest says about a shift.
type report struct {
	team     *config.Team
	from, to time.Time // the shift: [from, to)
	now      time.Time // when it is built: ages count to it

	opened, updated, closed []shiftIncident
	open                    []openIncident
	stale                   int
	notes                   []note
	outgoing, incoming      string
}

// shiftIncident is an incident with activity during the shift.
type shiftIncident struct {
	incident.Summary
	entries, internal int
	opened, closed    bool
}

// openIncident is an incident still open when the digest is built.
type openIncident struct {
	incident.Summary
	age   time.Duration
	stale bool
}

// collect builds the report of team t's shift [from, to), read at now. It
// reads the activity of the shift from the incident feature's time index,
// the open set, and for each incident active in the shift that is no longer
// open its record: the cost follows the shift's incidents, not the history.
// Internal entries are counted, never quoted: a digest shows incident ids,
// missions and summaries, not timeline text.
func (s *Service) collect(tx store.Tx, t *config.Team, from, to, now time.Time) (*report, error) {
	r := &report{team: t, from: from, to: to, now: now}
	acts, err := incident.ActivityBetween(tx, from, to)
	if err != nil {
		return nil, fmt.Errorf("shift activity: %w", err)
	}
	open, err := incident.OpenIncidents(tx)
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	openByID := make(map[string]int, len(open))
	for i, sm := range open {
		openByID[sm.ID] = i
	}
	byID := map[string]*shiftIncident{}
	var order []*shiftIncident
	for _, a := range acts {
		if a.Kind == incident.KindNudge {
			continue // the bot's own reminder, not activity
		}
		si := byID[a.ID]
		if si == nil {
			si = &shiftIncident{Summary: incident.Summary{ID: a.ID}}
			byID[a.ID] = si
			order = append(order, si)
		}
		si.entries++
		if a.Internal {
			si.internal++
		}
		switch a.Kind {
		case incident.KindOpened:
			si.opened = true
		case incident.KindClosed:
			si.closed = true
		}
	}
	for _, si := range order {
		if i, ok := openByID[si.ID]; ok {
			si.Summary = open[i]
		} else if inc, ok, err := incident.Load(tx, si.ID); err != nil {
			return nil, fmt.Errorf("incident %s: %w", si.ID, err)
		} else if ok {
			si.Summary = inc.Summarize()
		}
		switch {
		case si.opened || si.closed:
			if si.opened {
				r.opened = append(r.opened, *si)
			}
			if si.closed {
				r.closed = append(r.closed, *si)
			}
		default:
			r.updated = append(r.updated, *si)
		}
	}
	for _, sm := range open {
		age := max(now.Sub(sm.LastActivity), 0)
		oi := openIncident{Summary: sm, age: age, stale: age >= s.staleAfter}
		if oi.stale {
			r.stale++
		}
		r.open = append(r.open, oi)
	}
	// Most severe first, then the longest quiet.
	slices.SortStableFunc(r.open, func(a, b openIncident) int {
		if c := cmp.Compare(a.Severity, b.Severity); c != 0 {
			return c
		}
		return a.LastActivity.Compare(b.LastActivity)
	})
	if r.notes, err = notesBetween(tx, t.ID, from, to); err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	return r, nil
}

// digestMessage renders a digest. change is the scheduled shift change, or
// zero for `handoff now`; due is when a late digest was due.
func (s *Service) digestMessage(r *report, id string, change time.Time, late bool) bot.Message {
	t, loc := r.team, r.team.Location
	m := bot.Message{Visibility: bot.InChannel}
	var text []string
	if change.IsZero() {
		m.Title = fmt.Sprintf("Handoff digest · %s · on request, %s", teamName(t), day(r.to, loc))
		text = append(text, fmt.Sprintf("The shift so far: since %s.", day(r.from, loc)))
	} else {
		m.Title = fmt.Sprintf("Handoff digest · %s · shift change %s", teamName(t), day(change, loc))
		if late {
			text = append(text, fmt.Sprintf("Posted late at %s: it was due at %s, when the bot was not running.", day(r.now, loc), day(change, loc)))
		}
		text = append(text, fmt.Sprintf("The shift %s → %s.", day(r.from, loc), day(r.to, loc)))
	}
	if r.outgoing != "" && r.incoming != "" {
		if change.IsZero() {
			text = append(text, fmt.Sprintf("%s leads now; %s takes over at the next change.", r.outgoing, r.incoming))
		} else {
			text = append(text, fmt.Sprintf("%s hands over to %s.", r.outgoing, r.incoming))
		}
	}
	m.Text = strings.Join(text, "\n")

	if r.outgoing != "" {
		m.Sections = append(m.Sections, bot.Section{Title: "Leads", Fields: []bot.Field{
			{Label: "Outgoing", Value: r.outgoing},
			{Label: "Incoming", Value: r.incoming},
		}})
	}
	openValue := fmt.Sprint(len(r.open))
	if r.stale > 0 {
		openValue += fmt.Sprintf(" (%d stale)", r.stale)
	}
	m.Sections = append(m.Sections, bot.Section{Title: "This shift", Fields: []bot.Field{
		{Label: "Opened", Value: fmt.Sprint(len(r.opened))},
		{Label: "Updated", Value: fmt.Sprint(len(r.updated))},
		{Label: "Closed", Value: fmt.Sprint(len(r.closed))},
		{Label: "Still open", Value: openValue},
		{Label: "Notes", Value: fmt.Sprint(len(r.notes))},
	}})
	if len(r.opened) > 0 {
		m.Sections = append(m.Sections, listSection("Opened", r.opened, func(si shiftIncident) string {
			line := incidentLine(si.Summary)
			if si.Status == incident.StatusOpen {
				line += " · still open"
			}
			return line
		}))
	}
	if len(r.updated) > 0 {
		m.Sections = append(m.Sections, listSection("Updated", r.updated, func(si shiftIncident) string {
			return incidentLine(si.Summary) + " · " + entriesLabel(si.entries, si.internal)
		}))
	}
	if len(r.closed) > 0 {
		m.Sections = append(m.Sections, listSection("Closed", r.closed, func(si shiftIncident) string {
			line := incidentLine(si.Summary)
			if !si.Closed.IsZero() {
				line += " · closed " + clock(si.Closed, loc)
			}
			return line
		}))
	}
	openTitle := fmt.Sprintf("Still open (%d)", len(r.open))
	if r.stale > 0 {
		openTitle = fmt.Sprintf("Still open (%d, %d stale)", len(r.open), r.stale)
	}
	if len(r.open) == 0 {
		m.Sections = append(m.Sections, bot.Section{Title: openTitle, Text: "None."})
	} else {
		sec := listSection("", r.open, func(oi openIncident) string {
			line := incidentLine(oi.Summary) + " · last update " + ago(oi.age) + " ago"
			if oi.stale {
				line += " · STALE"
			}
			return line
		})
		sec.Title = openTitle
		if len(r.open) > maxListed {
			sec.Text += " (incident list shows them all)"
		}
		m.Sections = append(m.Sections, sec)
	}
	noteSec := bot.Section{Title: fmt.Sprintf("Notes for the incoming shift (%d)", len(r.notes))}
	if len(r.notes) == 0 {
		noteSec.Text = "None left (handoff note <text> leaves one)."
	} else {
		noteSec = listSection("Notes for the incoming shift", r.notes, func(n note) string {
			return clock(n.Time, loc) + " · " + n.Author.Name + ": " + oneLine(n.Text, 300)
		})
	}
	m.Sections = append(m.Sections, noteSec)

	m.Buttons = []bot.Button{{Label: "Acknowledge", Command: "handoff ack " + id, Primary: true}}
	if change.IsZero() {
		m.Footer = fmt.Sprintf("Digest %s, on request. Acknowledge with: handoff ack %s", id, id)
	} else {
		m.Footer = fmt.Sprintf("Digest %s. Acknowledge within %s%s.", id, config.Duration(t.AckWithin.Std()), escalationTail(t))
	}
	return m
}

func escalationTail(t *config.Team) string {
	if t.EscalateTo == "" {
		return ", or the team's channels are told"
	}
	return ", or it goes to " + t.EscalateTo
}

// listSection renders up to maxListed items as bullet lines, counting the
// rest.
func listSection[T any](title string, items []T, line func(T) string) bot.Section {
	var lines []string
	for i, it := range items {
		if i == maxListed {
			lines = append(lines, fmt.Sprintf("… and %d more", len(items)-maxListed))
			break
		}
		lines = append(lines, "• "+line(it))
	}
	if title != "" {
		title = fmt.Sprintf("%s (%d)", title, len(items))
	}
	return bot.Section{Title: title, Text: strings.Join(lines, "\n")}
}

// incidentLine is "INC-2026-0042 · sev 2 · Embassy of Canada · Protest at the gate".
func incidentLine(sm incident.Summary) string {
	parts := []string{sm.ID}
	if sm.Severity != 0 {
		parts = append(parts, fmt.Sprintf("sev %d", sm.Severity))
	}
	if sm.MissionName != "" {
		parts = append(parts, sm.MissionName)
	}
	if sm.Summary != "" {
		parts = append(parts, oneLine(sm.Summary, 90))
	}
	return strings.Join(parts, " · ")
}

func entriesLabel(n, internal int) string {
	s := fmt.Sprintf("%d entries", n)
	if n == 1 {
		s = "1 entry"
	}
	if internal > 0 {
		s += fmt.Sprintf(" (%d internal)", internal)
	}
	return s
}
