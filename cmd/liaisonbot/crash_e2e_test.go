package main_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
)

// Crash safety (SPEC §7): the real binary, driven over HTTP the way
// Mattermost drives it, is killed with SIGKILL at random points while it
// answers commands and sends posts, and restarted on the same database.
// After a last clean run has drained the outbox, everything the bot
// acknowledged is stored, every post it owed reached the (fake) platform
// exactly once, and no incident id was handed out twice.
//
// The seed is logged; LIAISON_CRASH_SEED=<seed> replays its choices (the
// commands, the kill points), though not the processes' exact timing.

// crashOp is one command the driver sent.
type crashOp struct {
	kind  string // open, update, note, handoff
	inc   string // the incident (for open: the id in the answer)
	token string // unique text carried by the command
	acked bool   // answered 200 with the expected answer
}

// crashWorld is the fake Mattermost side: two partner channels and the
// division's watch channel, where the commands are typed.
type crashWorld struct {
	*mmWorld
	uspp *model.Channel
}

func crashPopulate(srv *mmtest.Server) *crashWorld {
	w := &crashWorld{mmWorld: mmPopulate(srv)}
	w.uspp = srv.AddChannel(w.team.Id, "uspp-shared", w.bot.Id, w.agent.Id)
	return w
}

func crashEnv(t *testing.T, w *crashWorld, mmURL, port string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	yaml := fmt.Sprintf(`mattermost:
  internal_teams: [pld]
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["mattermost:%s"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["mattermost:%s"]
teams:
  - id: watch
    channels: ["mattermost:%s"]
`, w.shared.Id, w.uspp.Id, w.watch.Id)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return env(t,
		"LIAISON_CONFIG="+cfg,
		"LIAISON_LISTEN=127.0.0.1:"+port,
		"LIAISON_PUBLIC_URL=http://127.0.0.1:"+port,
		"LIAISON_LOG_LEVEL=info",
		"LIAISON_LOG_FORMAT=json",
		"MATTERMOST_URL="+mmURL,
		"MATTERMOST_BOT_TOKEN="+mmE2EBotToken,
		"MATTERMOST_TEAM=pld",
	)
}

// crashDriver sends commands from several workers and records what was
// acknowledged.
type crashDriver struct {
	srv  *mmtest.Server
	w    *crashWorld
	mu   sync.Mutex
	ops  []*crashOp
	incs []string // acknowledged incident ids, in order
	n    int      // tokens handed out
	ack  chan struct{}
}

// maxOwed bounds the acknowledged posts not made yet while commands go on.
const maxOwed = 6

// owed counts the posts acknowledged commands owe that the platform has
// not received (roughly: posts of commands not acknowledged count too).
func (d *crashDriver) owed() int {
	d.mu.Lock()
	n := len(crashExpected(d.ackedLocked()))
	d.mu.Unlock()
	return n - crashBotPosts(d.srv, d.w)
}

func (d *crashDriver) token(kind string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return fmt.Sprintf("%s-tok%04d", kind, d.n)
}

func (d *crashDriver) record(op *crashOp) {
	d.mu.Lock()
	d.ops = append(d.ops, op)
	if op.acked && op.kind == "open" {
		d.incs = append(d.incs, op.inc)
	}
	d.mu.Unlock()
	if op.acked {
		select {
		case d.ack <- struct{}{}:
		default:
		}
	}
}

func (d *crashDriver) pickIncident(rng *rand.Rand) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.incs) == 0 {
		return ""
	}
	// Mostly recent incidents, sometimes old ones (opened before a crash).
	if rng.IntN(3) == 0 {
		return d.incs[rng.IntN(len(d.incs))]
	}
	return d.incs[len(d.incs)-1-rng.IntN(min(3, len(d.incs)))]
}

// one sends one command; a failed request (the process was killed under
// it) is recorded unacknowledged: it may or may not have happened.
func (d *crashDriver) one(ctx context.Context, rng *rand.Rand) {
	// The outbox paces posts per channel: keep the posts owed few, so that
	// kills land among posts being sent and the last run has little to
	// drain.
	if d.srv.Await(ctx, func() bool { return d.owed() < maxOwed }) != nil {
		return
	}
	inc := d.pickIncident(rng)
	kind := "open"
	if inc != "" {
		switch r := rng.IntN(20); {
		case r < 5:
			kind = "open"
		case r < 13:
			kind = "update"
		case r < 17:
			kind = "note"
		default:
			kind = "handoff"
		}
	}
	op := &crashOp{kind: kind, inc: inc, token: d.token(kind)}
	var text, want string
	switch kind {
	case "open":
		text, want = "incident open mission:canada sev:2 Crowd at the gate "+op.token, " opened: Embassy of Canada"
	case "update":
		text, want = "incident update "+inc+" Perimeter report "+op.token, inc+" updated: "
	case "note":
		text, want = "incident note "+inc+" Internal remark "+op.token, "Internal note added to "+inc
	case "handoff":
		text, want = "handoff note Next shift please check "+op.token, "Note left for the next shift"
	}
	res, err := d.srv.Execute(ctx, mmtest.Invocation{UserID: d.w.agent.Id, ChannelID: d.w.watch.Id, Text: text})
	if err == nil && res.Status == http.StatusOK && res.Response != nil {
		answer := res.Response.Text + fmt.Sprint(res.Response.Props)
		if strings.Contains(answer, want) {
			op.acked = true
			if kind == "open" {
				op.inc = incidentIDPattern.FindString(res.Response.Text)
			}
		}
	}
	d.record(op)
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary several times")
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LIAISON_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LIAISON_CRASH_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (LIAISON_CRASH_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x11a150))

	srv, err := mmtest.New(mmtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := crashPopulate(srv)
	port := mmFreePort(t)
	base := "http://127.0.0.1:" + port
	environ := crashEnv(t, w, srv.URL, port)
	dbPath := dbPathOf(environ)
	d := &crashDriver{srv: srv, w: w, ack: make(chan struct{}, 1)}

	const rounds, workers = 12, 3
	for round := 1; round <= rounds; round++ {
		deadline := time.Now().Add(30 * time.Second) // a guard per round, not a timing assertion
		bot := mmStartServe(t, environ)
		bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
		// Kill at a random point with the workers' next commands in flight
		// and the outbox sending: after a random number of acknowledged
		// commands (0: at once), or right after the platform accepted a
		// random number of further posts (the window between the
		// platform's answer and the bot recording it).
		d.mu.Lock()
		killAfterAcks := len(d.ackedLocked()) + rng.IntN(12)
		d.mu.Unlock()
		killAfterPosts := -1
		if rng.IntN(2) == 0 {
			killAfterPosts = crashBotPosts(srv, w) + 1 + rng.IntN(6)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range workers {
			wrng := rand.New(rand.NewPCG(seed, uint64(round*100+i)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					d.one(ctx, wrng)
				}
			}()
		}
		trigger := "acknowledged commands"
		if killAfterPosts >= 0 {
			trigger = "posts"
			wctx, wcancel := context.WithDeadline(context.Background(), deadline)
			err := srv.Await(wctx, func() bool { return crashBotPosts(srv, w) >= killAfterPosts })
			wcancel()
			if err != nil {
				t.Fatalf("round %d: the bot made no %d posts: %v; log:\n%s", round, killAfterPosts, err, bot.log.String())
			}
		}
		for killAfterPosts < 0 {
			d.mu.Lock()
			n := len(d.ackedLocked())
			d.mu.Unlock()
			if n >= killAfterAcks {
				break
			}
			select {
			case <-d.ack:
			case err := <-bot.done:
				t.Fatalf("round %d: serve exited on its own (%v); log:\n%s", round, err, bot.log.String())
			case <-time.After(time.Until(deadline)):
				t.Fatalf("round %d: no progress; log:\n%s", round, bot.log.String())
			}
		}
		if err := bot.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-bot.done
		cancel()
		wg.Wait()
		d.mu.Lock()
		t.Logf("round %d: killed on %s: %d acknowledged commands (%d sent in all), %d posts", round, trigger, len(d.ackedLocked()), len(d.ops), crashBotPosts(srv, w))
		d.mu.Unlock()
	}

	// A last clean run: the outbox sends what it still owes; one more
	// command proves the bot works on the crashed-into database.
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	d.one(context.Background(), rand.New(rand.NewPCG(seed, 1)))
	if last := d.ops[len(d.ops)-1]; !last.acked {
		t.Fatalf("%s after the crashes was not acknowledged; log:\n%s", last.kind, bot.log.String())
	}
	acked := d.ackedLocked()
	expected := crashExpected(acked)
	bot.until(t, "every acknowledged post", func() bool { return len(crashMissing(srv.Posts(), w, expected)) == 0 })
	bot.stop(t)
	if r := run(t, environ, "", "outbox", "list"); r.code != 0 || !strings.HasPrefix(r.stdout, "0 waiting, 0 failing") {
		t.Fatalf("outbox after the clean run: %d %s%s", r.code, r.stdout, r.stderr)
	}

	// Ids never reused: each acknowledged open has its own id, and the
	// stored incident under that id is the one that was acknowledged.
	seen := map[string]string{}
	for _, op := range acked {
		if op.kind != "open" {
			continue
		}
		if prev, dup := seen[op.inc]; dup {
			t.Errorf("%s acknowledged for two opens: %s and %s", op.inc, prev, op.token)
		}
		seen[op.inc] = op.token
	}

	// Every acknowledged incident, update and note is in its export, once.
	exports := map[string]string{}
	for id := range seen {
		r := run(t, environ, "", "incident", "export", id)
		if r.code != 0 {
			t.Fatalf("incident export %s: %s", id, r.stderr)
		}
		exports[id] = r.stdout
	}
	for _, op := range acked {
		switch op.kind {
		case "open", "update", "note":
			rep, ok := exports[op.inc]
			if !ok {
				t.Errorf("%s acknowledged on %s, an incident never acknowledged", op.token, op.inc)
				continue
			}
			// An open's summary is in the header and the timeline.
			if n, want := strings.Count(rep, op.token), map[bool]int{true: 2, false: 1}[op.kind == "open"]; n != want {
				t.Errorf("acknowledged %s %s is %d times in the export of %s", op.kind, op.token, n, op.inc)
			}
		}
	}
	notes := crashHandoffNotes(t, dbPath)
	for _, op := range acked {
		if op.kind == "handoff" && strings.Count(notes, op.token) != 1 {
			t.Errorf("acknowledged handoff note %s is %d times in the store", op.token, strings.Count(notes, op.token))
		}
	}

	// Posts: none missing (checked above, before stopping), none twice —
	// acknowledged or not, no post of the bot was made twice — and no
	// internal note reached a channel.
	posts := srv.Posts()
	type key struct{ channel, root, message string }
	made := map[key]int{}
	pending := map[string]int{}
	for _, p := range posts {
		if p.UserId != w.bot.Id {
			continue
		}
		made[key{p.ChannelId, rootMessage(posts, p.RootId), p.Message}]++
		if p.PendingPostId != "" {
			pending[p.PendingPostId]++
		}
		if strings.Contains(p.Message, "note-tok") {
			t.Errorf("an internal note reached channel %s: %q", p.ChannelId, p.Message)
		}
	}
	for k, n := range made {
		if n > 1 {
			t.Errorf("posted %d times in %s: %q", n, k.channel, firstLine(k.message))
		}
	}
	for id, n := range pending {
		if n > 1 {
			t.Errorf("pending_post_id %s made %d posts", id, n)
		}
	}
	// Every acknowledged change is audited: a command that writes waits
	// for its audit record (bot.Command.Writes), so a kill cannot lose it.
	audit := run(t, environ, "", "audit", "export")
	if audit.code != 0 {
		t.Fatalf("audit export: %s", audit.stderr)
	}
	for _, op := range acked {
		if n := strings.Count(audit.stdout, op.token); n != 1 {
			t.Errorf("acknowledged %s %s has %d audit records", op.kind, op.token, n)
		}
	}
	kinds := map[string]int{}
	for _, op := range acked {
		kinds[op.kind]++
	}
	t.Logf("%d commands sent, %d acknowledged (%v), %d posts by the bot", len(d.ops), len(acked), kinds, len(pending))
	if kinds["open"] < 2 || kinds["update"] < 1 {
		t.Fatalf("the run acknowledged too little to test anything: %v", kinds)
	}
}

func crashBotPosts(srv *mmtest.Server, w *crashWorld) int {
	n := 0
	for _, p := range srv.Posts() {
		if p.UserId == w.bot.Id {
			n++
		}
	}
	return n
}

func (d *crashDriver) ackedLocked() []*crashOp {
	var out []*crashOp
	for _, op := range d.ops {
		if op.acked {
			out = append(out, op)
		}
	}
	return out
}

// crashPost is a post the bot owes: in channel, in the thread whose root
// contains root ("" for a root post), a message containing text.
type crashPost struct{ channel, root, text string }

func crashExpected(acked []*crashOp) []crashPost {
	var out []crashPost
	channels := []string{"mpd", "uspp"}
	for _, op := range acked {
		switch op.kind {
		case "open":
			for _, ch := range channels {
				out = append(out, crashPost{ch, "", "Incident " + op.inc + ":"})
			}
			out = append(out, crashPost{"watch", "", op.inc + ": the threads are open"})
		case "update":
			for _, ch := range channels {
				out = append(out, crashPost{ch, "Incident " + op.inc + ":", op.token})
			}
		}
	}
	return out
}

// crashMissing returns the expected posts not on the server (duplicates
// are looked for separately, over every post).
func crashMissing(posts []*model.Post, w *crashWorld, want []crashPost) []crashPost {
	ids := map[string]string{"mpd": w.shared.Id, "uspp": w.uspp.Id, "watch": w.watch.Id}
	var missing []crashPost
	for _, e := range want {
		n := 0
		for _, p := range posts {
			if p.UserId != w.bot.Id || p.ChannelId != ids[e.channel] || !strings.Contains(p.Message, e.text) {
				continue
			}
			if e.root == "" && p.RootId == "" || e.root != "" && p.RootId != "" && strings.Contains(rootMessage(posts, p.RootId), e.root) {
				n++
			}
		}
		if n == 0 {
			missing = append(missing, e)
		}
	}
	return missing
}

func rootMessage(posts []*model.Post, id string) string {
	if id == "" {
		return ""
	}
	for _, p := range posts {
		if p.Id == id {
			return p.Message
		}
	}
	return "(unknown root " + id + ")"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// crashHandoffNotes reads every stored handoff note from the database of a
// stopped bot.
func crashHandoffNotes(t *testing.T, path string) string {
	t.Helper()
	db, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all strings.Builder
	err = db.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan("handoff.notes", "", "", func(_ string, v []byte) error {
			all.Write(v)
			all.WriteByte('\n')
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.String()
}
