package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/config"
)

// slackFake is a Slack Web API whose first chat.postMessage is rate
// limited and whose posts to C0GONE always fail, as to a deleted channel.
type slackFake struct {
	*httptest.Server
	mu    sync.Mutex
	posts map[string]int // by channel, the accepted ones
	n     int
}

func newSlackFake(t *testing.T) *slackFake {
	f := &slackFake{posts: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/auth.test":
			fmt.Fprint(w, `{"ok":true,"url":"https://pld.slack.com/","team_id":"TDIV","user_id":"UBOT","bot_id":"BBOT"}`)
		case "/chat.postMessage":
			f.n++
			ch := r.FormValue("channel")
			switch {
			case f.n == 1:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
			case ch == "C0GONE":
				fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
			default:
				f.posts[ch]++
				fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, ch, f.n)
			}
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *slackFake) accepted(ch string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts[ch]
}

// scrapeMetrics returns the samples of /metrics, by series.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestServeObservability runs serve with both platforms and every secret
// configured, drives commands that succeed and commands that fail, posts
// that are rate limited and posts that keep failing, and then reads the
// metrics and the whole log: the counters moved, every line about a
// request carries the request's attributes, and no secret is anywhere.
func TestServeObservability(t *testing.T) {
	slack := newSlackFake(t)
	mm, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Close()
	w := mmPopulate(mm)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	manual := mm.AddCommand(w.team.Id, w.agent.Id, "liaison", base+"/mattermost/command")

	cfgPath := filepath.Join(t.TempDir(), "liaison.yaml")
	yaml := fmt.Sprintf(`slack:
  internal_teams: [TDIV]
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
    channels: ["slack:C0USPP"]
  - id: gone
    name: An agency whose channel was deleted
    oncall: "@gone"
    channels: ["slack:C0GONE"]
teams:
  - id: watch
    channels: ["mattermost:%s"]
`, w.shared.Id, w.watch.Id)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env(t,
		"LIAISON_CONFIG="+cfgPath,
		"LIAISON_LISTEN=127.0.0.1:"+port,
		"LIAISON_PUBLIC_URL="+base,
		"LIAISON_LOG_LEVEL=debug",
		"LIAISON_LOG_FORMAT=json",
		"SLACK_SIGNING_SECRET="+e2eSecret,
		"SLACK_BOT_TOKEN="+e2eBotToken,
		"SLACK_API_URL="+slack.URL+"/",
		"MATTERMOST_URL="+mm.URL,
		"MATTERMOST_BOT_TOKEN="+mmE2EBotToken,
		"MATTERMOST_TEAM=pld",
		"MATTERMOST_COMMAND_TOKEN="+manual.Token,
	)
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.Load(cfgPath, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	secrets := cfg.Secrets()
	if len(secrets) != 4 {
		t.Fatalf("want the 4 secrets configured, got %d", len(secrets))
	}

	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	ctx := context.Background()

	// Slack: a lookup, an unknown command, a usage error, an incident on
	// three partners (one of them unreachable), an update of an incident
	// that does not exist, and a request with a wrong signature.
	form := "application/x-www-form-urlencoded"
	slackCmd := func(text, secret string) (int, string) {
		return send(t, slackRequest(t, base+"/slack/commands", secret, slashBody(text), form, 0))
	}
	for _, text := range []string{"contact canada", "frobnicate", "incident update", "incident update INC-2026-9999 nothing here"} {
		if code, body := slackCmd(text, e2eSecret); code != http.StatusOK {
			t.Fatalf("%s: %d %s", text, code, body)
		}
	}
	if code, _ := slackCmd("contact mexico", "not-the-secret"); code != http.StatusUnauthorized {
		t.Fatalf("wrong signature: %d", code)
	}
	mm.RateLimit(http.MethodPost, "/api/v4/posts", 1, 0)
	code, body := slackCmd("incident open mission:emb-dc-canada sev:2 partners:mpd,uspp,gone Suspicious package at the gate", e2eSecret)
	incID := incidentIDPattern.FindString(body)
	if code != http.StatusOK || incID == "" {
		t.Fatalf("incident open: %d %s", code, body)
	}

	// Mattermost: a lookup, a wrong token, an incident shown, a digest
	// posted on request and acknowledged.
	for _, text := range []string{"emergency", "incident show " + incID, "handoff now", "handoff ack"} {
		res, err := mm.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: text})
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("%s: %v %+v", text, err, res)
		}
	}
	if res, err := mm.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "emergency", Token: e2eSecret}); err != nil || res.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v %+v", err, res)
	}

	var m map[string]float64
	bot.until(t, "the posts sent, the rate limits waited out, a failure", func() bool {
		m = scrapeMetrics(t, base)
		return slack.accepted("C0USPP") > 0 &&
			m[`liaisonbot_rate_limit_waits_total{platform="slack"}`] >= 1 &&
			m[`liaisonbot_rate_limit_waits_total{platform="mattermost"}`] >= 1 &&
			m[`liaisonbot_outbox_send_failures_total{platform="slack"}`] >= 1 &&
			m[`liaisonbot_outbox_sent_total{platform="mattermost"}`] >= 2 && // the incident's root, the digest
			m[`liaisonbot_outbox_entries{status="pending"}`] == 1 // the post to C0GONE, retried
	})
	for series, want := range map[string]float64{
		`liaisonbot_commands_total{command="contact",outcome="ok",platform="slack"}`:               1,
		`liaisonbot_commands_total{command="unknown",outcome="unknown",platform="slack"}`:          1,
		`liaisonbot_commands_total{command="incident update",outcome="usage",platform="slack"}`:    1,
		`liaisonbot_commands_total{command="incident update",outcome="rejected",platform="slack"}`: 1,
		`liaisonbot_commands_total{command="incident open",outcome="ok",platform="slack"}`:         1,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="mattermost"}`:        1,
		`liaisonbot_commands_total{command="handoff ack",outcome="ok",platform="mattermost"}`:      1,
		`liaisonbot_command_duration_seconds_count{command="contact"}`:                             1,
		`liaisonbot_handoff_digests_posted_total{team="watch",trigger="command"}`:                  1,
		`liaisonbot_handoff_digests_acknowledged_total{team="watch"}`:                              1,
		`liaisonbot_incidents_open`:                            1,
		`liaisonbot_platform_connected{platform="mattermost"}`: 1,
		`liaisonbot_platform_connected{platform="slack"}`:      1,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if m["liaisonbot_store_size_bytes"] <= 0 || m["process_resident_memory_bytes"] <= 0 || m["go_goroutines"] <= 0 {
		t.Errorf("store size, process or Go metrics missing")
	}
	bot.stop(t)

	logs := bot.log.String()
	for i, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("secret %d of %d appears in the log", i+1, len(secrets))
		}
	}
	// Every line about a request carries its id, platform and user; the
	// incident's carry its id.
	requestLines, opened := 0, false
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("not a JSON log line: %s", sc.Text())
			continue
		}
		if _, ok := rec["request_id"]; !ok {
			continue
		}
		requestLines++
		if rec["platform"] == nil || rec["user_id"] == nil {
			t.Errorf("request line without platform or user_id: %s", sc.Text())
		}
		if rec["msg"] == "incident opened" {
			opened = rec["incident_id"] == incID && rec["platform"] == "slack" && rec["user_id"] == "UAGENT01"
		}
	}
	if requestLines == 0 || !opened {
		t.Errorf("%d request lines; incident opened with its attributes: %v\n%s", requestLines, opened, logs)
	}
}
