package handoff

import (
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/config"
)

// reminderMessage announces the change ahead of it.
func reminderMessage(t *config.Team, change, now time.Time, late bool, outgoing, incoming string, open, stale, notes int) bot.Message {
	loc := t.Location
	var text []string
	if late {
		text = append(text, fmt.Sprintf("Posted late: this reminder was due at %s, when the bot was not running.", clock(change.Add(-t.RemindBefore.Std()), loc)))
	}
	switch {
	case outgoing != "" && incoming != "":
		text = append(text, fmt.Sprintf("%s hands over to %s at %s.", outgoing, incoming, clock(change, loc)))
	default:
		text = append(text, fmt.Sprintf("The shift changes at %s.", clock(change, loc)))
	}
	text = append(text, fmt.Sprintf("%s open. Leave what the next shift should know with: handoff note <text>", plural(open, "incident is", "incidents are")))
	openValue := fmt.Sprint(open)
	if stale > 0 {
		openValue += fmt.Sprintf(" (%d stale)", stale)
	}
	fields := []bot.Field{{Label: "Shift change", Value: day(change, loc)}}
	if outgoing != "" {
		fields = append(fields, bot.Field{Label: "Outgoing lead", Value: outgoing}, bot.Field{Label: "Incoming lead", Value: incoming})
	}
	fields = append(fields, bot.Field{Label: "Open incidents", Value: openValue}, bot.Field{Label: "Notes left so far", Value: fmt.Sprint(notes)})
	return bot.Message{
		Visibility: bot.InChannel,
		Title:      fmt.Sprintf("Shift change in %s · %s", ago(max(change.Sub(now).Round(time.Minute), 0)), teamName(t)),
		Text:       strings.Join(text, "\n"),
		Sections:   []bot.Section{{Fields: fields}},
		Footer:     "The handoff digest follows at the change.",
	}
}

// escalationMessage tells escalate_to that a digest went unacknowledged.
func escalationMessage(t *config.Team, d *digest, due, now time.Time, late bool, incoming string) bot.Message {
	loc := t.Location
	who := t.EscalateTo
	if who == "" {
		who = incoming
	}
	if who == "" {
		who = teamName(t)
	}
	var text []string
	if late {
		text = append(text, fmt.Sprintf("Posted late: due at %s, when the bot was not running.", clock(due, loc)))
	}
	text = append(text, fmt.Sprintf("%s: handoff digest %s for the shift change at %s was posted at %s and has not been acknowledged within %s.",
		who, d.ID, day(d.Change, loc), clock(d.Posted, loc), config.Duration(t.AckWithin.Std())))
	if incoming != "" {
		text = append(text, "Incoming lead: "+incoming+".")
	}
	return bot.Message{
		Visibility: bot.InChannel,
		Title:      "Handoff not acknowledged · " + teamName(t),
		Text:       strings.Join(text, "\n"),
		Buttons:    []bot.Button{{Label: "Acknowledge", Command: "handoff ack " + d.ID, Primary: true}},
	}
}

// acknowledged is the digest as edited once acknowledged: the same picture,
// headed by who acknowledged it and when, without the button.
func acknowledged(d *digest, loc *time.Location) bot.Message {
	m := d.Message
	line := fmt.Sprintf("Acknowledged by %s at %s.", d.Ack.By.Name, day(d.Ack.At, loc))
	if m.Text == "" {
		m.Text = line
	} else {
		m.Text = line + "\n" + m.Text
	}
	m.Sections = append([]bot.Section(nil), m.Sections...)
	m.Buttons = nil
	m.Footer = fmt.Sprintf("Digest %s, acknowledged.", d.ID)
	return m
}

func teamName(t *config.Team) string {
	if t.Name != "" {
		return t.Name
	}
	return t.ID
}

// clock is "07:00 EST" in the team's zone.
func clock(t time.Time, loc *time.Location) string { return t.In(zone(loc)).Format("15:04 MST") }

// day is "Tue 3 Mar 07:00 EST" in the team's zone.
func day(t time.Time, loc *time.Location) string {
	return t.In(zone(loc)).Format("Mon 2 Jan 15:04 MST")
}

func zone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// ago is a duration for people: "45m", "2h 05m", "3d 4h", "under a minute".
func ago(d time.Duration) string {
	d = d.Truncate(time.Minute)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine flattens text to one line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
