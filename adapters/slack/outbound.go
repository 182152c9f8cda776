package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"liaisonbot/bot"
)

var _ bot.PostFinder = (*Adapter)(nil)

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
		return bot.MessageRef{}, fmt.Errorf("slack: post to %s: %w", p.Channel, refusal(err))
	}
	ref := bot.MessageRef{Platform: bot.Slack, Channel: channel, ID: ts}
	ref.Link = permalink(a.workspaceURL(ctx), channel, ts, p.ThreadRef)
	return ref, nil
}

// findPages bounds how many pages of 200 messages FindPost reads.
const findPages = 5

// FindPost looks for a post carrying p.Key in its metadata, made at or after
// since, among the channel's messages (conversations.history) or the
// thread's (conversations.replies): the outbox asks before resending a post
// an earlier attempt may have made, since Slack does not deduplicate. Up to
// findPages pages of 200 are read. When Slack refuses the look-up (a missing scope, a
// channel the bot cannot read), the answer is "not found": the post then
// goes at most twice, never zero times.
func (a *Adapter) FindPost(ctx context.Context, p bot.Post, since time.Time) (bot.MessageRef, bool, error) {
	if a.api == nil {
		return bot.MessageRef{}, false, errNoBotToken
	}
	if p.Key == "" {
		return bot.MessageRef{}, false, nil
	}
	oldest := strconv.FormatInt(since.Unix(), 10) + ".000000"
	var msgs []slackapi.Message
	method := "conversations.history"
	if p.ThreadRef != "" {
		method = "conversations.replies"
	}
	// No a.retry: these methods may be limited to one call a minute (apps
	// outside the Marketplace), and a 429 goes back to the outbox with
	// Slack's Retry-After rather than holding its dispatcher. The history
	// comes newest first: in a busy channel the post may be a few pages
	// back, so up to findPages pages are read.
	err := func() error {
		cursor := ""
		for range findPages {
			var more bool
			var err error
			var page []slackapi.Message
			if p.ThreadRef != "" {
				page, more, cursor, err = a.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
					ChannelID: p.Channel, Timestamp: p.ThreadRef, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
			} else {
				var h *slackapi.GetConversationHistoryResponse
				h, err = a.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
					ChannelID: p.Channel, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
				if h != nil {
					page, more, cursor = h.Messages, h.HasMore, h.ResponseMetaData.NextCursor
				}
			}
			msgs = append(msgs, page...)
			if err != nil || !more || cursor == "" {
				return err
			}
		}
		return nil
	}()
	if wait, limited := rateLimited(err); limited {
		return bot.MessageRef{}, false, retryLater{fmt.Errorf("slack: %s for post %s: %w", method, p.Key, err), wait}
	}
	if err != nil {
		var refused slackapi.SlackErrorResponse
		if errors.As(err, &refused) {
			a.log.WarnContext(ctx, "cannot look for an earlier attempt's post; sending it again", "method", method, "channel", p.Channel, "err", err)
			return bot.MessageRef{}, false, nil
		}
		return bot.MessageRef{}, false, fmt.Errorf("slack: look for post %s in %s: %w", p.Key, p.Channel, err)
	}
	for _, m := range msgs {
		if m.Metadata.EventType == PostEventType && fmt.Sprint(m.Metadata.EventPayload["key"]) == p.Key {
			ref := bot.MessageRef{Platform: bot.Slack, Channel: p.Channel, ID: m.Timestamp}
			ref.Link = permalink(a.workspaceURL(ctx), p.Channel, m.Timestamp, p.ThreadRef)
			return ref, true, nil
		}
	}
	return bot.MessageRef{}, false, nil
}

// refusal marks an error Slack answered with (ok:false, or still rate
// limited) as bot.ErrNotPosted: the message was certainly not posted. A
// timeout or a dropped connection stays as it is: Slack may have posted.
func refusal(err error) error {
	var refused slackapi.SlackErrorResponse
	if _, limited := rateLimited(err); limited || errors.As(err, &refused) {
		return notPosted{err}
	}
	return err
}

// retryLater carries Slack's Retry-After to the outbox (outbox.RetryAfter).
type retryLater struct {
	error
	after time.Duration
}

func (r retryLater) Unwrap() error             { return r.error }
func (r retryLater) RetryAfter() time.Duration { return r.after }

type notPosted struct{ error }

func (n notPosted) Unwrap() error        { return n.error }
func (n notPosted) Is(target error) bool { return target == bot.ErrNotPosted }

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
