package slack

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"

	"liaisonbot/bot"
)

// PostEventType is the message-metadata event type of the bot's posts. Its
// payload {"key": …} carries bot.Post.Key, so that after a crash the outbox
// can find in the channel's history a post Slack accepted but the bot never
// recorded, instead of posting it twice.
const PostEventType = "liaisonbot_post"

// Post sends a message to a channel (chat.postMessage), in a thread when
// ThreadRef is set.
func (a *Adapter) Post(ctx context.Context, p bot.Post) (bot.MessageRef, error) {
	if a.api == nil {
		return bot.MessageRef{}, errNoBotToken
	}
	opts := messageOptions(&p.Message)
	if p.ThreadRef != "" {
		opts = append(opts, slackapi.MsgOptionTS(p.ThreadRef))
	}
	if p.Key != "" {
		opts = append(opts, slackapi.MsgOptionMetadata(slackapi.SlackMetadata{
			EventType:    PostEventType,
			EventPayload: map[string]any{"key": p.Key},
		}))
	}
	var channel, ts string
	err := a.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		channel, ts, err = a.api.PostMessageContext(ctx, p.Channel, opts...)
		return err
	})
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("slack: post to %s: %w", p.Channel, err)
	}
	ref := bot.MessageRef{Platform: bot.Slack, Channel: channel, ID: ts}
	ref.Link = permalink(a.workspaceURL(ctx), channel, ts, p.ThreadRef)
	return ref, nil
}

// permalink is a message's web address in the shape chat.getPermalink
// gives, built here rather than asked for with a second call per post:
// https://<workspace>/archives/<channel>/p<ts without the dot>, and for a
// reply ?thread_ts=<root ts>&cid=<channel>, which opens the thread. ""
// when the workspace's address is unknown.
func permalink(web, channel, ts, threadTS string) string {
	if web == "" || channel == "" || ts == "" {
		return ""
	}
	link := web + "/archives/" + url.PathEscape(channel) + "/p" + strings.Replace(ts, ".", "", 1)
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + url.QueryEscape(threadTS) + "&cid=" + url.QueryEscape(channel)
	}
	return link
}

// PostEphemeral shows a message to one person in a channel
// (chat.postEphemeral); Slack keeps no copy to update later.
func (a *Adapter) PostEphemeral(ctx context.Context, channel, user string, m bot.Message) error {
	if a.api == nil {
		return errNoBotToken
	}
	opts := messageOptions(&m)
	err := a.retry(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("slack: ephemeral post to %s: %w", channel, err)
	}
	return nil
}

// Update replaces a message the bot posted (chat.update).
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if a.api == nil {
		return errNoBotToken
	}
	opts := messageOptions(&m)
	err := a.retry(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("slack: update %s/%s: %w", ref.Channel, ref.ID, err)
	}
	return nil
}

// messageOptions renders m for the Web API. Link and media previews are
// off: an imported URL must not make Slack fetch it and show its page.
func messageOptions(m *bot.Message) []slackapi.MsgOption {
	text, blocks := render(m)
	return []slackapi.MsgOption{
		slackapi.MsgOptionText(text, false),
		slackapi.MsgOptionBlocks(toSlack(blocks)...),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	}
}
