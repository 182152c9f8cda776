package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/adapters/mattermost/mmtest"
)

// crashSlack is a fake Slack Web API that keeps the bot's posts with their
// metadata and answers conversations.history and .replies from them, as
// Slack does. With stall set, the next chat.postMessage is accepted (kept)
// and never answered: the bot is killed while it waits, so Slack has a post
// the bot never learned about.
type crashSlack struct {
	*httptest.Server
	mu      sync.Mutex
	seq     int
	posts   []crashSlackPost
	stall   bool
	changed chan struct{}
}

type crashSlackPost struct{ channel, threadTS, ts, text, key, metadata string }

func newCrashSlack(t *testing.T) *crashSlack {
	f := &crashSlack{changed: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *crashSlack) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/auth.test":
		fmt.Fprint(w, `{"ok":true,"url":"https://pld.slack.com/","team_id":"TDIV","user_id":"UBOT","bot_id":"BBOT"}`)
	case "/chat.postMessage":
		var meta struct {
			Payload map[string]any `json:"event_payload"`
		}
		_ = json.Unmarshal([]byte(r.PostFormValue("metadata")), &meta)
		f.mu.Lock()
		f.seq++
		p := crashSlackPost{channel: r.PostFormValue("channel"), threadTS: r.PostFormValue("thread_ts"),
			ts: fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq), text: r.PostFormValue("text"),
			key: fmt.Sprint(meta.Payload["key"]), metadata: r.PostFormValue("metadata")}
		f.posts = append(f.posts, p)
		stall := f.stall
		f.stall = false
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
		if stall {
			<-r.Context().Done() // the bot dies waiting
			return
		}
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, p.channel, p.ts)
	case "/conversations.history", "/conversations.replies":
		thread := r.PostFormValue("ts")
		oldest, _ := strconv.ParseFloat(r.PostFormValue("oldest"), 64)
		f.mu.Lock()
		var msgs []map[string]any
		for _, p := range f.posts {
			ts, _ := strconv.ParseFloat(p.ts, 64)
			if p.channel != r.PostFormValue("channel") || ts < oldest {
				continue
			}
			if thread == "" && p.threadTS == "" || thread != "" && (p.ts == thread || p.threadTS == thread) {
				m := map[string]any{"type": "message", "ts": p.ts, "text": p.text, "bot_id": "BBOT"}
				if p.metadata != "" && r.PostFormValue("include_all_metadata") == "1" {
					m["metadata"] = json.RawMessage(p.metadata)
				}
				msgs = append(msgs, m)
			}
		}
		f.mu.Unlock()
		out, _ := json.Marshal(map[string]any{"ok": true, "messages": msgs, "has_more": false})
		w.Write(out)
	default:
		fmt.Fprint(w, `{"ok":true}`)
	}
}

func (f *crashSlack) snapshot() ([]crashSlackPost, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]crashSlackPost(nil), f.posts...), f.changed
}

// await waits until cond holds for the posts, within 30 s.
func (f *crashSlack) await(t *testing.T, what string, cond func([]crashSlackPost) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		posts, changed := f.snapshot()
		if cond(posts) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; Slack has %+v", what, posts)
		}
	}
}

// Slack does not deduplicate posts: SPEC §7 has the bot look for a post's
// outbox id (in its metadata) before sending it again. Each round, Slack
// accepts the bot's post and the bot is killed before the answer reaches
// it — a root post one round, a reply in its thread the next; after a
// restart every post is on Slack exactly once.
func TestCrashSafetySlack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary several times")
	}
	mm, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Close()
	w := mmPopulate(mm)
	slack := newCrashSlack(t)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	yaml := fmt.Sprintf("mattermost:\n  internal_teams: [pld]\npartners:\n  - id: uspp\n    name: United States Park Police\n    oncall: \"@uspp-desk\"\n    channels: [\"slack:CUSPP\"]\n  - id: mpd\n    name: Metropolitan Police Department\n    channels: [\"mattermost:%s\"]\n", w.shared.Id)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env(t,
		"LIAISON_CONFIG="+cfg, "LIAISON_LISTEN=127.0.0.1:"+port, "LIAISON_PUBLIC_URL="+base, "LIAISON_LOG_FORMAT=json",
		"MATTERMOST_URL="+mm.URL, "MATTERMOST_BOT_TOKEN="+mmE2EBotToken, "MATTERMOST_TEAM=pld",
		"SLACK_SIGNING_SECRET="+e2eSecret, "SLACK_BOT_TOKEN="+e2eBotToken, "SLACK_API_URL="+slack.URL+"/",
	)
	ctx := context.Background()
	command := func(bot *mmProc, text, want string) string {
		t.Helper()
		res, err := mm.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: text})
		if err != nil || res.Status != http.StatusOK || !strings.Contains(res.Response.Text, want) {
			t.Fatalf("%s: %v %+v; log:\n%s", text, err, res, bot.log.String())
		}
		return res.Response.Text
	}

	var incidents, updates []string
	found := 0
	const rounds = 4
	for round := 1; round <= rounds; round++ {
		bot := mmStartServe(t, environ)
		bot.until(t, "/readyz and the slash command", func() bool {
			return mmStatus(base+"/readyz") == http.StatusOK && len(mm.Commands()) == 1
		})
		before, _ := slack.snapshot()
		slack.mu.Lock()
		slack.stall = true
		slack.mu.Unlock()
		if round%2 == 1 {
			incidents = append(incidents, incidentIDPattern.FindString(command(bot, "incident open mission:canada sev:2 Gate report round "+strconv.Itoa(round), " opened: ")))
		} else {
			id := incidents[len(incidents)-1]
			tok := fmt.Sprintf("slack-update-%d", round)
			command(bot, "incident update "+id+" "+tok, id+" updated")
			updates = append(updates, tok)
		}
		// Slack has taken a new post (possibly first a resend of the last
		// round's, found, not resent): kill the bot before it hears back.
		slack.await(t, "a post to stall on", func(p []crashSlackPost) bool {
			slack.mu.Lock()
			defer slack.mu.Unlock()
			return len(p) > len(before) && !slack.stall
		})
		if err := bot.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-bot.done
		found += strings.Count(bot.log.String(), "an earlier attempt had made the post")
	}
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	slack.await(t, "every post", func(p []crashSlackPost) bool {
		all := strings.Builder{}
		for _, x := range p {
			all.WriteString(x.text + "\n")
		}
		for _, id := range incidents {
			if !strings.Contains(all.String(), id) {
				return false
			}
		}
		for _, tok := range updates {
			if !strings.Contains(all.String(), tok) {
				return false
			}
		}
		return true
	})
	bot.stop(t)
	found += strings.Count(bot.log.String(), "an earlier attempt had made the post")
	if r := run(t, environ, "", "outbox", "list"); r.code != 0 || !strings.HasPrefix(r.stdout, "0 waiting, 0 failing") {
		t.Fatalf("outbox: %d %s%s", r.code, r.stdout, r.stderr)
	}

	posts, _ := slack.snapshot()
	keys := map[string]int{}
	for _, p := range posts {
		keys[p.key]++
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("outbox entry %s was posted %d times on Slack", k, n)
		}
	}
	// One root per incident, each update once in its incident's thread.
	for _, id := range incidents {
		n := 0
		for _, p := range posts {
			if p.threadTS == "" && strings.Contains(p.text, "Incident "+id) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d root posts on Slack", id, n)
		}
	}
	for _, tok := range updates {
		n := 0
		for _, p := range posts {
			if p.threadTS != "" && strings.Contains(p.text, tok) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("update %s is %d times in a Slack thread", tok, n)
		}
	}
	if found < rounds {
		t.Errorf("the bot found %d posts an earlier attempt had made, want %d (one per kill)", found, rounds)
	}
	t.Logf("%d posts on Slack, %d found after a kill instead of being resent", len(posts), found)
}
