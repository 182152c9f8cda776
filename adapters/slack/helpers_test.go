package slack

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
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	"github.com/slack-go/slack/socketmode"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/help"
	"liaisonbot/config"
)

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testBot    = "xoxb-test-token"
	homeTeam   = "TDIV"     // the division's workspace
	mpdTeam    = "TMPD"     // a partner's workspace (Slack Connect)
	mpdChannel = "CMPDSHR"  // the partner's shared channel
	agentID    = "UAGENT01" // a division agent
	adminID    = "UADMIN01"
	botUserID  = "UBOT0001"
	deadline   = 10 * time.Second // how long a test waits for a signal
)

// testConfig is the division's configuration as the tests see it: one
// internal workspace, one admin, one partner with a shared channel.
const testConfig = `
slack:
  internal_teams: [TDIV]
roles:
  admins: ["slack:UADMIN01"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["slack:CMPDSHR"]
`

// sign computes Slack's v0 signature of body at ts.
func sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// signed builds a request to url signed now (plus skew) with secret.
func signed(t testing.TB, target, secret string, body []byte, contentType string, skew time.Duration) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(skew).Unix()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", sign(secret, ts, body))
	return req
}

// slashForm is a slash command body with every field Slack sends, in the
// order of Slack's documentation; over overrides fields.
func slashForm(text, responseURL string, over map[string]string) []byte {
	fields := [][2]string{
		{"token", "gIkuvaNzQIHg97ATvDxqgjtO"},
		{"team_id", homeTeam},
		{"team_domain", "pld"},
		{"enterprise_id", "E0001"},
		{"enterprise_name", "Globular Construct Inc"},
		{"is_enterprise_install", "false"},
		{"channel_id", "C2147483705"},
		{"channel_name", "watch"},
		{"user_id", agentID},
		{"user_name", "alice"},
		{"command", "/liaison"},
		{"text", text},
		{"response_url", responseURL},
		{"trigger_id", "13345224609.738474920.8088930838d88f008e0"},
		{"api_app_id", "A123456"},
	}
	for _, extra := range []string{"user_team"} { // sent by no documented payload, but tolerated
		if v, ok := over[extra]; ok {
			fields = append(fields, [2]string{extra, v})
		}
	}
	var b strings.Builder
	for i, f := range fields {
		v := f[1]
		if o, ok := over[f[0]]; ok {
			v = o
		}
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(f[0] + "=" + url.QueryEscape(v))
	}
	return []byte(b.String())
}

// call is one Web API or response_url call the fake Slack received.
type call struct {
	Method   string // "chat.postMessage", …, or "response_url"
	Channel  string
	User     string
	ThreadTS string
	TS       string
	Text     string
	Blocks   string
	Metadata string
	Unfurl   string
	Body     string // response_url: the JSON posted
}

// fakeSlack is slacktest's server with our own handlers for the methods the
// adapter calls: slacktest records no REST posts and lacks chat.update.
type fakeSlack struct {
	*slacktest.Server
	calls chan call

	mu        sync.Mutex
	seq       int
	limited   int    // answer this many more calls with 429
	connFails int    // refuse this many more apps.connections.open
	posted    []call // chat.postMessage calls, TS the ts given, for conversations.history/replies
	postErr   string // chat.postMessage answers ok:false with this error
	readErr   string // conversations.history/replies answer ok:false with this error
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{calls: make(chan call, 100)}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.chat("chat.postMessage"))
		c.Handle("/chat.postEphemeral", f.chat("chat.postEphemeral"))
		c.Handle("/chat.update", f.chat("chat.update"))
		c.Handle("/conversations.history", f.history)
		c.Handle("/conversations.replies", f.history)
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"ok":true,"url":"https://pld.slack.com/","team":"PLD","user":"liaison","team_id":%q,"user_id":%q,"bot_id":"BBOT0001"}`, homeTeam, botUserID)
		})
		c.Handle("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			fail := f.connFails > 0
			if fail {
				f.connFails--
			}
			f.mu.Unlock()
			if fail {
				fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
				return
			}
			fmt.Fprintf(w, `{"ok":true,"url":%q}`, f.GetWSURL())
		})
		c.Handle("/hooks/", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if f.limit(w) {
				return
			}
			f.calls <- call{Method: "response_url", Body: string(body)}
			fmt.Fprint(w, "ok")
		})
	})
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

// limit answers 429 while limited calls remain.
func (f *fakeSlack) limit(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limited == 0 {
		return false
	}
	f.limited--
	w.Header().Set("Retry-After", "7")
	w.WriteHeader(http.StatusTooManyRequests)
	return true
}

func (f *fakeSlack) chat(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.limit(w) {
			return
		}
		f.mu.Lock()
		if e := f.postErr; method == "chat.postMessage" && e != "" {
			f.mu.Unlock()
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, e)
			return
		}
		f.seq++
		// Distinct ts values: slacktest's own are whole seconds, so a post
		// and its reply in the same second would share one.
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		f.mu.Unlock()
		c := call{
			Method: method, Channel: r.PostFormValue("channel"), User: r.PostFormValue("user"),
			ThreadTS: r.PostFormValue("thread_ts"), TS: r.PostFormValue("ts"), Text: r.PostFormValue("text"),
			Blocks: r.PostFormValue("blocks"), Metadata: r.PostFormValue("metadata"), Unfurl: r.PostFormValue("unfurl_links"),
		}
		if method == "chat.postMessage" {
			made := c
			made.TS = ts
			f.mu.Lock()
			f.posted = append(f.posted, made)
			f.mu.Unlock()
		}
		f.calls <- c
		switch method {
		case "chat.postEphemeral":
			fmt.Fprintf(w, `{"ok":true,"message_ts":%q}`, ts)
		case "chat.update":
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":""}`, c.Channel, c.TS)
		default:
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, c.Channel, ts)
		}
	}
}

// history answers conversations.history (a channel's top-level messages)
// and conversations.replies (a thread: its root and replies) from the posts
// made, with their metadata.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.limit(w) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, f.readErr)
		return
	}
	thread := r.PostFormValue("ts")
	var msgs []map[string]any
	for _, c := range f.posted {
		if c.Channel != r.PostFormValue("channel") || c.TS < r.PostFormValue("oldest") {
			continue
		}
		if thread == "" && c.ThreadTS == "" || thread != "" && (c.TS == thread || c.ThreadTS == thread) {
			m := map[string]any{"type": "message", "ts": c.TS, "text": c.Text, "thread_ts": c.ThreadTS}
			if c.Metadata != "" && r.PostFormValue("include_all_metadata") == "1" {
				m["metadata"] = json.RawMessage(c.Metadata)
			}
			msgs = append(msgs, m)
		}
	}
	out, _ := json.Marshal(map[string]any{"ok": true, "messages": msgs, "has_more": false})
	w.Write(out)
}

// next waits for the next call the fake received.
func (f *fakeSlack) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(deadline):
		t.Fatal("no call reached the fake Slack")
		return call{}
	}
}

// hookURL is a response_url on the fake (allowed: it is under SLACK_API_URL).
func (f *fakeSlack) hookURL() string {
	return f.GetAPIURL() + "hooks/commands/TDIV/397700885554/96rGlfmibIGlgcZRskXaIFfN"
}

// harness is an adapter serving a real mux (directory, help, audit) over a
// bbolt store in a temp dir, against a fake Slack.
type harness struct {
	ad     *Adapter
	srv    *httptest.Server
	slack  *fakeSlack
	store  store.Store
	audit  *audit.Log
	dir    *directory.Service
	mux    *bot.Mux
	events chan bot.Event
	waits  chan time.Duration
	// release unblocks the test-only "slow" command.
	release chan struct{}
}

type harnessOptions struct {
	env        map[string]string
	yaml       string
	inlineWait time.Duration
	socket     bool
	// productOnly leaves out the test-only commands (whoami, slow), for
	// golden files of what users see.
	productOnly bool
	// connFails is how many apps.connections.open calls fail first.
	connFails int
}

func newHarness(t *testing.T, opt harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{events: make(chan bot.Event, 100), waits: make(chan time.Duration, 100), release: make(chan struct{})}
	h.slack = newFakeSlack(t)
	h.slack.connFails = opt.connFails
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st
	h.dir, err = directory.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	h.mux = bot.NewMux("liaison", nil)
	h.audit = &audit.Log{Store: st}
	t.Cleanup(func() { h.audit.Close() })
	h.mux.Use(bot.Audit(h.audit, nil, nil), bot.Recover(slogDiscard()), bot.Authorize(h.mux))
	help.Register(h.mux)
	directory.Register(h.mux, h.dir)
	if !opt.productOnly {
		registerTestCommands(h)
	}
	h.mux.OnEvent(eventFunc(func(ctx context.Context, e bot.Event) error { h.events <- e; return nil }))

	env := map[string]string{
		"SLACK_SIGNING_SECRET": testSecret,
		"SLACK_BOT_TOKEN":      testBot,
		"SLACK_API_URL":        h.slack.GetAPIURL(),
	}
	if opt.socket {
		env["SLACK_APP_TOKEN"] = "xapp-1-test"
	}
	for k, v := range opt.env {
		env[k] = v
	}
	yaml := opt.yaml
	if yaml == "" {
		yaml = testConfig
	}
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if opt.inlineWait == 0 {
		// Tests that expect an inline answer must not depend on the
		// machine's speed; the slow path is tested with a blocking command.
		opt.inlineWait = time.Minute
	}
	var sockOpts []socketmode.Option
	if opt.socket {
		// slacktest sends no websocket pings; do not time the connection out.
		sockOpts = append(sockOpts, socketmode.OptionPingInterval(time.Hour))
	}
	h.ad, err = New(Options{
		Config: cfg, Mux: h.mux, Store: st, Logger: slogDiscard(),
		InlineWait: opt.inlineWait,
		Wait: func(ctx context.Context, d time.Duration) error {
			h.waits <- d
			return ctx.Err()
		},
		SocketOptions: sockOpts,
	})
	if err != nil {
		t.Fatal(err)
	}
	httpMux := http.NewServeMux()
	h.ad.Register(httpMux)
	h.srv = httptest.NewServer(httpMux)
	t.Cleanup(h.srv.Close)

	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := h.ad.Run(runCtx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		cancel()
		<-stopped
	})
	return h
}

// registerTestCommands adds whoami (echoes what the Mux was told), echo
// (the command line) and slow (answers when the test releases it).
func registerTestCommands(h *harness) {
	h.mux.HandleFunc("echo <text>", "the command line as the Mux got it", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Text: req.Text}, nil
	})
	h.mux.HandleFunc("whoami", "the caller's role", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Text: fmt.Sprintf("%s %s %s %s", req.Role, req.User.ID, req.User.Team, req.Channel)}, nil
	})
	h.mux.HandleFunc("stuck", "runs until its time is up", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	h.mux.HandleFunc("slow", "waits for the test", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		<-h.release
		return &bot.Message{Title: "Slow answer", Text: "done", Visibility: bot.InChannel}, nil
	})
}

// send posts a signed body to one of the adapter's endpoints.
func (h *harness) send(t *testing.T, path string, body []byte, contentType string) (int, string) {
	t.Helper()
	return do(t, signed(t, h.srv.URL+path, testSecret, body, contentType, 0))
}

func (h *harness) command(t *testing.T, text string, over map[string]string) (int, string) {
	t.Helper()
	return h.send(t, "/slack/commands", slashForm(text, h.slack.hookURL(), over), "application/x-www-form-urlencoded")
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// count is how many keys a bucket holds.
func (h *harness) count(t *testing.T, bucket string) int {
	t.Helper()
	if bucket == audit.Bucket {
		if err := h.audit.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := h.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.Count(bucket)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// nextEvent waits for an event to reach the mux.
func (h *harness) nextEvent(t *testing.T) bot.Event {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(deadline):
		t.Fatal("no event reached the mux")
		return bot.Event{}
	}
}

// noEvent asserts that nothing is dispatched before a marker event, sent
// after what should have been dropped, arrives: dispatch is in order.
func (h *harness) noEventBefore(t *testing.T, markerID string) {
	t.Helper()
	e := h.nextEvent(t)
	if e.MessageID != markerID {
		t.Fatalf("dispatched %+v, want nothing before the marker %s", e, markerID)
	}
}

type eventFunc func(context.Context, bot.Event) error

func (f eventFunc) HandleEvent(ctx context.Context, e bot.Event) error { return f(ctx, e) }

// decodeReply reads a command's JSON answer.
func decodeReply(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, body)
	}
	return m
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// mustConfig parses a configuration file's text with the test credentials.
func mustConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	env := map[string]string{"SLACK_SIGNING_SECRET": testSecret, "SLACK_BOT_TOKEN": testBot}
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
