package slack

import "strings"

// unescaper undoes the escaping Slack applies to what people type: it sends
// &, < and > as entities, keeping the bare < and > for its own markup.
var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// plainText turns text as Slack sends it (in a slash command, a message
// event) into the plain text a bot.Request or bot.Event holds: Slack's markup
// becomes what the person saw, entities become characters. So a query for
// "Bosnia &amp; Herzegovina" finds the mission, and a mirrored message that
// mentioned <!channel> says "@channel" and, escaped again on the way out,
// notifies nobody.
//
//	<@U123|lee>  → @lee       <@U123> → @U123
//	<#C123|ops>  → #ops       <!here> → @here
//	<!subteam^S1|@watch> → @watch
//	<https://x.gov|site> → site (https://x.gov)     <https://x.gov> → https://x.gov
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			break
		}
		b.WriteString(unescaper.Replace(s[:open]))
		b.WriteString(markup(s[open+1 : open+end]))
		s = s[open+end+1:]
	}
	b.WriteString(unescaper.Replace(s))
	return b.String()
}

// markup renders the inside of one <…> as text.
func markup(m string) string {
	target, label, hasLabel := strings.Cut(m, "|")
	label = unescaper.Replace(label)
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if hasLabel && label != "" {
			return target[:1] + strings.TrimPrefix(label, target[:1])
		}
		return target
	case strings.HasPrefix(target, "!"):
		if hasLabel && label != "" {
			return label // <!subteam^S1|@watch>, <!date^…|fallback>
		}
		word, _, _ := strings.Cut(target[1:], "^")
		return "@" + word // <!here>, <!channel>, <!everyone>
	default:
		target = unescaper.Replace(target)
		if hasLabel && label != "" && label != target {
			return label + " (" + target + ")"
		}
		return target
	}
}
