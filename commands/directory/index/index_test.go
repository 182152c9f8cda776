package index

import (
	"encoding/csv"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fixtureMission is a row of testdata/missions.csv, a handful of rows copied
// from the bundled data/missions.csv (id,country,kind,name,city,state).
type fixtureMission struct {
	ID, Country, Kind, Name, City, State string
}

func loadFixture(t testing.TB) []fixtureMission {
	t.Helper()
	f, err := os.Open("testdata/missions.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ms []fixtureMission
	for _, r := range rows[1:] {
		ms = append(ms, fixtureMission{r[0], r[1], r[2], r[3], r[4], r[5]})
	}
	return ms
}

// missionFields is how the directory is expected to index a mission.
func missionFields(m fixtureMission) []Field {
	return []Field{
		{Text: m.Country, Weight: 3},
		{Text: m.Name, Weight: 2},
		{Text: m.City, Weight: 1.5},
		{Text: m.ID, Weight: 1},
	}
}

func fixtureIndex(t testing.TB) ([]fixtureMission, *Index) {
	t.Helper()
	ms := loadFixture(t)
	b := NewBuilder()
	for i, m := range ms {
		b.Add(i, missionFields(m)...)
	}
	return ms, b.Build()
}

func hitIDs(ms []fixtureMission, hits []Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, ms[h.ID].ID)
	}
	return ids
}

func TestSearchFixture(t *testing.T) {
	ms, ix := fixtureIndex(t)
	if ix.Len() != len(ms) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(ms))
	}
	japan := []string{"emb-dc-japan", "cg-los-angeles-japan", "cg-new-york-japan", "cg-houston-japan",
		"cg-miami-japan", "cg-honolulu-japan", "cg-detroit-japan"}
	chicago := []string{"cg-chicago-canada", "cg-chicago-china", "cg-chicago-india", "cg-chicago-poland",
		"con-chicago-united-kingdom"}
	tests := []struct {
		query string
		want  []string // exactly these match, in any order unless first is set
		first string   // the best hit, when ranking matters
		exact bool     // every hit is Exact (otherwise: none is)
	}{
		{query: "canada", want: []string{"emb-dc-canada", "cg-chicago-canada"}, exact: true},
		{query: "Canada", want: []string{"emb-dc-canada", "cg-chicago-canada"}, exact: true},
		{query: "cnada", want: []string{"emb-dc-canada", "cg-chicago-canada"}},
		{query: "canda", want: []string{"emb-dc-canada", "cg-chicago-canada"}},
		{query: "Kanada", want: []string{"emb-dc-canada", "cg-chicago-canada"}},
		{query: "cote d'ivoire", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "COTE D’IVOIRE", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "cote divoire", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "cote d ivoire", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "cotedivoire", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "Côte d’Ivoire", want: []string{"emb-dc-cote-divoire"}, exact: true},
		{query: "türkiye", want: []string{"emb-dc-turkey"}, exact: true},
		{query: "turkiye", want: []string{"emb-dc-turkey"}, exact: true},
		{query: "turkey", want: []string{"emb-dc-turkey"}, exact: true},
		{query: "japan houston", want: []string{"cg-houston-japan"}, exact: true},
		{query: "houston japan", want: []string{"cg-houston-japan"}, exact: true},
		{query: "japan huston", want: []string{"cg-houston-japan"}},
		{query: "japan", want: japan, exact: true},
		{query: "jap", want: japan, exact: true},
		{query: "chicago", want: chicago, exact: true},
		{query: "chicgo", want: chicago},
		{query: "new york", want: []string{"cg-new-york-japan"}, exact: true},
		{query: "emb-dc-canada", want: []string{"emb-dc-canada"}, exact: true},
		{query: "cg chicago", want: []string{"cg-chicago-canada", "cg-chicago-china", "cg-chicago-india", "cg-chicago-poland"}, exact: true},
		{query: "philipines houston", want: []string{"cg-houston-philippines"}},
		{query: "philippines", want: []string{"cg-houston-philippines", "cg-san-francisco-philippines"}, exact: true},
		{query: "indai", want: []string{"emb-dc-india", "cg-chicago-india"}},
		{query: "india", want: []string{"emb-dc-india", "cg-chicago-india"}, first: "emb-dc-india", exact: true},
		{query: "british", want: []string{"con-chicago-united-kingdom"}, exact: true},
		{query: "united kingdom", want: []string{"emb-dc-united-kingdom", "con-chicago-united-kingdom"}, exact: true},
		{query: "holy see", want: []string{"emb-dc-holy-see"}, exact: true},
		{query: "peoples republic of china", want: []string{"emb-dc-china", "cg-chicago-china"}, exact: true},
		{query: "zzzzqx"},
		{query: "japan zzzzqx"},
		{query: ""},
		{query: "   "},
		{query: "!!! ... ’’ --"},
		{query: "j"},   // one letter: no prefix matching
		{query: "jpn"}, // three letters: no typo tolerance
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, total := ix.Search(tt.query, 100)
			got := hitIDs(ms, hits)
			if total != len(hits) {
				t.Errorf("total = %d, len(hits) = %d", total, len(hits))
			}
			if !sameSet(got, tt.want) {
				t.Fatalf("Search(%q) = %v, want %v", tt.query, got, tt.want)
			}
			if tt.first != "" && got[0] != tt.first {
				t.Errorf("first = %s, want %s", got[0], tt.first)
			}
			for _, h := range hits {
				if h.Exact != tt.exact {
					t.Errorf("%s: Exact = %v, want %v", ms[h.ID].ID, h.Exact, tt.exact)
				}
			}
			checkSorted(t, hits)
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func checkSorted(t testing.TB, hits []Hit) {
	t.Helper()
	for i := 1; i < len(hits); i++ {
		p, c := hits[i-1], hits[i]
		if p.Score < c.Score || (p.Score == c.Score && p.ID > c.ID) {
			t.Fatalf("hits not sorted at %d: %+v then %+v", i, p, c)
		}
	}
}

// Scores follow the documented formula exactly.
func TestScores(t *testing.T) {
	b := NewBuilder()
	b.Add(0, Field{"Alpha Beta", 2}, Field{"Gamma", 1})
	b.Add(1, Field{"Beta Alpha", 2}, Field{"Philippines", 1})
	b.Add(2, Field{"Delta", 3}, Field{"Delta", 1})
	ix := b.Build()
	tests := []struct {
		query string
		id    int
		score float64
		exact bool
	}{
		{"alpha", 0, 1.0 * 2, true},                 // exact token
		{"alp", 0, 0.8 * 2, true},                   // prefix
		{"alpah", 0, 0.6 * 2, false},                // transposition, distance 1
		{"alpha beta", 0, 2 + 2 + 2.0*2, true},      // + whole field
		{"alphabeta", 0, 2 + 2.0*2, true},           // spaces removed: one token, field-exact
		{"gamma alpha", 0, 1 + 2, true},             // two fields, no phrase
		{"beta alpha", 1, 2 + 2 + 2.0*2, true},      // doc 1's whole field
		{"philipines", 1, 0.6 * 1, false},           // 10 runes, distance 1
		{"phlipines", 1, 0.4 * 1, false},            // 9 runes, distance 2
		{"delta", 2, 1*3 + 2.0*3, true},             // best field weight, best bonus
		{"gamma", 0, 1 + 2.0*1, true},               // whole field of weight 1
		{"alpha gamma", 0, 2 + 1, true},             // no phrase across fields
		{"beta", 0, 2, true},                        // tie with doc 1, lower ID first
		{"bet alp", 1, 0.8*2 + 0.8*2 + 0.5*2, true}, // phrase of prefixes in doc 1 only
	}
	for _, tt := range tests {
		hits, _ := ix.Search(tt.query, 10)
		if len(hits) == 0 {
			t.Errorf("%q: no hits", tt.query)
			continue
		}
		h := hits[0]
		if h.ID != tt.id || math.Abs(h.Score-tt.score) > 1e-9 || h.Exact != tt.exact {
			t.Errorf("%q: best = %+v, want {ID:%d Score:%g Exact:%v}", tt.query, h, tt.id, tt.score, tt.exact)
		}
	}
}

func TestPhraseBonusRanksContiguousFirst(t *testing.T) {
	b := NewBuilder()
	b.Add(1, Field{"Angeles Club of Los Gatos", 2})
	b.Add(2, Field{"Consulate in Los Angeles", 2})
	ix := b.Build()
	hits, total := ix.Search("los angeles", 10)
	if total != 2 || hits[0].ID != 2 || hits[0].Score != hits[1].Score+0.5*2 {
		t.Fatalf("got %+v", hits)
	}
}

func TestTypoRules(t *testing.T) {
	b := NewBuilder()
	for i, s := range []string{"Iran", "Iraq", "Oman", "Chad", "12345", "Mali", "Switzerland", "Bosnia and Herzegovina"} {
		b.Add(i, Field{s, 1})
	}
	ix := b.Build()
	tests := []struct {
		query string
		want  []int
	}{
		{"iran", []int{0}},        // a word of the index is not typo-expanded
		{"irak", []int{0, 1}},     // not a word: both neighbours
		{"12346", nil},            // digits are never typo-corrected
		{"1234", []int{4}},        // but are prefix-matched
		{"mal", []int{5}},         // prefix
		{"mla", nil},              // three letters: no typo tolerance
		{"amli", []int{5}},        // transposition counts one
		{"swtizerlnd", []int{6}},  // 10 runes: two edits
		{"swzerlnd", nil},         // three edits
		{"herzegowina", []int{7}}, // one substitution
		{"bosnia herzegovina", []int{7}},
	}
	for _, tt := range tests {
		hits, _ := ix.Search(tt.query, 10)
		var got []int
		for _, h := range hits {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestLimitAndTotal(t *testing.T) {
	_, ix := fixtureIndex(t)
	all, total := ix.Search("japan", 100)
	if total != 7 || len(all) != 7 {
		t.Fatalf("total %d, hits %d", total, len(all))
	}
	for _, limit := range []int{1, 2, 3, 6, 7, 8} {
		hits, n := ix.Search("japan", limit)
		if n != 7 {
			t.Errorf("limit %d: total %d", limit, n)
		}
		want := all[:min(limit, len(all))]
		if !slices.Equal(hits, want) {
			t.Errorf("limit %d: %v, want %v", limit, hits, want)
		}
	}
	for _, limit := range []int{0, -1, math.MinInt} {
		hits, n := ix.Search("japan", limit)
		if hits != nil || n != 7 {
			t.Errorf("limit %d: %v, %d", limit, hits, n)
		}
	}
	hits, _ := ix.Search("japan", math.MaxInt)
	if len(hits) != 7 {
		t.Errorf("MaxInt limit: %d hits", len(hits))
	}
}

func TestTieBreakByID(t *testing.T) {
	b := NewBuilder()
	b.Add(9, Field{"Same", 1})
	b.Add(3, Field{"Same", 1})
	b.Add(5, Field{"Same", 1})
	b.Add(3, Field{"Same", 1}) // duplicate caller id: both kept, in Add order
	ix := b.Build()
	for _, limit := range []int{2, 10} {
		hits, total := ix.Search("same", limit)
		var ids []int
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		want := []int{3, 3, 5, 9}[:min(limit, 4)]
		if total != 4 || !slices.Equal(ids, want) {
			t.Errorf("limit %d: %v (total %d), want %v", limit, ids, total, want)
		}
	}
}

func TestWeights(t *testing.T) {
	b := NewBuilder()
	b.Add(0, Field{Text: "unset"}) // weight 0 counts as 1
	b.Add(1, Field{Text: "negative", Weight: -5})
	b.Add(2, Field{Text: "nan", Weight: math.NaN()})
	b.Add(3, Field{Text: "inf", Weight: math.Inf(1)})
	b.Add(4) // no fields: never matches
	b.Add(5, Field{Text: "", Weight: 1})
	ix := b.Build()
	for _, q := range []string{"unset", "negative", "nan", "inf"} {
		hits, _ := ix.Search(q, 1)
		if len(hits) != 1 || hits[0].Score != 1+2 {
			t.Errorf("%q: %+v", q, hits)
		}
	}
	if ix.Len() != 6 {
		t.Errorf("Len = %d", ix.Len())
	}
}

func TestEmptyAndNilIndex(t *testing.T) {
	var nilIx *Index
	if h, n := nilIx.Search("x", 5); h != nil || n != 0 || nilIx.Len() != 0 {
		t.Error("nil index")
	}
	ix := NewBuilder().Build()
	if h, n := ix.Search("canada", 5); h != nil || n != 0 || ix.Len() != 0 {
		t.Error("empty index")
	}
}

func TestBuilderReusable(t *testing.T) {
	b := NewBuilder()
	b.Add(0, Field{"first", 1})
	first := b.Build()
	b.Add(0, Field{"second", 1})
	second := b.Build()
	if first.Len() != 1 || second.Len() != 1 {
		t.Fatal("lengths")
	}
	if _, n := second.Search("first", 5); n != 0 {
		t.Error("second index holds the first one's document")
	}
	if _, n := first.Search("first", 5); n != 1 {
		t.Error("first index changed")
	}
}

// Hostile queries return quickly and sanely.
func TestAbusiveQueries(t *testing.T) {
	ms, ix := fixtureIndex(t)
	tests := []struct {
		name  string
		query string
		want  string // a mission the search must still find, or ""
	}{
		{"huge", strings.Repeat("canada ", 100000), "emb-dc-canada"},
		{"huge word", strings.Repeat("a", 1<<20), ""},
		{"many tokens", "japan houston " + strings.Repeat("x ", 1000), ""},
		{"nine distinct tokens, first eight match", "japan houston consulate general of in cg japan jap zzz", "cg-houston-japan"},
		{"invalid utf8", "\xff\xfe japan \xc0", "emb-dc-japan"},
		{"nul", "\x00japan\x00", "emb-dc-japan"},
		{"combining storm", "j" + strings.Repeat("\u0301", 300) + "apan", "emb-dc-japan"},
		{"cut inside a rune", strings.Repeat("é", 600), ""},
		{"all prefixes", "co ca ch cu ge in of em re", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, total := ix.Search(tt.query, 5)
			if len(hits) > 5 || total < len(hits) {
				t.Fatalf("hits %d total %d", len(hits), total)
			}
			checkSorted(t, hits)
			if tt.want != "" && !slices.Contains(hitIDs(ms, hits), tt.want) {
				t.Errorf("want %s in %v", tt.want, hitIDs(ms, hits))
			}
		})
	}
}

func TestNormalizeQueryCaps(t *testing.T) {
	q := normalizeQuery(strings.Repeat("ab ", 1000))
	if len(q) > maxQueryBytes || strings.HasSuffix(q, " ") {
		t.Errorf("len %d, %q", len(q), q[len(q)-5:])
	}
	q = normalizeQuery(strings.Repeat("é", 1000))
	if len(q) > maxQueryBytes || !strings.HasPrefix(q, "e") {
		t.Errorf("len %d", len(q))
	}
}

// Concurrent searches share the pooled scratch safely (run with -race) and
// agree with sequential ones.
func TestConcurrentSearch(t *testing.T) {
	_, ix := fixtureIndex(t)
	queries := []string{"canada", "cnada", "japan houston", "chicago", "cotedivoire", "zzzzqx", "jap", "in"}
	want := map[string][]Hit{}
	for _, q := range queries {
		want[q], _ = ix.Search(q, 3)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 300; i++ {
				q := queries[(g+i)%len(queries)]
				if got, _ := ix.Search(q, 3); !slices.Equal(got, want[q]) {
					t.Errorf("%q: %v, want %v", q, got, want[q])
					return
				}
			}
		})
	}
	wg.Wait()
}

// The stamped scratch must survive its generation counters wrapping.
func TestScratchGenerationWrap(t *testing.T) {
	_, ix := fixtureIndex(t)
	queries := []string{"japan houston", "c", "co", "con ch", "cg chicago"}
	want := map[string][]Hit{}
	for _, q := range queries {
		want[q], _ = ix.Search(q, 5)
	}
	s := ix.pool.Get().(*scratch)
	s.gen, s.tgen = math.MaxUint32-1, math.MaxUint32-1
	ix.pool.Put(s)
	for i := 0; i < 4; i++ {
		for _, q := range queries {
			if got, _ := ix.Search(q, 5); !slices.Equal(got, want[q]) {
				t.Fatalf("%q after wrap: %v, want %v", q, got, want[q])
			}
		}
	}
}
