package main_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"liaisonbot/adapters/mattermost/mmtest"
)

// SIGTERM (SPEC §7): with a request in flight and posts queued, serve stops
// taking connections, answers the request, sends every queued post (the
// in-flight request's too), closes the store and exits 0, within its
// bound (10 s for requests, 10 s for the outbox).
func TestSIGTERMDrains(t *testing.T) {
	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := crashPopulate(srv)
	port := mmFreePort(t)
	addr := "127.0.0.1:" + port
	environ := crashEnv(t, w, srv.URL, port)
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus("http://"+addr+"/readyz") == http.StatusOK })
	ctx := context.Background()

	command := func(text, want string) string {
		t.Helper()
		res, err := srv.Execute(ctx, mmtest.Invocation{UserID: w.agent.Id, ChannelID: w.watch.Id, Text: text})
		if err != nil || res.Status != http.StatusOK || !strings.Contains(res.Response.Text, want) {
			t.Fatalf("%s: %v %d %s", text, err, res.Status, res.Body)
		}
		return res.Response.Text
	}
	// The bot learns who the agent is (it caches roles), then the
	// platform goes down: every post stays queued, with retries.
	command("incident list", "")
	srv.SetDown(true)
	id := incidentIDPattern.FindString(command("incident open mission:canada sev:2 Vehicle at the barrier", " opened: "))
	var acked []*crashOp
	acked = append(acked, &crashOp{kind: "open", inc: id, acked: true})
	for i := range 3 {
		tok := fmt.Sprintf("queued-tok%d", i)
		command("incident update "+id+" Barrier report "+tok, id+" updated")
		acked = append(acked, &crashOp{kind: "update", inc: id, token: tok, acked: true})
	}
	if n := crashBotPosts(srv, w); n != 0 {
		t.Fatalf("%d posts made while the platform was down", n)
	}

	// A request in flight: a person the bot has not met yet runs a
	// command, and the bot's look-up of who they are waits on the
	// platform until shutdown has begun.
	bob := srv.AddUser(mmtest.UserOptions{Username: "bob"})
	srv.AddTeamMember(w.team.Id, bob.Id, false)
	lookup := "/api/v4/users/" + bob.Id
	release := srv.Hold(http.MethodGet, lookup)
	defer release()
	type answer struct {
		res *mmtest.Result
		err error
	}
	inflight := make(chan answer, 1)
	go func() {
		res, err := srv.Execute(ctx, mmtest.Invocation{UserID: bob.Id, ChannelID: w.watch.Id, Text: "incident update " + id + " Barrier report inflight-tok"})
		inflight <- answer{res, err}
	}()
	acked = append(acked, &crashOp{kind: "update", inc: id, token: "inflight-tok", acked: true})
	actx, acancel := context.WithTimeout(ctx, 30*time.Second)
	defer acancel()
	if err := srv.Await(actx, func() bool { return srv.Held(http.MethodGet, lookup) > 0 }); err != nil {
		t.Fatalf("the command never reached the platform: %v", err)
	}

	start := time.Now()
	if err := bot.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bot.until(t, "shutdown to begin", func() bool { return len(bot.logLines("shutting down")) > 0 })
	// Intake stops: new connections are refused while the request is
	// still being answered.
	bot.until(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	srv.SetDown(false)
	release()
	a := <-inflight
	if a.err != nil || a.res.Status != http.StatusOK || a.res.Response == nil {
		t.Fatalf("the request in flight: %v %+v; log:\n%s", a.err, a.res, bot.log.String())
	}
	// Answered inline, or (on a machine so loaded that the hold outlasted
	// SlowAfter) acknowledged and answered through response_url before
	// the exit: checked below.
	inline := strings.Contains(a.res.Response.Text, id+" updated")
	if !inline && !strings.Contains(a.res.Response.Text, "Working on it") {
		t.Fatalf("the request in flight answered %q", a.res.Response.Text)
	}

	// Exit 0 within the bound: 10 s for requests, 10 s for the outbox, and
	// a margin for a loaded machine.
	select {
	case err := <-bot.done:
		if err != nil {
			t.Fatalf("serve exited with %v; log:\n%s", err, bot.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit on SIGTERM; log:\n%s", bot.log.String())
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !inline {
		calls := srv.HookCalls()
		if len(calls) != 1 || !strings.Contains(calls[0].Response.Text, id+" updated") {
			t.Fatalf("the request in flight was acknowledged but not answered: %+v", calls)
		}
	}

	// Every queued post went out before the exit, each once.
	posts := srv.Posts()
	if missing := crashMissing(posts, w, crashExpected(acked)); len(missing) != 0 {
		t.Fatalf("posts not sent at shutdown: %+v; log:\n%s", missing, bot.log.String())
	}
	if n, want := crashBotPosts(srv, w), len(crashExpected(acked)); n != want {
		t.Fatalf("%d posts made, want %d", n, want)
	}
	if len(bot.logLines("outbox flushed")) != 1 {
		t.Fatalf("no \"outbox flushed\" at shutdown; log:\n%s", bot.log.String())
	}
	// The store was closed: the database opens at once, nothing waits.
	r := run(t, environ, "", "outbox", "list")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "0 waiting, 0 failing") {
		t.Fatalf("outbox list after SIGTERM: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, environ, "", "incident", "export", id); r.code != 0 || !strings.Contains(r.stdout, "inflight-tok") {
		t.Fatalf("the in-flight update is not stored: %d %s", r.code, r.stderr)
	}
}

// A command slower than Mattermost's patience is acknowledged at once
// ("Working on it…") and answered later through response_url. SIGTERM
// arriving between the two lets it finish: the change is stored, the late
// answer delivered, and the process exits 0.
func TestSIGTERMFinishesSlowCommand(t *testing.T) {
	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := crashPopulate(srv)
	port := mmFreePort(t)
	environ := crashEnv(t, w, srv.URL, port)
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus("http://127.0.0.1:"+port+"/readyz") == http.StatusOK })
	ctx := context.Background()

	// Who the person is takes the platform longer than the bot waits
	// before acknowledging: held until after SIGTERM.
	bob := srv.AddUser(mmtest.UserOptions{Username: "bob"})
	srv.AddTeamMember(w.team.Id, bob.Id, false)
	release := srv.Hold(http.MethodGet, "/api/v4/users/"+bob.Id)
	defer release()
	res, err := srv.Execute(ctx, mmtest.Invocation{UserID: bob.Id, ChannelID: w.watch.Id, Text: "handoff note Slow-tok Gate 3 camera is down"})
	if err != nil || res.Status != http.StatusOK || !strings.Contains(res.Response.Text, "Working on it") {
		t.Fatalf("want the early acknowledgement, got %v %+v", err, res)
	}
	if err := bot.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bot.until(t, "shutdown to begin", func() bool { return len(bot.logLines("shutting down")) > 0 })
	release()
	select {
	case err := <-bot.done:
		if err != nil {
			t.Fatalf("serve exited with %v; log:\n%s", err, bot.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit on SIGTERM; log:\n%s", bot.log.String())
	}
	calls := srv.HookCalls()
	if len(calls) != 1 || !strings.Contains(calls[0].Response.Text, "Note left for the next shift") {
		t.Fatalf("late answers: %+v; log:\n%s", calls, bot.log.String())
	}
	if notes := crashHandoffNotes(t, dbPathOf(environ)); !strings.Contains(notes, "Slow-tok") {
		t.Fatalf("the slow command's note is not stored: %s", notes)
	}
}

// dbPathOf is the LIAISON_DB of an environment.
func dbPathOf(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "LIAISON_DB="); ok {
			return v
		}
	}
	return ""
}
