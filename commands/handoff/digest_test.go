package handoff

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"liaisonbot/adapters/console"
	"liaisonbot/bot"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

func goldenJSON(t *testing.T, name string, m bot.Message) {
	t.Helper()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name, string(data)+"\n")
}

// TestDigestAcrossShiftBoundary builds the night shift of 2 → 3 March
// (19:00 → 07:00 EST) with incidents on both sides of each boundary.
func TestDigestAcrossShiftBoundary(t *testing.T) {
	e := newEnv(t, watchConfig, ny(2026, 3, 2, 14, 0))
	steps := []struct {
		d, h, mi int
		text     string // "" runs the scheduler
	}{
		// The day shift (before the window).
		{2, 15, 0, "incident open mission:canada sev:2 Protest at the front gate, about 200 people"}, // 0001
		{2, 16, 0, "incident open mission:japan sev:1 Suspicious package in the mail room"},          // 0002
		{2, 18, 0, "handoff note For the day shift: nothing"},
		{2, 18, 30, "incident update INC-2026-0002 Bomb squad on the way"},
		{2, 18, 30, ""}, // the scheduler: the evening reminder
		{2, 18, 59, "incident open mission:france sev:3 Vehicle parked at the barrier"}, // 0003
		{2, 19, 0, ""}, // the day shift's digest
		// The night shift: [19:00, 07:00).
		{2, 19, 0, "incident open mission:canada sev:2 Drone over the residence"}, // 0004
		{2, 19, 30, "incident note INC-2026-0004 informant is the night guard"},
		{2, 20, 0, "incident update INC-2026-0001 Crowd down to about 50"},
		{2, 22, 0, "handoff note Gate 3 camera is down, tech coming at 09:00"},
		{3, 1, 0, "incident close INC-2026-0002 Package was a gift basket, all clear"},
		{3, 3, 0, "incident open mission:cg-houston-japan sev:4 Power outage at the consulate"}, // 0005
		{3, 3, 40, "incident close INC-2026-0005 Power restored"},
		{3, 6, 30, ""}, // the reminder, with the notes left so far
		{3, 6, 45, "handoff note Ambassador's motorcade leaves at 08:30"},
		{3, 6, 50, "incident update INC-2026-0004 Drone gone, MPD checking the park"},
		// At the change: the next shift's.
		{3, 7, 0, "incident open mission:japan sev:3 Shift-boundary incident"}, // 0006
		{3, 7, 0, "handoff note For the next night"},
	}
	e.tick(ny(2026, 3, 2, 14, 0))
	for _, s := range steps {
		if s.text == "" {
			e.tick(ny(2026, 3, s.d, s.h, s.mi))
			continue
		}
		e.ok(ny(2026, 3, s.d, s.h, s.mi), s.text)
	}
	e.tick(ny(2026, 3, 3, 7, 0))

	rem := e.posts("watch", reminderTitle)
	if len(rem) != 2 { // 18:30 on the 2nd, 06:30 on the 3rd
		t.Fatalf("%d reminders", len(rem))
	}
	golden(t, "reminder.console.golden", console.Render(&rem[1].Msg))

	all := e.posts("watch", digestTitle)
	if len(all) != 2 { // 19:00 on the 2nd, 07:00 on the 3rd
		t.Fatalf("%d digests", len(all))
	}
	dg := all[1].Msg
	text := flatten(&dg)
	// Opened in the shift: 0004 (at its first instant) and 0005; not 0003
	// (a minute before) nor 0006 (at the change, the next shift's).
	sec := sections(dg)
	contains(t, "opened", sec["Opened (2)"], "INC-2026-0004 · sev 2 · Embassy of Canada · Drone over the residence · still open", "INC-2026-0005")
	lacks(t, "opened", sec["Opened (2)"], "INC-2026-0003", "INC-2026-0006")
	contains(t, "updated", sec["Updated (1)"], "INC-2026-0001 · sev 2 · Embassy of Canada · Protest at the front gate, about 200 people · 1 entry")
	contains(t, "closed", sec["Closed (2)"], "INC-2026-0002 · sev 1 · Embassy of Japan · Suspicious package in the mail room · closed 01:00 EST", "INC-2026-0005")
	// Still open: 0001, 0003, 0004 and 0006, most severe first; 0001 and
	// 0003 quiet for longer than stale_after.
	contains(t, "still open", sec["Still open (4, 2 stale)"],
		"INC-2026-0001 · sev 2 · Embassy of Canada · Protest at the front gate, about 200 people · last update 11h 00m ago · STALE",
		"INC-2026-0004 · sev 2 · Embassy of Canada · Drone over the residence · last update 10m ago\n",
		"INC-2026-0003 · sev 3 · Embassy of France · Vehicle parked at the barrier · last update 12h 01m ago · STALE",
		"INC-2026-0006 · sev 3 · Embassy of Japan · Shift-boundary incident · last update under a minute ago")
	contains(t, "notes", sec["Notes for the incoming shift (2)"], "22:00 EST · tester: Gate 3 camera is down, tech coming at 09:00", "06:45 EST · tester: Ambassador's motorcade leaves at 08:30")
	// Internal entries are counted, never quoted; notes of other shifts stay out.
	lacks(t, "digest", text, "informant", "For the day shift", "For the next night")
	contains(t, "digest", text, "Opened: 2", "Updated: 1", "Closed: 2", "Still open: 4 (2 stale)", "Notes: 2")

	golden(t, "digest.console.golden", console.Render(&dg))
	goldenJSON(t, "digest.json.golden", dg)

	// Acknowledged, as the console shows the edit.
	e.ok(ny(2026, 3, 3, 7, 12), "handoff ack")
	ups := e.updates(bot.Console)
	if len(ups) != 1 {
		t.Fatalf("%d edits", len(ups))
	}
	golden(t, "digest-acknowledged.console.golden", console.Render(&ups[0].Msg))

	// The 19:00 digest of the day shift: 0001-0003 opened, 0002 updated.
	day := sections(all[0].Msg)
	contains(t, "day digest", day["Opened (3)"], "INC-2026-0001", "INC-2026-0002", "INC-2026-0003")
	contains(t, "day digest", day["Notes for the incoming shift (1)"], "For the day shift: nothing")
}

func TestLateDigestAndEscalationGolden(t *testing.T) {
	e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
	e.tick(ny(2026, 3, 3, 6, 0))
	e.ok(ny(2026, 3, 3, 6, 10), "incident open mission:france sev:1 Suspicious vehicle at the gate")
	e.restart()
	e.tick(ny(2026, 3, 3, 7, 40))
	dg := e.posts("watch", digestTitle)
	if len(dg) != 1 {
		t.Fatalf("%d digests", len(dg))
	}
	golden(t, "digest-late.console.golden", console.Render(&dg[0].Msg))
	e.tick(ny(2026, 3, 3, 7, 55))
	esc := e.posts("watch", escalationTitle)
	if len(esc) != 1 {
		t.Fatalf("%d escalations", len(esc))
	}
	golden(t, "escalation.console.golden", console.Render(&esc[0].Msg))
}

// sections maps each section's title to its text and fields.
func sections(m bot.Message) map[string]string {
	out := map[string]string{}
	for _, s := range m.Sections {
		var b strings.Builder
		b.WriteString(s.Text)
		for _, f := range s.Fields {
			b.WriteString("\n" + f.Label + ": " + f.Value)
		}
		out[s.Title] = b.String() + "\n"
	}
	return out
}
