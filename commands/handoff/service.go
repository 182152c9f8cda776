// Package handoff is the shift-handoff feature (SPEC §2 "Handoff"): before
// each of a team's shift changes a reminder in the team's channels, at the
// change a digest of what the ending shift leaves the next one (incidents
// opened, updated and closed during it, the ones still open with the age of
// their last update, the notes left with `handoff note`, the outgoing and
// incoming leads), an acknowledgement that edits the digest where it was
// posted, and one escalation when nobody acknowledges it in time.
//
// Every scheduled post is a fire (team, kind, shift change) recorded in the
// store in the same transaction that puts its posts in the outbox, so a fire
// happens exactly once across restarts. The scheduler is a Tick function
// over an injectable clock: it computes what is due from the last recorded
// fire of each team and kind and the team's schedule, so a change missed
// while the bot was down is posted once, marked late, when it is still
// within the catch-up window, and skipped with a log line when it is not.
// A team's first tick records when it began: changes before it were not
// missed, and are not posted.
//
// Daylight saving follows config.ShiftSchedule, which the configuration
// check and `shift who` share: a change at a wall time the spring-forward
// night skips ("30 2 * * *" in New York) fires once, at 03:30 EDT, the
// instant 02:30 EST would have been; one at a wall time the fall-back night
// repeats ("30 1 * * *") fires once, at the first 01:30 (EDT). A fire is
// keyed by the change's UTC instant, so nothing can fire twice, and a
// reminder is remind_before ahead of that instant.
//
// The digest reads the incident feature's time index (ActivityBetween) and
// its open set (OpenIncidents) only, so its cost follows the shift's
// incidents, not the history.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

// LateAfter is how long after its due time a post is marked late.
const LateAfter = 2 * time.Minute

// PollEvery bounds how long Run sleeps between two ticks, so that a jump of
// the wall clock (NTP, a suspended machine) is noticed within it.
const PollEvery = 30 * time.Second

// editRetry is how soon Run looks again at acknowledgement edits waiting
// for their post to be sent.
const editRetry = 10 * time.Second

// Options configure a Service.
type Options struct {
	Store  store.Store
	Config *config.Config // teams, handoff.catchup_window, incidents.stale_after
	// Outbox, when set, is woken after each change that queued posts, gets
	// the hook that records where each digest was posted, and lends its
	// adapters for editing digests when Adapter is nil.
	Outbox *outbox.Dispatcher
	// Adapter returns the adapter of a platform, for editing a digest.
	Adapter func(platform string) (bot.Adapter, bool)
	// StaleAfter flags open incidents quiet for longer; default
	// incidents.stale_after.
	StaleAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time

	// Optional hooks, for metrics, called once the change is recorded: a
	// digest posted (scheduled, or on request with `handoff now`), a
	// digest acknowledged, a scheduled digest escalated for want of one.
	OnDigestPosted       func(team string, scheduled bool)
	OnDigestAcknowledged func(team string)
	OnDigestEscalated    func(team string)
}

// Service is the handoff feature.
type Service struct {
	store      store.Store
	cfg        *config.Config
	outbox     *outbox.Dispatcher
	adapter    func(string) (bot.Adapter, bool)
	staleAfter time.Duration
	catchup    time.Duration
	log        *slog.Logger
	now        func() time.Time
	sched      map[string]*schedule // by team id
	editMu     sync.Mutex           // one round of digest edits at a time

	onPosted    func(string, bool)
	onAcked     func(string)
	onEscalated func(string)
}

// originPrefix marks the outbox entries of digests, whose refs the sent
// hook records: "handoff/digest/<digest key>".
const originPrefix = "handoff/digest/"

// New returns the feature and registers its sent hook with the outbox.
func New(o Options) *Service {
	if o.Store == nil {
		panic("handoff.New: Store is required")
	}
	s := &Service{store: o.Store, cfg: o.Config, outbox: o.Outbox, adapter: o.Adapter,
		staleAfter: o.StaleAfter, log: o.Logger, now: o.Now, sched: map[string]*schedule{},
		onPosted: o.OnDigestPosted, onAcked: o.OnDigestAcknowledged, onEscalated: o.OnDigestEscalated}
	if s.cfg == nil {
		s.cfg = config.Default()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.staleAfter <= 0 {
		s.staleAfter = s.cfg.Incidents.StaleAfter.Std()
	}
	if s.staleAfter <= 0 {
		s.staleAfter = config.DefaultStaleAfter.Std()
	}
	if s.catchup = s.cfg.Handoff.CatchupWindow.Std(); s.catchup <= 0 {
		s.catchup = config.DefaultCatchup.Std()
	}
	if s.adapter == nil && s.outbox != nil {
		d := s.outbox
		s.adapter = func(p string) (bot.Adapter, bool) {
			ad, ok := d.Adapters[p]
			return ad, ok
		}
	}
	for i := range s.cfg.Teams {
		t := &s.cfg.Teams[i]
		sc, err := newSchedule(t)
		if err != nil {
			// A loaded configuration never gets here: it was validated.
			s.log.Error("handoff: team has no usable schedule", "team", t.ID, "err", err)
			continue
		}
		s.sched[t.ID] = sc
	}
	if s.outbox != nil {
		s.outbox.OnSent(originPrefix, s.recordSent)
	}
	return s
}

// Register adds the handoff and shift commands to the mux.
func (s *Service) Register(m *bot.Mux) {
	m.Handle(bot.Command{
		Usage:   "handoff note [team:<id>] <text>",
		Summary: "leave a note for the next shift of this channel's team",
		Help: "The note is shown in the digest at the next shift change (and in `handoff now`). " +
			"The team is the one whose channels include this channel; elsewhere add team:<id>.",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdNote),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "handoff now [team:<id>]",
		Summary: "post the handoff digest of the shift so far, now",
		Help: "Posts the digest (incidents opened, updated and closed since the shift began, the ones still open, " +
			"the notes left) in every channel of the team, with an Acknowledge button.",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdNow),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "handoff ack [digest] [team:<id>]",
		Summary: "acknowledge the latest handoff digest (the button does the same)",
		Help: "Records who acknowledged and when, and edits the digest in every channel to show it. " +
			"An unacknowledged digest is escalated once after the team's ack_within.",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdAck),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "shift who [team]",
		Summary: "who leads the current and the next shift",
		Help:    "The team is the one whose channels include this channel; elsewhere name it (shift who watch, or team:watch).",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdWho),
	})
}

// problem is a request the feature refuses, with a message for the person.
type problem struct{ text string }

func (p *problem) Error() string { return p.text }

func problemf(format string, args ...any) error { return &problem{text: fmt.Sprintf(format, args...)} }

func (s *Service) handler(f func(context.Context, *bot.Request) (*bot.Message, error)) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		msg, err := f(ctx, req)
		var p *problem
		if errors.As(err, &p) {
			return bot.Errorf(p.text), nil
		}
		return msg, err
	})
}

// team resolves the team a command is for: team:<id> when given, else the
// team whose channels include the command's channel, else the only team.
func (s *Service) team(req *bot.Request, explicit string) (*config.Team, error) {
	explicit = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(explicit), "team:"))
	if explicit != "" {
		if t, ok := s.cfg.TeamByID(explicit); ok {
			return t, nil
		}
		for i := range s.cfg.Teams {
			if strings.EqualFold(strings.Join(strings.Fields(s.cfg.Teams[i].Name), " "), strings.Join(strings.Fields(explicit), " ")) {
				return &s.cfg.Teams[i], nil
			}
		}
		return nil, problemf("No team %q. %s", explicit, s.knownTeams())
	}
	if t, ok := s.cfg.TeamForChannel(config.Channel{Platform: req.Platform, ID: req.Channel}); ok {
		return t, nil
	}
	if len(s.cfg.Teams) == 1 {
		return &s.cfg.Teams[0], nil
	}
	return nil, problemf("This channel belongs to no team: add team:<id>. %s", s.knownTeams())
}

func (s *Service) knownTeams() string {
	if len(s.cfg.Teams) == 0 {
		return "No team is configured (teams: in the configuration)."
	}
	ids := make([]string, len(s.cfg.Teams))
	for i, t := range s.cfg.Teams {
		ids[i] = t.ID
	}
	sort.Strings(ids)
	return "Teams: " + strings.Join(ids, ", ") + "."
}

// schedule returns the team's schedule; a team without one has no changes.
func (s *Service) schedule(t *config.Team) *schedule {
	if sc := s.sched[t.ID]; sc != nil {
		return sc
	}
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	return &schedule{loc: loc, perMask: []int{0}}
}

func (s *Service) notify() {
	if s.outbox != nil {
		s.outbox.Notify()
	}
}

// enqueue queues a message for every channel of the team, inside tx.
func enqueue(tx store.Tx, now time.Time, t *config.Team, msg bot.Message, origin string) ([]digestPost, error) {
	var out []digestPost
	for _, ch := range t.Channels {
		id, err := outbox.Enqueue(tx, now, outbox.Entry{Platform: ch.Platform, Channel: ch.ID, Message: msg, Origin: origin})
		if err != nil {
			return nil, err
		}
		out = append(out, digestPost{Platform: ch.Platform, Channel: ch.ID, OutboxID: id})
	}
	return out, nil
}

func channelList(ps []digestPost) string {
	refs := make([]string, len(ps))
	for i, p := range ps {
		refs[i] = p.Platform + ":" + p.Channel
	}
	return strings.Join(refs, ", ")
}
