package slack

import (
	"strconv"

	slackapi "github.com/slack-go/slack"

	"liaisonbot/internal/jsonenc"
)

// JSON of answers, written by hand: it is on the path of every command, and
// encoding/json walking slack-go's block interfaces cost as much as the
// directory look-up itself. toSlack gives the same blocks as slack-go
// values for the Web API, and a test holds the two encodings equal.

// MarshalJSON writes the reply as Slack takes it.
func (r reply) MarshalJSON() ([]byte, error) { return r.appendJSON(make([]byte, 0, 2048)), nil }

func (r reply) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if r.ResponseType != "" {
		b = append(b, `"response_type":`...)
		b = jsonenc.AppendString(b, r.ResponseType)
		b = append(b, ',')
	}
	b = append(b, `"text":`...)
	if r.textJSON != nil && r.Text == r.textOf {
		b = append(b, r.textJSON...)
	} else {
		b = jsonenc.AppendString(b, r.Text)
	}
	switch {
	case len(r.blocksJSON) > 0:
		b = append(b, `,"blocks":`...)
		b = append(b, r.blocksJSON...)
	case len(r.Blocks) > 0:
		b = append(b, `,"blocks":`...)
		b = appendBlocks(b, r.Blocks)
	}
	if r.ReplaceOriginal != nil {
		b = append(b, `,"replace_original":`...)
		b = strconv.AppendBool(b, *r.ReplaceOriginal)
	}
	return append(b, '}')
}

// MarshalJSON writes one block.
func (bl block) MarshalJSON() ([]byte, error) { return bl.appendJSON(nil), nil }

func appendBlocks(b []byte, blocks []block) []byte {
	b = append(b, '[')
	for i, bl := range blocks {
		if i > 0 {
			b = append(b, ',')
		}
		b = bl.appendJSON(b)
	}
	return append(b, ']')
}

func (bl block) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = jsonenc.AppendString(b, bl.Kind)
	switch bl.Kind {
	case kindHeader:
		b = append(b, `,"text":`...)
		b = appendPlain(b, bl.Text)
	case kindSection:
		if bl.Text != "" {
			b = append(b, `,"text":`...)
			b = appendMrkdwn(b, bl.Text)
		}
		if len(bl.Fields) > 0 {
			b = append(b, `,"fields":[`...)
			for i, f := range bl.Fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendMrkdwn(b, f)
			}
			b = append(b, ']')
		}
	case kindActions:
		b = append(b, `,"elements":[`...)
		for i, btn := range bl.Buttons {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"button","text":`...)
			b = appendPlain(b, btn.Text)
			b = append(b, `,"action_id":`...)
			b = jsonenc.AppendString(b, btn.ActionID)
			b = append(b, `,"value":`...)
			b = jsonenc.AppendString(b, btn.Value)
			if btn.Primary {
				b = append(b, `,"style":"primary"`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	case kindContext:
		b = append(b, `,"elements":[`...)
		b = appendMrkdwn(b, bl.Text)
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendPlain writes a plain_text object; emoji names like :warning: show
// as emoji.
func appendPlain(b []byte, s string) []byte {
	b = append(b, `{"type":"plain_text","text":`...)
	b = jsonenc.AppendString(b, s)
	return append(b, `,"emoji":true}`...)
}

// appendMrkdwn writes a verbatim mrkdwn object: Slack applies the formatting
// the bot wrote but does not turn bare URLs or #names into links.
func appendMrkdwn(b []byte, s string) []byte {
	b = append(b, `{"type":"mrkdwn","text":`...)
	b = jsonenc.AppendString(b, s)
	return append(b, `,"verbatim":true}`...)
}

// toSlack gives the blocks as slack-go values, for chat.postMessage,
// chat.postEphemeral and chat.update.
func toSlack(blocks []block) []slackapi.Block {
	out := make([]slackapi.Block, 0, len(blocks))
	plain := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
	}
	mrkdwn := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, true)
	}
	for _, bl := range blocks {
		switch bl.Kind {
		case kindHeader:
			out = append(out, slackapi.NewHeaderBlock(plain(bl.Text)))
		case kindSection:
			var text *slackapi.TextBlockObject
			if bl.Text != "" {
				text = mrkdwn(bl.Text)
			}
			var fields []*slackapi.TextBlockObject
			for _, f := range bl.Fields {
				fields = append(fields, mrkdwn(f))
			}
			out = append(out, slackapi.NewSectionBlock(text, fields, nil))
		case kindDivider:
			out = append(out, slackapi.NewDividerBlock())
		case kindActions:
			var elems []slackapi.BlockElement
			for _, btn := range bl.Buttons {
				e := slackapi.NewButtonBlockElement(btn.ActionID, btn.Value, plain(btn.Text))
				if btn.Primary {
					e.Style = slackapi.StylePrimary
				}
				elems = append(elems, e)
			}
			out = append(out, slackapi.NewActionBlock("", elems...))
		case kindContext:
			out = append(out, slackapi.NewContextBlock("", mrkdwn(bl.Text)))
		}
	}
	return out
}
