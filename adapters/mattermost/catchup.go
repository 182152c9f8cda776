package mattermost

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// sincePageSize is how many posts the server returns at most for a
// "since" query; a full page means there may be more, fetched in up to
// maxCatchupRun queries.
const (
	sincePageSize = 1000
	maxCatchupRun = 100
)

// catchUp delivers, for every watched channel, the posts made or changed
// since the last one seen: those made while the websocket was down or the
// bot was stopped. It runs after each (re)connection, before live events
// are handled, so the mux sees them in time order.
func (a *Adapter) catchUp(ctx context.Context) error {
	channels := make([]string, 0, len(a.watched))
	for ch := range a.watched {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	for _, ch := range channels {
		a.mu.Lock()
		c := a.cursors[ch]
		a.mu.Unlock()
		if c == nil {
			// First start: nothing was missed; follow from now on.
			a.initCursor(ctx, ch, time.Now().UnixMilli())
			continue
		}
		if err := a.catchUpChannel(ctx, ch, cursor{At: c.At, IDs: slices.Clone(c.IDs)}); err != nil {
			return err
		}
	}
	return nil
}

func (a *Adapter) catchUpChannel(ctx context.Context, ch string, c cursor) error {
	// One millisecond back, so posts made in the cursor's own millisecond
	// but not seen are included; the cursor's ids exclude those seen.
	since := max(c.At-1, 0)
	for run := 0; run < maxCatchupRun; run++ {
		var list *model.PostList
		err := a.call(ctx, "get posts since", func(ctx context.Context) (r *model.Response, err error) {
			list, r, err = a.client.GetPostsSince(ctx, ch, since, false)
			return r, err
		})
		if statusIs(err, http.StatusForbidden) || statusIs(err, http.StatusNotFound) {
			a.log.Warn("cannot read a watched channel to catch up; add the bot account to it", "channel", ch, "err", err)
			return nil
		}
		if err != nil {
			return err
		}
		posts := make([]*model.Post, 0, len(list.Posts))
		for _, p := range list.Posts {
			if p != nil && p.ChannelId == ch {
				posts = append(posts, p)
			}
		}
		slices.SortFunc(posts, func(x, y *model.Post) int {
			return cmp.Or(cmp.Compare(modTime(x), modTime(y)), cmp.Compare(x.CreateAt, y.CreateAt), cmp.Compare(x.Id, y.Id))
		})
		newest := since
		for _, p := range posts {
			newest = max(newest, modTime(p))
			if kind, ok := missed(p, c); ok {
				a.deliver(ctx, kind, p, "", "catchup")
			}
		}
		if len(list.Posts) < sincePageSize || newest <= since {
			return nil
		}
		since = newest - 1
	}
	a.log.Warn("catch-up stopped after many pages; some older changes may not be delivered", "channel", ch)
	return nil
}

// initCursor starts following a channel at a time. The local clock stands
// in for the server's until the first post moves the cursor.
func (a *Adapter) initCursor(ctx context.Context, ch string, at int64) {
	a.mu.Lock()
	a.cursors[ch] = &cursor{At: at}
	a.mu.Unlock()
	if err := a.saveCursor(ctx, ch, cursor{At: at}); err != nil {
		a.log.Error("cannot store how far a channel was read", "channel", ch, "err", err)
	}
}

// missed classifies a post returned by a since query against the cursor:
// new since the cursor (posted), an edit or deletion of one seen before,
// or nothing to tell (already seen; only its reply count or reactions
// changed; made and deleted while the bot was away).
func missed(p *model.Post, c cursor) (bot.EventKind, bool) {
	t := modTime(p)
	seenAtCursor := slices.Contains(c.IDs, p.Id)
	if t < c.At || (t == c.At && seenAtCursor) {
		return 0, false
	}
	known := p.CreateAt < c.At || (p.CreateAt == c.At && seenAtCursor)
	switch {
	case p.DeleteAt > 0:
		return bot.EventDeleted, known
	case !known:
		return bot.EventPosted, true
	case p.EditAt > 0 && p.EditAt >= c.At:
		return bot.EventEdited, true
	}
	return 0, false
}
