package mattermost

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is a zero-width space. Mattermost finds mentions (@channel),
// channel links (~town-square), hashtags and bare URLs in the text it
// renders, after Markdown, so backslashes cannot stop them; an invisible
// space inside the token does.
const zwsp = "\u200b"

// escapeMarkdown makes s, plain text from a handler (possibly typed by a
// partner or imported from a CSV), display literally in Mattermost
// Markdown: no emphasis, code, links, images, HTML, headings, lists,
// tables, quotes, and no mention, channel link, hashtag or autolinked URL.
// Line breaks are kept; leading spaces become non-breaking spaces so an
// indented line is not turned into a code block. E-mail addresses are left
// whole (Mattermost may link them as mailto:), since copying a contact's
// address must work.
func escapeMarkdown(s string) string { return escapeMarkdownAllowing(s, nil) }

// escapeMarkdownAllowing is escapeMarkdown, except that a mention of one
// of the handles (lower case, without "@") stays a mention: the on-call
// handles an operator configured for partners and teams are meant to
// notify. @channel, @all and @here are never allowed.
func escapeMarkdownAllowing(s string, handles map[string]bool) string {
	// Control characters go first: dropped while escaping, they would join
	// what was checked apart ("www\x14.evil" would become "www.evil").
	// Tabs stay: escapeLine turns them into spaces, which keep words apart.
	dropped := func(r rune) bool { return r != '\t' && isControl(r) }
	if strings.IndexFunc(s, dropped) >= 0 {
		s = strings.Map(func(r rune) rune {
			if dropped(r) {
				return -1
			}
			return r
		}, s)
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		escapeLine(&b, line, handles)
	}
	return b.String()
}

// configuredHandle returns the handle (without "@") that a mention at
// s[i] names, when it is one of handles.
func configuredHandle(s string, i int, handles map[string]bool) (string, bool) {
	if len(handles) == 0 {
		return "", false
	}
	j := i + 1
	for j < len(s) && (isHandleByte(s[j])) {
		j++
	}
	h := strings.TrimRight(s[i+1:j], ".-") // a sentence's full stop is not part of it
	if h == "" || specialMention[strings.ToLower(h)] || !handles[strings.ToLower(h)] {
		return "", false
	}
	return h, true
}

func isHandleByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// specialMention are the mentions that notify a whole channel.
var specialMention = map[string]bool{"channel": true, "all": true, "here": true}

// mentionHandles collects the handles of the configuration (partners'
// on-call, teams' escalation and leads), lower case without "@".
func mentionHandles(values ...string) map[string]bool {
	out := map[string]bool{}
	for _, v := range values {
		h := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v), "@"))
		if h != "" && !specialMention[h] && strings.IndexFunc(h, func(r rune) bool { return r > 127 || !isHandleByte(byte(r)) }) < 0 {
			out[h] = true
		}
	}
	return out
}

func escapeLine(b *strings.Builder, line string, handles map[string]bool) {
	// Leading blanks: four would start a code block.
	j := 0
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		if line[j] == '\t' {
			b.WriteString("\u00a0\u00a0\u00a0\u00a0")
		} else {
			b.WriteString("\u00a0")
		}
		j++
	}
	line = line[j:]
	// Line starts that make a list, a setext heading or a thematic break.
	if line != "" && strings.ContainsRune("-+=", rune(line[0])) {
		b.WriteByte('\\')
	}
	digits := 0
	for digits < len(line) && line[digits] >= '0' && line[digits] <= '9' {
		digits++
	}
	listAt := -1
	if digits > 0 && digits < len(line) && (line[digits] == '.' || line[digits] == ')') {
		listAt = digits
	}
	var prev rune
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t':
			b.WriteByte(' ')
		case isControl(r):
			// dropped: nothing invisible or terminal-moving gets through
		case i == listAt:
			b.WriteByte('\\')
			b.WriteRune(r)
		case strings.ContainsRune("\\`*_[]<>|$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' || r == '~':
			// hashtags, headings, channel links, strikethrough
			b.WriteRune(r)
			b.WriteString(zwsp)
		case r == '@' && !isWordRune(prev) && handles != nil:
			if h, ok := configuredHandle(line, i, handles); ok {
				b.WriteString("@" + h)
				size = 1 + len(h)
				r = rune(h[len(h)-1])
				break
			}
			writeBreakingLinks(b, line, i, r, prev)
		case wwwAt(line, i, prev):
			size = 3
			b.WriteString(line[i : i+3])
			b.WriteString(zwsp)
		default:
			writeBreakingLinks(b, line, i, r, prev)
		}
		prev = r
		i += size
	}
}

// writeBreakingLinks writes r, breaking a mention that starts at it or a
// URL scheme separator that would be autolinked.
func writeBreakingLinks(b *strings.Builder, s string, i int, r, prev rune) {
	b.WriteRune(r)
	switch {
	case r == '@' && !isWordRune(prev):
		b.WriteString(zwsp) // @channel, @all, @here, @someone
	case r == ':' && strings.HasPrefix(s[i+1:], "//"):
		b.WriteString(zwsp) // https://…
	}
}

// wwwAt reports whether a "www." that Mattermost would autolink starts at
// s[i]; the caller breaks it after the three w's.
func wwwAt(s string, i int, prev rune) bool {
	return !isWordRune(prev) && len(s) >= i+4 && strings.EqualFold(s[i:i+4], "www.")
}

// plainText makes s safe where Mattermost shows text without Markdown
// (button labels, field titles, notification fallbacks): one line, no
// control characters, no mention, no autolinked URL, and no link, image or
// tag syntax. Backslashes would show there, so invisible spaces break the
// syntax instead.
func plainText(s string) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
	var b strings.Builder
	var prev rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case wwwAt(s, i, prev):
			size = 3
			b.WriteString(s[i : i+3])
			b.WriteString(zwsp)
		case r == '<' || r == '!' || r == ']':
			// In case a client renders it after all: no HTML, no
			// Slack-style <!channel>, no [text](url) or ![image](url).
			b.WriteRune(r)
			b.WriteString(zwsp)
		default:
			writeBreakingLinks(&b, s, i, r, prev)
		}
		prev = r
		i += size
	}
	return b.String()
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// isControl is a control or format character other than a line break:
// C0, DEL, C1, and the bidirectional overrides that can make text read
// differently from how it is stored.
func isControl(r rune) bool {
	switch {
	case r == '\n':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
