package slack

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/internal/backoff"
)

func TestPostInThreadWithKey(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	root, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, Key: "outbox-17", Message: bot.Message{
		Title: "INC-2026-0042: suspicious package", Text: "Opened by <@alice>", Visibility: bot.InChannel,
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := h.slack.next(t)
	if c.Method != "chat.postMessage" || c.Channel != mpdChannel || c.ThreadTS != "" || c.Unfurl != "false" {
		t.Fatalf("root post: %+v", c)
	}
	var meta struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if err := json.Unmarshal([]byte(c.Metadata), &meta); err != nil || meta.EventType != PostEventType || meta.EventPayload["key"] != "outbox-17" {
		t.Fatalf("metadata %q: %v", c.Metadata, err)
	}
	if !strings.Contains(c.Blocks, `"type":"header"`) || !strings.Contains(c.Text, "&lt;@alice&gt;") {
		t.Fatalf("rendering: text %q blocks %s", c.Text, c.Blocks)
	}
	if root.Platform != "slack" || root.Channel != mpdChannel || root.ID == "" {
		t.Fatalf("ref %+v", root)
	}

	reply, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, ThreadRef: root.ID, Message: bot.Message{Text: "Units on scene"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := h.slack.next(t); c.ThreadTS != root.ID || c.Metadata != "" {
		t.Fatalf("reply: %+v", c)
	}
	if reply.ID == root.ID {
		t.Fatal("reply and root share a ts")
	}
}

func TestEphemeralAndUpdate(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	if err := h.ad.PostEphemeral(ctx, "CWATCH", agentID, bot.Message{Text: "only you"}); err != nil {
		t.Fatal(err)
	}
	if c := h.slack.next(t); c.Method != "chat.postEphemeral" || c.Channel != "CWATCH" || c.User != agentID || c.Text != "only you" {
		t.Fatalf("ephemeral: %+v", c)
	}
	ref := bot.MessageRef{Platform: "slack", Channel: "CWATCH", ID: "1700000000.000001"}
	if err := h.ad.Update(ctx, ref, bot.Message{Title: "Digest (acknowledged)"}); err != nil {
		t.Fatal(err)
	}
	if c := h.slack.next(t); c.Method != "chat.update" || c.Channel != "CWATCH" || c.TS != ref.ID || !strings.Contains(c.Blocks, "Digest (acknowledged)") {
		t.Fatalf("update: %+v", c)
	}
}

func TestRateLimitedPostIsRetried(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.slack.mu.Lock()
	h.slack.limited = 2
	h.slack.mu.Unlock()
	ref, err := h.ad.Post(context.Background(), bot.Post{Channel: "CWATCH", Message: bot.Message{Text: "digest"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if d := <-h.waits; d != 7*time.Second {
			t.Fatalf("waited %s, want Retry-After 7s", d)
		}
	}
	if c := h.slack.next(t); c.Text != "digest" || ref.ID == "" {
		t.Fatalf("post after the rate limit: %+v %+v", c, ref)
	}
}

func TestRateLimitGivesUpAfterBoundedAttempts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.slack.mu.Lock()
	h.slack.limited = 100
	h.slack.mu.Unlock()
	_, err := h.ad.Post(context.Background(), bot.Post{Channel: "CWATCH", Message: bot.Message{Text: "digest"}})
	if err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("err = %v, want a rate limit error for the outbox to keep", err)
	}
	if n := len(h.waits); n != maxAttempts-1 {
		t.Fatalf("%d waits, want %d", n, maxAttempts-1)
	}
}

func TestRateLimitWaitEndsWithContext(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.slack.mu.Lock()
	h.slack.limited = 1
	h.slack.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	h.ad.wait = func(ctx context.Context, d time.Duration) error { cancel(); return backoff.Sleep(ctx, d) }
	if _, err := h.ad.Post(ctx, bot.Post{Channel: "CWATCH", Message: bot.Message{Text: "x"}}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
}

func TestResponseURLRateLimited(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.slack.mu.Lock()
	h.slack.limited = 1
	h.slack.mu.Unlock()
	if err := h.ad.respond(context.Background(), h.slack.hookURL(), reply{Text: "late"}); err != nil {
		t.Fatal(err)
	}
	if d := <-h.waits; d != 7*time.Second {
		t.Fatalf("waited %s", d)
	}
	if c := h.slack.next(t); !strings.Contains(c.Body, `"text":"late"`) {
		t.Fatalf("%+v", c)
	}
}

// Slack does not deduplicate: FindPost finds a post the bot made by the key
// in its metadata, at the top of a channel or in a thread, so the outbox
// need not post it twice; a refused post is marked as certainly not posted.
func TestFindPostByKey(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	since := time.Unix(1699999900, 0)
	root, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000001", Message: bot.Message{Text: "INC-2026-0042"}})
	if err != nil {
		t.Fatal(err)
	}
	h.slack.next(t)
	reply, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, ThreadRef: root.ID, Key: "ob-000000000002", Message: bot.Message{Text: "Update"}})
	if err != nil {
		t.Fatal(err)
	}
	h.slack.next(t)

	got, found, err := h.ad.FindPost(ctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000001"}, since)
	if err != nil || !found || got.ID != root.ID || got.Channel != mpdChannel || got.Link == "" {
		t.Fatalf("root: %+v %v %v", got, found, err)
	}
	got, found, err = h.ad.FindPost(ctx, bot.Post{Channel: mpdChannel, ThreadRef: root.ID, Key: "ob-000000000002"}, since)
	if err != nil || !found || got.ID != reply.ID {
		t.Fatalf("reply: %+v %v %v", got, found, err)
	}
	for _, p := range []bot.Post{
		{Channel: mpdChannel, Key: "ob-000000000002"},                     // a reply is not at the top
		{Channel: mpdChannel, ThreadRef: root.ID, Key: "ob-000000000003"}, // never posted
		{Channel: "CWATCH", Key: "ob-000000000001"},                       // another channel
	} {
		if got, found, err := h.ad.FindPost(ctx, p, since); err != nil || found {
			t.Fatalf("%+v: found %+v, %v", p, got, err)
		}
	}
	if _, found, _ := h.ad.FindPost(ctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000001"}, time.Unix(1800000000, 0)); found {
		t.Fatal("found a post older than since")
	}

	// Rate limited (history may allow one call a minute): the outbox gets
	// Slack's Retry-After instead of the adapter waiting it out.
	h.slack.mu.Lock()
	h.slack.limited = 1
	h.slack.mu.Unlock()
	_, found, err = h.ad.FindPost(ctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000001"}, since)
	var ra interface{ RetryAfter() time.Duration }
	if found || !errors.As(err, &ra) || ra.RetryAfter() != 7*time.Second {
		t.Fatalf("rate-limited look-up: %v %v", found, err)
	}

	// A look-up Slack refuses (no history scope): not found, no error, so
	// the post goes again rather than never.
	h.slack.mu.Lock()
	h.slack.readErr = "missing_scope"
	h.slack.mu.Unlock()
	if _, found, err := h.ad.FindPost(ctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000001"}, since); found || err != nil {
		t.Fatalf("refused look-up: %v %v", found, err)
	}

	// A post Slack refuses certainly was not made; one that timed out may
	// have been.
	h.slack.mu.Lock()
	h.slack.postErr = "channel_not_found"
	h.slack.mu.Unlock()
	_, err = h.ad.Post(ctx, bot.Post{Channel: "CGONE", Key: "ob-000000000004", Message: bot.Message{Text: "x"}})
	if !errors.Is(err, bot.ErrNotPosted) || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("refused post: %v", err)
	}
	tctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.ad.Post(tctx, bot.Post{Channel: mpdChannel, Key: "ob-000000000005", Message: bot.Message{Text: "x"}}); err == nil || errors.Is(err, bot.ErrNotPosted) {
		t.Fatalf("cancelled post: %v", err)
	}
}
