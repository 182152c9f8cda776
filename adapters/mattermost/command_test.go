package mattermost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
	"liaisonbot/config"
)

// postForm sends a form to the bot's command endpoint as Mattermost would.
func (w *world) postForm(path string, form url.Values, header map[string]string) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.web.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCommandAnswersAsJSON(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	res := w.execute(w.agent, w.internal, "whoami")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	// The answer is a CommandResponse, field by field (commands.yaml,
	// definitions.yaml CommandResponse; model names are the wire names).
	var raw map[string]any
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"response_type", "text", "props", "skip_slack_parsing"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer lacks %q: %s", k, res.Body)
		}
	}
	cr := res.Response
	if cr.ResponseType != model.CommandResponseTypeEphemeral || !cr.SkipSlackParsing {
		t.Errorf("response_type %q skip_slack_parsing %v", cr.ResponseType, cr.SkipSlackParsing)
	}
	if err := contains(cr.Text, "role=agent", "user="+w.agent.Id, "name=alice", "channel="+w.internal.Id); err != nil {
		t.Error(err)
	}
	if r.audit.len() != 1 {
		t.Errorf("audit has %d records, want 1", r.audit.len())
	}
}

func TestCommandTokenChecks(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	cmd, good, err := w.srv.CommandForm(mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.internal.Id, Text: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(url.Values)) url.Values {
		f := url.Values{}
		for k, v := range good {
			f[k] = append([]string(nil), v...)
		}
		change(f)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"good token", good, nil, http.StatusOK},
		{"token in Authorization only", with(func(f url.Values) { f.Del("token") }), map[string]string{"Authorization": "Token " + cmd.Token}, http.StatusOK},
		{"wrong token", with(func(f url.Values) { f.Set("token", model.NewId()) }), nil, http.StatusUnauthorized},
		{"token one character off", with(func(f url.Values) { f.Set("token", cmd.Token[:25]+"x") }), nil, http.StatusUnauthorized},
		{"missing token", with(func(f url.Values) { f.Del("token") }), nil, http.StatusUnauthorized},
		{"wrong token in header", with(func(f url.Values) { f.Del("token") }), map[string]string{"Authorization": "Token nope"}, http.StatusUnauthorized},
		{"missing user_id", with(func(f url.Values) { f.Del("user_id") }), nil, http.StatusBadRequest},
		{"missing channel_id", with(func(f url.Values) { f.Del("channel_id") }), nil, http.StatusBadRequest},
		{"missing command", with(func(f url.Values) { f.Del("command") }), nil, http.StatusBadRequest},
		{"huge text", with(func(f url.Values) { f.Set("text", strings.Repeat("a", maxBody+1)) }), nil, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := r.audit.len()
			status, body := w.postForm(CommandPath, tc.form, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			ran := r.audit.len() - before
			if tc.want == http.StatusOK && ran != 1 || tc.want != http.StatusOK && ran != 0 {
				t.Errorf("%d command(s) ran and were audited", ran)
			}
			if strings.Contains(body, cmd.Token) || strings.Contains(r.logs.String(), cmd.Token) || strings.Contains(r.logs.String(), botToken) {
				t.Error("a token leaked into the answer or the log")
			}
		})
	}
}

func TestCommandRoles(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	tests := []struct {
		name string
		user *model.User
		ch   *model.Channel
		want string
	}{
		{"internal team member", w.agent, w.internal, "role=agent"},
		{"internal team member in a partner channel", w.agent, w.shared, "role=agent"},
		{"listed admin", w.admin, w.internal, "role=admin"},
		{"guest in a partner channel", w.guest, w.shared, "role=partner:mpd"},
		{"remote user in a partner channel", w.remote, w.shared, "role=partner:mpd"},
		{"other team in a partner channel", w.outsider, w.shared, "role=partner:mpd"},
		{"other team elsewhere", w.outsider, w.others, "role=none"},
		{"guest elsewhere", w.guest, w.others, "role=none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := w.execute(tc.user, tc.ch, "whoami")
			if res.Response == nil || !strings.Contains(res.Response.Text, tc.want) {
				t.Fatalf("want %s, got %d %s", tc.want, res.Status, res.Body)
			}
		})
	}
	// A partner may not run an agents' command: a plain denial.
	res := w.execute(w.guest, w.shared, "secret")
	if err := contains(res.Response.Text, "not allowed", "partner:mpd"); err != nil || strings.Contains(res.Response.Text, "the secret") {
		t.Errorf("denial: %v %s", err, res.Response.Text)
	}
	// Lookups are cached: a second command by the same user asks nothing new.
	before := len(w.srv.RequestsTo(http.MethodGet, "/api/v4/users/"+w.outsider.Id))
	w.execute(w.outsider, w.others, "whoami")
	if after := len(w.srv.RequestsTo(http.MethodGet, "/api/v4/users/"+w.outsider.Id)); after != before {
		t.Errorf("user looked up again within the cache lifetime (%d → %d)", before, after)
	}
}

func TestCommandInThread(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	root := w.srv.Post(w.agent.Id, w.internal.Id, "", "a thread")
	res, err := w.srv.Execute(context.Background(), mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.internal.Id, RootID: root.Id, Text: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Response.Text, "thread="+root.Id) {
		t.Fatalf("thread not passed on: %s", res.Body)
	}
}

func TestSlowCommandAnswersThroughResponseURL(t *testing.T) {
	w := newWorld(t)
	release := make(chan struct{})
	r := w.start(startOptions{slowAfter: 1, register: func(m *bot.Mux) {
		m.HandleFunc("slow", "takes its time", bot.AccessEveryone, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			<-release
			return &bot.Message{Title: "Done", Text: "after a while"}, nil
		})
	}})
	r.ready(t)
	res := w.execute(w.agent, w.internal, "slow")
	if res.Status != http.StatusOK || res.Response.Text != "Working on it…" || res.Response.ResponseType != model.CommandResponseTypeEphemeral {
		t.Fatalf("want an ephemeral acknowledgement, got %d %s", res.Status, res.Body)
	}
	close(release)
	w.await("the answer on response_url", func() bool { return len(w.srv.HookCalls()) == 1 })
	call := w.srv.HookCalls()[0]
	if call.UserID != w.agent.Id || call.ChannelID != w.internal.Id || !strings.Contains(call.Response.Text, "**Done**") {
		t.Fatalf("late answer: %+v %+v", call, call.Response)
	}
}

func TestResponseURLMustBeOnTheServer(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	tests := []struct {
		url  string
		want bool
	}{
		{w.srv.URL + "/hooks/commands/abc", true},
		{strings.Replace(w.srv.URL, "127.0.0.1", "evil.example", 1) + "/hooks/commands/abc", false},
		{"https://" + strings.TrimPrefix(w.srv.URL, "http://") + "/hooks/commands/abc", false},
		{"http://user:pw@" + strings.TrimPrefix(w.srv.URL, "http://") + "/hooks/commands/abc", false},
		{"", false},
		{"::not a url", false},
	}
	for _, tc := range tests {
		if got := r.ad.usableResponseURL(tc.url) != ""; got != tc.want {
			t.Errorf("%q usable = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestDecodeCommandFields(t *testing.T) {
	body := "token=t0k&team_id=T&team_domain=pld&channel_id=C&channel_name=watch&user_id=U&user_name=alice" +
		"&command=%2Fliaison&text=contact+canada&response_url=http%3A%2F%2Fmm%2Fhooks%2Fcommands%2Fx&trigger_id=X&root_id=R" +
		"&user_mentions=&channel_mentions="
	c, err := decodeCommand([]byte(body), "")
	if err != nil {
		t.Fatal(err)
	}
	want := commandCall{Token: "t0k", TeamID: "T", TeamDomain: "pld", ChannelID: "C", ChannelName: "watch", UserID: "U", UserName: "alice",
		Command: "/liaison", Text: "contact canada", ResponseURL: "http://mm/hooks/commands/x", TriggerID: "X", RootID: "R"}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if _, err := decodeCommand([]byte("text=%zz"), ""); err == nil {
		t.Error("a malformed body decoded")
	}
}

// With only MATTERMOST_COMMAND_TOKEN (no bot token) the command still
// works; team membership cannot be checked, so nobody is taken for an
// agent and only partner channels give a role.
func TestCommandTokenOnly(t *testing.T) {
	w := newWorld(t)
	manual := w.srv.AddCommand(w.team.Id, w.admin.Id, "liaison", w.web.URL+CommandPath)
	r := w.start(startOptions{noRun: true, mutate: func(c *config.Config) {
		c.Mattermost.BotToken = ""
		c.Mattermost.CommandToken = manual.Token
	}})
	if err := r.ad.Run(context.Background()); err == nil {
		t.Fatal("Run without a bot token succeeded")
	}
	for _, tc := range []struct {
		user *model.User
		ch   *model.Channel
		want string
	}{
		{w.agent, w.internal, "role=none"},
		{w.guest, w.shared, "role=partner:mpd"},
	} {
		res := w.execute(tc.user, tc.ch, "whoami")
		if res.Status != http.StatusOK || !strings.Contains(res.Response.Text, tc.want) {
			t.Errorf("%s: %d %s", tc.want, res.Status, res.Body)
		}
	}
	if _, err := r.ad.Post(context.Background(), bot.Post{Channel: w.internal.Id, Message: bot.Message{Text: "x"}}); err == nil {
		t.Error("posted without a bot token")
	}
}
