package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
)

const inc1 = "INC-2026-0001"

func TestLifeCycleOnConsoleChannels(t *testing.T) {
	e := newEnv(t, testConfig)
	m := e.do(agent, "console", "incident open mission:canada sev:2 Protest at the front gate, about 200 people")
	if m.Error || m.Visibility != bot.InChannel {
		t.Fatalf("open: %+v", m)
	}
	contains(t, "open answer", flatten(*m), inc1+" opened", "Embassy of Canada", "severity 2 (high)",
		"Posting to 2 partner channel(s)", "console:mpd (Metropolitan Police Department, @mpd-watch)", "console:uspp (United States Park Police, @uspp-desk)")
	if len(e.posts()) != 0 {
		t.Fatalf("posted before the outbox ran: %v", e.posts())
	}
	e.flush()

	roots := map[string]sentPost{}
	for _, ch := range []string{"mpd", "uspp"} {
		ps := e.postsTo(bot.Console, ch)
		if len(ps) != 1 || ps[0].ThreadRef != "" {
			t.Fatalf("console:%s: want one root post, got %v", ch, ps)
		}
		roots[ch] = ps[0]
		contains(t, "root post in "+ch, ps[0].Text, inc1, "Embassy of Canada (Washington, DC)", "severity 2 (high)",
			"Protest at the front gate, about 200 people", "Agent Smith (PLD)", "911 first", "571-345-3146", "866-217-2089")
	}
	contains(t, "mpd root", roots["mpd"].Text, "@mpd-watch")
	contains(t, "uspp root", roots["uspp"].Text, "@uspp-desk")
	lacks(t, "mpd root", roots["mpd"].Text, "@uspp-desk")

	// The sent hook recorded each thread's ref.
	inc := e.incident(inc1)
	for _, th := range inc.Threads {
		if th.Ref != roots[th.Channel].ID {
			t.Fatalf("thread %s ref %q, want %q", th.ChannelRef(), th.Ref, roots[th.Channel].ID)
		}
	}
	contains(t, "show", e.ok(agent, "incident show "+inc1), "console:mpd (Metropolitan Police Department): thread "+roots["mpd"].ID)

	e.clock.advance(5 * time.Minute)
	e.ok(agent, "incident update "+inc1+" Crowd dispersing, gate clear")
	e.clock.advance(5 * time.Minute)
	closed := e.ok(agent, "incident close "+inc1+" All clear, no damage")
	contains(t, "close answer", closed, inc1+" closed", "All clear, no damage")
	e.flush()
	for _, ch := range []string{"mpd", "uspp"} {
		ps := e.postsTo(bot.Console, ch)
		if len(ps) != 3 {
			t.Fatalf("console:%s: %d posts, want root, update, close: %v", ch, len(ps), ps)
		}
		for _, p := range ps[1:] {
			if p.ThreadRef != roots[ch].ID {
				t.Fatalf("console:%s: reply outside the thread: %v", ch, p)
			}
		}
		contains(t, "update in "+ch, ps[1].Text, "Update from Agent Smith (PLD): Crowd dispersing, gate clear")
		contains(t, "close in "+ch, ps[2].Text, "closed", "Resolution: All clear, no damage")
	}

	show := e.ok(agent, "incident show "+inc1)
	inOrder(t, "show", show, inc1, "closed", "Resolution: All clear, no damage", "Timeline (3 entries)",
		"12:00:00 UTC · opened · Agent Smith (PLD) via console: Protest at the front gate",
		"12:05:00 UTC · update · Agent Smith (PLD) via console: Crowd dispersing, gate clear",
		"12:10:00 UTC · closed · Agent Smith (PLD) via console: All clear, no damage")
	inc = e.incident(inc1)
	if inc.Status != StatusClosed || !inc.Closed.Equal(startTime.Add(10*time.Minute)) || e.count(BucketOpen) != 0 {
		t.Fatalf("after close: status %s closed %v open set %d", inc.Status, inc.Closed, e.count(BucketOpen))
	}
	// A closed incident takes no more updates.
	contains(t, "update closed", e.fail(agent, "incident update "+inc1+" more"), "was closed")
}

func TestRepliesAreMirroredOnceAcrossPlatforms(t *testing.T) {
	e := newEnv(t, crossConfig)
	e.ok(agent, "incident open mission:emb-dc-canada Vehicle parked at the gate")
	e.flush()
	mmRoot := e.postsTo(bot.Mattermost, "mm-mpd")
	slackRoot := e.postsTo(bot.Slack, "C0USPP")
	consoleRoot := e.postsTo(bot.Console, "mpd")
	if len(mmRoot) != 1 || len(slackRoot) != 1 || len(consoleRoot) != 1 {
		t.Fatalf("roots: %v", e.posts())
	}
	ctx := context.Background()
	lee := bot.Event{
		Kind: bot.EventPosted, Platform: bot.Mattermost, Channel: "mm-mpd", ThreadRef: mmRoot[0].ID,
		MessageID: "mm-post-77", User: bot.User{ID: "u77", Name: "Sgt. Lee"}, Role: asMPD,
		Text: "Two units on scene", Time: e.clock.now(),
	}
	if err := e.svc.HandleEvent(ctx, lee); err != nil {
		t.Fatal(err)
	}
	e.flush()
	want := "Sgt. Lee (MPD) via Mattermost: Two units on scene"
	if ps := e.postsTo(bot.Slack, "C0USPP"); len(ps) != 2 || ps[1].Text != want || ps[1].ThreadRef != slackRoot[0].ID {
		t.Fatalf("slack thread: %v", ps)
	}
	if ps := e.postsTo(bot.Console, "mpd"); len(ps) != 2 || ps[1].Text != want || ps[1].ThreadRef != consoleRoot[0].ID {
		t.Fatalf("console thread: %v", ps)
	}
	if ps := e.postsTo(bot.Mattermost, "mm-mpd"); len(ps) != 1 {
		t.Fatalf("mirrored back into its own thread: %v", ps)
	}
	before := len(e.posts())
	timeline := len(e.incident(inc1).Timeline)

	// Replayed, edited, deleted, the bot's own, a root, another thread: nothing.
	edited := lee
	edited.Kind, edited.Text = bot.EventEdited, "Two units on scene (edited)"
	deleted := lee
	deleted.Kind, deleted.Text = bot.EventDeleted, ""
	own := bot.Event{Kind: bot.EventPosted, Platform: bot.Slack, Channel: "C0USPP", ThreadRef: slackRoot[0].ID,
		MessageID: e.postsTo(bot.Slack, "C0USPP")[1].ID, FromBot: true, Text: want}
	root := bot.Event{Kind: bot.EventPosted, Platform: bot.Slack, Channel: "C0USPP", ThreadRef: "1700.1", MessageID: "1700.1", Text: "hello", Role: asUSPP}
	elsewhere := bot.Event{Kind: bot.EventPosted, Platform: bot.Slack, Channel: "C0USPP", ThreadRef: "1699.0", MessageID: "1700.2", Text: "other thread", Role: asUSPP}
	for _, ev := range []bot.Event{lee, edited, deleted, own, root, elsewhere, lee} {
		if err := e.svc.HandleEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	e.flush()
	if n := len(e.posts()); n != before {
		t.Fatalf("%d new posts after replays and ignored events: %v", n-before, e.posts()[before:])
	}
	if n := len(e.incident(inc1).Timeline); n != timeline {
		t.Fatalf("timeline grew from %d to %d", timeline, n)
	}

	// The other way: an agent answers in the Slack thread.
	if err := e.svc.HandleEvent(ctx, bot.Event{Kind: bot.EventPosted, Platform: bot.Slack, Channel: "C0USPP",
		ThreadRef: slackRoot[0].ID, MessageID: "1700.3", User: bot.User{ID: "U1", Name: "Ann Cole"}, Role: agent, Text: "Thanks, PLD on the way"}); err != nil {
		t.Fatal(err)
	}
	// A guest the platform could not place speaks for the channel's partner.
	if err := e.svc.HandleEvent(ctx, bot.Event{Kind: bot.EventPosted, Platform: bot.Slack, Channel: "C0USPP",
		ThreadRef: slackRoot[0].ID, MessageID: "1700.4", User: bot.User{ID: "U2"}, Text: "Copy"}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	mm := e.postsTo(bot.Mattermost, "mm-mpd")
	if len(mm) != 3 || mm[1].Text != "Ann Cole (PLD) via Slack: Thanks, PLD on the way" || mm[2].Text != "U2 (USPP) via Slack: Copy" || mm[1].ThreadRef != mmRoot[0].ID {
		t.Fatalf("mattermost thread: %v", mm)
	}
	inc := e.incident(inc1)
	if first, ok := inc.FirstPartnerReply(); !ok || first.Author.Name != "Sgt. Lee" || first.Source != "mattermost:mm-mpd:mm-post-77" {
		t.Fatalf("first partner reply %+v %v", first, ok)
	}
}

func TestConsoleReplyCommand(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada Suspicious package")
	e.flush()
	m := e.do(asMPD, "mpd", "reply "+inc1+" MPD bomb squad en route")
	if m.Error {
		t.Fatalf("reply: %s", flatten(*m))
	}
	e.flush()
	if ps := e.postsTo(bot.Console, "mpd"); len(ps) != 1 {
		t.Fatalf("the replier's own channel got its reply back: %v", ps)
	}
	ps := e.postsTo(bot.Console, "uspp")
	if len(ps) != 2 || ps[1].Text != "Officer MPD (MPD) via console: MPD bomb squad en route" {
		t.Fatalf("uspp thread: %v", ps)
	}
	report := e.ok(agent, "incident report "+inc1)
	contains(t, "report", report, "**First partner reply:** 2026-11-26 12:00:00 UTC by Officer MPD (MPD) via console")
}

func TestInternalNotesNeverReachPartners(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada partners:mpd Threat received by phone")
	e.flush()
	const secret = "source is the ambassador's driver"
	contains(t, "note answer", e.ok(agent, "incident note "+inc1+" "+secret), "never posted")
	e.ok(agent, "incident update "+inc1+" Extra patrols requested")
	e.ok(agent, "incident partner "+inc1+" uspp")
	e.flush()
	for _, p := range e.posts() {
		lacks(t, "post "+p.String(), p.Text, secret)
	}
	// USPP's new thread carries the timeline so far, without the note.
	uspp := e.postsTo(bot.Console, "uspp")
	if len(uspp) != 1 {
		t.Fatalf("uspp: %v", uspp)
	}
	contains(t, "uspp root", uspp[0].Text, "@uspp-desk", "bringing your agency into this incident", "Timeline so far",
		"opened · Agent Smith (PLD) via console: Threat received by phone", "update · Agent Smith (PLD) via console: Extra patrols requested", "911 first")
	// MPD hears who joined.
	mpd := e.postsTo(bot.Console, "mpd")
	contains(t, "mpd thread", mpd[len(mpd)-1].Text, "United States Park Police (USPP) has joined this incident")

	for _, who := range []bot.Role{asMPD, asUSPP} {
		m := e.do(who, who.Partner, "incident show "+inc1)
		lacks(t, "partner show", flatten(*m), secret, "internal")
		contains(t, "partner show", flatten(*m), "Extra patrols requested")
	}
	contains(t, "agent show", e.ok(agent, "incident show "+inc1), "note [internal] · Agent Smith (PLD) via console: "+secret)
	contains(t, "report", e.ok(agent, "incident report "+inc1), "**note, internal** Agent Smith (PLD) via console: "+secret)
	// Partners cannot write notes or read reports.
	for _, cmd := range []string{"incident note " + inc1 + " x", "incident report " + inc1} {
		if m := e.do(asMPD, "mpd", cmd); !m.Error || !strings.Contains(m.Text, "not allowed") {
			t.Fatalf("%q as a partner: %+v", cmd, m)
		}
	}
	// A partner already on the incident cannot be brought in twice.
	contains(t, "partner twice", e.fail(agent, "incident partner "+inc1+" uspp"), "already on")
}

func TestRefusalsOpenNothing(t *testing.T) {
	e := newEnv(t, testConfig)
	for _, tt := range []struct{ cmd, want string }{
		{"incident open mission:canada partners:mpd,fbi Shots fired", `Unknown partner "fbi". Configured partners: mpd, uspp.`},
		{"incident open mission:chicago Crowd", "Which mission did you mean by \"chicago\"?"},
		{"incident open mission:atlantis Crowd", `No mission matches "atlantis"`},
		{"incident open mission:canada", "missing <summary>"},
		{"incident open mission:canada sev:2", "missing <summary>"},
		{"incident open mission:canada sev:5 Crowd", "sev:5: the severity is a number from 1 (most severe) to 4"},
		{"incident open mission:canada sev:0 Crowd", "sev:0"},
		{"incident open mission:canada sev:high Crowd", "sev:high"},
		{"incident open Crowd at the gate", "missing mission:q"},
		{"incident update INC-2026-0042 hello", "No incident INC-2026-0042"},
		{"incident close INC-2026-0042 done", "No incident INC-2026-0042"},
		{"incident note INC-2026-0042 x", "No incident INC-2026-0042"},
		{"incident partner INC-2026-0042 mpd", "No incident INC-2026-0042"},
		{"incident show INC-2026-0042", "No incident INC-2026-0042"},
		{"incident report INC-2026-0042", "No incident INC-2026-0042"},
		{"reply INC-2026-0042 hi", "No incident INC-2026-0042"},
		{"incident show 42", `"42" is not an incident id`},
	} {
		m := e.do(agent, "console", tt.cmd)
		got := flatten(*m)
		if tt.want == "Which mission did you mean by \"chicago\"?" {
			// A question, not an error, but nothing opened all the same.
			contains(t, tt.cmd, got, tt.want, "mission:cg-chicago-canada", "mission:cg-chicago-japan", "incident open mission:cg-chicago-japan Crowd")
		} else if !m.Error || !strings.Contains(got, tt.want) {
			t.Errorf("%q: got %q (error %v), want %q", tt.cmd, got, m.Error, tt.want)
		}
	}
	e.flush()
	if n := e.count(BucketIncidents) + e.count(BucketOpen) + e.count(BucketActivity) + e.count(outbox.BucketPending) + e.count(outbox.BucketSent); n != 0 {
		t.Fatalf("refused commands left %d records", n)
	}
	if len(e.posts()) != 0 {
		t.Fatalf("refused commands posted: %v", e.posts())
	}
	// The refusals consumed no number.
	contains(t, "open", e.ok(agent, "incident open mission:canada Crowd"), inc1+" opened")
}

func TestPartnerIsolation(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada partners:mpd Protest")                  // MPD's
	e.ok(agent, "incident open mission:cg-houston-japan partners:uspp Broken window") // USPP's
	e.flush()
	const mine, theirs = "INC-2026-0001", "INC-2026-0002"
	for _, cmd := range []string{"incident show " + mine, "reply " + mine + " we are here"} {
		m := e.do(asUSPP, "uspp", cmd)
		if !m.Error || !strings.Contains(m.Text, "No incident "+mine) {
			t.Fatalf("uspp %q: %+v", cmd, m)
		}
	}
	for _, cmd := range []string{"incident list", "incident list all", "incident list all mission:canada", "incident list open mission:canada"} {
		got := flatten(*e.do(asUSPP, "uspp", cmd))
		lacks(t, "uspp "+cmd, got, mine, "Protest")
		if !strings.Contains(cmd, "canada") {
			contains(t, "uspp "+cmd, got, theirs)
		}
	}
	got := flatten(*e.do(asMPD, "mpd", "incident list all"))
	contains(t, "mpd list", got, mine)
	lacks(t, "mpd list", got, theirs)
	contains(t, "agent list", e.ok(agent, "incident list"), mine, theirs)
	// Partners may not change incidents.
	if m := e.do(asMPD, "mpd", "incident update "+mine+" x"); !strings.Contains(m.Text, "not allowed") {
		t.Fatalf("partner update: %+v", m)
	}
	// Nothing posted into USPP's channel about MPD's incident.
	for _, p := range e.postsTo(bot.Console, "uspp") {
		lacks(t, "uspp post", p.Text, mine)
	}
}

func TestSequenceSurvivesRestart(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada One")
	e.ok(agent, "incident open mission:canada Two")
	e.restart()
	contains(t, "third", e.ok(agent, "incident open mission:canada Three"), "INC-2026-0003 opened")
	e.clock.advance(40 * 24 * time.Hour) // a new year: the number goes on
	contains(t, "fourth", e.ok(agent, "incident open mission:canada Four"), "INC-2027-0004 opened")
	// The number finds the record only with the right year.
	e.fail(agent, "incident show INC-2027-0003")
	e.ok(agent, "incident show inc-2026-0003")
}

func TestStaleNudgesOncePerQuietPeriod(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada Protest")
	e.ok(agent, "incident open mission:canada Closed quickly")
	e.ok(agent, "incident close INC-2026-0002 false alarm")
	e.flush()
	ctx := context.Background()
	nudge := func(after time.Duration, want int) {
		t.Helper()
		e.clock.t = startTime.Add(after)
		n, err := e.svc.NudgeStale(ctx, e.clock.now())
		if err != nil || n != want {
			t.Fatalf("at +%v: nudged %d (%v), want %d", after, n, err, want)
		}
	}
	nudge(29*time.Minute, 0)
	nudge(30*time.Minute, 1)
	nudge(31*time.Minute, 0)
	nudge(59*time.Minute, 0)
	nudge(60*time.Minute, 1) // a second quiet period
	e.flush()
	for _, ch := range []string{"mpd", "uspp"} {
		ps := e.postsTo(bot.Console, ch)
		var nudges []sentPost
		for _, p := range ps {
			if strings.Contains(p.Text, "Any news?") {
				nudges = append(nudges, p)
			}
		}
		if len(nudges) != 2 || nudges[0].ThreadRef != ps[0].ID || nudges[1].ThreadRef != ps[0].ID {
			t.Fatalf("console:%s nudges: %v", ch, nudges)
		}
		if ch == "mpd" {
			contains(t, "mpd nudge", nudges[0].Text, "@mpd-watch: No update on "+inc1+" for 30m.")
			contains(t, "mpd nudge", nudges[1].Text, "@mpd-watch: No update on "+inc1+" for 1h00m.")
		}
	}
	inc := e.incident(inc1)
	if !inc.LastActivity.Equal(startTime) {
		t.Fatalf("a nudge counted as activity: %v", inc.LastActivity)
	}
	// Activity restarts the clock.
	e.clock.t = startTime.Add(70 * time.Minute)
	e.ok(agent, "incident update "+inc1+" still there")
	nudge(95*time.Minute, 0)
	nudge(100*time.Minute, 1)
}

func TestRestartInTheMiddleOfAFanOut(t *testing.T) {
	e := newEnv(t, testConfig)
	// The second root post fails; the process then dies.
	e.ads[bot.Console].fail = func(attempt int, p bot.Post) error {
		if attempt == 2 {
			return errors.New("connection reset")
		}
		return nil
	}
	e.ok(agent, "incident open mission:canada Fan-out")
	e.ok(agent, "incident update "+inc1+" queued before the crash")
	e.flush()
	first := e.posts()
	if len(first) != 2 { // mpd's root and its update; uspp's root failed and its update waits
		t.Fatalf("before the crash: %v", first)
	}
	e.restart()
	e.clock.advance(time.Hour)
	e.flush()
	second := e.posts()
	roots := map[string]int{}
	for _, p := range append(first, second...) {
		if p.ThreadRef == "" && p.Channel != "console" { // console:console is the opener's
			roots[p.Channel]++
		}
	}
	if roots["mpd"] != 1 || roots["uspp"] != 1 || len(roots) != 2 {
		t.Fatalf("root posts per channel %v\nbefore %v\nafter %v", roots, first, second)
	}
	// uspp's root, the update waiting for it, and the opener's thread links
	// once the last root is out (the new process numbers from 1 again).
	if len(second) != 3 || second[1].ThreadRef != second[0].ID || second[0].Channel != "uspp" || second[2].Channel != "console" {
		t.Fatalf("after restart: %v", second)
	}
	contains(t, "links", second[2].Text, "console:mpd #console-1", "console:uspp #console-1")
	for _, th := range e.incident(inc1).Threads {
		if th.Ref == "" {
			t.Fatalf("thread %s has no ref", th.ChannelRef())
		}
	}
	e.flush()
	if n := len(e.posts()); n != 3 {
		t.Fatalf("a later flush sent again: %v", e.posts())
	}
	if e.count(BucketThreads) != 2 {
		t.Fatalf("threads index: %d", e.count(BucketThreads))
	}
}

func TestListIsBoundedAndFiltered(t *testing.T) {
	e := newEnv(t, testConfig)
	for i := 1; i <= 60; i++ {
		mission := "emb-dc-canada"
		if i%2 == 0 {
			mission = "cg-houston-japan"
		}
		e.ok(agent, fmt.Sprintf("incident open mission:%s partners:mpd Incident number %d", mission, i))
		if i <= 10 {
			e.ok(agent, fmt.Sprintf("incident close INC-2026-%04d done", i))
		}
	}
	all := e.ok(agent, "incident list all")
	inOrder(t, "list all", all, "All incidents, newest first: 60", "INC-2026-0060", "INC-2026-0059", "INC-2026-0011", "and 10 more")
	lacks(t, "list all", all, "INC-2026-0010 ")
	open := e.ok(agent, "incident list")
	inOrder(t, "list open", open, "Open incidents: 50", "INC-2026-0060", "INC-2026-0011")
	lacks(t, "list open", open, "and ", "INC-2026-0010 ")
	japan := e.ok(agent, "incident list all mission:houston")
	inOrder(t, "list japan", japan, "All incidents, newest first for missions matching \"houston\": 30", "INC-2026-0060", "INC-2026-0002")
	lacks(t, "list japan", japan, "INC-2026-0059")
	contains(t, "partner list", flatten(*e.do(asMPD, "mpd", "incident list all")), "newest first: 60", "and 10 more")
	contains(t, "other partner list", flatten(*e.do(asUSPP, "uspp", "incident list all")), "newest first: 0", "None.")
	contains(t, "unknown mission", e.fail(agent, "incident list all mission:atlantis"), "No mission matches")
}

func TestActivityBetween(t *testing.T) {
	e := newEnv(t, testConfig)
	e.ok(agent, "incident open mission:canada A") // 12:00
	e.clock.advance(time.Hour)
	e.ok(agent, "incident note "+inc1+" internal") // 13:00
	e.clock.advance(time.Hour)
	e.ok(agent, "incident close "+inc1+" done") // 14:00
	var got []string
	err := e.db.View(context.Background(), func(tx store.Tx) error {
		acts, err := ActivityBetween(tx, startTime.Add(30*time.Minute), startTime.Add(2*time.Hour))
		for _, a := range acts {
			got = append(got, fmt.Sprintf("%s %s %s %v", a.Time.Format("15:04"), a.ID, a.Kind, a.Internal))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[13:00 "+inc1+" note true]" {
		t.Fatalf("activity %v", got)
	}
}

func TestReportMarkdown(t *testing.T) {
	e := newEnv(t, crossConfig)
	e.ok(agent, "incident open mission:canada sev:1 Intruder on the grounds")
	e.flush()
	e.clock.advance(7 * time.Minute)
	mm := e.postsTo(bot.Mattermost, "mm-mpd")[0]
	if err := e.svc.HandleEvent(context.Background(), bot.Event{Kind: bot.EventPosted, Platform: bot.Mattermost, Channel: "mm-mpd",
		ThreadRef: mm.ID, MessageID: "p1", User: bot.User{Name: "Sgt. Lee"}, Role: asMPD, Text: "# Suspect detained\nno injuries"}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(53 * time.Minute)
	e.ok(agent, "incident close "+inc1+" Suspect handed to MPD")
	report, err := e.svc.Report(context.Background(), inc1)
	if err != nil {
		t.Fatal(err)
	}
	inOrder(t, "report", report,
		"# After-action report: "+inc1,
		"- **Mission:** Embassy of Canada (Washington, DC) [emb-dc-canada]",
		"- **Severity:** 1 (critical)",
		"- **Partners:** Metropolitan Police Department (MPD), United States Park Police (USPP)",
		"- **Opened:** 2026-11-26 12:00:00 UTC by Agent Smith (PLD) via console",
		"- **First partner reply:** 2026-11-26 12:07:00 UTC by Sgt. Lee (MPD) via Mattermost (7m after opening)",
		"- **Closed:** 2026-11-26 13:00:00 UTC (1h00m after opening)",
		"## Summary", "Intruder on the grounds",
		"## Timeline",
		"- 2026-11-26 12:00:00 UTC **opened** Agent Smith (PLD) via console: Intruder on the grounds",
		"- 2026-11-26 12:07:00 UTC **reply** Sgt. Lee (MPD) via Mattermost: \\# Suspect detained\n  no injuries",
		"- 2026-11-26 13:00:00 UTC **closed** Agent Smith (PLD) via console: Suspect handed to MPD",
		"## Resolution", "Suspect handed to MPD")
}

func TestParseID(t *testing.T) {
	for in, want := range map[string]string{
		"INC-2026-0042": "INC-2026-0042", "inc-2026-42": "INC-2026-0042", " INC-2027-12345 ": "INC-2027-12345",
	} {
		y, n, ok := ParseID(in)
		if !ok || FormatID(y, n) != want {
			t.Errorf("ParseID(%q) = %d %d %v", in, y, n, ok)
		}
	}
	for _, bad := range []string{"", "INC", "INC-2026", "INC-2026-", "INC-26-1", "INC-2026-0", "INC-2026-x", "BUG-2026-0001", "INC-2026-0001-1", "INC-2026--1"} {
		if _, _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"INC-2026-0042", "inc-2026-1", "INC-0000-0001", "INC-2026-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, n, ok := ParseID(s)
		if !ok {
			return
		}
		// What parses names the same incident once formatted.
		y2, n2, ok2 := ParseID(FormatID(y, n))
		if !ok2 || y2 != y || n2 != n {
			t.Fatalf("%q → %d %d → %q does not round-trip", s, y, n, FormatID(y, n))
		}
	})
}

func TestNoPartnerConfigured(t *testing.T) {
	e := newEnv(t, "incidents:\n  stale_after: 10m\n")
	contains(t, "open", e.ok(agent, "incident open mission:canada Power cut"), inc1+" opened", "nothing was posted")
	if inc := e.incident(inc1); len(inc.Fanouts) != 0 {
		t.Fatalf("no thread, yet links owed: %+v", inc.Fanouts)
	}
	contains(t, "partner", e.fail(agent, "incident partner "+inc1+" mpd"), `Unknown partner "mpd"`, "No partner is configured.")
	e.ok(agent, "incident note "+inc1+" generator on")
	e.clock.advance(10 * time.Minute)
	if n, err := e.svc.NudgeStale(context.Background(), e.clock.now()); err != nil || n != 1 {
		t.Fatalf("nudge: %d %v", n, err)
	}
	e.flush()
	if len(e.posts()) != 0 || e.count(outbox.BucketSent) != 0 {
		t.Fatalf("posted with no partner: %v", e.posts())
	}
	contains(t, "show", e.ok(agent, "incident show "+inc1), "nudge · liaisonbot (PLD): No update on "+inc1+" for 10m.")
}
