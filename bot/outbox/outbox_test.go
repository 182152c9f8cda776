package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

// fakeAdapter records posts and fails on demand.
type fakeAdapter struct {
	mu    sync.Mutex
	posts []bot.Post
	fail  []error // consumed one per Post; nil entries succeed
}

func (f *fakeAdapter) Platform() string              { return "fake" }
func (f *fakeAdapter) Run(ctx context.Context) error { return nil }
func (f *fakeAdapter) Update(context.Context, bot.MessageRef, bot.Message) error {
	return nil
}
func (f *fakeAdapter) Post(_ context.Context, p bot.Post) (bot.MessageRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		if err != nil {
			return bot.MessageRef{}, err
		}
	}
	f.posts = append(f.posts, p)
	return bot.MessageRef{Platform: "fake", Channel: p.Channel, ID: "m" + strconv.Itoa(len(f.posts))}, nil
}

func (f *fakeAdapter) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.posts {
		out = append(out, fmt.Sprintf("%s/%s:%s", p.Channel, p.ThreadRef, p.Message.Text))
	}
	return out
}

type rateLimited struct{ wait time.Duration }

func (r rateLimited) Error() string             { return "rate limited" }
func (r rateLimited) RetryAfter() time.Duration { return r.wait }

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func setup(t *testing.T, path string) (store.Store, *outbox.Dispatcher, *fakeAdapter, *clock) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "o.db")
	}
	db, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ad := &fakeAdapter{}
	c := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	d := &outbox.Dispatcher{Store: db, Adapters: map[string]bot.Adapter{"fake": ad}, Now: c.now, BaseDelay: time.Second, MaxDelay: time.Minute}
	return db, d, ad, c
}

func enqueue(t *testing.T, db store.Store, c *clock, entries ...outbox.Entry) []string {
	t.Helper()
	var ids []string
	err := db.Update(context.Background(), func(tx store.Tx) error {
		for _, e := range entries {
			if e.ThreadOf == "^" {
				e.ThreadOf = ids[0]
			}
			id, err := outbox.Enqueue(tx, c.now(), e)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func post(channel, text string) outbox.Entry {
	return outbox.Entry{Platform: "fake", Channel: channel, Message: bot.Message{Text: text}}
}

func flush(t *testing.T, d *outbox.Dispatcher) time.Time {
	t.Helper()
	next, err := d.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

func TestRepliesWaitForTheirRootAndHooksRecordRefs(t *testing.T) {
	db, d, ad, c := setup(t, "")
	var recorded []string
	d.OnSent("incident/", func(tx store.Tx, e outbox.Entry) error {
		recorded = append(recorded, e.Origin+"="+e.Ref.ID)
		return tx.Put("threads", e.Origin, []byte(e.Ref.ID))
	})
	root := post("c1", "root")
	root.Origin = "incident/INC-1/root"
	reply := post("c1", "reply")
	reply.ThreadOf = "^"
	enqueue(t, db, c, root, reply, post("c2", "other"))
	flush(t, d)
	equal(t, ad.sent(), "c1/:root", "c1/m1:reply", "c2/:other")
	equal(t, recorded, "incident/INC-1/root=m1")
	st, err := outbox.Count(context.Background(), db)
	if err != nil || st != (outbox.Stats{Sent: 3}) {
		t.Fatalf("stats %+v, %v", st, err)
	}
}

func TestRetryAfterIsHonouredAndOrderKept(t *testing.T) {
	db, d, ad, c := setup(t, "")
	var attempts []string // as the metrics hook sees them
	d.OnAttempt = func(platform string, attempt int, err error) {
		result := "ok"
		if err != nil {
			result = err.Error()
		}
		attempts = append(attempts, fmt.Sprint(platform, " ", attempt, " ", result))
	}
	ad.fail = []error{rateLimited{30 * time.Second}}
	enqueue(t, db, c, post("c1", "first"), post("c1", "second"), post("c2", "elsewhere"))
	next := flush(t, d)
	// c1 is blocked behind its rate-limited first post; c2 goes on.
	equal(t, ad.sent(), "c2/:elsewhere")
	if want := c.now().Add(30 * time.Second); !next.Equal(want) {
		t.Fatalf("next attempt %v, want %v", next, want)
	}
	c.advance(10 * time.Second)
	flush(t, d)
	equal(t, ad.sent(), "c2/:elsewhere")
	c.advance(21 * time.Second)
	flush(t, d)
	equal(t, ad.sent(), "c2/:elsewhere", "c1/:first", "c1/:second")
	equal(t, attempts, "fake 1 rate limited", "fake 1 ok", "fake 2 ok", "fake 1 ok")
}

func TestFailingPostsStayVisibleAndAreRetried(t *testing.T) {
	db, d, ad, c := setup(t, "")
	for range outbox.FailingAfter {
		ad.fail = append(ad.fail, errors.New("502 bad gateway"))
	}
	enqueue(t, db, c, post("c1", "stubborn"))
	for range outbox.FailingAfter {
		c.advance(time.Hour)
		flush(t, d)
	}
	list, err := outbox.List(context.Background(), db)
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v, %v", list, err)
	}
	if e := list[0]; e.Status != outbox.StatusFailing || e.Attempts != outbox.FailingAfter || e.LastError != "502 bad gateway" {
		t.Fatalf("entry %+v", e)
	}
	if st, _ := outbox.Count(context.Background(), db); st.Failing != 1 {
		t.Fatalf("stats %+v", st)
	}
	c.advance(time.Hour)
	flush(t, d)
	equal(t, ad.sent(), "c1/:stubborn")
	if list, _ := outbox.List(context.Background(), db); len(list) != 0 {
		t.Fatalf("still pending after success: %+v", list)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	db, d, ad, c := setup(t, "")
	for range 12 {
		ad.fail = append(ad.fail, errors.New("503"))
	}
	enqueue(t, db, c, post("c1", "x"))
	var prev time.Duration
	for i := range 12 {
		next := flush(t, d)
		delay := next.Sub(c.now())
		if delay <= 0 || delay > time.Minute {
			t.Fatalf("attempt %d: delay %v outside (0, 1m]", i+1, delay)
		}
		if i < 4 && delay < prev/4 {
			t.Fatalf("attempt %d: delay %v did not grow from %v", i+1, delay, prev)
		}
		prev = delay
		c.t = next
	}
}

func TestRestartResendsUnconfirmedNeverConfirmed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	db, d, ad, c := setup(t, path)
	ad.fail = []error{nil, errors.New("connection reset")}
	enqueue(t, db, c, post("c1", "a"), post("c2", "b"), post("c3", "c"))
	flush(t, d)
	equal(t, ad.sent(), "c1/:a", "c3/:c")
	db.Close() // the process dies here

	db2, d2, ad2, c2 := setup(t, path)
	_ = db2
	c2.advance(time.Hour)
	flush(t, d2)
	equal(t, ad2.sent(), "c2/:b")
}

func TestPacingPerChannel(t *testing.T) {
	db, d, ad, c := setup(t, "")
	d.Pace = map[string]time.Duration{"fake": time.Second}
	enqueue(t, db, c, post("c1", "1"), post("c1", "2"), post("c2", "3"))
	next := flush(t, d)
	equal(t, ad.sent(), "c1/:1", "c2/:3")
	if !next.Equal(c.now().Add(time.Second)) {
		t.Fatalf("paced post due at %v", next)
	}
	c.advance(time.Second)
	flush(t, d)
	equal(t, ad.sent(), "c1/:1", "c2/:3", "c1/:2")
}

func TestUnknownPlatformIsKeptNotDropped(t *testing.T) {
	db, d, _, c := setup(t, "")
	e := post("c1", "x")
	e.Platform = "mattermost"
	enqueue(t, db, c, e)
	flush(t, d)
	list, _ := outbox.List(context.Background(), db)
	if len(list) != 1 || list[0].LastError != "platform mattermost is not enabled" {
		t.Fatalf("list %+v", list)
	}
}

func TestPostsQueuedByHooksGoInTheSameFlush(t *testing.T) {
	db, d, ad, c := setup(t, "")
	ad.fail = []error{nil, rateLimited{0}} // the hook's post is refused once, with no wait asked
	d.OnSent("incident/", func(tx store.Tx, e outbox.Entry) error {
		_, err := outbox.Enqueue(tx, c.now(), post("opener", "links for "+e.Ref.ID))
		return err
	})
	root := post("c1", "root")
	root.Origin = "incident/INC-1/root"
	enqueue(t, db, c, root)
	next := flush(t, d)
	// The hook's post was tried in the same flush, once: refused, it waits
	// for the next flush even though it is due at once.
	equal(t, ad.sent(), "c1/:root")
	if !next.Equal(c.now()) {
		t.Fatalf("next %v, want now %v", next, c.now())
	}
	flush(t, d)
	equal(t, ad.sent(), "c1/:root", "opener/:links for m1")
	if st, _ := outbox.Count(context.Background(), db); st != (outbox.Stats{Sent: 2}) {
		t.Fatalf("stats %+v", st)
	}
}

// Drain, SIGTERM's flush, sends what pacing holds back (Flush alone sends
// one post per channel) and stops at what would wait past its deadline.
func TestDrainSendsPacedPosts(t *testing.T) {
	db, d, ad, _ := setup(t, "")
	d.Now = time.Now // Drain waits in real time for the pace
	d.Pace = map[string]time.Duration{"fake": 100 * time.Millisecond}
	enqueue := func(channel, text string) {
		t.Helper()
		err := db.Update(context.Background(), func(tx store.Tx) error {
			_, err := outbox.Enqueue(tx, time.Now(), outbox.Entry{Platform: "fake", Channel: channel, Message: bot.Message{Text: text}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		enqueue("a", fmt.Sprint("a", i))
		enqueue("b", fmt.Sprint("b", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Flush alone holds back what the pace does (one post per channel,
	// unless the machine is slower than the pace).
	if _, err := d.Flush(ctx); err != nil || len(ad.sent()) >= 8 {
		t.Fatalf("Flush: %v, sent %v", err, ad.sent())
	}
	left, err := d.Drain(ctx)
	if err != nil || left != 0 {
		t.Fatalf("Drain: %d left, %v", left, err)
	}
	if got := len(ad.sent()); got != 8 {
		t.Fatalf("sent %d posts, want 8: %v", got, ad.sent())
	}

	// A failed post whose retry falls after the deadline stays queued, and
	// Drain does not wait for it.
	ad.mu.Lock()
	ad.fail = []error{rateLimited{time.Hour}}
	ad.mu.Unlock()
	enqueue("a", "later")
	left, err = d.Drain(ctx)
	if err != nil || left != 1 {
		t.Fatalf("Drain with a retry in an hour: %d left, %v", left, err)
	}
	if ctx.Err() != nil {
		t.Fatal("Drain waited for the deadline")
	}
}

// finderAdapter is a platform that does not deduplicate (Slack) but can
// find a post by its key. The next Post to the channel lose reaches the
// platform and its answer is lost (a timeout, or a crash before the outbox
// records it); the next to refuse gets a refusal.
type finderAdapter struct {
	fakeAdapter
	db            store.Store
	lose, refuse  string
	lookups       []string
	uncertainSeen []bool // each Post: whether its entry was marked uncertain in the store first
}

func (f *finderAdapter) Post(ctx context.Context, p bot.Post) (bot.MessageRef, error) {
	var marked bool
	_ = f.db.View(ctx, func(tx store.Tx) error {
		e, _, err := outbox.Lookup(tx, p.Key)
		marked = e.Uncertain
		return err
	})
	f.mu.Lock()
	f.uncertainSeen = append(f.uncertainSeen, marked)
	refuse := f.refuse == p.Channel
	if refuse {
		f.refuse = ""
	}
	f.mu.Unlock()
	if refuse {
		return bot.MessageRef{}, fmt.Errorf("channel_not_found: %w", bot.ErrNotPosted)
	}
	ref, err := f.fakeAdapter.Post(ctx, p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lose == p.Channel {
		f.lose = ""
		return bot.MessageRef{}, errors.New("context deadline exceeded")
	}
	return ref, err
}

func (f *finderAdapter) FindPost(_ context.Context, p bot.Post, since time.Time) (bot.MessageRef, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, p.Key)
	for i, got := range f.posts {
		if got.Key == p.Key {
			return bot.MessageRef{Platform: "fake", Channel: p.Channel, ID: "m" + strconv.Itoa(i+1)}, true, nil
		}
	}
	return bot.MessageRef{}, false, nil
}

// On a platform that cannot deduplicate, a post whose answer was lost is
// looked for, found and recorded, not sent twice; one that was refused is
// sent again without a look-up; and every send is marked in the store
// before it goes, so that a crash during it leads to a look-up too.
func TestLostAnswerIsFoundNotResent(t *testing.T) {
	db, d, _, c := setup(t, "")
	fa := &finderAdapter{db: db, lose: "c1", refuse: "c2"}
	d.Adapters = map[string]bot.Adapter{"fake": fa}
	var recorded []string
	d.OnSent("incident/", func(tx store.Tx, e outbox.Entry) error {
		recorded = append(recorded, e.Origin+"="+e.Ref.ID)
		return nil
	})
	lost := post("c1", "root")
	lost.Origin = "incident/INC-1/root"
	ids := enqueue(t, db, c, lost, post("c2", "refused"))
	flush(t, d) // the first is made but its answer lost; the second refused
	equal(t, fa.sent(), "c1/:root")
	c.advance(time.Hour)
	flush(t, d) // the first is found; the second sent, without a look-up
	equal(t, fa.sent(), "c1/:root", "c2/:refused")
	if fmt.Sprint(fa.lookups) != fmt.Sprint([]string{ids[0]}) {
		t.Fatalf("looked up %v, want only %s", fa.lookups, ids[0])
	}
	equal(t, recorded, "incident/INC-1/root=m1")
	if fmt.Sprint(fa.uncertainSeen) != "[true true true]" {
		t.Fatalf("entries marked before their send: %v", fa.uncertainSeen)
	}
	st, err := outbox.Count(context.Background(), db)
	if err != nil || st != (outbox.Stats{Sent: 2}) {
		t.Fatalf("stats %+v, %v", st, err)
	}
}
