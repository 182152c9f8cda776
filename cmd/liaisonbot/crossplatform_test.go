package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/slack-go/slack/slacktest"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
	"liaisonbot/commands/incident"
)

// The cross-platform test of issue 5: the program's own wiring (config from
// a file and the environment, the store, the incident feature, the outbox,
// both platforms started as serve starts them) between a fake Slack Web API
// built on slacktest and the fake Mattermost server. MPD works on
// Mattermost, USPP on Slack, and the division opens the incident from its
// Slack watch channel.

const (
	xpSecret    = "xp-signing-secret-0123456789abcdef"
	xpSlackBot  = "xoxb-xp-test-token"
	xpMMToken   = "mmbottoken0000000000000042"
	xpDivision  = "TDIV"     // the division's Slack workspace
	xpUSPPTeam  = "TUSPP"    // USPP's workspace, sharing C0USPP by Slack Connect
	xpUSPPChan  = "C0USPP"   // USPP's shared channel
	xpWatchChan = "C0WATCH"  // where the agent types the command
	xpSlackBotU = "UBOT0001" // the bot's Slack user
	xpSlackBotB = "BBOT0001" // and its bot id
	xpWait      = 15 * time.Second
)

// slackCall is one chat.postMessage the fake Slack received.
type slackCall struct {
	Channel, ThreadTS, TS, Text, Blocks string
}

// xpSlack is slacktest with our own chat.postMessage (slacktest does not
// record REST posts, and its whole-second ts values collide) and auth.test.
type xpSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	seq   int
	calls []slackCall
}

func newXPSlack(t *testing.T) *xpSlack {
	t.Helper()
	f := &xpSlack{}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"ok":true,"url":"https://pld.slack.com/","team":"PLD","user":"liaison","team_id":%q,"user_id":%q,"bot_id":%q}`,
				xpDivision, xpSlackBotU, xpSlackBotB)
		})
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			f.mu.Lock()
			f.seq++
			call := slackCall{
				Channel: r.PostFormValue("channel"), ThreadTS: r.PostFormValue("thread_ts"),
				TS: fmt.Sprintf("1700000000.%06d", f.seq), Text: r.PostFormValue("text"), Blocks: r.PostFormValue("blocks"),
			}
			f.calls = append(f.calls, call)
			f.mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, call.Channel, call.TS)
		})
	})
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

// posts are the chat.postMessage calls to a channel, in a thread ("" for
// top-level posts).
func (f *xpSlack) posts(channel, threadTS string) []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		if c.Channel == channel && c.ThreadTS == threadTS {
			out = append(out, c)
		}
	}
	return out
}

// xpClock is the outbox's clock: real time plus an offset that each flush
// moves on, so that Slack's per-channel pacing never makes a test wait.
type xpClock struct{ offset atomic.Int64 }

func (c *xpClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *xpClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type xpWorld struct {
	t     *testing.T
	slack *xpSlack
	mm    *mmtest.Server
	web   *httptest.Server // the bot's public URL: both platforms call it
	app   *app
	clock *xpClock
	logs  *syncBuf

	mmBot, mmAgent, lee *model.User
	shared              *model.Channel // MPD's Mattermost channel
}

func newXPWorld(t *testing.T) *xpWorld {
	t.Helper()
	w := &xpWorld{t: t, slack: newXPSlack(t), clock: &xpClock{}, logs: &syncBuf{}}
	mm, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mm.Close)
	w.mm = mm
	pld := mm.AddTeam("pld")
	w.mmBot = mm.AddUser(mmtest.UserOptions{Username: "liaisonbot", Bot: true, Token: xpMMToken})
	w.mmAgent = mm.AddUser(mmtest.UserOptions{Username: "alice"})
	w.lee = mm.AddUser(mmtest.UserOptions{Username: "sgt.lee", Roles: "system_guest"})
	mm.AddTeamMember(pld.Id, w.mmBot.Id, false)
	mm.AddTeamMember(pld.Id, w.mmAgent.Id, false)
	mm.AddTeamMember(pld.Id, w.lee.Id, true)
	w.shared = mm.AddChannel(pld.Id, "mpd-shared", w.mmBot.Id, w.mmAgent.Id, w.lee.Id)

	var handler atomic.Pointer[http.ServeMux]
	w.web = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			h.ServeHTTP(rw, r)
			return
		}
		http.NotFound(rw, r)
	}))
	t.Cleanup(w.web.Close)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "liaison.yaml")
	yaml := fmt.Sprintf(`slack:
  internal_teams: [%s]
mattermost:
  internal_teams: [pld]
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["mattermost:%s"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["slack:%s"]
`, xpDivision, w.shared.Id, xpUSPPChan)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"LIAISON_DB":           filepath.Join(dir, "liaison.db"),
		"LIAISON_PUBLIC_URL":   w.web.URL,
		"LIAISON_LOG_LEVEL":    "debug",
		"SLACK_SIGNING_SECRET": xpSecret,
		"SLACK_BOT_TOKEN":      xpSlackBot,
		"SLACK_API_URL":        w.slack.GetAPIURL(),
		"MATTERMOST_URL":       mm.URL,
		"MATTERMOST_BOT_TOKEN": xpMMToken,
		"MATTERMOST_TEAM":      "pld",
	}
	e := &environment{configPath: cfgPath, stdin: strings.NewReader(""), stdout: io.Discard, stderr: w.logs,
		getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := e.open(ctx, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	w.app = a
	a.outbox.Now = w.clock.now
	mux := http.NewServeMux()
	adapters, err := a.startPlatforms(ctx, mux, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(adapters) != 2 {
		t.Fatalf("want Slack and Mattermost enabled, got %d adapters", len(adapters))
	}
	handler.Store(mux)
	var running sync.WaitGroup
	for _, ad := range adapters {
		running.Go(func() {
			if err := ad.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("%s stopped: %v", ad.Platform(), err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		running.Wait()
		if err := a.close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", w.logs.String())
		}
	})
	// Mattermost is ready once its websocket is up: from then on a
	// thread reply reaches the bot.
	w.until("the Mattermost adapter to be ready", func() bool {
		return a.outbox.Adapters[bot.Mattermost].(bot.Readiness).Ready() == nil
	})
	return w
}

// until polls cond, failing the test after a deadline.
func (w *xpWorld) until(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(xpWait)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// flush runs the outbox as serve's dispatcher would, a little later each
// time.
func (w *xpWorld) flush() {
	w.t.Helper()
	w.clock.advance(2 * time.Second)
	if _, err := w.app.outbox.Flush(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// incident reads the incident as stored.
func (w *xpWorld) incident(id string) *incident.Incident {
	w.t.Helper()
	inc, ok, err := w.app.incidents.Get(context.Background(), id)
	if err != nil || !ok {
		w.t.Fatalf("incident %s: %v %v", id, ok, err)
	}
	return inc
}

// replies are the incident's thread replies, as "author via platform: text".
func (w *xpWorld) replies(id string) []string {
	var out []string
	for _, e := range w.incident(id).Timeline {
		if e.Kind == incident.KindReply {
			out = append(out, e.Author.Via()+": "+e.Text)
		}
	}
	return out
}

// awaitReplies waits until the incident's timeline holds n replies.
func (w *xpWorld) awaitReplies(id string, n int) {
	w.t.Helper()
	w.until(fmt.Sprintf("%d replies in %s", n, id), func() bool { return len(w.replies(id)) >= n })
}

// signedSlack posts body to one of the Slack adapter's endpoints, signed
// as Slack signs it; retry sets X-Slack-Retry-Num.
func (w *xpWorld) signedSlack(path, contentType string, body []byte, retry int) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.web.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(xpSecret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// slackMessage is a message event in a channel as the Events API delivers it.
type slackMessage struct {
	EventID, Channel, User, BotID, UserTeam, TS, ThreadTS, Text string
}

func (w *xpWorld) slackEvent(m slackMessage, retry int) {
	w.t.Helper()
	ev := map[string]any{"type": "message", "channel": m.Channel, "text": m.Text, "ts": m.TS, "event_ts": m.TS, "channel_type": "channel"}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	if m.User != "" {
		ev["user"] = m.User
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
		ev["subtype"] = "bot_message"
	}
	if m.UserTeam != "" {
		ev["team"], ev["user_team"] = m.UserTeam, m.UserTeam
	}
	body, err := json.Marshal(map[string]any{
		"token": "unused", "team_id": xpDivision, "api_app_id": "A0LIAISON", "type": "event_callback",
		"event_id": m.EventID, "event_time": time.Now().Unix(), "is_ext_shared_channel": true,
		"authorizations": []map[string]any{{"team_id": xpDivision, "user_id": xpSlackBotU, "is_bot": true}},
		"event":          ev,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if code, out := w.signedSlack("/slack/events", "application/json", body, retry); code != http.StatusOK {
		w.t.Fatalf("event %s: %d %s", m.EventID, code, out)
	}
}

// mmPosted pushes a posted event for a post over the websocket again, as a
// replayed or re-fetched event would reach the bot.
func (w *xpWorld) mmPosted(p *model.Post, sender string) {
	js, err := json.Marshal(p)
	if err != nil {
		w.t.Fatal(err)
	}
	ev := model.NewWebSocketEvent(model.WebsocketEventPosted, "", p.ChannelId, "", nil, "")
	ev.Add("post", string(js))
	ev.Add("sender_name", "@"+sender)
	ev.Add("channel_type", string(model.ChannelTypeOpen))
	w.mm.Broadcast(ev)
}

// mmThread is what the bot posted in a Mattermost thread.
func (w *xpWorld) mmThread(root string) []*model.Post {
	var out []*model.Post
	for _, p := range w.mm.Posts() {
		if p.ChannelId == w.shared.Id && p.RootId == root && p.UserId == w.mmBot.Id {
			out = append(out, p)
		}
	}
	return out
}

// strs collects every string of a JSON document (Block Kit blocks).
func strs(t *testing.T, doc string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("blocks %q: %v", doc, err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return b.String()
}

func count(ss []string, sub string) int {
	n := 0
	for _, s := range ss {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func TestIncidentAcrossSlackAndMattermost(t *testing.T) {
	w := newXPWorld(t)

	// An agent opens the incident from the division's Slack watch channel.
	form := url.Values{
		"token": {"unused"}, "team_id": {xpDivision}, "team_domain": {"pld"}, "channel_id": {xpWatchChan}, "channel_name": {"watch"},
		"user_id": {"UAGENT01"}, "user_name": {"alice"}, "command": {"/liaison"},
		"text":         {"incident open mission:canada sev:2 partners:mpd,uspp Protest at the front gate"},
		"response_url": {w.slack.GetAPIURL() + "hooks/commands/TDIV/1/x"}, "trigger_id": {"1.2.3"}, "api_app_id": {"A0LIAISON"},
	}
	code, answer := w.signedSlack("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), 0)
	if code != http.StatusOK || !strings.Contains(answer, "Posting to 2 partner channel(s)") {
		t.Fatalf("open: %d %s", code, answer)
	}
	id := regexp.MustCompile(`INC-\d{4}-\d{4}`).FindString(answer)
	if id == "" {
		t.Fatalf("no incident id in %s", answer)
	}

	// The outbox posts a root in each partner's channel, then the links.
	w.flush()
	slackRoots := w.slack.posts(xpUSPPChan, "")
	mmRoots := w.mmThread("")
	if len(slackRoots) != 1 || len(mmRoots) != 1 {
		t.Fatalf("roots: slack %+v, mattermost %d", slackRoots, len(mmRoots))
	}
	slackRoot, mmRoot := slackRoots[0], mmRoots[0]
	props, err := json.Marshal(mmRoot.GetProps())
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"slack root": slackRoot.Text + strs(t, slackRoot.Blocks), "mattermost root": mmRoot.Message + strs(t, string(props))} {
		for _, want := range []string{id, "Embassy of Canada", "Protest at the front gate", "911"} {
			if !strings.Contains(text, want) {
				t.Fatalf("%s lacks %q:\n%s", what, want, text)
			}
		}
	}

	// The agent's channel gets the two threads' links, once.
	slackLink := "https://pld.slack.com/archives/" + xpUSPPChan + "/p" + strings.Replace(slackRoot.TS, ".", "", 1)
	mmLink := w.mm.URL + "/pld/pl/" + mmRoot.Id
	links := w.slack.posts(xpWatchChan, "")
	if len(links) != 1 {
		t.Fatalf("watch channel: %+v", links)
	}
	linkBlocks := strs(t, links[0].Blocks)
	for _, want := range []string{id + ": the threads are open", "<" + slackLink + "|", "<" + mmLink + "|"} {
		if !strings.Contains(linkBlocks, want) {
			t.Fatalf("links message lacks %q:\n%s", want, linkBlocks)
		}
	}
	inc := w.incident(id)
	if inc.Threads[0].Link != mmLink || inc.Threads[1].Link != slackLink {
		t.Fatalf("thread links %+v", inc.Threads)
	}

	// Slack shows the bot its own root post; it is not a reply to mirror.
	w.slackEvent(slackMessage{EventID: "EvROOT", Channel: xpUSPPChan, User: xpSlackBotU, BotID: xpSlackBotB, TS: slackRoot.TS, Text: slackRoot.Text}, 0)

	// 1. Sgt. Lee answers in MPD's Mattermost thread: the reply reaches the
	// Slack thread, attributed, once.
	leeReply := w.mm.Post(w.lee.Id, w.shared.Id, mmRoot.Id, "Two units on scene")
	w.awaitReplies(id, 1)
	w.flush()
	fromMM := "sgt.lee (MPD) via Mattermost: Two units on scene"
	var inSlack []string
	for _, c := range w.slack.posts(xpUSPPChan, slackRoot.TS) {
		inSlack = append(inSlack, c.Text)
	}
	if count(inSlack, fromMM) != 1 {
		t.Fatalf("slack thread %s: want %q once, got %q", slackRoot.TS, fromMM, inSlack)
	}
	mirrored := w.slack.posts(xpUSPPChan, slackRoot.TS)[0]

	// 2. A USPP officer answers in the Slack thread (a Slack Connect guest):
	// the reply reaches the Mattermost thread, once.
	usppReply := slackMessage{EventID: "EvUSPP1", Channel: xpUSPPChan, User: "UUSPP001", UserTeam: xpUSPPTeam,
		TS: "1700000100.000001", ThreadTS: slackRoot.TS, Text: "Perimeter set on the north side"}
	w.slackEvent(usppReply, 0)
	w.awaitReplies(id, 2)
	w.flush()
	fromSlack := "UUSPP001 (USPP) via Slack: Perimeter set on the north side"
	var inMM []string
	for _, p := range w.mmThread(mmRoot.Id) {
		inMM = append(inMM, p.Message)
	}
	if count(inMM, "(USPP) via Slack: Perimeter set on the north side") != 1 {
		t.Fatalf("mattermost thread: want %q once, got %q", fromSlack, inMM)
	}

	// 3. Replays and the bot's own posts change nothing: Slack redelivers
	// the event (same event id, a retry) and delivers it again under a new
	// id; the websocket repeats Lee's post, and a re-fetch after a restart
	// brings it once more with a later update time; the bot's own posts
	// come back as events on both platforms (Mattermost sends them by
	// itself).
	w.slackEvent(usppReply, 1)
	again := usppReply
	again.EventID = "EvUSPP1-again"
	w.slackEvent(again, 0)
	w.slackEvent(slackMessage{EventID: "EvMIRROR", Channel: xpUSPPChan, User: xpSlackBotU, BotID: xpSlackBotB,
		TS: mirrored.TS, ThreadTS: slackRoot.TS, Text: mirrored.Text}, 0)
	w.mmPosted(leeReply, "sgt.lee")
	refetched := leeReply.Clone()
	refetched.UpdateAt++
	w.mmPosted(refetched, "sgt.lee")
	// Each platform delivers in order: once a later reply is in the
	// timeline, everything sent before it has been handled.
	w.mm.Post(w.lee.Id, w.shared.Id, mmRoot.Id, "Marker from Mattermost")
	w.slackEvent(slackMessage{EventID: "EvUSPP2", Channel: xpUSPPChan, User: "UUSPP001", UserTeam: xpUSPPTeam,
		TS: "1700000100.000002", ThreadTS: slackRoot.TS, Text: "Marker from Slack"}, 0)
	w.awaitReplies(id, 4)
	w.flush()
	w.flush()

	replies := w.replies(id)
	want := []string{fromMM, fromSlack, "sgt.lee (MPD) via Mattermost: Marker from Mattermost", "UUSPP001 (USPP) via Slack: Marker from Slack"}
	if len(replies) != 4 || count(replies, fromMM) != 1 || count(replies, fromSlack) != 1 ||
		count(replies, want[2]) != 1 || count(replies, want[3]) != 1 {
		t.Fatalf("timeline replies %q, want %q", replies, want)
	}
	inSlack = inSlack[:0]
	for _, c := range w.slack.posts(xpUSPPChan, slackRoot.TS) {
		inSlack = append(inSlack, c.Text)
	}
	if len(inSlack) != 2 || count(inSlack, fromMM) != 1 || count(inSlack, "Marker from Mattermost") != 1 {
		t.Fatalf("slack thread after replays: %q", inSlack)
	}
	inMM = inMM[:0]
	for _, p := range w.mmThread(mmRoot.Id) {
		inMM = append(inMM, p.Message)
	}
	if len(inMM) != 2 || count(inMM, "Perimeter set") != 1 || count(inMM, "Marker from Slack") != 1 {
		t.Fatalf("mattermost thread after replays: %q", inMM)
	}
	// Nothing went back into the thread it came from, and the agent heard
	// the links once.
	if count(inSlack, "Perimeter") != 0 || count(inMM, "Two units") != 0 {
		t.Fatalf("a reply came back to its own thread: slack %q, mattermost %q", inSlack, inMM)
	}
	if n := len(w.slack.posts(xpWatchChan, "")); n != 1 {
		t.Fatalf("the watch channel got %d messages", n)
	}
}
