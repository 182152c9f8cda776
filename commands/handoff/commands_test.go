package handoff

import (
	"context"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/config"
)

const twoTeams = `
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["console:watch", "slack:C0WATCH"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    leads: ["@alice", "@bob", "@carol"]
  - id: west
    name: West Coast Desk
    timezone: America/Los_Angeles
    channels: ["console:west"]
    shift_changes: ["0 8 * * 1-5"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    channels: ["console:mpd"]
`

func TestCommandsResolveTheTeam(t *testing.T) {
	e := newEnv(t, twoTeams, ny(2026, 3, 3, 10, 0))
	now := ny(2026, 3, 3, 10, 0)

	contains(t, "note in the team channel", flatten(e.at(now, "watch", "handoff note Gate 3 camera is down")),
		"Note left for the next shift of PLD Watch (1 note this shift). It goes in the digest at Tue 3 Mar 19:00 EST.")
	contains(t, "note by option", flatten(e.at(now, "elsewhere", "handoff note team:west Server room door sticks")),
		"Note left for the next shift of West Coast Desk (1 note this shift). It goes in the digest at Tue 3 Mar 08:00 PST.")
	m := e.at(now, "elsewhere", "handoff note Lost")
	if !m.Error {
		t.Fatalf("note outside a team channel without team: answered %q", m.Text)
	}
	contains(t, "refusal", m.Text, "This channel belongs to no team: add team:<id>. Teams: watch, west.")
	m = e.at(now, "watch", "handoff now team:nope")
	contains(t, "unknown team", m.Text, `No team "nope". Teams: watch, west.`)

	// shift who: from the channel, by name, by option.
	for _, tc := range []struct{ channel, text string }{
		{"watch", "shift who"}, {"elsewhere", "shift who watch"}, {"elsewhere", "shift who team:watch"}, {"elsewhere", "shift who WATCH"}, {"elsewhere", "shift who pld watch"},
	} {
		m := e.at(now, tc.channel, tc.text)
		if m.Error {
			t.Fatalf("%q in %s: %s", tc.text, tc.channel, m.Text)
		}
		contains(t, tc.text, flatten(m), "Shift leads · PLD Watch", "leads now;", "from Tue 3 Mar 19:00 EST",
			"Current shift", "Since: Tue 3 Mar 07:00 EST", "Next shift", "From: Tue 3 Mar 19:00 EST")
	}
	contains(t, "no rotation", flatten(e.at(now, "west", "shift who")), "No lead rotation is configured for West Coast Desk",
		"From: Tue 3 Mar 08:00 PST")

	// handoff now posts in every channel of the team, the note included.
	contains(t, "now", flatten(e.at(now, "watch", "handoff now")), "Handoff digest watch-0001 for PLD Watch posted in console:watch, slack:C0WATCH.")
	dg := e.posts("watch", digestTitle)
	if len(dg) != 1 || len(e.ads[bot.Slack].posts) != 1 {
		t.Fatalf("digest posts: %d console, %d slack", len(dg), len(e.ads[bot.Slack].posts))
	}
	contains(t, "digest on request", flatten(&dg[0].Msg), "Handoff digest · PLD Watch · on request, Tue 3 Mar 10:00 EST",
		"The shift so far: since Tue 3 Mar 07:00 EST.", "Gate 3 camera is down", "Digest watch-0001, on request.")
	lacks(t, "digest on request", flatten(&dg[0].Msg), "Server room")

	// handoff ack: bad id, unknown digest, no digest yet, then the real one.
	contains(t, "bad id", e.at(now, "watch", "handoff ack yesterday").Text, `"yesterday" is not a digest id`, "Usage: /liaison handoff ack [digest] [team:<id>]")
	contains(t, "unknown digest", e.at(now, "watch", "handoff ack watch-0042").Text, "No digest watch-0042.")
	contains(t, "no digest", e.at(now, "west", "handoff ack").Text, "No handoff digest has been posted for West Coast Desk yet")
	contains(t, "ack", flatten(e.at(now.Add(time.Minute), "watch", "handoff ack")), "Digest watch-0001 for PLD Watch acknowledged by tester at Tue 3 Mar 10:01 EST.")
}

func TestPartnersMayNotUseHandoff(t *testing.T) {
	e := newEnv(t, twoTeams, ny(2026, 3, 3, 10, 0))
	for _, text := range []string{"handoff now team:watch", "handoff note team:watch hi", "handoff ack team:watch", "shift who watch"} {
		req := &bot.Request{Platform: bot.Console, Channel: "mpd", User: bot.User{ID: "p1"}, Role: bot.Role{Kind: bot.RolePartner, Partner: "mpd"}, Text: text}
		m := e.mux.Serve(context.Background(), req)
		if !m.Error {
			t.Fatalf("partner ran %q: %s", text, m.Text)
		}
		contains(t, text, m.Text, "not allowed")
	}
	if n := len(e.allPosts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

// TestRotation checks the lead index against a plain count of the changes
// since the epoch, through both DST changes and before the epoch: it grows
// by one at each change, whatever the zone's clock does.
func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		exprs []string
	}{
		{"America/New_York", []string{"0 7 * * *", "0 19 * * *"}},
		{"America/New_York", []string{"30 2 * * *"}},
		{"America/New_York", []string{"30 1 * * *", "0 9 * * 1-5"}},
		{"Europe/London", []string{"0 6 * * *", "0 14 * * *", "0 22 * * *"}},
		{"Asia/Kolkata", []string{"@daily"}},
	} {
		loc := mustZone(tc.zone)
		team := &config.Team{ID: "t", Location: loc, ShiftChanges: tc.exprs, Leads: []string{"a", "b", "c"}}
		sc, err := newSchedule(team)
		if err != nil {
			t.Fatal(err)
		}
		epoch := time.Date(RotationEpoch.y, RotationEpoch.m, RotationEpoch.d, 0, 0, 0, 0, loc)
		// From the epoch forward, through 2026's transitions.
		var n int64
		c := sc.next(epoch.Add(-time.Nanosecond))
		for end := time.Date(2026, 11, 10, 0, 0, 0, 0, loc); c.Before(end); c = sc.next(c) {
			n++
			if got := sc.index(c); got != n {
				t.Fatalf("%s %v: index at change %s = %d, want %d", tc.zone, tc.exprs, c, got, n)
			}
			if got := sc.index(c.Add(-time.Second)); got != n-1 {
				t.Fatalf("%s %v: index just before %s = %d, want %d", tc.zone, tc.exprs, c, got, n-1)
			}
		}
		// Before the epoch, counting down.
		n = 0
		c = sc.prev(epoch.Add(-time.Nanosecond))
		for stop := epoch.AddDate(0, -3, 0); c.After(stop); c = sc.prev(c.Add(-time.Nanosecond)) {
			if got := sc.index(c); got != n {
				t.Fatalf("%s %v: index at change %s before the epoch = %d, want %d", tc.zone, tc.exprs, c, got, n)
			}
			n--
		}
	}
	team := &config.Team{Leads: []string{"a", "b", "c"}}
	for k, want := range map[int64]string{0: "a", 1: "b", 2: "c", 3: "a", -1: "c", -3: "a", -4: "c"} {
		if got := lead(team, k); got != want {
			t.Errorf("lead(%d) = %q, want %q", k, got, want)
		}
	}
}
