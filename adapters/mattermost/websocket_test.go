package mattermost

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
	"liaisonbot/bot/store/boltstore"
)

// summary renders events compactly for comparisons.
func summary(evs []bot.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s %s %q bot=%v role=%s\n", kindName(e.Kind), e.MessageID, e.Text, e.FromBot, e.Role)
	}
	return b.String()
}

func seen(evs []bot.Event, id string, kind bot.EventKind) bool {
	for _, e := range evs {
		if e.MessageID == id && e.Kind == kind {
			return true
		}
	}
	return false
}

// disconnect drops the bot's websocket and keeps it out, holding the
// adapter in its backoff wait until the returned function lets it go.
func disconnect(t *testing.T, w *world, r *running) (reconnect func()) {
	t.Helper()
	for len(r.waiter.calls) > 0 {
		<-r.waiter.calls
	}
	gate := make(chan struct{})
	r.waiter.close(gate)
	w.srv.SetWebsocketRefused(true)
	w.srv.DropWebsockets()
	<-r.waiter.calls // the adapter noticed and is waiting to reconnect
	if err := r.ad.Ready(); err == nil || !strings.Contains(err.Error(), "websocket disconnected") {
		t.Fatalf("Ready while disconnected = %v", err)
	}
	return func() {
		w.srv.SetWebsocketRefused(false)
		r.waiter.close(nil)
		close(gate)
		r.ready(t)
	}
}

func TestThreadRepliesArriveOnceAndInOrderAcrossADrop(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	ctx := context.Background()
	root, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Key: "incident-root", Message: bot.Message{Text: "INC-2026-0042 opened"}})
	if err != nil {
		t.Fatal(err)
	}
	r1 := w.srv.Post(w.guest.Id, w.shared.Id, root.ID, "On our way.")
	eventually(t, "the live reply", func() bool { return seen(r.events.all(), r1.Id, bot.EventPosted) })

	reconnect := disconnect(t, w, r)
	r2 := w.srv.Post(w.guest.Id, w.shared.Id, root.ID, "Arrived.")
	r3 := w.srv.Post(w.remote.Id, w.shared.Id, root.ID, "Perimeter set.")
	w.srv.Post(w.agent.Id, w.others.Id, "", "not a watched channel")
	reconnect()
	r4 := w.srv.Post(w.guest.Id, w.shared.Id, root.ID, "All clear.")
	eventually(t, "the reply after reconnecting", func() bool { return seen(r.events.all(), r4.Id, bot.EventPosted) })

	var got []bot.Event
	for _, e := range r.events.all() {
		if !e.FromBot {
			got = append(got, e)
		}
	}
	want := []*model.Post{r1, r2, r3, r4}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%s", len(got), len(want), summary(r.events.all()))
	}
	for i, p := range want {
		e := got[i]
		if e.MessageID != p.Id || e.Kind != bot.EventPosted || e.ThreadRef != root.ID || e.Channel != w.shared.Id ||
			e.Text != p.Message || e.Platform != bot.Mattermost || e.User.ID != p.UserId || e.Time.UnixMilli() != p.CreateAt {
			t.Errorf("event %d = %+v, want post %s %q", i, e, p.Id, p.Message)
		}
	}
	if got[0].User.Name != "sgt.lee" || got[1].User.Name != "sgt.lee" || got[2].User.Name != "officer" {
		t.Errorf("names: %q %q %q", got[0].User.Name, got[1].User.Name, got[2].User.Name)
	}
	if got[0].Role.String() != "partner:mpd" || got[2].Role.String() != "partner:mpd" {
		t.Errorf("roles: %s %s", got[0].Role, got[2].Role)
	}
	// The bot's own root post was seen, marked as the bot's: never mirrored.
	if !seen(r.events.all(), root.ID, bot.EventPosted) || !r.events.all()[0].FromBot {
		t.Errorf("bot post event:\n%s", summary(r.events.all()))
	}
	if err := contains(r.logs.String(), `"source":"catchup"`, `"post_id":"`+r2.Id+`"`); err != nil {
		t.Error(err)
	}
}

func TestEditsAndDeletesLiveAndWhileAway(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	a := w.srv.Post(w.guest.Id, w.shared.Id, "", "draft")
	b := w.srv.Post(w.guest.Id, w.shared.Id, "", "mistake")
	w.srv.Edit(a.Id, "final")
	eventually(t, "the live edit", func() bool { return seen(r.events.all(), a.Id, bot.EventEdited) })

	reconnect := disconnect(t, w, r)
	w.srv.Edit(a.Id, "final, edited while away")
	w.srv.Delete(b.Id)
	gone := w.srv.Post(w.guest.Id, w.shared.Id, "", "posted and deleted while away")
	w.srv.Delete(gone.Id)
	reconnect()

	evs := r.events.all()
	if !seen(evs, b.Id, bot.EventDeleted) {
		t.Fatalf("deletion while away missed:\n%s", summary(evs))
	}
	edits := 0
	for _, e := range evs {
		if e.MessageID == a.Id && e.Kind == bot.EventEdited {
			edits++
			if edits == 2 && e.Text != "final, edited while away" {
				t.Errorf("edit text %q", e.Text)
			}
		}
		if e.MessageID == gone.Id {
			t.Errorf("a post made and deleted while away was delivered: %+v", e)
		}
	}
	if edits != 2 {
		t.Fatalf("%d edits delivered, want 2:\n%s", edits, summary(evs))
	}
}

func TestCatchUpAfterRestart(t *testing.T) {
	w := newWorld(t)
	first := w.start(startOptions{})
	first.ready(t)
	p1 := w.srv.Post(w.guest.Id, w.internal.Id, "", "before the restart")
	eventually(t, "the first post", func() bool { return seen(first.events.all(), p1.Id, bot.EventPosted) })
	first.stop()

	p2 := w.srv.Post(w.guest.Id, w.internal.Id, p1.Id, "while the bot was stopped")
	second := w.start(startOptions{store: first.store})
	second.ready(t)
	evs := second.events.all()
	if len(evs) != 1 || evs[0].MessageID != p2.Id || evs[0].ThreadRef != p1.Id {
		t.Fatalf("after restart:\n%s", summary(evs))
	}
}

func TestMissedClassification(t *testing.T) {
	c := cursor{At: 1000, IDs: []string{"seen"}}
	post := func(id string, create, update, edit, del int64) *model.Post {
		return &model.Post{Id: id, CreateAt: create, UpdateAt: update, EditAt: edit, DeleteAt: del}
	}
	tests := []struct {
		name string
		p    *model.Post
		kind bot.EventKind
		ok   bool
	}{
		{"new", post("n", 1001, 1001, 0, 0), bot.EventPosted, true},
		{"new in the cursor's millisecond", post("n", 1000, 1000, 0, 0), bot.EventPosted, true},
		{"seen at the cursor", post("seen", 1000, 1000, 0, 0), 0, false},
		{"older", post("o", 900, 900, 0, 0), 0, false},
		{"root whose reply count changed", post("r", 900, 1500, 0, 0), 0, false},
		{"edited", post("e", 900, 1500, 1500, 0), bot.EventEdited, true},
		{"edited long ago, reacted to now", post("e", 800, 1500, 850, 0), 0, false},
		{"deleted", post("d", 900, 1500, 0, 1500), bot.EventDeleted, true},
		{"made and deleted while away", post("d", 1200, 1500, 0, 1500), 0, false},
		{"made and edited while away", post("m", 1200, 1500, 1500, 0), bot.EventPosted, true},
	}
	for _, tc := range tests {
		kind, ok := missed(tc.p, c)
		if ok != tc.ok || ok && kind != tc.kind {
			t.Errorf("%s: %v %v, want %v %v", tc.name, kindName(kind), ok, kindName(tc.kind), tc.ok)
		}
	}
}

func TestDeliverDeduplicates(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	p := &model.Post{Id: model.NewId(), ChannelId: w.shared.Id, UserId: w.guest.Id, Message: "hi", CreateAt: 5, UpdateAt: 5}
	r.ad.deliver(context.Background(), bot.EventPosted, p, "sgt.lee", "websocket")
	r.ad.deliver(context.Background(), bot.EventPosted, p, "", "catchup")
	edited := p.Clone()
	edited.EditAt, edited.UpdateAt, edited.Message = 9, 9, "hi!"
	r.ad.deliver(context.Background(), bot.EventEdited, edited, "", "websocket")
	join := &model.Post{Id: model.NewId(), ChannelId: w.shared.Id, UserId: w.guest.Id, Type: model.PostTypeJoinChannel, Message: "sgt.lee joined the channel.", CreateAt: 12, UpdateAt: 12}
	r.ad.deliver(context.Background(), bot.EventPosted, join, "", "websocket")
	if evs := r.events.all(); len(evs) != 2 || evs[1].Kind != bot.EventEdited {
		t.Fatalf("%s", summary(evs))
	}
	if r.ad.cursors[w.shared.Id].At != 12 {
		t.Errorf("cursor %+v did not move past the system post", r.ad.cursors[w.shared.Id])
	}
}

func TestOddEventsAreSkipped(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	for _, data := range []map[string]any{
		{"post": "not json"},
		{"post": 42},
		{"post": `{"id":"","channel_id":""}`},
		{},
	} {
		ev := model.NewWebSocketEvent(model.WebsocketEventPosted, "", w.shared.Id, "", nil, "")
		for k, v := range data {
			ev.Add(k, v)
		}
		w.srv.Broadcast(ev)
	}
	w.srv.Broadcast(model.NewWebSocketEvent(model.WebsocketEventTyping, "", w.shared.Id, "", nil, ""))
	p := w.srv.Post(w.guest.Id, w.shared.Id, "", "still listening")
	eventually(t, "the next good post", func() bool { return seen(r.events.all(), p.Id, bot.EventPosted) })
	if n := len(r.events.all()); n != 1 {
		t.Fatalf("%d events:\n%s", n, summary(r.events.all()))
	}
	if err := contains(r.logs.String(), "ignoring an undecodable post event"); err != nil {
		t.Error(err)
	}
}

// Replicas: the adapter of a replica made before any cursor was stored
// becomes the one that follows (its replica now leads) after another
// stopped. It catches up from where the other stopped, not from now.
func TestNewLeaderCatchesUpFromTheStoredCursor(t *testing.T) {
	w := newWorld(t)
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "shared.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	follower := w.start(startOptions{store: db, noRun: true})
	leader := w.start(startOptions{store: db})
	leader.ready(t)
	p1 := w.srv.Post(w.guest.Id, w.internal.Id, "", "seen by the first leader")
	eventually(t, "the first post", func() bool { return seen(leader.events.all(), p1.Id, bot.EventPosted) })
	leader.stop()

	p2 := w.srv.Post(w.guest.Id, w.internal.Id, p1.Id, "while no replica led")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = follower.ad.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	follower.ready(t)
	evs := follower.events.all()
	if len(evs) != 1 || evs[0].MessageID != p2.Id {
		t.Fatalf("the new leader delivered:\n%s", summary(evs))
	}
}
