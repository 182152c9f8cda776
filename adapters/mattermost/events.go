package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// maxPostJSON bounds data.post; a post is at most 16383 runes plus props.
const maxPostJSON = 1 << 20

// eventKind maps the websocket events the bot follows.
func eventKind(t model.WebsocketEventType) (bot.EventKind, bool) {
	switch t {
	case model.WebsocketEventPosted:
		return bot.EventPosted, true
	case model.WebsocketEventPostEdited:
		return bot.EventEdited, true
	case model.WebsocketEventPostDeleted:
		return bot.EventDeleted, true
	}
	return 0, false
}

// decodePostEvent reads the post out of a posted, post_edited or
// post_deleted event: data.post is the post as a JSON string, and
// data.sender_name (posted only) the author's display name.
func decodePostEvent(ev *model.WebSocketEvent) (*model.Post, string, error) {
	data := ev.GetData()
	raw, ok := data["post"].(string)
	if !ok {
		return nil, "", errors.New("event without data.post")
	}
	if len(raw) > maxPostJSON {
		return nil, "", fmt.Errorf("data.post is %d bytes", len(raw))
	}
	var p model.Post
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, "", fmt.Errorf("decode data.post: %w", err)
	}
	if p.Id == "" || p.ChannelId == "" {
		return nil, "", errors.New("data.post without id or channel_id")
	}
	sender, _ := data["sender_name"].(string)
	return &p, strings.TrimPrefix(sender, "@"), nil
}

// modTime is when a post version was made: its creation, last edit or
// deletion, in the server's milliseconds.
func modTime(p *model.Post) int64 {
	return max(p.CreateAt, p.UpdateAt, p.EditAt, p.DeleteAt)
}

// handleEvent delivers a live websocket event from a watched channel.
func (a *Adapter) handleEvent(ctx context.Context, ev *model.WebSocketEvent) {
	kind, ok := eventKind(ev.EventType())
	if !ok {
		return
	}
	p, sender, err := decodePostEvent(ev)
	if err != nil {
		a.log.Warn("ignoring an undecodable post event", "event", string(ev.EventType()), "err", err)
		return
	}
	if !a.watched[p.ChannelId] {
		return
	}
	a.deliver(ctx, kind, p, sender, "websocket")
}

// deliver dispatches one post version to the mux, once: the same version
// seen over the websocket and in a catch-up is delivered the first time
// only. Then it moves the channel's cursor.
func (a *Adapter) deliver(ctx context.Context, kind bot.EventKind, p *model.Post, sender, source string) {
	key := p.Id + "@" + strconv.FormatInt(modTime(p), 10)
	a.mu.Lock()
	dup := a.seen.has(key)
	a.seen.add(key)
	botID := a.botID
	a.mu.Unlock()
	if dup {
		return
	}
	if strings.HasPrefix(p.Type, model.PostSystemMessagePrefix) {
		// "alice joined the channel" and the like: nobody said anything.
		a.advance(ctx, p)
		return
	}
	e := bot.Event{
		Kind: kind, Platform: bot.Mattermost, Channel: p.ChannelId, ThreadRef: p.RootId,
		MessageID: p.Id, User: bot.User{ID: p.UserId, Name: sender},
		FromBot: p.UserId == botID || fromBot(p), Text: p.Message,
		Time: time.UnixMilli(p.CreateAt),
	}
	if !e.FromBot {
		e.Role = a.role(ctx, p.UserId, p.ChannelId)
		if e.User.Name == "" {
			if u, err := a.user(ctx, p.UserId); err == nil {
				e.User.Name = u.name
			}
		}
	}
	if err := a.mux.DispatchEvent(ctx, e); err != nil {
		a.log.Error("event handler failed", "post_id", p.Id, "channel", p.ChannelId, "err", err)
	}
	a.log.Debug("mattermost event", "source", source, "kind", kindName(kind), "channel", p.ChannelId,
		"post_id", p.Id, "root_id", p.RootId, "user", p.UserId, "from_bot", e.FromBot)
	a.advance(ctx, p)
}

func fromBot(p *model.Post) bool {
	switch v := p.GetProp(model.PostPropsFromBot).(type) {
	case string:
		return v == "true"
	case bool:
		return v
	}
	return false
}

func kindName(k bot.EventKind) string {
	switch k {
	case bot.EventEdited:
		return "edited"
	case bot.EventDeleted:
		return "deleted"
	}
	return "posted"
}

// advance moves the channel's cursor past a delivered post and stores it.
func (a *Adapter) advance(ctx context.Context, p *model.Post) {
	t := modTime(p)
	a.mu.Lock()
	c := a.cursors[p.ChannelId]
	if c == nil {
		c = &cursor{}
		a.cursors[p.ChannelId] = c
	}
	switch {
	case t > c.At:
		c.At, c.IDs = t, []string{p.Id}
	case t == c.At && !slices.Contains(c.IDs, p.Id) && len(c.IDs) < cursorMaxIDs:
		c.IDs = append(c.IDs, p.Id)
	default:
		a.mu.Unlock()
		return
	}
	snap := cursor{At: c.At, IDs: slices.Clone(c.IDs)}
	a.mu.Unlock()
	if err := a.saveCursor(ctx, p.ChannelId, snap); err != nil {
		a.log.Error("cannot store how far a channel was read; a restart may deliver some posts again", "channel", p.ChannelId, "err", err)
	}
}

// seenSet remembers the last post versions delivered, oldest forgotten first.
type seenSet struct {
	max   int
	keys  map[string]bool
	order []string
}

func newSeenSet(n int) *seenSet { return &seenSet{max: n, keys: map[string]bool{}} }

func (s *seenSet) has(k string) bool { return s.keys[k] }

func (s *seenSet) add(k string) {
	if s.keys[k] {
		return
	}
	if len(s.order) >= s.max {
		delete(s.keys, s.order[0])
		s.order = s.order[1:]
	}
	s.keys[k] = true
	s.order = append(s.order, k)
}
