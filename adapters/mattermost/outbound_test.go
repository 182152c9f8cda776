package mattermost

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
)

func TestPostsAndThreadedReplies(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	ctx := context.Background()
	root, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Key: "outbox-1", Message: bot.Message{
		Visibility: bot.InChannel, Title: "INC-2026-0042 opened",
		Sections: []bot.Section{{Title: "Embassy of Canada", Fields: []bot.Field{{Label: "Severity", Value: "2"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, ThreadRef: root.ID, Key: "outbox-2", Message: bot.Message{Text: "Units on scene."}})
	if err != nil {
		t.Fatal(err)
	}
	if root.Platform != bot.Mattermost || root.Channel != w.shared.Id || reply.ID == root.ID {
		t.Fatalf("refs %+v %+v", root, reply)
	}
	posts := w.srv.Posts()
	if len(posts) != 2 || posts[1].RootId != root.ID || posts[0].RootId != "" || posts[1].Message != "Units on scene\\." && posts[1].Message != "Units on scene." {
		t.Fatalf("posts: %+v %+v", posts[0], posts[1])
	}
	if mmtest.Actions(posts[0].GetProps()) != nil || posts[0].GetProp("attachments") == nil {
		t.Errorf("root post props %v", posts[0].GetProps())
	}

	// The request has the shape of posts.yaml CreatePost.
	req := w.srv.RequestsTo(http.MethodPost, "/api/v4/posts")[1]
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["channel_id"] != w.shared.Id || body["root_id"] != root.ID || body["message"] == "" || body["pending_post_id"] == "" {
		t.Fatalf("create post body %s", req.Body)
	}

	// A resend of the same outbox entry (its answer was lost) gets the same
	// post back: the server deduplicates by pending_post_id.
	again, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, ThreadRef: root.ID, Key: "outbox-2", Message: bot.Message{Text: "Units on scene."}})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != reply.ID || len(w.srv.Posts()) != 2 {
		t.Fatalf("resend made a second post: %s vs %s, %d posts", again.ID, reply.ID, len(w.srv.Posts()))
	}
}

func TestUpdateAndEphemeral(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	ctx := context.Background()
	ref, err := r.ad.Post(ctx, bot.Post{Channel: w.internal.Id, Message: bot.Message{Text: "Digest", Buttons: []bot.Button{{Label: "Acknowledge", Command: "handoff ack"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ad.Update(ctx, ref, bot.Message{Text: "Digest (acknowledged by alice)"}); err != nil {
		t.Fatal(err)
	}
	p := w.srv.Posts()[0]
	if !strings.HasPrefix(p.Message, "Digest \\(") && !strings.HasPrefix(p.Message, "Digest (") || p.EditAt == 0 {
		t.Fatalf("updated post %+v", p)
	}
	if len(mmtest.Actions(p.GetProps())) != 0 {
		t.Error("the buttons survived the update")
	}

	if _, err := r.ad.PostEphemeral(ctx, w.internal.Id, w.agent.Id, bot.Message{Text: "only you"}); err != nil {
		t.Fatal(err)
	}
	eph := w.srv.Ephemerals()
	if len(eph) != 1 || eph[0].UserID != w.agent.Id || eph[0].Post.ChannelId != w.internal.Id || eph[0].Post.Message != "only you" {
		t.Fatalf("ephemerals %+v", eph)
	}
}

func TestRateLimitedPostIsRetried(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	w.srv.RateLimit(http.MethodPost, "/api/v4/posts", 2, 3)
	if _, err := r.ad.Post(context.Background(), bot.Post{Channel: w.internal.Id, Key: "k", Message: bot.Message{Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if got := r.waiter.all(); len(got) != 2 || got[0] != 3*time.Second || got[1] != 3*time.Second {
		t.Fatalf("waited %v, want the server's 3s twice", got)
	}
	if n := len(w.srv.RequestsTo(http.MethodPost, "/api/v4/posts")); n != 3 || len(w.srv.Posts()) != 1 {
		t.Fatalf("%d requests, %d posts", n, len(w.srv.Posts()))
	}

	// A limit that does not lift: bounded attempts, then the error goes
	// back to the caller (the outbox keeps the post), nothing is dropped
	// silently.
	w.srv.RateLimit(http.MethodPost, "/api/v4/posts", 100, 1)
	_, err := r.ad.Post(context.Background(), bot.Post{Channel: w.internal.Id, Key: "k2", Message: bot.Message{Text: "again"}})
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err = %v", err)
	}
	if n := len(w.srv.RequestsTo(http.MethodPost, "/api/v4/posts")); n != 3+maxRateLimitAttempts {
		t.Fatalf("%d requests", n)
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	tests := []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{map[string]string{"X-Ratelimit-Reset": "2"}, 2 * time.Second},
		{map[string]string{"Retry-After": "4", "X-Ratelimit-Reset": "9"}, 4 * time.Second},
		{map[string]string{}, time.Second},
		{map[string]string{"Retry-After": "86400"}, time.Minute},
		{map[string]string{"Retry-After": "0"}, 100 * time.Millisecond},
		{map[string]string{"Retry-After": "soon"}, time.Second},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := retryAfter(h); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestEscapedPost(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	evil := "@channel [x](https://evil) ![i](https://evil/i.png) <!channel>"
	if _, err := r.ad.Post(context.Background(), bot.Post{Channel: w.shared.Id, Message: bot.Message{
		Title: evil, Text: evil, Footer: evil,
		Sections: []bot.Section{{Title: evil, Text: evil, Fields: []bot.Field{{Label: evil, Value: evil}}}},
		Buttons:  []bot.Button{{Label: evil, Command: "whoami"}},
	}}); err != nil {
		t.Fatal(err)
	}
	req := w.srv.RequestsTo(http.MethodPost, "/api/v4/posts")[0]
	var p struct {
		Message string `json:"message"`
		Props   struct {
			Attachments []map[string]any `json:"attachments"`
		} `json:"props"`
	}
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	strs := []string{p.Message}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			strs = append(strs, v)
		case map[string]any:
			for k, x := range v {
				if k != "integration" { // the context is never shown
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, a := range p.Props.Attachments {
		walk(map[string]any(a))
	}
	for _, s := range strs {
		for _, bad := range []string{"@channel", "](", "://", "<!channel>", "![", "@here", "@all"} {
			if hasUnescaped(s, bad) {
				t.Errorf("%q survives in %q", bad, s)
			}
		}
	}
}

// hasUnescaped reports whether sub occurs in s other than right after a
// backslash (which makes its first character literal).
func hasUnescaped(s, sub string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], sub)
		if j < 0 {
			return false
		}
		if at := i + j; at == 0 || s[at-1] != '\\' {
			return true
		}
		i += j + 1
	}
}
