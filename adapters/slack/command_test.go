package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
)

func TestCommandAnsweredInline(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	code, body := h.command(t, "contact canada", nil)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	r := decodeReply(t, body)
	if r["response_type"] != "ephemeral" || !strings.Contains(body, "Embassy of Canada") || !strings.Contains(body, "Consulate General of Canada in Chicago") {
		t.Fatalf("answer: %s", body)
	}
	if _, ok := r["blocks"]; !ok {
		t.Fatalf("no blocks: %s", body)
	}
}

func TestCommandRequest(t *testing.T) {
	tests := []struct {
		name string
		yaml string // "" for the test configuration
		over map[string]string
		want string // whoami: role user team channel
	}{
		{name: "agent", want: "agent UAGENT01 TDIV C2147483705"},
		{name: "admin", over: map[string]string{"user_id": adminID}, want: "admin UADMIN01 TDIV C2147483705"},
		{name: "agent in a partner's channel", over: map[string]string{"channel_id": mpdChannel}, want: "agent UAGENT01 TDIV CMPDSHR"},
		{name: "other workspace in a partner's channel", over: map[string]string{"team_id": mpdTeam, "user_id": "UMPD0001", "channel_id": mpdChannel}, want: "partner:mpd UMPD0001 TMPD CMPDSHR"},
		{name: "other workspace elsewhere", over: map[string]string{"team_id": "TOTHER", "user_id": "UX"}, want: "none UX TOTHER C2147483705"},
		{name: "user_team names the person's workspace", over: map[string]string{"user_team": mpdTeam, "user_id": "UMPD0001", "channel_id": mpdChannel}, want: "partner:mpd UMPD0001 TMPD CMPDSHR"},
		// No internal_teams: the installation's workspace (auth.test) is the division's.
		{name: "no internal teams: own workspace", yaml: "partners: [{id: mpd, channels: [\"slack:CMPDSHR\"]}]", want: "agent UAGENT01 TDIV C2147483705"},
		{name: "no internal teams: guest in partner channel", yaml: "partners: [{id: mpd, channels: [\"slack:CMPDSHR\"]}]",
			over: map[string]string{"user_team": mpdTeam, "user_id": "UMPD0001", "channel_id": mpdChannel}, want: "partner:mpd UMPD0001 TMPD CMPDSHR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{yaml: tt.yaml})
			if tt.yaml != "" {
				// Role decisions without internal_teams need the home
				// workspace, which Run learns from auth.test.
				h.ad.self.Store(&identity{UserID: botUserID, TeamID: homeTeam})
			}
			code, body := h.command(t, "whoami", tt.over)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			if got := decodeReply(t, body)["text"]; got != tt.want {
				t.Fatalf("whoami = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPartnerIsDeniedContacts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	_, body := h.command(t, "contact canada", map[string]string{"team_id": mpdTeam, "user_id": "UMPD0001", "channel_id": mpdChannel})
	if !strings.Contains(body, "not allowed") || strings.Contains(body, "Embassy of Canada") {
		t.Fatalf("partner's answer: %s", body)
	}
}

func TestSlowCommandAnsweredThroughResponseURL(t *testing.T) {
	h := newHarness(t, harnessOptions{inlineWait: 1}) // 1 ns: "slow" blocks until released
	code, body := h.command(t, "slow", nil)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if r := decodeReply(t, body); r["text"] != "Working on it…" || r["response_type"] != "ephemeral" {
		t.Fatalf("acknowledgement: %s", body)
	}
	close(h.release)
	c := h.slack.next(t)
	if c.Method != "response_url" {
		t.Fatalf("late answer went to %s", c.Method)
	}
	r := decodeReply(t, c.Body)
	if r["response_type"] != "in_channel" || r["replace_original"] != false || !strings.Contains(c.Body, "Slow answer") {
		t.Fatalf("late answer: %s", c.Body)
	}
}

// A command that never finishes is ended at its time limit, by the same
// timer that acknowledged it, and the person is told it failed.
func TestStuckCommandEndsAtItsTimeLimit(t *testing.T) {
	h := newHarness(t, harnessOptions{inlineWait: 1})
	h.ad.commandTimeout = 50 * time.Millisecond
	code, body := h.command(t, "stuck", nil)
	if code != 200 || decodeReply(t, body)["text"] != "Working on it…" {
		t.Fatalf("acknowledgement: %d %s", code, body)
	}
	c := h.slack.next(t)
	if c.Method != "response_url" || !strings.Contains(c.Body, "went wrong") {
		t.Fatalf("late answer of a command past its time: %+v", c)
	}
}

func TestResponseURLElsewhereIsNotUsed(t *testing.T) {
	h := newHarness(t, harnessOptions{inlineWait: 1})
	// A signed payload naming another host: the answer must not go there,
	// but through the Web API to the channel instead.
	form := slashForm("slow", "https://evil.example/hooks/commands/x", nil)
	if code, _ := h.send(t, "/slack/commands", form, "application/x-www-form-urlencoded"); code != 200 {
		t.Fatalf("status %d", code)
	}
	close(h.release)
	c := h.slack.next(t)
	if c.Method != "chat.postMessage" || c.Channel != "C2147483705" || !strings.Contains(c.Text, "Slow answer") {
		t.Fatalf("late answer: %+v", c)
	}
}

func TestResponseHosts(t *testing.T) {
	prod, _ := newResponseHosts("https://slack.com/api/")
	test, _ := newResponseHosts("http://127.0.0.1:4567/")
	for _, tt := range []struct {
		hosts responseHosts
		url   string
		ok    bool
	}{
		{prod, "https://hooks.slack.com/commands/T1/2/x", true},
		{prod, "https://hooks.slack-gov.com/actions/T1/2/x", true},
		{prod, "http://hooks.slack.com/commands/T1/2/x", false},
		{prod, "https://hooks.slack.com:8443/commands/T1/2/x", false},
		{prod, "https://hooks.slack.com.evil.example/x", false},
		{prod, "https://user@hooks.slack.com/x", false},
		{prod, "https://evil.example/?u=https://hooks.slack.com/", false},
		{prod, "http://127.0.0.1:4567/hooks/x", false},
		{prod, "", false},
		{test, "http://127.0.0.1:4567/hooks/x", true},
		{test, "http://127.0.0.1:4568/hooks/x", false},
		{test, "https://hooks.slack.com/commands/T1/2/x", true},
	} {
		if err := tt.hosts.check(tt.url); (err == nil) != tt.ok {
			t.Errorf("%+v check(%q) = %v, want ok %v", tt.hosts, tt.url, err, tt.ok)
		}
	}
}

func TestMalformedCommand(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if code, body := h.send(t, "/slack/commands", []byte("ssl_check=1&token=x"), "application/x-www-form-urlencoded"); code != 200 || body != "" {
		t.Errorf("ssl_check: %d %q", code, body)
	}
	for _, body := range []string{"text=%zz", "text=help&channel_id=C1"} {
		if code, _ := h.send(t, "/slack/commands", []byte(body), "application/x-www-form-urlencoded"); code != 400 {
			t.Errorf("%q: status %d, want 400", body, code)
		}
	}
}

func TestSigningSecretAlone(t *testing.T) {
	// The lead relaxes validation so that a signing secret alone serves
	// commands; build that configuration by hand until then.
	cfg := mustConfig(t, testConfig)
	cfg.Slack.BotToken = ""
	h := newHarness(t, harnessOptions{})
	ad, err := New(Options{Config: cfg, Mux: h.mux, Store: h.store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ad.Post(context.Background(), bot.Post{Channel: "C1", Message: bot.Message{Text: "x"}}); !errors.Is(err, errNoBotToken) {
		t.Fatalf("Post without a bot token: %v", err)
	}
	if err := ad.Ready(); err != nil {
		t.Fatalf("HTTP mode not ready: %v", err)
	}
}

func TestDecodeSlashCommandJSON(t *testing.T) {
	// Socket Mode sends is_enterprise_install as a string.
	sc, err := decodeSlashCommandJSON([]byte(`{"token":"x","team_id":"TDIV","team_domain":"pld","channel_id":"C1","channel_name":"watch","user_id":"U1","user_name":"alice","command":"/liaison","text":"emergency","api_app_id":"A1","is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/1/2/3","trigger_id":"1.2.3"}`))
	if err != nil || sc.Text != "emergency" || sc.TeamID != "TDIV" || sc.ResponseURL == "" {
		t.Fatalf("%+v %v", sc, err)
	}
	if _, err := decodeSlashCommandJSON([]byte(`{"text":"x"}`)); err == nil {
		t.Fatal("command without user and channel accepted")
	}
}

func TestCommandTextIsUnescaped(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// Slack sends &, < and > typed in a command as entities.
	_, body := h.command(t, "echo Bosnia &amp; Herzegovina &lt;3 <@U123|lee>", nil)
	if got := decodeReply(t, body)["text"]; got != "echo Bosnia &amp; Herzegovina &lt;3 @lee" {
		// The Mux got "Bosnia & Herzegovina <3 @lee"; the answer escapes it again.
		t.Fatalf("echo = %q", got)
	}
}

// The form reader keeps a field's first non-empty value, escaped or not,
// and refuses a bad escape in a field it reads, as net/url would.
func TestDecodeSlashCommandRepeatsAndEscapes(t *testing.T) {
	for _, c := range []struct{ form, text, command, err string }{
		{form: "text=%41+b&text=c&command=%2Fliaison&command=x", text: "A b", command: "/liaison"},
		{form: "text=&text=late+one&command=plain", text: "late one", command: "plain"},
		{form: "text=plain&text=%41", text: "plain"},
		{form: "text=%e2%80%9Cq%E2%80%9D", text: "“q”"},
		{form: "ignored=%zz&text=ok", text: "ok"},
		{form: "text=ok%", err: `invalid URL escape "%"`},
		{form: "text=%4g1", err: `invalid URL escape "%4g"`},
	} {
		sc, err := decodeSlashCommand([]byte("user_id=U1&channel_id=C1&" + c.form))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %s", c.form, err, c.err)
			}
			continue
		}
		if err != nil || sc.Text != c.text || sc.Command != c.command || sc.UserID != "U1" {
			t.Errorf("%q: text %q command %q user %q (%v), want %q %q", c.form, sc.Text, sc.Command, sc.UserID, err, c.text, c.command)
		}
	}
}
