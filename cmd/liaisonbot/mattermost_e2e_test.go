package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/adapters/mattermost/mmtest"
)

// The built binary's serve against the fake Mattermost server: command
// registration, the slash command callback, token refusal, and thread
// replies made while the websocket was down. Posts the bot makes itself
// (threads with root_id) have no trigger in the binary yet (incidents come
// later); the adapter's package tests cover them.

const mmE2EBotToken = "e2ebottoken000000000000001"

var incidentIDPattern = regexp.MustCompile(`INC-\d{4}-\d{4}`)

// mmLog collects a process's log while the test reads it.
type mmLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *mmLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *mmLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mmProc is a running `liaisonbot serve`.
type mmProc struct {
	cmd  *exec.Cmd
	log  *mmLog
	done chan error
}

func mmStartServe(t *testing.T, environ []string) *mmProc {
	t.Helper()
	s := &mmProc{cmd: exec.Command(binary, "serve"), log: &mmLog{}, done: make(chan error, 1)}
	s.cmd.Env = environ
	s.cmd.Dir = t.TempDir()
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *mmProc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v; log:\n%s", err, s.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM; log:\n%s", s.log.String())
	}
}

// logLines are the JSON log records with msg.
func (s *mmProc) logLines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.log.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// eventLines are the posts of people (not the bot) the adapter
// dispatched, as "source:post_id".
func (s *mmProc) eventLines() []string {
	var out []string
	for _, rec := range s.logLines("mattermost event") {
		if rec["from_bot"] != true {
			out = append(out, fmt.Sprint(rec["source"], ":", rec["post_id"]))
		}
	}
	return out
}

// until polls cond with a deadline; the bot runs in another process, so
// there is no signal to wait on.
func (s *mmProc) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		select {
		case err := <-s.done:
			t.Fatalf("serve exited (%v) while waiting for %s; log:\n%s", err, what, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mmStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func mmFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// mmWorld is the fake server's team, people and channels.
type mmWorld struct {
	srv                 *mmtest.Server
	team                *model.Team
	bot, agent, officer *model.User
	shared, watch       *model.Channel
}

func mmPopulate(srv *mmtest.Server) *mmWorld {
	w := &mmWorld{srv: srv}
	w.team = srv.AddTeam("pld")
	w.bot = srv.AddUser(mmtest.UserOptions{Username: "liaisonbot", Bot: true, Token: mmE2EBotToken})
	w.agent = srv.AddUser(mmtest.UserOptions{Username: "alice"})
	w.officer = srv.AddUser(mmtest.UserOptions{Username: "sgt.lee", Roles: "system_guest"})
	srv.AddTeamMember(w.team.Id, w.bot.Id, false)
	srv.AddTeamMember(w.team.Id, w.agent.Id, false)
	srv.AddTeamMember(w.team.Id, w.officer.Id, true)
	w.shared = srv.AddChannel(w.team.Id, "mpd-shared", w.bot.Id, w.agent.Id, w.officer.Id)
	w.watch = srv.AddChannel(w.team.Id, "watch", w.bot.Id, w.agent.Id)
	return w
}

func mmEnv(t *testing.T, w *mmWorld, mmURL, port string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	yaml := fmt.Sprintf("mattermost:\n  internal_teams: [pld]\npartners:\n  - id: mpd\n    name: Metropolitan Police Department\n    oncall: \"@mpd-watch\"\n    channels: [\"mattermost:%s\"]\nteams:\n  - id: watch\n    channels: [\"mattermost:%s\"]\n", w.shared.Id, w.watch.Id)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return env(t,
		"LIAISON_CONFIG="+cfg,
		"LIAISON_LISTEN=127.0.0.1:"+port,
		"LIAISON_PUBLIC_URL=http://127.0.0.1:"+port,
		"LIAISON_LOG_LEVEL=debug",
		"LIAISON_LOG_FORMAT=json",
		"MATTERMOST_URL="+mmURL,
		"MATTERMOST_BOT_TOKEN="+mmE2EBotToken,
		"MATTERMOST_TEAM=pld",
	)
}

func TestMattermostServe(t *testing.T) {
	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := mmPopulate(srv)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	environ := mmEnv(t, w, srv.URL, port)
	ctx := context.Background()

	bot := mmStartServe(t, environ)
	bot.until(t, "/healthz", func() bool { return mmStatus(base+"/healthz") == http.StatusOK })
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })

	// The command is registered once, pointing at the bot.
	cmds := srv.Commands()
	if len(cmds) != 1 || cmds[0].Trigger != "liaison" || cmds[0].URL != base+"/mattermost/command" || cmds[0].Method != "P" {
		t.Fatalf("registered commands: %+v", cmds)
	}

	// /liaison contact canada, as Mattermost calls it.
	res, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "contact canada"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("contact canada: %d %s", res.Status, res.Body)
	}
	var raw map[string]any
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["response_type"] != "ephemeral" || !strings.Contains(fmt.Sprint(raw["text"]), `Missions matching "canada"`) || raw["skip_slack_parsing"] != true {
		t.Fatalf("answer: %s", res.Body)
	}
	js, _ := json.Marshal(res.Response.Props["attachments"])
	var atts []*model.MessageAttachment
	if err := json.Unmarshal(js, &atts); err != nil {
		t.Fatal(err)
	}
	var shown strings.Builder
	for _, a := range atts {
		fmt.Fprintln(&shown, a.Title)
		for _, f := range a.Fields {
			fmt.Fprintf(&shown, "%s: %v\n", f.Title, f.Value)
		}
		fmt.Fprintln(&shown, a.Text)
	}
	inOrder(t, shown.String(), "Embassy of Canada", "Address: 501 Pennsylvania Avenue NW", "24-hour line: 571-345-3146",
		"Consulate General of Canada in Chicago", "DSS field office: DSS Chicago Field Office", "(312) 353-6163",
		"24-hour command center: 571-345-3146")

	// A wrong token: 401, and nothing is done (checked in the audit below).
	bad, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "contact japan", Token: model.NewId()})
	if err != nil {
		t.Fatal(err)
	}
	if bad.Status != http.StatusUnauthorized || bad.Response != nil {
		t.Fatalf("wrong token: %d %s", bad.Status, bad.Body)
	}

	// An incident: the bot posts its root in the partner's shared channel,
	// naming the on-call handle, then an update in the thread (root_id).
	opened, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id,
		Text: "incident open mission:emb-dc-canada sev:2 partners:mpd Suspicious package at the gate"})
	if err != nil || opened.Status != http.StatusOK || opened.Response.ResponseType != "in_channel" {
		t.Fatalf("incident open: %v %+v", err, opened)
	}
	incID := incidentIDPattern.FindString(opened.Response.Text)
	if incID == "" {
		t.Fatalf("no incident id in %q", opened.Response.Text)
	}
	var root *model.Post
	bot.until(t, "the incident's root post", func() bool {
		for _, p := range srv.Posts() {
			if p.UserId == w.bot.Id && p.ChannelId == w.shared.Id && p.RootId == "" && strings.Contains(p.Message, incID) {
				root = p
				return true
			}
		}
		return false
	})
	if !strings.Contains(root.Message, "@mpd-watch (Metropolitan Police Department)") || root.PendingPostId == "" {
		t.Errorf("root post: %q (pending_post_id %q)", root.Message, root.PendingPostId)
	}
	if _, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "incident update " + incID + " Bomb squad requested"}); err != nil {
		t.Fatal(err)
	}
	bot.until(t, "the update in the thread", func() bool {
		for _, p := range srv.Posts() {
			if p.UserId == w.bot.Id && p.RootId == root.Id && strings.Contains(p.Message, "Bomb squad requested") {
				return true
			}
		}
		return false
	})

	// Thread replies: one live, two while the websocket is down, one after.
	r1 := srv.Post(w.officer.Id, w.shared.Id, root.Id, "MPD unit on its way.")
	bot.until(t, "the live reply", func() bool { return mmHas(bot.eventLines(), "websocket:"+r1.Id) })

	srv.SetWebsocketRefused(true)
	srv.DropWebsockets()
	bot.until(t, "the drop to be noticed", func() bool { return len(bot.logLines("mattermost websocket disconnected, reconnecting")) > 0 })
	bot.until(t, "/readyz to report it", func() bool { return mmStatus(base+"/readyz") == http.StatusServiceUnavailable })
	r2 := srv.Post(w.officer.Id, w.shared.Id, root.Id, "Arrived, perimeter set.")
	r3 := srv.Post(w.agent.Id, w.shared.Id, root.Id, "Command center informed.")
	srv.SetWebsocketRefused(false)
	bot.until(t, "the replies made while down", func() bool {
		ev := bot.eventLines()
		return mmHas(ev, "catchup:"+r2.Id) && mmHas(ev, "catchup:"+r3.Id)
	})
	bot.until(t, "/readyz again", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	r4 := srv.Post(w.officer.Id, w.shared.Id, root.Id, "All clear.")
	bot.until(t, "the reply after reconnecting", func() bool { return mmHas(bot.eventLines(), "websocket:"+r4.Id) })

	var replies []string
	for _, e := range bot.eventLines() {
		replies = append(replies, e[strings.Index(e, ":")+1:])
	}
	if want := []string{r1.Id, r2.Id, r3.Id, r4.Id}; strings.Join(replies, " ") != strings.Join(want, " ") {
		t.Fatalf("replies delivered %v, want each once in order %v", replies, want)
	}
	bot.stop(t)

	// A restart finds its command: still exactly one, created once.
	bot = mmStartServe(t, environ)
	bot.until(t, "/readyz after restart", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	if n := len(srv.RequestsTo(http.MethodPost, "/api/v4/commands")); n != 1 || len(srv.Commands()) != 1 {
		t.Fatalf("%d create requests, %d commands after a restart", n, len(srv.Commands()))
	}
	if res, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "emergency"}); err != nil || res.Status != http.StatusOK {
		t.Fatalf("command after restart: %v %+v", err, res)
	}
	logs := bot.log.String()
	bot.stop(t)
	for _, secret := range []string{mmE2EBotToken, cmds[0].Token} {
		if strings.Contains(logs, secret) {
			t.Fatal("a token reached the log")
		}
	}

	// The incident's timeline has every reply once, in order.
	report := run(t, environ, "", "incident", "export", incID)
	if report.code != 0 {
		t.Fatalf("incident export: %s", report.stderr)
	}
	inOrder(t, report.stdout, "Bomb squad requested", "MPD unit on its way.", "Arrived, perimeter set.", "Command center informed.", "All clear.")
	for _, reply := range []string{"MPD unit on its way.", "Arrived, perimeter set.", "Command center informed.", "All clear."} {
		if n := strings.Count(report.stdout, reply); n != 1 {
			t.Errorf("%q is %d times in the timeline", reply, n)
		}
	}

	// The audit has the commands that ran and nothing of the refused one.
	audit := run(t, environ, "", "audit", "export")
	if audit.code != 0 {
		t.Fatalf("audit export: %s", audit.stderr)
	}
	inOrder(t, audit.stdout, `"text":"contact canada"`, `"command":"incident open"`, `"command":"incident update"`, `"command":"emergency"`)
	if strings.Contains(audit.stdout, "japan") {
		t.Fatalf("the refused command was audited:\n%s", audit.stdout)
	}
}

func TestMattermostServerDownAtStart(t *testing.T) {
	mmPort := mmFreePort(t)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	// The configuration names channels before the server exists; these
	// are not on it, which the bot reports and survives.
	w := &mmWorld{shared: &model.Channel{Id: model.NewId()}, watch: &model.Channel{Id: model.NewId()}}
	environ := mmEnv(t, w, "http://127.0.0.1:"+mmPort, port)
	bot := mmStartServe(t, environ)
	bot.until(t, "/healthz while Mattermost is down", func() bool { return mmStatus(base+"/healthz") == http.StatusOK })
	bot.until(t, "/readyz to say why", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), "mattermost: cannot start")
	})

	srv, err := mmtest.New(mmtest.Options{Addr: "127.0.0.1:" + mmPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mmPopulate(srv)
	bot.until(t, "/readyz once Mattermost is up", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	if len(srv.Commands()) != 1 {
		t.Fatalf("commands: %+v", srv.Commands())
	}
	bot.stop(t)
}

func mmHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// With only MATTERMOST_URL and MATTERMOST_COMMAND_TOKEN (a command
// registered by hand, no bot account) serve answers the slash command.
func TestMattermostCommandTokenOnly(t *testing.T) {
	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := mmPopulate(srv)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	manual := srv.AddCommand(w.team.Id, w.agent.Id, "liaison", base+"/mattermost/command")
	environ := env(t, "LIAISON_LISTEN=127.0.0.1:"+port, "LIAISON_LOG_FORMAT=json",
		"MATTERMOST_URL="+srv.URL, "MATTERMOST_COMMAND_TOKEN="+manual.Token)
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	res, err := srv.Execute(context.Background(), mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "emergency"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || !strings.Contains(res.Response.Text, "Call 911 first") {
		t.Fatalf("emergency: %d %s", res.Status, res.Body)
	}
	bad, err := srv.Execute(context.Background(), mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: "emergency", Token: model.NewId()})
	if err != nil || bad.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v %+v", err, bad)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the bot called the API %d times without a bot token", n)
	}
	bot.stop(t)
}
