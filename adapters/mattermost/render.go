package mattermost

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// sectionColor is the accent bar of a section's attachment.
const sectionColor = "#1E325C"

// shortField is the longest value shown half-width, two fields a row.
const shortField = 40

// rendered is a bot.Message in Mattermost's terms: Markdown text and
// message attachments (props.attachments).
type rendered struct {
	Text        string
	Attachments []*model.MessageAttachment
}

// render turns a Message into Markdown and attachments: the title in bold
// and the text as the post's message, one attachment per section (title,
// text, fields), one holding the buttons, and the footer last. Every
// string is escaped: it is plain text that may come from anyone.
func (a *Adapter) render(m *bot.Message) rendered {
	var r rendered
	for i, s := range m.Sections {
		att := &model.MessageAttachment{
			Fallback: plainText(s.Title),
			Color:    sectionColor,
			Title:    a.md(strings.TrimSpace(s.Title)),
			Text:     a.md(s.Text),
		}
		if att.Fallback == "" {
			att.Fallback = "Section " + strconv.Itoa(i+1)
		}
		for _, f := range s.Fields {
			att.Fields = append(att.Fields, &model.MessageAttachmentField{
				Title: plainText(f.Label),
				Value: a.fieldValue(f),
				Short: model.SlackCompatibleBool(utf8.RuneCountInString(f.Value) <= shortField && !strings.Contains(f.Value, "\n")),
			})
		}
		r.Attachments = append(r.Attachments, att)
	}
	var lines []string
	if m.Title != "" {
		lines = append(lines, "**"+a.md(strings.TrimSpace(m.Title))+"**")
	}
	if m.Text != "" {
		lines = append(lines, a.md(m.Text))
	}
	if len(m.Buttons) > 0 {
		if a.cfg.PublicURL != "" {
			r.Attachments = append(r.Attachments, a.buttons(m.Buttons))
		} else {
			// Without a public URL Mattermost cannot call the buttons
			// back: say what to type instead.
			for _, b := range m.Buttons {
				lines = append(lines, "• "+a.md(b.Label)+": /"+a.md(a.cfg.Command+" "+b.Command))
			}
		}
	}
	if m.Footer != "" {
		footer := "_" + a.md(strings.TrimSpace(m.Footer)) + "_"
		if len(r.Attachments) > 0 {
			r.Attachments = append(r.Attachments, &model.MessageAttachment{Fallback: plainText(m.Footer), Text: footer})
		} else {
			lines = append(lines, footer)
		}
	}
	if m.Error && len(lines) > 0 {
		lines[0] = ":warning: " + lines[0]
	}
	r.Text = strings.Join(lines, "\n")
	return r
}

// fieldValue is a field's escaped value; one with a URL is a link,
// [Value](url).
func (a *Adapter) fieldValue(f bot.Field) string {
	if link, ok := linkTarget(f.URL); ok && f.Value != "" && !strings.Contains(f.Value, "\n") {
		return "[" + a.md(f.Value) + "](" + link + ")"
	}
	return a.md(f.Value)
}

// linkTarget checks a URL the bot made (a permalink) before it becomes a
// Markdown link's destination: http or https, and none of the characters
// that would end the destination or need escaping in it.
func linkTarget(raw string) (string, bool) {
	if raw == "" || strings.ContainsAny(raw, "()<>[]\\ \t\n\r\"'`") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	return raw, true
}

// md escapes user text, keeping mentions of the configured handles.
func (a *Adapter) md(s string) string { return escapeMarkdownAllowing(s, a.handles) }

// buttons is the attachment holding interactive buttons. Each carries, in
// its integration context, the command line it runs and a signature, so
// /mattermost/actions runs only command lines the bot itself offered.
func (a *Adapter) buttons(bs []bot.Button) *model.MessageAttachment {
	att := &model.MessageAttachment{Fallback: "Choose: " + plainText(bs[0].Label)}
	for _, b := range bs {
		style := "default"
		if b.Primary {
			style = "primary"
		}
		att.Actions = append(att.Actions, &model.PostAction{
			Type:  model.PostActionTypeButton,
			Name:  plainText(b.Label),
			Style: style,
			Integration: &model.PostActionIntegration{
				URL:     a.cfg.PublicURL + ActionsPath,
				Context: map[string]any{"command": b.Command, "sig": a.sign(b.Command)},
			},
		})
	}
	return att
}

// commandResponse is the answer to a slash command. Slack-compatible
// parsing is off: "<!channel>" and "<url|text>" must stay text.
func (a *Adapter) commandResponse(m *bot.Message) *model.CommandResponse {
	r := a.render(m)
	resp := &model.CommandResponse{
		ResponseType:     model.CommandResponseTypeEphemeral,
		Text:             r.Text,
		SkipSlackParsing: true,
	}
	if m.Visibility == bot.InChannel {
		resp.ResponseType = model.CommandResponseTypeInChannel
	}
	if len(r.Attachments) > 0 {
		resp.Props = model.StringInterface{model.PostPropsAttachments: r.Attachments}
	}
	return resp
}

// post is a Message as a new post for the REST API.
func (a *Adapter) post(channel, root string, m *bot.Message) *model.Post {
	r := a.render(m)
	p := &model.Post{ChannelId: channel, RootId: root, Message: r.Text}
	if len(r.Attachments) > 0 {
		p.AddProp(model.PostPropsAttachments, r.Attachments)
	}
	return p
}

// flatten renders a Message as Markdown text alone, for the places that
// take no attachments (a button's ephemeral_text): sections become bold
// headings with "label: value" lines.
func (a *Adapter) flatten(m *bot.Message) string {
	r := a.render(&bot.Message{Title: m.Title, Text: m.Text, Error: m.Error})
	parts := []string{}
	if r.Text != "" {
		parts = append(parts, r.Text)
	}
	for _, s := range m.Sections {
		var lines []string
		if t := strings.TrimSpace(s.Title); t != "" {
			lines = append(lines, "**"+a.md(t)+"**")
		}
		if s.Text != "" {
			lines = append(lines, a.md(s.Text))
		}
		for _, f := range s.Fields {
			lines = append(lines, a.md(f.Label+": ")+a.fieldValue(f))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	for _, b := range m.Buttons {
		parts = append(parts, "• "+a.md(b.Label)+": /"+a.md(a.cfg.Command+" "+b.Command))
	}
	if m.Footer != "" {
		parts = append(parts, "_"+a.md(strings.TrimSpace(m.Footer))+"_")
	}
	return strings.Join(parts, "\n\n")
}
