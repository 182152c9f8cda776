package mattermost

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot/store/boltstore"
)

func TestRegistersTheCommandOnce(t *testing.T) {
	w := newWorld(t)
	first := w.start(startOptions{})
	first.ready(t)
	cmds := w.srv.Commands()
	if len(cmds) != 1 {
		t.Fatalf("%d commands registered, want 1", len(cmds))
	}
	c := cmds[0]
	if c.Trigger != "liaison" || c.URL != w.web.URL+CommandPath || c.Method != model.CommandMethodPost || c.CreatorId != w.bot.Id || c.TeamId != w.team.Id {
		t.Fatalf("registered %+v", c)
	}
	if !c.AutoComplete || !strings.Contains(c.AutoCompleteHint, "whoami") {
		t.Errorf("autocomplete hint %q", c.AutoCompleteHint)
	}
	// The create request carries the fields commands.yaml requires.
	creates := w.srv.RequestsTo(http.MethodPost, "/api/v4/commands")
	var body map[string]any
	if err := json.Unmarshal(creates[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"team_id", "method", "trigger", "url"} {
		if body[k] == "" || body[k] == nil {
			t.Errorf("create command request lacks %s: %s", k, creates[0].Body)
		}
	}
	if auth := creates[0].Header.Get("Authorization"); !strings.EqualFold(auth, "bearer "+botToken) {
		t.Errorf("Authorization %q", auth)
	}
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusOK {
		t.Fatalf("the registered command does not work: %d", res.Status)
	}
	first.stop()

	// A restart finds the command, creates nothing, and still knows its
	// token before it has even reached the server.
	second := w.start(startOptions{store: first.store, noRun: true})
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusOK {
		t.Fatalf("stored token not used before start-up: %d", res.Status)
	}
	second.stop()
	third := w.start(startOptions{store: first.store})
	third.ready(t)
	if n := len(w.srv.RequestsTo(http.MethodPost, "/api/v4/commands")); n != 1 {
		t.Fatalf("%d create requests over two starts, want 1", n)
	}
	if len(w.srv.Commands()) != 1 {
		t.Fatalf("%d commands", len(w.srv.Commands()))
	}
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusOK {
		t.Fatalf("command after restart: %d", res.Status)
	}
}

func TestFindsACommandRegisteredEarlier(t *testing.T) {
	w := newWorld(t)
	// Registered by an admin with the right URL, or by an earlier install
	// with a fresh database.
	manual := w.srv.AddCommand(w.team.Id, w.admin.Id, "liaison", w.web.URL+CommandPath)
	r := w.start(startOptions{})
	r.ready(t)
	if n := len(w.srv.RequestsTo(http.MethodPost, "/api/v4/commands")); n != 0 {
		t.Fatalf("created a second command (%d requests)", n)
	}
	if !r.ad.tokenOK(manual.Token) {
		t.Fatal("the existing command's token is not accepted")
	}
}

func TestForbiddenRegistrationExplainsAndKeepsServing(t *testing.T) {
	w := newWorld(t)
	w.srv.SetForbidCommands(true)
	manual := w.srv.AddCommand(w.team.Id, w.admin.Id, "liaison", w.web.URL+CommandPath)

	// Without MATTERMOST_COMMAND_TOKEN: an error that says what to do.
	r := w.start(startOptions{})
	r.ready(t)
	logs := r.logs.String()
	if err := contains(logs, `"level":"ERROR"`, "Register it by hand", "Integrations → Slash Commands", w.web.URL+CommandPath, "request method POST", "MATTERMOST_COMMAND_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs, "Register it by hand"); n != 1 {
		t.Errorf("the explanation is logged %d times", n)
	}
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusUnauthorized {
		t.Fatalf("unknown token accepted: %d", res.Status)
	}
	r.stop()

	// With it: the command registered by hand works.
	r = w.start(startOptions{env: map[string]string{"MATTERMOST_COMMAND_TOKEN": manual.Token}})
	r.ready(t)
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusOK || !strings.Contains(res.Response.Text, "role=agent") {
		t.Fatalf("command with MATTERMOST_COMMAND_TOKEN: %d %s", res.Status, res.Body)
	}
	if strings.Contains(r.logs.String(), manual.Token) {
		t.Error("the command token was logged")
	}
}

func TestNoPublicURLExplains(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{env: map[string]string{"LIAISON_PUBLIC_URL": ""}})
	r.ready(t)
	if err := contains(r.logs.String(), "LIAISON_PUBLIC_URL is not set", "Register it by hand"); err != nil {
		t.Fatal(err)
	}
	if len(w.srv.Commands()) != 0 {
		t.Fatal("registered a command without a public URL")
	}
}

func TestServerDownAtStart(t *testing.T) {
	w := newWorld(t)
	w.srv.SetDown(true)
	r := w.start(startOptions{})
	<-r.waiter.calls // the first attempt failed and the adapter is backing off
	if err := r.ad.Ready(); err == nil || !strings.Contains(err.Error(), "cannot start") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Ready = %v", err)
	}
	w.srv.SetDown(false)
	r.ready(t)
	if len(w.srv.Commands()) != 1 {
		t.Fatal("command not registered once the server came back")
	}
}

func TestRefusedBotToken(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{env: map[string]string{"MATTERMOST_BOT_TOKEN": "wrongtoken00000000000000000"}})
	<-r.waiter.calls
	err := r.ad.Ready()
	if err == nil || !strings.Contains(err.Error(), "MATTERMOST_BOT_TOKEN was refused") {
		t.Fatalf("Ready = %v", err)
	}
	if strings.Contains(err.Error(), "wrongtoken") || strings.Contains(r.logs.String(), "wrongtoken") {
		t.Fatal("the token was echoed")
	}
}

// Replicas share a store: one (the leader) registers the command while
// another, started before, answers the command over HTTP. It learns the
// token from the store on the first command instead of refusing it.
func TestFollowerLearnsTheRegisteredToken(t *testing.T) {
	w := newWorld(t)
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "shared.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	follower := w.start(startOptions{store: db, noRun: true})
	leader := w.start(startOptions{store: db})
	leader.ready(t)
	if len(w.srv.Commands()) != 1 {
		t.Fatalf("%d commands registered", len(w.srv.Commands()))
	}
	routes := http.NewServeMux()
	follower.ad.Register(routes)
	w.handler.Store(routes)
	if res := w.execute(w.agent, w.internal, "whoami"); res.Status != http.StatusOK {
		t.Fatalf("the follower refused the registered command: %d", res.Status)
	}
	// A wrong token is still refused.
	if follower.ad.tokenOK("not-the-token") {
		t.Fatal("a wrong token is accepted")
	}
}
