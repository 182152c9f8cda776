// Package directory is the directory feature: field offices and foreign
// missions with their security contacts, kept in the store and answered from
// an in-memory snapshot (commands contact, office, emergency).
package directory

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/commands/directory/geo"
	"liaisonbot/commands/directory/index"
	"liaisonbot/internal/memo"
)

// Service owns the directory: it persists it and answers look-ups from an
// immutable snapshot swapped atomically after each import, so readers never
// wait for a writer.
type Service struct {
	store store.Store
	snap  atomic.Pointer[Snapshot]
	mu    sync.Mutex // serialises imports
}

// Open seeds the bundled directory on the first start and loads the snapshot.
func Open(ctx context.Context, st store.Store) (*Service, error) {
	if _, err := seedIfNew(ctx, st, time.Now()); err != nil {
		return nil, err
	}
	s := &Service{store: st}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) reload(ctx context.Context) error {
	d, err := load(ctx, s.store)
	if err != nil {
		return err
	}
	// The directory is on the heap now: a store that maps its file lets
	// the pages just read go before the index is built, the start's peak
	// of memory (boltstore.ReleaseMapped says why).
	if r, ok := s.store.(interface{ ReleaseMapped() error }); ok {
		_ = r.ReleaseMapped()
	}
	s.snap.Store(NewSnapshot(d))
	return nil
}

// Reload reads the directory again: another replica sharing the store
// imported a file.
func (s *Service) Reload(ctx context.Context) error { return s.reload(ctx) }

// BucketPrefix begins the name of every bucket the directory keeps.
const BucketPrefix = "directory."

// Snapshot is the directory as of the last load.
func (s *Service) Snapshot() *Snapshot { return s.snap.Load() }

// Import applies a file in one transaction: a problem anywhere changes
// nothing. With dryRun the transaction is rolled back after counting.
func (s *Service) Import(ctx context.Context, f *dirdata.File, replace, dryRun bool) (*ImportReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep *ImportReport
	errDryRun := fmt.Errorf("dry run")
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if rep, err = apply(tx, f, replace); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if err == errDryRun {
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	return rep, s.reload(ctx)
}

// Export returns the whole directory as stored.
func (s *Service) Export(ctx context.Context) (*dirdata.Directory, error) {
	return load(ctx, s.store)
}

// Snapshot is an immutable, indexed view of the directory.
type Snapshot struct {
	Offices      []dirdata.Office
	Missions     []dirdata.Mission
	headquarters map[string]dirdata.Headquarters

	missionIndex *index.Index
	officeIndex  *index.Index
	missionByID  map[string]int
	officePoints []geo.Point
	fieldOffices []int // indexes into Offices of kind field
	officeCities map[string][]int
	missionCity  map[string][]int
	// responsible[i] is Missions[i]'s field office, computed once per
	// snapshot: every contact answer names it, so a request must not
	// search for it again.
	responsible []OfficeAt
	hasOffice   []bool
	sections    []atomic.Pointer[bot.Section]      // rendered on first use
	answers     *memo.Map[answerKey, *bot.Message] // look-ups answered, frozen (answers.go)
}

// NewSnapshot indexes a directory.
func NewSnapshot(d *dirdata.Directory) *Snapshot {
	s := &Snapshot{
		Offices:      d.Offices,
		Missions:     d.Missions,
		headquarters: map[string]dirdata.Headquarters{},
		missionByID:  make(map[string]int, len(d.Missions)),
		officeCities: map[string][]int{},
		missionCity:  map[string][]int{},
	}
	sort.Slice(s.Offices, func(i, j int) bool { return s.Offices[i].ID < s.Offices[j].ID })
	// The index breaks score ties by position, so order missions the way a
	// person expects equal matches: embassies before consulates, then by id.
	sort.Slice(s.Missions, func(i, j int) bool {
		ri, rj := kindRank(s.Missions[i].Kind), kindRank(s.Missions[j].Kind)
		if ri != rj {
			return ri < rj
		}
		return s.Missions[i].ID < s.Missions[j].ID
	})
	for _, h := range d.Headquarters {
		s.headquarters[h.ID] = h
	}
	mb := index.NewBuilder()
	for i, m := range s.Missions {
		s.missionByID[m.ID] = i
		mb.Add(i,
			index.Field{Text: m.Country, Weight: 3},
			index.Field{Text: m.Name, Weight: 2},
			index.Field{Text: m.City, Weight: 1.5},
			index.Field{Text: m.ID, Weight: 1},
		)
		if m.HasLocation() {
			city := index.Normalize(m.City)
			s.missionCity[city] = append(s.missionCity[city], i)
		}
	}
	s.missionIndex = mb.Build()
	ob := index.NewBuilder()
	s.officePoints = make([]geo.Point, len(s.Offices))
	for i, o := range s.Offices {
		s.officePoints[i] = geo.Point{Lat: o.Lat, Lon: o.Lon}
		if o.Kind == dirdata.KindField {
			s.fieldOffices = append(s.fieldOffices, i)
		}
		city := index.Normalize(o.City)
		s.officeCities[city] = append(s.officeCities[city], i)
		ob.Add(i, index.Field{Text: o.City, Weight: 2}, index.Field{Text: o.Name, Weight: 1}, index.Field{Text: o.ID, Weight: 1})
	}
	s.officeIndex = ob.Build()
	s.responsible = make([]OfficeAt, len(s.Missions))
	s.hasOffice = make([]bool, len(s.Missions))
	s.sections = make([]atomic.Pointer[bot.Section], len(s.Missions))
	s.answers = newAnswerCache()
	for i := range s.Missions {
		s.responsible[i], s.hasOffice[i] = s.findResponsibleOffice(&s.Missions[i])
	}
	return s
}

// Headquarters returns a division-wide number by id (dirdata.HQ…).
func (s *Snapshot) Headquarters(id string) (dirdata.Headquarters, bool) {
	h, ok := s.headquarters[id]
	return h, ok
}

// Mission returns a mission by id.
func (s *Snapshot) Mission(id string) (*dirdata.Mission, bool) {
	i, ok := s.missionByID[id]
	if !ok {
		return nil, false
	}
	return &s.Missions[i], true
}

// MissionMatches is the result of a mission search.
type MissionMatches struct {
	Missions  []*dirdata.Mission // best first, at most the limit asked
	Total     int                // how many matched in all
	Ambiguous bool               // only typo matches, spread over several countries: ask which
}

// SearchMissions finds missions by country, name, city or id.
func (s *Snapshot) SearchMissions(query string, limit int) MissionMatches {
	if m, ok := s.Mission(strings.TrimSpace(strings.ToLower(query))); ok {
		return MissionMatches{Missions: []*dirdata.Mission{m}, Total: 1}
	}
	hits, total := s.missionIndex.Search(query, limit)
	res := MissionMatches{Total: total}
	countries := map[string]bool{}
	exact := false
	for _, h := range hits {
		m := &s.Missions[h.ID]
		res.Missions = append(res.Missions, m)
		countries[m.Country] = true
		exact = exact || h.Exact
	}
	res.Ambiguous = !exact && len(countries) > 1
	return res
}

// OfficeAt is an office with its distance from the place asked about.
type OfficeAt struct {
	Office *dirdata.Office
	Km     float64
	Why    string // "nearest field office", "covers Michigan", …
}

// NearestOffices gives the nearest field office to p, preceded by the
// nearest office of any kind when that one is nearer (a resident office).
func (s *Snapshot) NearestOffices(p geo.Point) []OfficeAt {
	var out []OfficeAt
	best, bestKm := -1, 0.0
	for _, i := range s.fieldOffices {
		if km := geo.DistanceKm(s.officePoints[i], p); best < 0 || km < bestKm {
			best, bestKm = i, km
		}
	}
	any, anyKm := geo.Nearest(s.officePoints, p)
	if any >= 0 && any != best && anyKm < bestKm {
		out = append(out, OfficeAt{Office: &s.Offices[any], Km: anyKm, Why: "nearest office"})
	}
	if best >= 0 {
		out = append(out, OfficeAt{Office: &s.Offices[best], Km: bestKm, Why: "nearest field office"})
	}
	return out
}

// OfficesForState answers for a US state: the field office whose coverage
// includes it first, then the nearest offices to the state's centre.
func (s *Snapshot) OfficesForState(st geo.State) []OfficeAt {
	var out []OfficeAt
	seen := map[string]bool{}
	for _, i := range s.fieldOffices {
		o := &s.Offices[i]
		for _, code := range o.States {
			if strings.EqualFold(code, st.Code) {
				out = append(out, OfficeAt{Office: o, Km: geo.DistanceKm(s.officePoints[i], st.Center), Why: "covers " + st.Name})
				seen[o.ID] = true
			}
		}
	}
	for _, at := range s.NearestOffices(st.Center) {
		if !seen[at.Office.ID] {
			at.Why += " to the centre of " + st.Name
			out = append(out, at)
		}
	}
	return out
}

// OfficesInCity returns the offices in a city (normalized match).
func (s *Snapshot) OfficesInCity(city string) []int { return s.officeCities[index.Normalize(city)] }

// MissionsInCity returns missions with a location in a city (normalized match).
func (s *Snapshot) MissionsInCity(city string) []int { return s.missionCity[index.Normalize(city)] }

// SearchOffices finds offices by city or name, typos tolerated.
func (s *Snapshot) SearchOffices(query string, limit int) []*dirdata.Office {
	hits, _ := s.officeIndex.Search(query, limit)
	out := make([]*dirdata.Office, len(hits))
	for i, h := range hits {
		out[i] = &s.Offices[h.ID]
	}
	return out
}

// Point returns an office's location.
func (s *Snapshot) officePoint(i int) geo.Point { return s.officePoints[i] }

// kindRank orders mission kinds from the chancery down.
func kindRank(kind string) int {
	switch kind {
	case "embassy", "apostolic_nunciature", "delegation":
		return 0
	case "consulate_general":
		return 1
	case "consulate":
		return 2
	default:
		return 3
	}
}
