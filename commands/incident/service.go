package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

// Mission is a mission as the incident feature names it.
type Mission struct {
	ID, Name, Country, Kind, City, State string
}

// Place is "Washington, DC".
func (m Mission) Place() string {
	switch {
	case m.City != "" && m.State != "":
		return m.City + ", " + m.State
	case m.City != "":
		return m.City
	}
	return m.State
}

// MissionSearch is the directory's answer to a mission query.
type MissionSearch struct {
	Missions  []Mission // best first, at most the limit asked
	Total     int       // how many matched in all
	Ambiguous bool      // only typo matches spread over several countries
}

// Directory is what the incident feature needs of the mission directory.
type Directory interface {
	// SearchMissions finds missions by country, name, city or id.
	SearchMissions(query string, limit int) MissionSearch
	// EmergencyGuidance is the division's advice with every number
	// (911 first, then the 24-hour command center).
	EmergencyGuidance() string
}

// Options configure a Service.
type Options struct {
	Store     store.Store
	Config    *config.Config // partners and incidents.stale_after
	Directory Directory
	// Outbox, when set, gets the hook that records thread refs and is
	// woken after each change that queued posts.
	Outbox *outbox.Dispatcher
	Logger *slog.Logger
	Now    func() time.Time
}

// Service is the incident feature.
type Service struct {
	store  store.Store
	cfg    *config.Config
	dir    Directory
	outbox *outbox.Dispatcher
	log    *slog.Logger
	now    func() time.Time
}

// New returns the feature and registers its sent hook with the outbox.
func New(o Options) *Service {
	if o.Store == nil || o.Directory == nil {
		panic("incident.New: Store and Directory are required")
	}
	s := &Service{store: o.Store, cfg: o.Config, dir: o.Directory, outbox: o.Outbox, log: o.Logger, now: o.Now}
	if s.cfg == nil {
		s.cfg = config.Default()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.outbox != nil {
		s.outbox.OnSent(originPrefix, s.recordSent)
	}
	return s
}

// StaleAfter is how long an open incident may stay quiet before a nudge.
func (s *Service) StaleAfter() time.Duration {
	if d := s.cfg.Incidents.StaleAfter.Std(); d > 0 {
		return d
	}
	return config.DefaultStaleAfter.Std()
}

// Register adds the incident commands and `reply` to the mux, and the
// thread-reply mirroring to its events.
func (s *Service) Register(m *bot.Mux) {
	m.Handle(bot.Command{
		Usage:   "incident open mission:<q> [sev:1-4] [partners:a,b] <summary>",
		Summary: "open an incident on a mission: a thread in each partner's shared channels",
		Help: "Resolves the mission through the directory (a country means its embassy; " +
			"a query matching several missions lists them to choose from), posts the incident with the emergency guidance " +
			"in every channel of the partners named (all configured partners when partners: is left out). " +
			"Severity 1 is the most severe; the default is 3. Example: incident open mission:canada sev:2 partners:mpd,uspp Protest at the front gate",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdOpen),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "incident update <id> <text>",
		Summary: "add an update to an incident and post it in every thread",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdUpdate),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "incident partner <id> <partner>",
		Summary: "bring another partner in: a new thread with the timeline so far",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdPartner),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "incident close <id> <resolution>",
		Summary: "close an incident and post the resolution in every thread",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdClose),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "incident note <id> <text>",
		Summary: "an internal timeline entry for the division only, never posted to partners",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdNote),
		Writes:  true,
	})
	m.Handle(bot.Command{
		Usage:   "incident report <id>",
		Summary: "the Markdown after-action report of an incident",
		Access:  bot.AccessAgents,
		Handler: s.handler(s.cmdReport),
	})
	m.Handle(bot.Command{
		Usage:   "incident list [open|all] [mission:<q>]",
		Summary: "open incidents (or all, newest first), optionally for one mission",
		Access:  bot.AccessPartners,
		Handler: s.handler(s.cmdList),
	})
	m.Handle(bot.Command{
		Usage:   "incident show <id>",
		Summary: "one incident with its whole timeline",
		Access:  bot.AccessPartners,
		Handler: s.handler(s.cmdShow),
	})
	m.Handle(bot.Command{
		Usage:   "reply <id> <text>",
		Summary: "answer in an incident's threads (shared with every agency on it)",
		Help:    "Adds your reply to the incident's timeline and posts it, with your name and agency, in the incident's threads on every platform.",
		Access:  bot.AccessPartners,
		Handler: s.handler(s.cmdReply),
		Writes:  true,
	})
	m.OnEvent(s)
}

// problem is a request the feature refuses, with a message for the person;
// returned from inside a transaction it rolls everything back.
type problem struct{ text string }

func (p *problem) Error() string { return p.text }

func problemf(format string, args ...any) error { return &problem{text: fmt.Sprintf(format, args...)} }

// handler turns a refusal into an error answer and an unknown id into one
// that does not tell a partner whether someone else's incident exists. The
// request's log lines name the incident of an <id> argument.
func (s *Service) handler(f func(context.Context, *bot.Request) (*bot.Message, error)) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		if year, seq, ok := ParseID(req.Args.Get("id")); ok {
			bot.AddLogAttrs(ctx, slog.String("incident_id", FormatID(year, seq)))
		}
		msg, err := f(ctx, req)
		var p *problem
		switch {
		case errors.As(err, &p):
			return bot.Errorf(p.text), nil
		case errors.Is(err, errNoIncident):
			return bot.Errorf(fmt.Sprintf("No incident %s. `incident list all` shows the incidents you can see.", strings.ToUpper(req.Args.Get("id")))), nil
		}
		return msg, err
	})
}

// incidentID checks the shape of the <id> argument.
func incidentID(req *bot.Request) (string, error) {
	id := req.Args.Get("id")
	year, seq, ok := ParseID(id)
	if !ok {
		return "", bot.Usagef(req, "%q is not an incident id (they look like INC-2026-0042)", id)
	}
	return FormatID(year, seq), nil
}

// visible reports whether the role may see the incident: the division sees
// every incident, a partner those its agency is on.
func visible(inc *Incident, r bot.Role) bool {
	return r.AtLeastAgent() || (r.Kind == bot.RolePartner && inc.HasPartner(r.Partner))
}

// loadFor reads an incident the role may see; any other is "no incident".
func loadFor(tx store.Tx, id string, r bot.Role) (*Incident, error) {
	inc, err := mustLoad(tx, id)
	if err != nil {
		return nil, err
	}
	if !visible(inc, r) {
		return nil, errNoIncident
	}
	return inc, nil
}

// requester is who typed the command, as the timeline names them.
func (s *Service) requester(req *bot.Request) Author {
	a := Author{ID: req.User.ID, Name: req.User.Name, Platform: req.Platform}
	if a.Name == "" {
		a.Name = req.User.ID
	}
	if a.Name == "" {
		a.Name = "unknown"
	}
	switch {
	case req.Role.AtLeastAgent():
		a.Agency = Division
	case req.Role.Kind == bot.RolePartner:
		a.Partner, a.Agency = s.partnerLabel(req.Role.Partner)
	}
	return a
}

// partnerLabel returns a partner's canonical id and short agency label
// ("mpd" → "MPD").
func (s *Service) partnerLabel(id string) (string, string) {
	if p, ok := s.cfg.PartnerByID(id); ok {
		id = p.ID
	}
	return id, strings.ToUpper(id)
}

func (s *Service) partnerName(id string) string {
	if p, ok := s.cfg.PartnerByID(id); ok && p.Name != "" {
		return p.Name
	}
	return id
}

// notify wakes the outbox after a change that queued posts.
func (s *Service) notify() {
	if s.outbox != nil {
		s.outbox.Notify()
	}
}

// Get returns an incident by id, as stored.
func (s *Service) Get(ctx context.Context, id string) (*Incident, bool, error) {
	var inc *Incident
	var ok bool
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		inc, ok, err = Load(tx, id)
		return err
	})
	return inc, ok, err
}
