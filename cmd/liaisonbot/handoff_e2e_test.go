package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const watchTeam = `teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["console:watch"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    remind_before: 30m
    ack_within: 15m
    escalate_to: "@pld-duty-officer"
    leads: ["@alice", "@bob", "@carol"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    channels: ["console:mpd"]
`

func TestHandoffOnTheConsole(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte(watchTeam), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env(t, "LIAISON_CONFIG="+cfg)
	id := fmt.Sprintf("INC-%d-0001", time.Now().UTC().Year())
	const secret = "informant is the night guard"
	script := strings.Join([]string{
		"handoff note Gate 3 camera is down, tech coming at 09:00",
		"incident open mission:canada sev:2 partners:mpd Protest at the front gate",
		"incident note " + id + " " + secret,
		"handoff now",
		"handoff ack",
		"shift who",
	}, "\n") + "\n"
	r := run(t, environ, script, "console", "--channel", "watch")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout,
		"Note left for the next shift of PLD Watch (1 note this shift).",
		id+" opened: Embassy of Canada (Washington, DC), severity 2 (high)", "[console:mpd #1]",
		// the opener's channel hears where the thread is
		"[console:watch #2]", id+": the threads are open", "Metropolitan Police Department (console): console:mpd #1",
		"Internal note added to "+id,
		// handoff now: the answer, then the digest in the team's channel
		"Handoff digest watch-0001 for PLD Watch posted in console:watch.",
		"[console:watch #3]", "Handoff digest · PLD Watch · on request,",
		"Leads", "Outgoing: @", "Incoming: @",
		"This shift", "Opened: 1", "Still open: 1", "Notes: 1",
		"Opened (1)", id+" · sev 2 · Embassy of Canada · Protest at the front gate · still open",
		"Still open (1)", id+" · sev 2 · Embassy of Canada · Protest at the front gate · last update under a minute ago",
		"Notes for the incoming shift (1)", "tester: Gate 3 camera is down, tech coming at 09:00",
		"→ handoff ack watch-0001   (Acknowledge)",
		// handoff ack: the digest is edited where it was posted
		"[console:watch #3 edited]", "Handoff digest · PLD Watch", "Acknowledged by tester at", id, "Gate 3 camera is down",
		"Digest watch-0001, acknowledged.",
		"Digest watch-0001 for PLD Watch acknowledged by tester at",
		// shift who
		"Shift leads · PLD Watch", "leads now;", "Current shift", "Lead: @", "Since:", "Next shift", "From:",
	)
	edited := r.stdout[strings.Index(r.stdout, "[console:watch #3 edited]"):]
	if strings.Contains(edited, "→ handoff ack") {
		t.Fatalf("the acknowledged digest still offers the button:\n%s", edited)
	}
	if strings.Contains(r.stdout[strings.Index(r.stdout, "[console:watch #3]"):], secret) {
		t.Fatalf("the digest quotes an internal note:\n%s", r.stdout)
	}

	// Another session: the button's command again, shift who from a channel
	// of no team, and a partner is refused.
	r = run(t, environ, "handoff ack watch-0001\nshift who\nshift who team:watch\nhandoff now\n", "console", "--channel", "elsewhere")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "Digest watch-0001 was already acknowledged by tester",
		"Shift leads · PLD Watch", "Shift leads · PLD Watch",
		"Handoff digest watch-0002 for PLD Watch posted in console:watch.", "[console:watch #1]", "Handoff digest · PLD Watch · on request")
	r = run(t, environ, "handoff now\nshift who watch\n", "console", "--channel", "mpd")
	if strings.Count(r.stdout, "not allowed") != 2 || strings.Contains(r.stdout, "Handoff digest") {
		t.Fatalf("a partner ran handoff commands:\n%s", r.stdout)
	}
}
