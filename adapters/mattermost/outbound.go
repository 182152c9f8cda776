package mattermost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

var errNoClient = errors.New("mattermost: no bot token: set MATTERMOST_URL and MATTERMOST_BOT_TOKEN to post")

// Post sends a message to a channel, as a reply in the thread rooted at
// ThreadRef when set. Post.Key becomes the pending_post_id, so when the
// outbox resends a post whose first attempt the server did receive (the
// answer was lost), the server returns the post it made instead of making
// a second one.
func (a *Adapter) Post(ctx context.Context, p bot.Post) (bot.MessageRef, error) {
	if a.client == nil {
		return bot.MessageRef{}, errNoClient
	}
	post := a.post(p.Channel, p.ThreadRef, &p.Message)
	post.PendingPostId = pendingPostID(p.Key)
	var created *model.Post
	err := a.call(ctx, "create post", func(ctx context.Context) (r *model.Response, err error) {
		created, r, err = a.client.CreatePost(ctx, post)
		return r, err
	})
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("mattermost: post to %s: %w", p.Channel, err)
	}
	return bot.MessageRef{Platform: bot.Mattermost, Channel: created.ChannelId, ID: created.Id, Link: a.permalink(created.Id)}, nil
}

// permalink is a post's web address, <MATTERMOST_URL>/<team name>/pl/<post
// id>: it opens the post, in its thread, in whichever team's channel it is.
// The team is MATTERMOST_TEAM, by the name the server gave at start, or as
// configured when it is not an id and start has not resolved it yet. ""
// when there is no team name to use.
func (a *Adapter) permalink(postID string) string {
	a.mu.Lock()
	team := a.teamName
	a.mu.Unlock()
	if configured := a.cfg.Mattermost.Team; team == "" && !model.IsValidId(configured) {
		team = configured
	}
	if a.server == nil || team == "" || postID == "" {
		return ""
	}
	return strings.TrimRight(a.server.String(), "/") + "/" + url.PathEscape(team) + "/pl/" + url.PathEscape(postID)
}

// PostEphemeral shows a message to one user in a channel, and to no one
// else. Mattermost allows it only to accounts with the
// create_post_ephemeral permission (system admins, by default).
func (a *Adapter) PostEphemeral(ctx context.Context, channel, user string, m bot.Message) (bot.MessageRef, error) {
	if a.client == nil {
		return bot.MessageRef{}, errNoClient
	}
	eph := &model.PostEphemeral{UserID: user, Post: a.post(channel, "", &m)}
	var created *model.Post
	err := a.call(ctx, "create ephemeral post", func(ctx context.Context) (r *model.Response, err error) {
		created, r, err = a.client.CreatePostEphemeral(ctx, eph)
		return r, err
	})
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("mattermost: ephemeral post to %s: %w", channel, err)
	}
	return bot.MessageRef{Platform: bot.Mattermost, Channel: channel, ID: created.Id}, nil
}

// Update replaces the message and attachments of a post the bot made.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if a.client == nil {
		return errNoClient
	}
	r := a.render(&m)
	atts := r.Attachments
	if atts == nil {
		atts = []*model.MessageAttachment{} // clears the old ones
	}
	props := model.StringInterface{model.PostPropsAttachments: atts}
	patch := &model.PostPatch{Message: &r.Text, Props: &props}
	err := a.call(ctx, "patch post", func(ctx context.Context) (r *model.Response, err error) {
		_, r, err = a.client.PatchPost(ctx, ref.ID, patch)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("mattermost: update post %s: %w", ref.ID, err)
	}
	return nil
}

// pendingPostID derives a stable pending_post_id from an outbox key; a
// post without a key gets none and is never deduplicated.
func pendingPostID(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("liaisonbot/" + key))
	return "lb" + hex.EncodeToString(sum[:12])
}
