package bot

import (
	"context"
	"errors"
	"time"
)

// Adapter connects one chat platform. It decodes inbound payloads into
// Requests (served by a Mux) and Events, and sends posts that are not direct
// answers: incident threads, mirrors, digests, nudges.
type Adapter interface {
	// Platform is the adapter's name in channel references: "slack", "mattermost", "console".
	Platform() string
	// Run receives from the platform until ctx ends or the connection fails for good.
	Run(ctx context.Context) error
	// Post sends a message to a channel, in a thread when ThreadRef is set.
	Post(ctx context.Context, p Post) (MessageRef, error)
	// Update replaces a message the bot posted earlier.
	Update(ctx context.Context, ref MessageRef, m Message) error
}

// PostFinder is an Adapter whose platform does not deduplicate a resent
// post by itself (Slack). FindPost looks in p's channel, or p's thread, for
// a post made at or after since that carries p.Key. The outbox asks before
// sending again a post an earlier attempt may have made (a crash between the
// platform's answer and the outbox's record of it, a timeout), so that it
// is not posted twice (SPEC §7). When the platform refuses the look-up
// (a missing scope), FindPost answers not found: the post then goes at most
// twice, never zero times.
type PostFinder interface {
	FindPost(ctx context.Context, p Post, since time.Time) (MessageRef, bool, error)
}

// ErrNotPosted is matched (errors.Is) by a Post error the platform
// certainly did not act on (it answered with a refusal or a rate limit):
// the next attempt need not look for the post first.
var ErrNotPosted = errors.New("not posted")

// Post is a message to send to a channel.
type Post struct {
	Channel   string
	ThreadRef string
	Message   Message
	// Key identifies the post across retries, so a platform that can
	// deduplicate (Mattermost's pending_post_id, Slack metadata) does.
	Key string
}

// MessageRef names a message on its platform.
type MessageRef struct {
	Platform string
	Channel  string
	ID       string // Slack ts, Mattermost post id, console sequence
	// Link is a permalink a person can click to open the message (and its
	// thread), "" when the platform has none (the console).
	Link string
}

// EventHandler receives Events from adapters.
type EventHandler interface {
	HandleEvent(ctx context.Context, e Event) error
}

// Readiness is implemented by adapters that hold a connection (Socket Mode,
// a websocket): /readyz reports the ones not ready, with their reason.
type Readiness interface {
	Ready() error
}
