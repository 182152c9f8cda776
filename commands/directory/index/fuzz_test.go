package index

import (
	"sync"
	"testing"
)

// FuzzSearch throws arbitrary queries at the fixture index: never a panic,
// never more hits than asked, a total at least the hits, and hits sorted.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{
		"canada", "cnada", "Côte d’Ivoire", "cotedivoire", "japan houston", "türkiye",
		"", " ", "'", "\xff", "a\u0301", "cg-chicago-canada", "co ca ch cu ge in of em re",
		"12345678901234567890", "ＵＳＡ", "Москва", "ß", "ʻ", "jap hou",
	} {
		f.Add(seed, uint8(5))
	}
	var (
		once sync.Once
		ix   *Index
	)
	f.Fuzz(func(t *testing.T, query string, limit uint8) {
		once.Do(func() { _, ix = fixtureIndex(t) })
		hits, total := ix.Search(query, int(limit))
		if len(hits) > int(limit) {
			t.Fatalf("%d hits for limit %d", len(hits), limit)
		}
		if total < len(hits) {
			t.Fatalf("total %d < %d hits", total, len(hits))
		}
		checkSorted(t, hits)
		seen := map[int]bool{}
		for _, h := range hits {
			if seen[h.ID] { // fixture ids are unique
				t.Fatalf("duplicate hit %d", h.ID)
			}
			seen[h.ID] = true
			if h.Score <= 0 {
				t.Fatalf("score %v", h.Score)
			}
		}
		if n := Normalize(query); Normalize(n) != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", query, n, Normalize(n))
		}
	})
}
