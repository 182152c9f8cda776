package slack

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"liaisonbot/bot"
)

// Block Kit limits, in characters
// (https://docs.slack.dev/reference/block-kit/blocks). Past them Slack
// refuses the whole message, so text is cut with "…" instead.
const (
	maxBlocks        = 50
	maxHeader        = 150
	maxSectionText   = 3000
	maxField         = 2000
	maxFields        = 10
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxActions       = 25 // elements in one actions block
	maxContext       = 3000
	maxFallback      = 3000 // the top-level text: notifications, screen readers
	warningPrefix    = ":warning: "
	buttonActionBase = "liaison.run." // action_id prefix of command buttons
)

// escaper turns the three characters Slack parses for mentions and links
// into entities: "<!channel>" typed or imported stays text.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return escaper.Replace(s) }

// clip shortens escaped text to at most n characters, ending in "…". It
// never splits a character or an entity, so "&amp;" is never left as "&am".
func clip(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, count := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i
			break
		}
		count++
	}
	s = s[:cut]
	if amp := strings.LastIndexByte(s, '&'); amp >= 0 && !strings.Contains(s[amp:], ";") {
		s = s[:amp]
	}
	return s + "…"
}

// Block kinds.
const (
	kindHeader  = "header"
	kindSection = "section"
	kindDivider = "divider"
	kindActions = "actions"
	kindContext = "context"
)

// block is one Block Kit block in the few shapes the bot uses. Text is
// already escaped and clipped. The type is the adapter's own, not
// slack-go's, so that answers are written straight to JSON (this is on the
// path of every command); toSlack converts for the Web API.
type block struct {
	Kind    string
	Text    string   // header: plain text; section: mrkdwn, may be ""; context: mrkdwn
	Fields  []string // section: mrkdwn
	Buttons []button // actions
}

type button struct {
	ActionID, Text, Value string
	Primary               bool
}

// reply is a message as Slack takes it in a slash command's HTTP response,
// a response_url post and a Socket Mode ack payload.
type reply struct {
	ResponseType    string
	Text            string
	Blocks          []block
	ReplaceOriginal *bool
	// textJSON and blocksJSON, when set, are Text and Blocks already
	// encoded (a frozen message's rendering, rendercache.go). Blocks is
	// then shared: read only. textJSON is used only while Text is the
	// string it encodes.
	textJSON, blocksJSON []byte
	textOf               string // the Text that textJSON encodes
}

// replyFor renders an answer for the person who asked.
func replyFor(m *bot.Message) reply {
	var r reply
	if m.Frozen {
		cached := renderFrozen(m)
		r = reply{ResponseType: "ephemeral", Text: cached.text, Blocks: cached.blocks, textJSON: cached.textJSON, textOf: cached.text, blocksJSON: cached.blocksJSON}
	} else {
		text, blocks := render(m)
		r = reply{ResponseType: "ephemeral", Text: text, Blocks: blocks}
	}
	if m.Visibility == bot.InChannel {
		r.ResponseType = "in_channel"
	}
	return r
}

// render turns a Message into Block Kit and its plain-text fallback: a
// header (Title), a section (Text), one section per Section with its fields,
// the buttons, and a context block (Footer). Every string is escaped.
func render(m *bot.Message) (string, []block) {
	blocks := make([]block, 0, 4+2*len(m.Sections))
	if strings.TrimSpace(m.Title) != "" {
		blocks = append(blocks, block{Kind: kindHeader, Text: clip(escape(m.Title), maxHeader)})
	}
	if text := errorText(m, m.Text); text != "" {
		blocks = append(blocks, block{Kind: kindSection, Text: clip(text, maxSectionText)})
	}
	for _, s := range m.Sections {
		if len(blocks) > 0 {
			blocks = append(blocks, block{Kind: kindDivider})
		}
		blocks = appendSection(blocks, s)
	}
	tail := buttonBlocks(m.Buttons)
	if strings.TrimSpace(m.Footer) != "" {
		tail = append(tail, block{Kind: kindContext, Text: clip(escape(m.Footer), maxContext)})
	}
	return fallback(m), fitBlocks(blocks, tail)
}

// errorText escapes the message text, marking an error answer.
func errorText(m *bot.Message, s string) string {
	if strings.TrimSpace(s) == "" && !m.Error {
		return ""
	}
	s = escape(s)
	if m.Error {
		s = warningPrefix + s
	}
	return strings.TrimSpace(s)
}

// appendSection renders one Section: its title and text, then its fields
// ten at a time (Slack's limit per section).
func appendSection(blocks []block, s bot.Section) []block {
	var text string
	title, body := strings.TrimSpace(s.Title) != "", strings.TrimSpace(s.Text) != ""
	switch {
	case title && body:
		text = "*" + escape(s.Title) + "*\n" + escape(s.Text)
	case title:
		text = "*" + escape(s.Title) + "*"
	case body:
		text = escape(s.Text)
	}
	text = clip(text, maxSectionText)
	fields := s.Fields
	for first := true; first || len(fields) > 0; first = false {
		n := min(len(fields), maxFields)
		if text == "" && n == 0 {
			break
		}
		b := block{Kind: kindSection, Text: text, Fields: make([]string, 0, n)}
		for _, f := range fields[:n] {
			b.Fields = append(b.Fields, field(f))
		}
		blocks = append(blocks, b)
		fields, text = fields[n:], ""
	}
	return blocks
}

// field renders "*Label*\nValue" within the field limit, keeping the label;
// a Value with a URL is a link, <url|Value>.
func field(f bot.Field) string {
	value := escape(f.Value)
	if strings.TrimSpace(value) == "" {
		value = "—"
	}
	label := ""
	if f.Label != "" {
		label = "*" + clip(escape(f.Label), maxField/4) + "*\n"
	}
	room := maxField - utf8.RuneCountInString(label)
	if link, ok := linkTarget(f.URL); ok && utf8.RuneCountInString(link)+8 < room {
		return label + "<" + link + "|" + clip(value, room-utf8.RuneCountInString(link)-3) + ">"
	}
	return label + clip(value, room)
}

// linkTarget checks a URL the bot made (a permalink) before it goes into
// <url|text>: http or https, and none of the characters that end Slack's
// markup or need escaping in it.
func linkTarget(raw string) (string, bool) {
	if raw == "" || strings.ContainsAny(raw, "<>| \t\n\r\"'") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	return strings.ReplaceAll(raw, "&", "&amp;"), true
}

// buttonBlocks renders buttons, 25 to an actions block. A button's value is
// the command line it runs; one longer than Slack allows cannot be cut
// without running something else, so it is left out.
func buttonBlocks(buttons []bot.Button) []block {
	var out []block
	var row []button
	for i, b := range buttons {
		if strings.TrimSpace(b.Command) == "" || len(b.Command) > maxButtonValue || strings.TrimSpace(b.Label) == "" {
			continue
		}
		row = append(row, button{
			ActionID: buttonActionBase + strconv.Itoa(i), Text: clip(escape(b.Label), maxButtonText),
			Value: b.Command, Primary: b.Primary,
		})
		if len(row) == maxActions {
			out = append(out, block{Kind: kindActions, Buttons: row})
			row = nil
		}
	}
	if len(row) > 0 {
		out = append(out, block{Kind: kindActions, Buttons: row})
	}
	return out
}

// fitBlocks keeps within Slack's 50 blocks: when over, the middle is cut and
// a line says so, but the header, the buttons and the footer stay.
func fitBlocks(body, tail []block) []block {
	if len(tail) > maxBlocks/2 {
		tail = tail[:maxBlocks/2]
	}
	if len(body)+len(tail) <= maxBlocks {
		return append(body, tail...)
	}
	keep := maxBlocks - len(tail) - 1
	note := block{Kind: kindContext, Text: fmt.Sprintf("… %d more blocks not shown: narrow the question to see them.", len(body)-keep)}
	out := append(body[:keep:keep], note)
	return append(out, tail...)
}

// fallback is the plain text Slack shows in notifications and to screen
// readers, escaped like the blocks.
func fallback(m *bot.Message) string {
	var b strings.Builder
	next := func() {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
	}
	if m.Title != "" {
		next()
		_, _ = escaper.WriteString(&b, m.Title)
	}
	if m.Text != "" {
		next()
		_, _ = escaper.WriteString(&b, m.Text)
	}
	for _, s := range m.Sections {
		if s.Title == "" && len(s.Fields) == 0 {
			continue
		}
		next()
		_, _ = escaper.WriteString(&b, s.Title)
		for i, f := range s.Fields {
			if i > 0 || s.Title != "" {
				b.WriteString("; ")
			}
			_, _ = escaper.WriteString(&b, f.Label)
			b.WriteString(": ")
			_, _ = escaper.WriteString(&b, f.Value)
		}
	}
	if b.Len() == 0 {
		_, _ = escaper.WriteString(&b, m.Footer)
	}
	text := b.String()
	if m.Error {
		text = warningPrefix + text
	}
	if strings.TrimSpace(text) == "" {
		text = "(empty answer)"
	}
	return clip(text, maxFallback)
}
