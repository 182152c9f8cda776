package console

import (
	"strings"

	"liaisonbot/bot"
)

// Render writes a Message as plain text for a terminal or a script: title,
// text, one indented block per section (a field's link after its value),
// buttons as the commands they run. Control characters are dropped so
// imported text cannot move the cursor or clear the screen.
func Render(m *bot.Message) string {
	var b strings.Builder
	line := func(indent, s string) {
		for _, l := range strings.Split(clean(s), "\n") {
			b.WriteString(indent)
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	if m.Error {
		b.WriteString("Error: ")
	}
	if m.Title != "" {
		line("", m.Title)
	}
	if m.Text != "" {
		line("", m.Text)
	}
	for _, s := range m.Sections {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if s.Title != "" {
			line("", s.Title)
		}
		if s.Text != "" {
			line("  ", s.Text)
		}
		for _, f := range s.Fields {
			value := f.Value
			if f.URL != "" && f.URL != f.Value {
				value += " (" + f.URL + ")" // a terminal has no links
			}
			line("  ", f.Label+": "+value)
		}
	}
	if len(m.Buttons) > 0 {
		b.WriteByte('\n')
		for _, btn := range m.Buttons {
			line("", "  → "+btn.Command+"   ("+btn.Label+")")
		}
	}
	if m.Footer != "" {
		b.WriteByte('\n')
		line("", m.Footer)
	}
	return b.String()
}

// clean drops control characters except newlines and tabs.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
