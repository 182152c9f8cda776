package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
)

// What SPEC §6 allows, per command, written out here rather than read from
// the registrations, so that a command registered with the wrong access
// fails this test:
//
//	allow: the command runs
//	deny:  refused as not allowed, audited as a denial
//	hide:  runs, but shows nothing of an incident the asker's agency is not on
type verdict string

const (
	allow verdict = "allow"
	deny  verdict = "deny"
	hide  verdict = "hide"
)

// The roles, as adapters hand them to the mux: an admin and an agent of the
// division, an officer of the partner on the incident (mpd), one of a
// partner not on it (uss), and someone in a shared channel of no partner.
var matrixRoles = []struct {
	name    string
	role    bot.Role
	channel string
}{
	{"admin", bot.Role{Kind: bot.RoleAdmin}, "console"},
	{"agent", bot.Role{Kind: bot.RoleAgent}, "console"},
	{"partner:mpd", bot.Role{Kind: bot.RolePartner, Partner: "mpd"}, "mpd"},
	{"partner:uss", bot.Role{Kind: bot.RolePartner, Partner: "uss"}, "uss"},
	{"none", bot.Role{Kind: bot.RoleNone}, "elsewhere"},
}

// The command line tried for each command ({id}: an incident mpd is on and
// uss is not; {fresh}: a new one for each try, for the commands that change
// an incident for good), and the verdict per role in matrixRoles' order.
var accessMatrix = map[string]struct {
	line     string
	verdicts [5]verdict
}{
	"help":             {"help", [5]verdict{allow, allow, allow, allow, allow}},
	"emergency":        {"emergency", [5]verdict{allow, allow, allow, allow, allow}},
	"office":           {"office Miami", [5]verdict{allow, allow, allow, allow, allow}},
	"contact":          {"contact canada", [5]verdict{allow, allow, deny, deny, deny}},
	"incident open":    {"incident open mission:canada partners:mpd Matrix probe", [5]verdict{allow, allow, deny, deny, deny}},
	"incident update":  {"incident update {id} an update", [5]verdict{allow, allow, deny, deny, deny}},
	"incident partner": {"incident partner {fresh} uss", [5]verdict{allow, allow, deny, deny, deny}},
	"incident close":   {"incident close {fresh} resolved", [5]verdict{allow, allow, deny, deny, deny}},
	"incident note":    {"incident note {id} internal only", [5]verdict{allow, allow, deny, deny, deny}},
	"incident report":  {"incident report {id}", [5]verdict{allow, allow, deny, deny, deny}},
	"incident list":    {"incident list all", [5]verdict{allow, allow, allow, hide, deny}},
	"incident show":    {"incident show {id}", [5]verdict{allow, allow, allow, hide, deny}},
	"reply":            {"reply {id} seen from the street", [5]verdict{allow, allow, allow, hide, deny}},
	"handoff note":     {"handoff note team:watch for the next shift", [5]verdict{allow, allow, deny, deny, deny}},
	"handoff now":      {"handoff now team:watch", [5]verdict{allow, allow, deny, deny, deny}},
	"handoff ack":      {"handoff ack team:watch", [5]verdict{allow, allow, deny, deny, deny}},
	"shift who":        {"shift who watch", [5]verdict{allow, allow, deny, deny, deny}},
}

const matrixConfig = `
roles:
  admins: ["console:admin"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["console:mpd"]
  - id: uss
    name: Uniformed Protective Service
    oncall: "@uss-desk"
    channels: ["console:uss"]
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["console:console"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    leads: ["@alice", "@bob"]
`

// TestAccessMatrix runs every registered command under every role through
// the wired mux (middleware, features, store) and checks the answer against
// SPEC §6: who may run it, that a denial says so plainly, that a partner
// never sees security contacts or another agency's incident, and that every
// denial is in the audit.
func TestAccessMatrix(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "liaison.yaml")
	if err := os.WriteFile(cfgPath, []byte(matrixConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"LIAISON_DB": filepath.Join(dir, "liaison.db")}
	e := &environment{configPath: cfgPath, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(k string) string { return vars[k] }}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelError)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()

	serve := func(role bot.Role, channel, line string) *bot.Message {
		return a.mux.Serve(ctx, &bot.Request{Platform: bot.Console, Channel: channel,
			User: bot.User{ID: "u-" + channel, Name: "tester"}, Role: role, Text: line, Time: time.Now()})
	}
	agent := bot.Role{Kind: bot.RoleAgent}
	incidentID := regexp.MustCompile(`INC-\d{4}-\d{4}`)
	open := func(summary string) string {
		msg := serve(agent, "console", "incident open mission:canada partners:mpd "+summary)
		id := incidentID.FindString(msg.Title + msg.Text)
		if id == "" || msg.Error {
			t.Fatalf("incident not opened: %+v", msg)
		}
		return id
	}
	const secret = "Ladder against the north wall"
	id := open(secret)
	// A digest for handoff ack to acknowledge.
	if msg := serve(agent, "console", "handoff now team:watch"); msg.Error {
		t.Fatalf("no digest: %+v", msg)
	}

	denials := 0
	seen := map[string]bool{}
	for _, c := range a.mux.Commands() {
		name := c.Name()
		seen[name] = true
		row, ok := accessMatrix[name]
		if !ok {
			t.Errorf("command %q is registered but not in the access matrix: add what SPEC §6 allows", name)
			continue
		}
		for i, r := range matrixRoles {
			line := strings.ReplaceAll(row.line, "{id}", id)
			if strings.Contains(line, "{fresh}") {
				line = strings.ReplaceAll(line, "{fresh}", open("Probe for "+name))
			}
			msg := serve(r.role, r.channel, line)
			text := messageText(msg)
			denied := msg.Error && strings.Contains(text, "not allowed")
			switch row.verdicts[i] {
			case allow:
				if msg.Error {
					t.Errorf("%s as %s: refused or failed, SPEC §6 allows it: %s", line, r.name, text)
				}
			case deny:
				if !denied {
					t.Errorf("%s as %s: not denied, SPEC §6 forbids it: %s", line, r.name, text)
				}
				if strings.Contains(text, "Security contact") || strings.Contains(text, secret) {
					t.Errorf("%s as %s: a denial shows what it guards: %s", line, r.name, text)
				}
				denials++
			case hide:
				if denied {
					t.Errorf("%s as %s: denied, but a partner may run it for its own incidents: %s", line, r.name, text)
				}
				if strings.Contains(text, secret) {
					t.Errorf("%s as %s: shows an incident its agency is not on: %s", line, r.name, text)
				}
			}
		}
	}
	for name := range accessMatrix {
		if !seen[name] {
			t.Errorf("the access matrix names %q, which is not registered", name)
		}
	}

	// The partner on the incident sees it; the reply of the one not on it
	// did not reach its timeline.
	shown := messageText(serve(bot.Role{Kind: bot.RolePartner, Partner: "mpd"}, "mpd", "incident show "+id))
	if !strings.Contains(shown, secret) {
		t.Errorf("partner mpd cannot see its own incident: %s", shown)
	}
	if strings.Contains(shown, "internal only") {
		t.Errorf("partner mpd sees an internal note: %s", shown)
	}
	full := messageText(serve(agent, "console", "incident show "+id))
	if strings.Count(full, "seen from the street") != 3 {
		t.Errorf("want the replies of admin, agent and mpd in the timeline, and not uss's:\n%s", full)
	}

	// Every denial is audited as one.
	var out bytes.Buffer
	if _, err := a.audit.Export(ctx, &out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r bot.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Outcome == "denied" {
			audited++
		}
	}
	if audited != denials {
		t.Errorf("%d denials answered, %d audited", denials, audited)
	}
}

// messageText is everything a message shows, for searching.
func messageText(m *bot.Message) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n" + m.Text + "\n" + m.Footer + "\n")
	for _, s := range m.Sections {
		b.WriteString(s.Title + "\n" + s.Text + "\n")
		for _, f := range s.Fields {
			b.WriteString(f.Label + ": " + f.Value + "\n")
		}
	}
	return b.String()
}
