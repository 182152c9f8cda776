package incident

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

// change runs fn on an incident the role may see, inside one transaction
// with the posts fn queues, then wakes the outbox.
func (s *Service) change(ctx context.Context, id string, r bot.Role, fn func(tx store.Tx, inc *Incident, now time.Time) error) (*Incident, error) {
	now := s.now().UTC()
	var inc *Incident
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if inc, err = loadFor(tx, id, r); err != nil {
			return err
		}
		if err := fn(tx, inc, now); err != nil {
			return err
		}
		return save(tx, inc)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return inc, nil
}

func mustBeOpen(inc *Incident) error {
	if inc.Status != StatusOpen {
		return problemf("%s was closed at %s: open a new incident if it flares up again.", inc.ID, formatTime(inc.Closed))
	}
	return nil
}

// ---- incident open ----

func (s *Service) cmdOpen(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	sev := DefaultSeverity
	if req.Args.Has("sev") {
		v := req.Args.Get("sev")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < MinSeverity || n > MaxSeverity {
			return nil, bot.Usagef(req, "sev:%s: the severity is a number from %d (most severe) to %d", v, MinSeverity, MaxSeverity)
		}
		sev = n
	}
	partners, err := s.partnersArg(req)
	if err != nil {
		return nil, err
	}
	mission, choices, err := s.resolveMission(req, sev)
	if err != nil || choices != nil {
		return choices, err
	}
	summary := clip(req.Args.Get("summary"))
	author := s.requester(req)
	now := s.now().UTC()
	var inc *Incident
	err = s.store.Update(ctx, func(tx store.Tx) error {
		seq, err := tx.NextSequence(bucketSeq)
		if err != nil {
			return err
		}
		inc = &Incident{
			ID: FormatID(now.Year(), seq), Seq: seq,
			MissionID: mission.ID, MissionName: mission.Name, MissionPlace: mission.Place(),
			Severity: sev, Status: StatusOpen, Summary: summary,
			OpenedBy: author, Opened: now,
		}
		for _, p := range partners {
			inc.Partners = append(inc.Partners, p.ID)
		}
		if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindOpened, Author: author, Text: summary}); err != nil {
			return err
		}
		if _, err := s.fanOut(tx, now, inc, partners, false, Fanout{Kind: KindOpened, ReplyTo: requestLocation(req)}); err != nil {
			return err
		}
		if err := index(tx, inc); err != nil {
			return err
		}
		return save(tx, inc)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	bot.AddLogAttrs(ctx, slog.String("incident_id", inc.ID))
	s.log.InfoContext(ctx, "incident opened", "incident_id", inc.ID, "mission", inc.MissionID, "severity", inc.Severity,
		"partners", strings.Join(inc.Partners, ","), "threads", len(inc.Threads))
	return s.openedMessage(inc), nil
}

// partnersArg reads partners:a,b; left out, it means every configured
// partner. Any unknown id refuses the whole command.
func (s *Service) partnersArg(req *bot.Request) ([]*config.Partner, error) {
	if !req.Args.Has("partners") {
		out := make([]*config.Partner, len(s.cfg.Partners))
		for i := range s.cfg.Partners {
			out[i] = &s.cfg.Partners[i]
		}
		return out, nil
	}
	var out []*config.Partner
	var unknown []string
	seen := map[string]bool{}
	for _, id := range strings.Split(req.Args.Get("partners"), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		p, ok := s.cfg.PartnerByID(id)
		switch {
		case !ok:
			unknown = append(unknown, id)
		case !seen[p.ID]:
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	if len(unknown) > 0 {
		return nil, problemf("Unknown partner %s. %s Nothing was opened.", strings.Join(quoteAll(unknown), ", "), s.knownPartners())
	}
	if len(out) == 0 {
		return nil, bot.Usagef(req, "partners: names no partner")
	}
	return out, nil
}

func (s *Service) knownPartners() string {
	if len(s.cfg.Partners) == 0 {
		return "No partner is configured."
	}
	ids := make([]string, len(s.cfg.Partners))
	for i, p := range s.cfg.Partners {
		ids[i] = p.ID
	}
	return "Configured partners: " + strings.Join(ids, ", ") + "."
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// missionSearchLimit is how many matches a mission query looks at.
const missionSearchLimit = 10

// resolveMission turns mission:<q> into one mission. A query that names
// one mission, or one country whose embassy ranks first among its matches
// ("canada"), resolves; anything else answers with the candidates to
// retry with, and nothing is opened.
func (s *Service) resolveMission(req *bot.Request, sev int) (Mission, *bot.Message, error) {
	q := req.Args.Get("mission")
	res := s.dir.SearchMissions(q, missionSearchLimit)
	if res.Total == 0 || len(res.Missions) == 0 {
		return Mission{}, nil, problemf("No mission matches %q: nothing was opened. Try a country (mission:canada), a city, a mission name in quotes or a mission id (contact <query> finds them).", q)
	}
	if !res.Ambiguous {
		if res.Total == 1 {
			return res.Missions[0], nil, nil
		}
		if res.Total <= len(res.Missions) && principalMission(res.Missions) {
			return res.Missions[0], nil, nil
		}
	}
	shown := res.Missions[:min(5, len(res.Missions))]
	m := &bot.Message{Title: fmt.Sprintf("Which mission did you mean by %q? Nothing was opened.", q)}
	var lines []string
	for _, c := range shown {
		lines = append(lines, fmt.Sprintf("• %s (%s): mission:%s", c.Name, c.Place(), c.ID))
		m.Buttons = append(m.Buttons, bot.Button{Label: c.Name, Command: retryOpen(req, c.ID, sev)})
	}
	if more := res.Total - len(shown); more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more: narrow the query with a city or the mission's name.", more))
	}
	lines = append(lines, "Run the command again with mission:<id>.")
	m.Text = strings.Join(lines, "\n")
	return Mission{}, m, nil
}

// principalMission: every match is of one country, and the first is its
// only embassy, as "canada" means the Embassy of Canada.
func principalMission(ms []Mission) bool {
	if ms[0].Kind != "embassy" || ms[0].Country == "" {
		return false
	}
	for _, m := range ms[1:] {
		if !strings.EqualFold(m.Country, ms[0].Country) || m.Kind == "embassy" {
			return false
		}
	}
	return true
}

// retryOpen is the open command again with the mission chosen.
func retryOpen(req *bot.Request, missionID string, sev int) string {
	cmd := "incident open mission:" + missionID
	if req.Args.Has("sev") {
		cmd += " sev:" + strconv.Itoa(sev)
	}
	if req.Args.Has("partners") {
		cmd += " partners:" + strings.ReplaceAll(req.Args.Get("partners"), " ", "")
	}
	return cmd + " " + req.Args.Get("summary")
}

func (s *Service) openedMessage(inc *Incident) *bot.Message {
	m := &bot.Message{
		Visibility: bot.InChannel,
		Title:      fmt.Sprintf("%s opened: %s, severity %s", inc.ID, missionLine(inc), severityLabel(inc.Severity)),
		Text:       inc.Summary,
		Buttons:    []bot.Button{{Label: "Show " + inc.ID, Command: "incident show " + inc.ID}},
	}
	if len(inc.Threads) == 0 {
		m.Footer = "No partner channel is configured, so nothing was posted. Bring a partner in with: incident partner " + inc.ID + " <partner>."
		return m
	}
	m.Sections = append(m.Sections, bot.Section{
		Title: fmt.Sprintf("Posting to %d partner channel(s)", len(inc.Threads)),
		Text:  strings.Join(s.threadLines(inc.Threads), "\n"),
	})
	m.Footer = "The thread links follow here once the posts are sent; incident show " + inc.ID + " lists them too."
	return m
}

func (s *Service) threadLines(ts []Thread) []string {
	lines := make([]string, len(ts))
	for i, t := range ts {
		who := s.partnerName(t.Partner)
		if p, ok := s.cfg.PartnerByID(t.Partner); ok && p.Oncall != "" {
			who += ", " + p.Oncall
		}
		lines[i] = t.ChannelRef() + " (" + who + ")"
	}
	return lines
}

// ---- incident update / close / note ----

func (s *Service) cmdUpdate(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	text := clip(req.Args.Get("text"))
	author := s.requester(req)
	var posted int
	_, err = s.change(ctx, id, req.Role, func(tx store.Tx, inc *Incident, now time.Time) error {
		if err := mustBeOpen(inc); err != nil {
			return err
		}
		if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindUpdate, Author: author, Text: text}); err != nil {
			return err
		}
		posted, err = postToThreads(tx, now, inc, KindUpdate, same(bot.Message{Text: "Update from " + author.Label() + ": " + text}), nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &bot.Message{Visibility: bot.InChannel, Text: fmt.Sprintf("%s updated: %s\n(posted in %d thread(s))", id, text, posted)}, nil
}

func (s *Service) cmdClose(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	text := clip(req.Args.Get("resolution"))
	author := s.requester(req)
	var posted int
	_, err = s.change(ctx, id, req.Role, func(tx store.Tx, inc *Incident, now time.Time) error {
		if err := mustBeOpen(inc); err != nil {
			return err
		}
		if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindClosed, Author: author, Text: text}); err != nil {
			return err
		}
		inc.Status, inc.Closed, inc.Resolution = StatusClosed, now, text
		posted, err = postToThreads(tx, now, inc, KindClosed, same(bot.Message{
			Title: "Incident " + inc.ID + " is closed",
			Text:  "Closed by " + author.Label() + ". Resolution: " + text,
		}), nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &bot.Message{Visibility: bot.InChannel, Text: fmt.Sprintf("%s closed: %s\n(posted in %d thread(s))", id, text, posted)}, nil
}

func (s *Service) cmdNote(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	text := clip(req.Args.Get("text"))
	author := s.requester(req)
	_, err = s.change(ctx, id, req.Role, func(tx store.Tx, inc *Incident, now time.Time) error {
		return appendEntry(tx, inc, Entry{Time: now, Kind: KindNote, Author: author, Text: text, Internal: true})
	})
	if err != nil {
		return nil, err
	}
	return &bot.Message{Text: fmt.Sprintf("Internal note added to %s. It is for the division only: never posted to a partner.", id)}, nil
}

// ---- incident partner ----

func (s *Service) cmdPartner(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	p, ok := s.cfg.PartnerByID(strings.TrimSpace(req.Args.Get("partner")))
	if !ok {
		return nil, problemf("Unknown partner %q. %s", req.Args.Get("partner"), s.knownPartners())
	}
	author := s.requester(req)
	var added []Thread
	_, err = s.change(ctx, id, req.Role, func(tx store.Tx, inc *Incident, now time.Time) error {
		if err := mustBeOpen(inc); err != nil {
			return err
		}
		if inc.HasPartner(p.ID) {
			return problemf("%s is already on %s.", p.Name, inc.ID)
		}
		_, label := s.partnerLabel(p.ID)
		if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindPartner, Author: author, Text: "Brought in " + p.Name + " (" + label + ")"}); err != nil {
			return err
		}
		// The agencies already on it hear who joined; the newcomer's own
		// threads carry the timeline instead.
		if _, err := postToThreads(tx, now, inc, KindPartner, same(bot.Message{
			Text: fmt.Sprintf("%s (%s) has joined this incident, brought in by %s.", p.Name, label, author.Label()),
		}), nil); err != nil {
			return err
		}
		inc.Partners = append(inc.Partners, p.ID)
		var err error
		fo := Fanout{Kind: KindPartner, Partner: p.ID, ReplyTo: requestLocation(req)}
		if added, err = s.fanOut(tx, now, inc, []*config.Partner{p}, true, fo); err != nil {
			return err
		}
		return index(tx, inc)
	})
	if err != nil {
		return nil, err
	}
	m := &bot.Message{Visibility: bot.InChannel, Text: fmt.Sprintf("%s brought into %s.", p.Name, id)}
	if len(added) == 0 {
		m.Text += " It has no shared channel configured, so nothing was posted to it."
	} else {
		m.Sections = []bot.Section{{Title: fmt.Sprintf("Posting to %d channel(s), with the timeline so far", len(added)), Text: strings.Join(s.threadLines(added), "\n")}}
		m.Footer = "The thread links follow here once the posts are sent."
	}
	return m, nil
}

// ---- incident show / report / list ----

func (s *Service) cmdShow(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	var inc *Incident
	if err := s.store.View(ctx, func(tx store.Tx) (err error) {
		inc, err = loadFor(tx, id, req.Role)
		return err
	}); err != nil {
		return nil, err
	}
	return s.showMessage(inc, req.Role), nil
}

func (s *Service) cmdReport(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	report, err := s.Report(ctx, id)
	if err != nil {
		return nil, err
	}
	return &bot.Message{Text: report, Footer: "Also: liaisonbot incident export " + id}, nil
}

// ---- reply ----

func (s *Service) cmdReply(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	id, err := incidentID(req)
	if err != nil {
		return nil, err
	}
	text := clip(req.Args.Get("text"))
	author := s.requester(req)
	var posted int
	_, err = s.change(ctx, id, req.Role, func(tx store.Tx, inc *Incident, now time.Time) error {
		if err := appendEntry(tx, inc, Entry{Time: now, Kind: KindReply, Author: author, Text: text}); err != nil {
			return err
		}
		// The caller's own channel already shows what they typed.
		var err error
		posted, err = postToThreads(tx, now, inc, KindReply, same(bot.Message{Text: author.Via() + ": " + text}),
			func(t Thread) bool { return t.Platform == req.Platform && t.Channel == req.Channel })
		return err
	})
	if err != nil {
		return nil, err
	}
	return &bot.Message{Visibility: bot.InChannel, Text: fmt.Sprintf("%s on %s: %s\n(shared in %d thread(s))", author.Via(), id, text, posted)}, nil
}
