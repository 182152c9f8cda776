package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const twoPartners = `partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["console:mpd"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["console:uspp"]
`

func TestIncidentLifeCycleOnTheConsole(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte(twoPartners), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := env(t, "LIAISON_CONFIG="+cfg)
	id := fmt.Sprintf("INC-%d-0001", time.Now().UTC().Year())
	const secret = "informant is the night guard"
	script := strings.Join([]string{
		"incident open mission:canada sev:2 Protest at the front gate, about 200 people",
		"incident update " + id + " Crowd dispersing, gate clear",
		"incident note " + id + " " + secret,
		"incident close " + id + " All clear, no damage",
		"incident show " + id,
	}, "\n") + "\n"
	r := run(t, environ, script, "console")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout,
		// open: the answer, then a root post in each partner channel
		id+" opened: Embassy of Canada (Washington, DC), severity 2 (high)", "Posting to 2 partner channel(s)",
		"[console:mpd #1]", "@mpd-watch (Metropolitan Police Department)", "Protest at the front gate, about 200 people", "Opened by: tester (PLD)", "call 911 first", "571-345-3146",
		"[console:uspp #2]", "@uspp-desk (United States Park Police)", "Protest at the front gate, about 200 people", "call 911 first", "571-345-3146",
		// once both are out, the opener's channel gets the threads (no
		// links on the console: where to find each one)
		"[console:console #3]", id+": the threads are open",
		"Metropolitan Police Department (console): console:mpd #1", "United States Park Police (console): console:uspp #2",
		// update reaches both threads
		id+" updated", "[console:mpd thread 1 #4]", "Update from tester (PLD): Crowd dispersing, gate clear",
		"[console:uspp thread 2 #5]", "Update from tester (PLD): Crowd dispersing, gate clear",
		// the note is answered, not posted
		"Internal note added to "+id,
		// close reaches both threads
		id+" closed", "[console:mpd thread 1 #6]", "Resolution: All clear, no damage",
		"[console:uspp thread 2 #7]", "Resolution: All clear, no damage",
		// show: the whole timeline
		id+" · Embassy of Canada · severity 2 (high) · closed", "console:mpd (Metropolitan Police Department): thread 1",
		"Timeline (4 entries)", "opened · tester (PLD) via console: Protest at the front gate", "update · tester (PLD) via console: Crowd dispersing",
		"note [internal] · tester (PLD) via console: "+secret, "closed · tester (PLD) via console: All clear, no damage",
	)
	for _, post := range strings.Split(r.stdout, "[console:")[1:] {
		if strings.Contains(strings.SplitN(post, "\n\n", 2)[0], secret) {
			t.Fatalf("the internal note reached a partner channel:\n%s", post)
		}
	}

	// A partner officer answers from their console channel: the other
	// partner's thread gets it, attributed; the note stays hidden.
	r = run(t, environ, "reply "+id+" MPD units staying until 18:00\nincident show "+id+"\n", "console", "--channel", "mpd")
	if r.code != 0 {
		t.Fatalf("partner console: exit %d: %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "tester (MPD) via console on "+id, "[console:uspp thread 2", "tester (MPD) via console: MPD units staying until 18:00",
		"Timeline (4 entries)", "reply · tester (MPD) via console: MPD units staying")
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, "[console:mpd thread") {
		t.Fatalf("partner saw the note, or its reply came back to its own channel:\n%s", r.stdout)
	}

	// The after-action report on standard output.
	r = run(t, environ, "", "incident", "export", id)
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "# After-action report: "+id,
		"- **Mission:** Embassy of Canada (Washington, DC) [emb-dc-canada]", "- **Severity:** 2 (high)",
		"- **Partners:** Metropolitan Police Department (MPD), United States Park Police (USPP)",
		"- **Opened:**", "- **First partner reply:**", "by tester (MPD) via console", "- **Closed:**",
		"## Timeline", "**opened** tester (PLD) via console", "**update**", "**note, internal**", "**closed**", "**reply** tester (MPD) via console",
		"## Resolution", "All clear, no damage")

	r = run(t, environ, "", "incident", "export", "INC-1999-0001")
	if r.code == 0 || !strings.Contains(r.stderr, "no incident INC-1999-0001") {
		t.Fatalf("export of an unknown id: %d %q", r.code, r.stderr)
	}
}
