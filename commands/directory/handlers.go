package directory

import (
	"context"
	"fmt"
	"math"
	"strings"

	"liaisonbot/bot"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/commands/directory/geo"
)

// maxShown is how many missions one answer details (SPEC §2: best 5).
const maxShown = 5

// Register adds contact, office and emergency to the mux.
func Register(m *bot.Mux, s *Service) {
	m.Handle(bot.Command{
		Usage:   "contact <query>",
		Summary: "security contacts of a mission, by country, mission name, city or id",
		Help:    "Shows the best 5 matches with address, security contacts, the nearest DSS field office and the 24-hour line. Typos, accents and punctuation do not matter: `contact cote d'ivoire`, `contact cnada`, `contact japan houston`.",
		Access:  bot.AccessAgents, // partners never see mission security contacts (SPEC §6)
		Handler: bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			return s.Snapshot().cachedAnswer(answerContact, req.Args.Get("query")), nil
		}),
	})
	m.Handle(bot.Command{
		Usage:   "office <query>",
		Summary: "the nearest DSS field office to a city, a state (name or code), a mission or lat,lon",
		Help:    "Examples: `office Miami`, `office TX`, `office Michigan`, `office embassy of japan`, `office 29.76,-95.37`, `office Austin, TX`.",
		Access:  bot.AccessEveryone,
		Handler: bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			return s.Snapshot().cachedAnswer(answerOffice, req.Args.Get("query")), nil
		}),
	})
	m.Handle(bot.Command{
		Usage:   "emergency",
		Summary: "what to do in an emergency at a mission, with every number",
		Access:  bot.AccessEveryone,
		Handler: bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			return s.Snapshot().cachedAnswer(answerEmergency, ""), nil
		}),
	})
}

// cachedAnswer answers a look-up from this snapshot's answers when it was
// asked before (answers.go). The returned message is frozen: read only.
func (s *Snapshot) cachedAnswer(kind answerKind, query string) *bot.Message {
	build := func() *bot.Message {
		switch kind {
		case answerContact:
			return s.contactAnswer(query)
		case answerOffice:
			return s.officeAnswer(query)
		default:
			return s.EmergencyMessage()
		}
	}
	if len(query) > maxCachedQuery {
		return build() // a long, one-off question is not kept
	}
	return s.answers.Get(answerKey{kind, query}, func() *bot.Message {
		msg := build()
		msg.Frozen = true
		return msg
	})
}

// Numbers used when the directory lacks its headquarters rows (an operator
// replaced them): the guidance must never lose the 24-hour line.
var fallbackHQ = map[string]string{
	dirdata.HQDivision:              "202-895-3600",
	dirdata.HQCommandCenter:         "571-345-3146",
	dirdata.HQCommandCenterTollFree: "866-217-2089",
}

func (s *Snapshot) hqPhone(id string) string {
	if h, ok := s.Headquarters(id); ok && h.Phone != "" {
		return h.Phone
	}
	return fallbackHQ[id]
}

// CommandCenterLine is the 24-hour line as one phrase.
func (s *Snapshot) CommandCenterLine() string {
	return fmt.Sprintf("%s (toll free %s)", s.hqPhone(dirdata.HQCommandCenter), s.hqPhone(dirdata.HQCommandCenterTollFree))
}

// EmergencyGuidance is the division's advice with every number, for any
// message that needs it (incident posts reuse it).
func (s *Snapshot) EmergencyGuidance() string {
	return fmt.Sprintf("In an emergency call 911 first (local police, fire or ambulance), then the Diplomatic Security Command Center, 24 hours: %s.", s.CommandCenterLine())
}

// EmergencyMessage answers `emergency`.
func (s *Snapshot) EmergencyMessage() *bot.Message {
	return &bot.Message{
		Title: "Emergency at a foreign mission",
		Text: strings.Join([]string{
			"1. Call 911 first: local police, fire or ambulance.",
			"2. Then notify the Diplomatic Security Command Center, 24 hours a day: " + s.hqPhone(dirdata.HQCommandCenter) + ", toll free " + s.hqPhone(dirdata.HQCommandCenterTollFree) + ".",
			"3. Protective Liaison Division, Washington, DC (business hours): " + s.hqPhone(dirdata.HQDivision) + ".",
		}, "\n"),
		Footer: "Missions outside the Washington, DC area may also call the DSS field office nearest to them: /liaison office <city>.",
	}
}

// phoneOrCenter shows an office phone, or says it is not on file and gives
// the 24-hour line instead: never an invented number.
func (s *Snapshot) phoneOrCenter(phone string) string {
	if phone != "" {
		return phone
	}
	return "not on file: call the 24-hour command center, " + s.CommandCenterLine()
}

func (s *Snapshot) afterHours(phone string) string {
	if phone != "" {
		return phone
	}
	return "24-hour command center, " + s.CommandCenterLine()
}

func (s *Snapshot) contactAnswer(query string) *bot.Message {
	res := s.SearchMissions(query, maxShown)
	if res.Total == 0 {
		return bot.Errorf(fmt.Sprintf("No mission matches %q. Try a country (contact canada), a city (contact chicago) or a mission name.", query))
	}
	if res.Ambiguous {
		msg := &bot.Message{Title: fmt.Sprintf("Which mission did you mean by %q?", query)}
		var lines []string
		for _, m := range res.Missions {
			lines = append(lines, fmt.Sprintf("• %s (%s, %s): contact %s", m.Name, m.City, m.State, m.ID))
			msg.Buttons = append(msg.Buttons, bot.Button{Label: m.Name, Command: "contact " + m.ID})
		}
		msg.Text = strings.Join(lines, "\n")
		return msg
	}
	msg := &bot.Message{Title: fmt.Sprintf("Missions matching %q", query)}
	for _, m := range res.Missions {
		msg.Sections = append(msg.Sections, s.missionSection(m))
	}
	if more := res.Total - len(res.Missions); more > 0 {
		msg.Text = fmt.Sprintf("Best %d of %d; and %d more: add a city or a mission name to narrow it.", len(res.Missions), res.Total, more)
	}
	msg.Footer = "24-hour command center: " + s.CommandCenterLine() + ". In an emergency, 911 first."
	return msg
}

// missionSection renders a mission once per snapshot: the section depends
// only on the mission and the snapshot, and the same missions are asked
// about again and again. Sections are shared read-only between answers.
func (s *Snapshot) missionSection(m *dirdata.Mission) bot.Section {
	i, ok := s.missionByID[m.ID]
	if !ok || &s.Missions[i] != m {
		return s.buildMissionSection(m)
	}
	if sec := s.sections[i].Load(); sec != nil {
		return *sec
	}
	sec := s.buildMissionSection(m)
	s.sections[i].Store(&sec)
	return sec
}

func (s *Snapshot) buildMissionSection(m *dirdata.Mission) bot.Section {
	sec := bot.Section{Title: m.Name}
	sec.Fields = append(sec.Fields, bot.Field{Label: "Kind", Value: humanKind(m.Kind) + " of " + m.Country})
	place := strings.Join(nonEmpty(m.Address, m.City, m.State), ", ")
	sec.Fields = append(sec.Fields, bot.Field{Label: "Address", Value: place})
	if len(m.Contacts) == 0 {
		sec.Fields = append(sec.Fields, bot.Field{Label: "Security contacts", Value: "none on file: call the 24-hour command center"})
	}
	for i, c := range m.Contacts {
		label := "Security contact"
		if len(m.Contacts) > 1 {
			label = fmt.Sprintf("Security contact %d", i+1)
		}
		who := strings.Join(nonEmpty(c.Name, c.Title), ", ")
		reach := strings.Join(nonEmpty(c.Phone, c.Email), ", ")
		if reach == "" {
			reach = "no phone or email on file"
		}
		sec.Fields = append(sec.Fields, bot.Field{Label: label, Value: who + ": " + reach})
	}
	if at, ok := s.responsibleOffice(m); ok {
		sec.Fields = append(sec.Fields, bot.Field{
			Label: "DSS field office",
			Value: fmt.Sprintf("%s (%s): %s", at.Office.Name, distance(at.Km), s.phoneOrCenter(at.Office.Phone)),
		})
	}
	sec.Fields = append(sec.Fields, bot.Field{Label: "24-hour line", Value: s.CommandCenterLine()})
	return sec
}

// responsibleOffice is the field office for a mission, as computed when the
// snapshot was built.
func (s *Snapshot) responsibleOffice(m *dirdata.Mission) (OfficeAt, bool) {
	if i, ok := s.missionByID[m.ID]; ok && &s.Missions[i] == m {
		return s.responsible[i], s.hasOffice[i]
	}
	return s.findResponsibleOffice(m)
}

// findResponsibleOffice is the field office for a mission: the seed text
// tells missions outside Washington to call the field office nearest to them.
func (s *Snapshot) findResponsibleOffice(m *dirdata.Mission) (OfficeAt, bool) {
	var p geo.Point
	switch {
	case m.HasLocation():
		p = geo.Point{Lat: *m.Lat, Lon: *m.Lon}
	default:
		st, ok := geo.StateByCode(m.State)
		if !ok {
			return OfficeAt{}, false
		}
		p = st.Center
	}
	offices := s.NearestOffices(p)
	if len(offices) == 0 {
		return OfficeAt{}, false
	}
	return offices[len(offices)-1], true // the field office comes last
}

func (s *Snapshot) officeAnswer(query string) *bot.Message {
	place, offices, problem := s.resolvePlace(query)
	if problem != "" {
		return bot.Errorf(problem)
	}
	if len(offices) == 0 {
		return bot.Errorf("The directory has no DSS offices. An operator can import them: liaisonbot directory import offices.csv")
	}
	msg := &bot.Message{Title: "DSS offices for " + place}
	for _, at := range offices {
		o := at.Office
		sec := bot.Section{Title: fmt.Sprintf("%s (%s office), %s, %s", o.Name, o.Kind, o.City, o.State)}
		sec.Fields = append(sec.Fields,
			bot.Field{Label: "Why", Value: at.Why},
			bot.Field{Label: "Distance", Value: distance(at.Km)},
			bot.Field{Label: "Phone", Value: s.phoneOrCenter(o.Phone)},
			bot.Field{Label: "After hours", Value: s.afterHours(o.AfterHoursPhone)},
		)
		msg.Sections = append(msg.Sections, sec)
	}
	msg.Footer = "Offices cover areas of responsibility, not only distance: the Protective Liaison Division (" +
		s.hqPhone(dirdata.HQDivision) + ", business hours) can confirm the responsible office. 24-hour command center: " + s.CommandCenterLine() + "."
	return msg
}

// resolvePlace turns an office query into offices, trying the readings in
// order of how unambiguous they are: coordinates, a state code, a city with
// offices or missions, "City, ST", a state name, a mission, and last an
// office name or city with typos.
// A non-empty problem is the answer to show instead.
func (s *Snapshot) resolvePlace(query string) (place string, offices []OfficeAt, problem string) {
	q := strings.TrimSpace(query)
	if p, ok, err := geo.ParseLatLon(q); err != nil {
		return "", nil, fmt.Sprintf("Those coordinates cannot be read: %v. Write them lat,lon, e.g. office 29.76,-95.37", err)
	} else if ok {
		return fmt.Sprintf("%s,%s", trimFloat(p.Lat), trimFloat(p.Lon)), s.NearestOffices(p), ""
	}
	if len(q) == 2 {
		if st, ok := geo.StateByCode(strings.ToUpper(q)); ok {
			return st.Name, s.OfficesForState(st), ""
		}
	}
	if at, name, ok := s.cityOffices(q); ok {
		return name, at, ""
	}
	if city, state, ok := strings.Cut(q, ","); ok {
		st, okState := geo.StateByCode(strings.ToUpper(strings.TrimSpace(state)))
		if !okState {
			st, okState = geo.StateByName(state)
		}
		if okState {
			if at, name, ok := s.cityOffices(strings.TrimSpace(city)); ok {
				return name, at, ""
			}
			return fmt.Sprintf("%s (%s is not in the directory; answered for the state)", st.Name, strings.TrimSpace(city)), s.OfficesForState(st), ""
		}
	}
	if st, ok := geo.StateByName(q); ok {
		return st.Name, s.OfficesForState(st), ""
	}
	if res := s.SearchMissions(q, 1); res.Total > 0 && !res.Ambiguous && res.Missions[0].HasLocation() {
		m := res.Missions[0]
		return m.Name, s.NearestOffices(geo.Point{Lat: *m.Lat, Lon: *m.Lon}), ""
	}
	if found := s.SearchOffices(q, 1); len(found) > 0 {
		o := found[0]
		return o.City + ", " + o.State, s.NearestOffices(geo.Point{Lat: o.Lat, Lon: o.Lon}), ""
	}
	return "", nil, fmt.Sprintf("No place matches %q. Try a city with a DSS office or a mission (office Miami), a state (office TX, office Michigan), a mission (office embassy of japan) or coordinates (office 29.76,-95.37)", query)
}

// cityOffices answers for a city that has an office or a mission.
func (s *Snapshot) cityOffices(city string) ([]OfficeAt, string, bool) {
	if idx := s.OfficesInCity(city); len(idx) > 0 {
		o := s.Offices[idx[0]]
		return s.NearestOffices(s.officePoint(idx[0])), o.City + ", " + o.State, true
	}
	if idx := s.MissionsInCity(city); len(idx) > 0 {
		m := s.Missions[idx[0]]
		return s.NearestOffices(geo.Point{Lat: *m.Lat, Lon: *m.Lon}), m.City + ", " + m.State, true
	}
	return nil, "", false
}

func distance(km float64) string {
	if km < 1 {
		return "in the city"
	}
	return fmt.Sprintf("%.0f km (%.0f mi)", km, km/1.609344)
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", math.Round(f*1e4)/1e4), "0"), ".")
}

func humanKind(kind string) string {
	k := strings.ReplaceAll(kind, "_", " ")
	if k == "" {
		return "Mission"
	}
	return strings.ToUpper(k[:1]) + k[1:]
}

func nonEmpty(parts ...string) []string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
