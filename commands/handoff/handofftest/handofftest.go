// Package handofftest plays one night shift of a watch team through the
// real incident and handoff features on a fake clock, so that each
// platform's tests can compare what its adapter posts (reminder, digest,
// escalation, acknowledged digest) with golden files. It is for tests only.
package handofftest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/commands/handoff"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// TeamYAML is the watch team of the scene, in the platform channel given
// to fmt.Sprintf ("slack:C0WATCH").
const TeamYAML = `teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: [%q]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    remind_before: 30m
    ack_within: 15m
    escalate_to: "@pld-duty-officer"
    leads: ["@alice", "@bob", "@carol"]
incidents:
  stale_after: 30m
handoff:
  catchup_window: 2h
`

// Step is one moment of the shift: a command typed in the team's channel,
// or (Text "") a run of the scheduler. Golden names the file the step's one
// post or edit is compared with; "" means the step posts nothing there.
type Step struct {
	At     time.Time
	Text   string
	Golden string
}

// Golden file names, in the order the shift produces them.
const (
	Reminder            = "handoff-reminder"
	Digest              = "handoff-digest"
	Escalation          = "handoff-escalation"
	DigestAcknowledged  = "handoff-digest-acknowledged"
	AcknowledgeCommand  = "handoff ack watch-0001"
	DigestTitle         = "Handoff digest · PLD Watch · shift change Tue 3 Mar 07:00 EST"
	ReminderTitle       = "Shift change in 30m · PLD Watch"
	EscalationTitle     = "Handoff not acknowledged · PLD Watch"
	AcknowledgedMessage = "Acknowledged by tester at Tue 3 Mar 07:20 EST."
)

// NightShift is PLD Watch's night of 2 → 3 March 2026 (19:00 → 07:00 EST):
// four incidents opened, updated and closed, an internal note, two handoff
// notes, the reminder, the digest, its escalation and the acknowledgement.
// evilSummary and evilNote are user-supplied text the platform must render
// inert.
func NightShift(loc *time.Location, evilSummary, evilNote string) []Step {
	at := func(d, h, mi int) time.Time { return time.Date(2026, time.March, d, h, mi, 0, 0, loc) }
	return []Step{
		{At: at(2, 15, 0), Text: "incident open mission:canada sev:2 Protest at the front gate, about 200 people"}, // 0001
		{At: at(2, 18, 59), Text: "incident open mission:france sev:3 Vehicle parked at the barrier"},              // 0002
		{At: at(2, 19, 30)}, // the scheduler's first run: earlier changes were not missed
		{At: at(2, 20, 0), Text: "incident open mission:canada sev:2 Drone over the residence"}, // 0003
		{At: at(2, 20, 30), Text: "incident note INC-2026-0003 informant is the night guard"},
		{At: at(2, 21, 0), Text: "incident update INC-2026-0001 Crowd down to about 50"},
		{At: at(2, 22, 0), Text: "handoff note Gate 3 camera is down, tech coming at 09:00"},
		{At: at(2, 23, 0), Text: "incident open mission:japan sev:1 " + evilSummary}, // 0004
		{At: at(3, 1, 0), Text: "incident close INC-2026-0004 Left after talking to the guard"},
		{At: at(3, 6, 30), Golden: Reminder},
		{At: at(3, 6, 45), Text: "handoff note " + evilNote},
		{At: at(3, 6, 50), Text: "incident update INC-2026-0003 Drone gone, MPD checking the park"},
		{At: at(3, 7, 0), Golden: Digest},
		{At: at(3, 7, 15), Golden: Escalation},
		{At: at(3, 7, 20), Text: "handoff ack", Golden: DigestAcknowledged},
	}
}

// Start is the clock's time before the first step.
func Start(loc *time.Location) time.Time { return time.Date(2026, time.March, 2, 14, 0, 0, 0, loc) }

// Clock is a fake clock the features and the adapter share.
type Clock struct {
	mu sync.Mutex
	at time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{at: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// Set moves the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

// Scene is the features wired as the program wires them, posting through
// one adapter.
type Scene struct {
	t        testing.TB
	Clock    *Clock
	Mux      *bot.Mux
	Outbox   *outbox.Dispatcher
	Handoff  *handoff.Service
	platform string
	channel  string
	user     bot.User
}

// Options say where the scene plays. Mux is the one the adapter was built
// with (adapters take their mux at construction); the scene registers the
// features on it.
type Options struct {
	Store   store.Store
	Config  *config.Config
	Clock   *Clock
	Mux     *bot.Mux
	Adapter bot.Adapter
	Channel string   // the team's channel id on the adapter's platform
	User    bot.User // the agent who types the commands
}

// New wires the incident and handoff features on o.Mux, posting through
// o.Adapter via a real outbox.
func New(t testing.TB, o Options) *Scene {
	t.Helper()
	s := &Scene{t: t, Clock: o.Clock, Mux: o.Mux, platform: o.Adapter.Platform(), channel: o.Channel, user: o.User}
	s.Outbox = &outbox.Dispatcher{Store: o.Store, Adapters: map[string]bot.Adapter{s.platform: o.Adapter},
		Now: o.Clock.Now, BaseDelay: time.Second, MaxDelay: time.Minute}
	inc := incident.New(incident.Options{Store: o.Store, Config: o.Config, Directory: Directory{}, Outbox: s.Outbox, Now: o.Clock.Now})
	s.Handoff = handoff.New(handoff.Options{Store: o.Store, Config: o.Config, Outbox: s.Outbox, Now: o.Clock.Now, StaleAfter: inc.StaleAfter()})
	inc.Register(o.Mux)
	s.Handoff.Register(o.Mux)
	return s
}

// Play runs one step: the command, or the scheduler, then sends what it
// queued. Every post must go: a post left in the outbox fails the test.
func (s *Scene) Play(st Step) {
	s.t.Helper()
	s.Clock.Set(st.At)
	ctx := context.Background()
	if st.Text == "" {
		if _, err := s.Handoff.Tick(ctx, st.At); err != nil {
			s.t.Fatalf("tick at %s: %v", st.At, err)
		}
	} else {
		req := &bot.Request{Platform: s.platform, Channel: s.channel, User: s.user,
			Role: bot.Role{Kind: bot.RoleAgent}, Text: st.Text, Time: st.At}
		if m := s.Mux.Serve(ctx, req); m == nil || m.Error {
			s.t.Fatalf("%q: %+v", st.Text, m)
		}
	}
	if _, err := s.Outbox.Flush(ctx); err != nil {
		s.t.Fatal(err)
	}
	entries, err := outbox.List(ctx, s.Outbox.Store)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(entries) > 0 {
		s.t.Fatalf("%d posts left in the outbox: %+v", len(entries), entries)
	}
}

// Directory resolves a country or an id to its embassy, for opening incidents.
type Directory struct{}

var missions = []incident.Mission{
	{ID: "emb-dc-canada", Name: "Embassy of Canada", Country: "Canada", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-japan", Name: "Embassy of Japan", Country: "Japan", Kind: "embassy", City: "Washington", State: "DC"},
	{ID: "emb-dc-france", Name: "Embassy of France", Country: "France", Kind: "embassy", City: "Washington", State: "DC"},
}

// SearchMissions finds a mission by id or exact country.
func (Directory) SearchMissions(q string, limit int) incident.MissionSearch {
	q = strings.ToLower(strings.TrimSpace(q))
	for _, m := range missions {
		if m.ID == q || strings.ToLower(m.Country) == q {
			return incident.MissionSearch{Missions: []incident.Mission{m}, Total: 1}
		}
	}
	return incident.MissionSearch{}
}

// EmergencyGuidance is the short form of the division's advice.
func (Directory) EmergencyGuidance() string { return "Call 911 first, then 571-345-3146." }
