package handoff

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
)

const (
	reminderTitle   = "Shift change in"
	digestTitle     = "Handoff digest"
	escalationTitle = "Handoff not acknowledged"
)

func TestReminderAndDigestTiming(t *testing.T) {
	e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
	if next := e.tick(ny(2026, 3, 3, 6, 0)); !next.Equal(ny(2026, 3, 3, 6, 30)) {
		t.Fatalf("next due %s, want the 06:30 reminder", next)
	}
	e.tick(ny(2026, 3, 3, 6, 29).Add(59 * time.Second))
	if n := len(e.allPosts()); n != 0 {
		t.Fatalf("%d posts before the reminder is due", n)
	}

	next := e.tick(ny(2026, 3, 3, 6, 30))
	rem := e.posts("watch", reminderTitle)
	if len(rem) != 1 || len(e.ads[bot.Slack].posts) != 1 {
		t.Fatalf("reminder: %d console, %d slack posts; want one in each team channel", len(rem), len(e.ads[bot.Slack].posts))
	}
	contains(t, "reminder", flatten(&rem[0].Msg), "Shift change in 30m · PLD Watch", "hands over to", "at 07:00 EST",
		"0 incidents are open", "handoff note <text>", "Shift change: Tue 3 Mar 07:00 EST")
	if !next.Equal(ny(2026, 3, 3, 7, 0)) {
		t.Fatalf("next due %s, want the 07:00 digest", next)
	}
	e.tick(ny(2026, 3, 3, 6, 31))
	e.tick(ny(2026, 3, 3, 6, 59))
	if n := len(e.posts("watch", "")); n != 1 {
		t.Fatalf("%d posts after the reminder, want 1", n)
	}

	next = e.tick(ny(2026, 3, 3, 7, 0))
	dg := e.posts("watch", digestTitle)
	if len(dg) != 1 {
		t.Fatalf("%d digests at 07:00", len(dg))
	}
	contains(t, "digest", flatten(&dg[0].Msg), "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST",
		"The shift Mon 2 Mar 19:00 EST → Tue 3 Mar 07:00 EST.", "Acknowledge → handoff ack watch-0001")
	lacks(t, "digest", flatten(&dg[0].Msg), "late")
	if !next.Equal(ny(2026, 3, 3, 7, 15)) {
		t.Fatalf("next due %s, want the 07:15 escalation check", next)
	}
	for _, at := range []time.Time{ny(2026, 3, 3, 7, 0), ny(2026, 3, 3, 7, 1), ny(2026, 3, 3, 7, 14)} {
		e.tick(at)
	}
	if n := len(e.posts("watch", "")); n != 2 {
		t.Fatalf("%d posts, want reminder and digest only", n)
	}
	// The evening change follows the same way.
	e.tick(ny(2026, 3, 3, 7, 15))
	e.tick(ny(2026, 3, 3, 18, 30))
	e.tick(ny(2026, 3, 3, 19, 0))
	if n, m := len(e.posts("watch", reminderTitle)), len(e.posts("watch", digestTitle)); n != 2 || m != 2 {
		t.Fatalf("by 19:00: %d reminders, %d digests; want 2 and 2", n, m)
	}
}

// TestDST walks both transitions of America/New_York minute by minute
// (in steps of five) with a team changing at 07:00 and 19:00, one at 02:30
// (a wall time the spring-forward night skips) and one at 01:30 (one the
// fall-back night repeats): every change is posted once, none is skipped.
func TestDST(t *testing.T) {
	const cfg = `
teams:
  - id: watch
    timezone: America/New_York
    channels: ["console:watch"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    leads: ["@alice", "@bob", "@carol"]
  - id: skipped
    timezone: America/New_York
    channels: ["console:skipped"]
    shift_changes: ["30 2 * * *"]
  - id: repeated
    timezone: America/New_York
    channels: ["console:repeated"]
    shift_changes: ["30 1 * * *"]
`
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name       string
		from, to   time.Time
		want       map[string][]time.Time // digest changes, UTC
		wantLocals map[string][]string
	}{
		{
			name: "spring forward", from: ny(2026, 3, 7, 0, 0), to: ny(2026, 3, 9, 12, 0),
			want: map[string][]time.Time{
				"watch":    {utc(2026, 3, 7, 12, 0), utc(2026, 3, 8, 0, 0), utc(2026, 3, 8, 11, 0), utc(2026, 3, 8, 23, 0), utc(2026, 3, 9, 11, 0)},
				"skipped":  {utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)},
				"repeated": {utc(2026, 3, 7, 6, 30), utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30)},
			},
			wantLocals: map[string][]string{
				// 02:30 does not exist on 8 March: the change fires once, at
				// 03:30 EDT, the instant 02:30 EST would have been.
				"skipped": {"Sat 7 Mar 02:30 EST", "Sun 8 Mar 03:30 EDT", "Mon 9 Mar 02:30 EDT"},
			},
		},
		{
			name: "fall back", from: ny(2026, 10, 31, 0, 0), to: ny(2026, 11, 2, 12, 0),
			want: map[string][]time.Time{
				"watch":    {utc(2026, 10, 31, 11, 0), utc(2026, 10, 31, 23, 0), utc(2026, 11, 1, 12, 0), utc(2026, 11, 2, 0, 0), utc(2026, 11, 2, 12, 0)},
				"skipped":  {utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30)},
				"repeated": {utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)},
			},
			wantLocals: map[string][]string{
				// 01:30 happens twice on 1 November: the change fires once,
				// at the first (EDT).
				"repeated": {"Sat 31 Oct 01:30 EDT", "Sun 1 Nov 01:30 EDT", "Mon 2 Nov 01:30 EST"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfg, tc.from)
			for at := tc.from; !at.After(tc.to); at = at.Add(5 * time.Minute) {
				e.tick(at)
				if at.Equal(tc.from.Add(10 * time.Hour)) {
					e.restart() // and a restart in the middle, for good measure
				}
			}
			got := map[string][]time.Time{}
			reminders := map[string]int{}
			for _, f := range e.fires() {
				if f.Status != firePosted {
					t.Errorf("fire %+v not posted", f)
				}
				switch f.Kind {
				case KindDigest:
					got[f.Team] = append(got[f.Team], f.Change)
				case KindReminder:
					reminders[f.Team]++
					if !f.Due.Equal(f.Change.Add(-30 * time.Minute)) {
						t.Errorf("reminder due %s for the change at %s", f.Due, f.Change)
					}
				}
			}
			for team, want := range tc.want {
				if fmt.Sprint(got[team]) != fmt.Sprint(want) {
					t.Errorf("%s: digests at\n  %v\nwant\n  %v", team, got[team], want)
				}
				if reminders[team] != len(want) {
					t.Errorf("%s: %d reminders, want %d", team, reminders[team], len(want))
				}
				if n := len(e.posts(team, digestTitle)); n != len(want) {
					t.Errorf("%s: %d digests posted, want %d", team, n, len(want))
				}
			}
			for team, want := range tc.wantLocals {
				var locals []string
				for _, c := range got[team] {
					locals = append(locals, day(c, newYork))
				}
				if strings.Join(locals, ", ") != strings.Join(want, ", ") {
					t.Errorf("%s: local times %v, want %v", team, locals, want)
				}
			}
			// The night shift that spans the change is one shift: 11 or
			// 13 hours, handed from one lead to the next.
			for _, p := range e.posts("watch", digestTitle) {
				text := flatten(&p.Msg)
				if !strings.Contains(text, "hands over to") {
					t.Errorf("digest without leads:\n%s", text)
				}
			}
		})
	}
}

func TestCatchUpAfterOutage(t *testing.T) {
	t.Run("within the window: posted once, marked late", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.restart() // down from 06:00 to 08:30: the 06:30 reminder and the 07:00 digest are missed
		e.tick(ny(2026, 3, 3, 8, 30))
		dg := e.posts("watch", digestTitle)
		if len(dg) != 1 {
			t.Fatalf("%d digests after the outage, want 1", len(dg))
		}
		contains(t, "late digest", flatten(&dg[0].Msg), "shift change Tue 3 Mar 07:00 EST",
			"Posted late at Tue 3 Mar 08:30 EST: it was due at Tue 3 Mar 07:00 EST")
		if n := len(e.posts("watch", reminderTitle)); n != 0 {
			t.Fatalf("%d reminders for a change that has passed", n)
		}
		contains(t, "log", e.logs.String(), "handoff: reminder skipped", "the shift change had passed", "handoff: posted late")
		e.tick(ny(2026, 3, 3, 8, 31))
		e.restart()
		e.tick(ny(2026, 3, 3, 8, 40))
		if n := len(e.posts("watch", digestTitle)); n != 1 {
			t.Fatalf("%d digests after more ticks and a restart, want 1", n)
		}
		// The escalation clock starts when the late digest was posted.
		e.tick(ny(2026, 3, 3, 8, 44))
		if n := len(e.posts("watch", escalationTitle)); n != 0 {
			t.Fatalf("escalated before ack_within after the late post")
		}
		e.tick(ny(2026, 3, 3, 8, 45))
		if n := len(e.posts("watch", escalationTitle)); n != 1 {
			t.Fatalf("%d escalations, want 1", n)
		}
	})

	t.Run("a late reminder when the change is still ahead", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 45))
		rem := e.posts("watch", reminderTitle)
		if len(rem) != 1 {
			t.Fatalf("%d reminders", len(rem))
		}
		contains(t, "late reminder", flatten(&rem[0].Msg), "Shift change in 15m", "Posted late: this reminder was due at 06:30 EST")
	})

	t.Run("beyond the window: skipped with a log line", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.restart()
		e.tick(ny(2026, 3, 3, 9, 30)) // 2h30 after the change; the window is 2h
		if n := len(e.allPosts()); n != 0 {
			t.Fatalf("%d posts for changes beyond the catch-up window", n)
		}
		contains(t, "log", e.logs.String(), "missed shift changes beyond the catch-up window were skipped", "team=watch", "kind=digest", "count=1")
		e.tick(ny(2026, 3, 3, 9, 31))
		if strings.Count(e.logs.String(), "beyond the catch-up window were skipped") != 2 { // one per kind, once
			t.Fatalf("skip logged again:\n%s", e.logs.String())
		}
		// The next change is on time.
		e.tick(ny(2026, 3, 3, 18, 30))
		e.tick(ny(2026, 3, 3, 19, 0))
		dg := e.posts("watch", digestTitle)
		if len(dg) != 1 || len(e.posts("watch", reminderTitle)) != 1 {
			t.Fatalf("after the skip: %d digests, %d reminders", len(dg), len(e.posts("watch", reminderTitle)))
		}
		lacks(t, "digest", flatten(&dg[0].Msg), "late")
	})

	t.Run("days of downtime: counted, skipped, one line each", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.restart()
		e.tick(ny(2026, 3, 6, 12, 0))
		// Skipped: 3 Mar 07:00 and 19:00, 4 Mar, 5 Mar, 6 Mar 07:00 (10:00 is the window's start).
		contains(t, "log", e.logs.String(), "kind=digest count=7", "kind=reminder count=7")
		if n := len(e.allPosts()); n != 0 {
			t.Fatalf("%d posts", n)
		}
	})
}

func TestNoDoubleFireAfterRestart(t *testing.T) {
	e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
	e.tick(ny(2026, 3, 3, 6, 0))
	// The digest is recorded and queued, and the process dies before the
	// outbox sends it.
	e.clock.set(ny(2026, 3, 3, 7, 0))
	if _, err := e.svc.Tick(context.Background(), ny(2026, 3, 3, 7, 0)); err != nil {
		t.Fatal(err)
	}
	e.restart()
	for _, at := range []time.Time{ny(2026, 3, 3, 7, 0), ny(2026, 3, 3, 7, 0).Add(30 * time.Second), ny(2026, 3, 3, 7, 5)} {
		e.tick(at)
	}
	e.restart()
	e.tick(ny(2026, 3, 3, 7, 10))
	if n := len(e.posts("watch", digestTitle)); n != 1 {
		t.Fatalf("%d digests in console:watch, want 1", n)
	}
	if n := len(e.ads[bot.Slack].posts); n != 1 {
		t.Fatalf("%d posts in slack:C0WATCH, want 1", n)
	}

	// Two schedulers ticking at once on one store (a second loop, a manual
	// tick) still fire once.
	e.clock.set(ny(2026, 3, 3, 18, 30))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Tick(context.Background(), ny(2026, 3, 3, 18, 30)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.flush()
	if n := len(e.posts("watch", reminderTitle)); n != 1 {
		t.Fatalf("%d reminders from concurrent ticks, want 1", n)
	}
}

func TestAckAndEscalation(t *testing.T) {
	t.Run("acknowledged in time: edited everywhere, no escalation", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 7, 0))
		answer := e.ok(ny(2026, 3, 3, 7, 10), "handoff ack")
		contains(t, "answer", answer, "Digest watch-0001 for PLD Watch acknowledged by tester at Tue 3 Mar 07:10 EST.")
		for _, p := range []string{bot.Console, bot.Slack} {
			ups := e.updates(p)
			if len(ups) != 1 {
				t.Fatalf("%s: %d edits, want 1", p, len(ups))
			}
			if ups[0].Ref.ID != p+"-1" { // the digest (the reminder was missed: the bot started at 06:00 and next ran at 07:00)
				t.Fatalf("%s: edited %+v", p, ups[0].Ref)
			}
			text := flatten(&ups[0].Msg)
			contains(t, "edited digest", text, "Acknowledged by tester at Tue 3 Mar 07:10 EST.", "Handoff digest · PLD Watch", "Digest watch-0001, acknowledged.")
			if len(ups[0].Msg.Buttons) != 0 {
				t.Fatalf("acknowledged digest still has its button")
			}
		}
		for _, at := range []time.Time{ny(2026, 3, 3, 7, 15), ny(2026, 3, 3, 8, 0)} {
			e.tick(at)
		}
		if n := len(e.posts("watch", escalationTitle)); n != 0 {
			t.Fatalf("%d escalations of an acknowledged digest", n)
		}
		again := e.ok(ny(2026, 3, 3, 7, 20), "handoff ack")
		contains(t, "second ack", again, "was already acknowledged by tester at Tue 3 Mar 07:10 EST")
		if len(e.updates(bot.Console)) != 1 {
			t.Fatalf("edited again")
		}
		if got := strings.Join(e.hooks, "; "); got != "posted watch true; acknowledged watch" {
			t.Fatalf("hooks: %s", got)
		}
	})

	t.Run("not acknowledged: escalated exactly once", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 7, 0))
		e.tick(ny(2026, 3, 3, 7, 14).Add(59 * time.Second))
		if n := len(e.posts("watch", escalationTitle)); n != 0 {
			t.Fatalf("escalated early")
		}
		e.tick(ny(2026, 3, 3, 7, 15))
		e.tick(ny(2026, 3, 3, 7, 16))
		e.restart()
		e.tick(ny(2026, 3, 3, 9, 0))
		esc := e.posts("watch", escalationTitle)
		if len(esc) != 1 || len(e.ads[bot.Slack].posts) != 2 {
			t.Fatalf("%d escalations in console:watch, %d slack posts; want 1 and digest+escalation", len(esc), len(e.ads[bot.Slack].posts))
		}
		contains(t, "escalation", flatten(&esc[0].Msg), "Handoff not acknowledged · PLD Watch",
			"@pld-duty-officer: handoff digest watch-0001 for the shift change at Tue 3 Mar 07:00 EST was posted at 07:00 EST and has not been acknowledged within 15m.",
			"Acknowledge → handoff ack watch-0001")
		// The button still acknowledges, and edits the digest.
		e.ok(ny(2026, 3, 3, 9, 5), esc[0].Msg.Buttons[0].Command)
		if n := len(e.updates(bot.Console)); n != 1 {
			t.Fatalf("%d edits after the late acknowledgement", n)
		}
		if got := strings.Join(e.hooks, "; "); got != "posted watch true; escalated watch; acknowledged watch" {
			t.Fatalf("hooks: %s", got)
		}
	})

	t.Run("acknowledged before the post is sent: the edit waits", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.clock.set(ny(2026, 3, 3, 7, 0))
		if _, err := e.svc.Tick(context.Background(), ny(2026, 3, 3, 7, 0)); err != nil {
			t.Fatal(err)
		}
		// Not flushed: the digest is still in the outbox.
		e.clock.set(ny(2026, 3, 3, 7, 1))
		m := e.mux.Serve(context.Background(), &bot.Request{Platform: bot.Slack, Channel: "C0WATCH", User: bot.User{ID: "U1", Name: "bob"}, Role: agent, Text: "handoff ack watch-0001"})
		contains(t, "answer", flatten(m), "acknowledged by bob", "will show it once its posts are sent")
		if n := len(e.updates(bot.Slack)); n != 0 {
			t.Fatalf("edited a post that was not sent")
		}
		e.flush()
		next := e.tick(ny(2026, 3, 3, 7, 2))
		for _, p := range []string{bot.Console, bot.Slack} {
			if ups := e.updates(p); len(ups) != 1 || !strings.Contains(ups[0].Msg.Text, "Acknowledged by bob at Tue 3 Mar 07:01 EST.") {
				t.Fatalf("%s: edits %+v", p, ups)
			}
		}
		// No edit left: the next due time is the evening reminder, not a retry.
		if !next.Equal(ny(2026, 3, 3, 18, 30)) {
			t.Fatalf("next due %s", next)
		}
	})

	t.Run("a failing edit is retried by the scheduler", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 7, 0))
		e.ads[bot.Slack].mu.Lock()
		e.ads[bot.Slack].failEdit = true
		e.ads[bot.Slack].mu.Unlock()
		e.ok(ny(2026, 3, 3, 7, 5), "handoff ack")
		if len(e.updates(bot.Console)) != 1 || len(e.updates(bot.Slack)) != 0 {
			t.Fatalf("edits: console %d, slack %d", len(e.updates(bot.Console)), len(e.updates(bot.Slack)))
		}
		if next := e.tick(ny(2026, 3, 3, 7, 6)); !next.Equal(ny(2026, 3, 3, 7, 6).Add(editRetry)) {
			t.Fatalf("next due %s, want a retry of the edit", next)
		}
		e.ads[bot.Slack].mu.Lock()
		e.ads[bot.Slack].failEdit = false
		e.ads[bot.Slack].mu.Unlock()
		e.tick(ny(2026, 3, 3, 7, 7))
		e.tick(ny(2026, 3, 3, 7, 8))
		if len(e.updates(bot.Console)) != 1 || len(e.updates(bot.Slack)) != 1 {
			t.Fatalf("edits after retry: console %d, slack %d", len(e.updates(bot.Console)), len(e.updates(bot.Slack)))
		}
	})

	t.Run("acknowledging a later digest answers for the scheduled one", func(t *testing.T) {
		e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 6, 0))
		e.tick(ny(2026, 3, 3, 7, 0))
		e.ok(ny(2026, 3, 3, 7, 5), "handoff now")
		answer := e.ok(ny(2026, 3, 3, 7, 6), "handoff ack")
		contains(t, "answer", answer, "Digest watch-0002")
		e.tick(ny(2026, 3, 3, 7, 30))
		if n := len(e.posts("watch", escalationTitle)); n != 0 {
			t.Fatalf("escalated a handoff acknowledged through a later digest")
		}
	})
}

// TestRunFiresAndStops runs the real loop on a clock set past a change: it
// fires without waiting for the poll period, and returns when ctx ends.
func TestRunFiresAndStops(t *testing.T) {
	e := newEnv(t, watchConfig, ny(2026, 3, 3, 6, 0))
	e.tick(ny(2026, 3, 3, 6, 0))
	e.clock.set(ny(2026, 3, 3, 7, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.Run(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, f := range e.fires() {
			if f.Kind == KindDigest && f.Status == firePosted {
				n++
			}
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not fire the 07:00 digest; fires: %+v", e.fires())
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not waiting for the fire
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestTeamWithoutShiftChanges(t *testing.T) {
	const cfg = `
teams:
  - id: desk
    name: Night Desk
    channels: ["console:desk"]
`
	e := newEnv(t, cfg, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC))
	if next := e.tick(time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)); !next.IsZero() {
		t.Fatalf("next due %s for a team without shift changes", next)
	}
	now := time.Date(2026, 3, 3, 12, 5, 0, 0, time.UTC)
	contains(t, "note", e.ok(now, "handoff note Printer jammed"), "It goes in the next digest.")
	contains(t, "who", flatten(e.at(now, "desk", "shift who")), "Night Desk has no shift changes configured")
	e.ok(now, "handoff now")
	dg := e.posts("desk", digestTitle)
	if len(dg) != 1 {
		t.Fatalf("%d digests", len(dg))
	}
	text := flatten(&dg[0].Msg)
	contains(t, "digest", text, "The shift so far: since Tue 3 Mar 00:05 UTC.", "Printer jammed")
	lacks(t, "digest", text, "Leads", "hands over")
}
