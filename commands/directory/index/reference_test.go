package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refIndex is the matching semantics written the slow, obvious way: every
// document scored against every query token. The real Index must agree with
// it on hits, scores, Exact and totals.
type refIndex struct {
	docs  []refDoc
	vocab map[string]bool
}

type refDoc struct {
	id     int
	fields []refField
}

type refField struct {
	toks    []string
	compact string
	w       float64
}

func newRef() *refIndex { return &refIndex{vocab: map[string]bool{}} }

func (r *refIndex) add(id int, fields ...Field) {
	d := refDoc{id: id}
	for _, f := range fields {
		w := f.Weight
		if !(w > 0) || math.IsInf(w, 0) {
			w = 1
		}
		toks := strings.Fields(Normalize(f.Text))
		for _, t := range toks {
			r.vocab[t] = true
		}
		d.fields = append(d.fields, refField{toks, strings.Join(toks, ""), float64(float32(w))})
	}
	r.docs = append(r.docs, d)
}

// refToken is a query token with what decides its typo tolerance.
type refToken struct {
	text   string
	n      int  // runes
	isWord bool // a word of the index: no typo tolerance
}

// quality of field word ft for query token tok, and whether it is a typo.
func (tok refToken) quality(ft string) (float64, bool) {
	switch {
	case ft == tok.text:
		return qualityExact, false
	case tok.n >= minPrefixLen && strings.HasPrefix(ft, tok.text):
		return qualityPrefix, false
	}
	m := utf8.RuneCountInString(ft)
	k := typoBudget(tok.n)
	if tok.isWord || k == 0 || isDigits(tok.text) || isDigits(ft) || m > maxTypoLen || tok.n-m > k || m-tok.n > k {
		return 0, false
	}
	switch osaReference([]rune(tok.text), []rune(ft)) {
	case 1:
		return qualityTypo1, true
	case 2:
		if k >= 2 {
			return qualityTypo2, true
		}
	}
	return 0, false
}

func (r *refIndex) search(query string) []Hit {
	q := normalizeQuery(query)
	if q == "" {
		return nil
	}
	var toks []refToken
	for _, t := range strings.Split(q, " ") {
		if len(toks) < maxTokens && !slices.ContainsFunc(toks, func(x refToken) bool { return x.text == t }) {
			toks = append(toks, refToken{t, utf8.RuneCountInString(t), r.vocab[t]})
		}
	}
	qc := compact(q)
	var hits []Hit
	for _, d := range r.docs {
		score, exact, all := 0.0, true, true
		for _, tok := range toks {
			best, nonTypo, found := 0.0, false, false
			for _, f := range d.fields {
				for _, ft := range f.toks {
					if qu, typo := tok.quality(ft); qu > 0 {
						best = max(best, qu*f.w)
						found = true
						nonTypo = nonTypo || !typo
					}
				}
			}
			if !found {
				all = false
				break
			}
			score += best
			exact = exact && nonTypo
		}
		bonus, wholeW := 0.0, 0.0
		for _, f := range d.fields {
			if qc != "" && f.compact == qc {
				wholeW = max(wholeW, f.w)
				bonus = max(bonus, wholeFieldBonus*f.w)
			}
			if all && len(toks) > 1 && hasPhraseRef(toks, f.toks) {
				bonus = max(bonus, phraseBonus*f.w)
			}
		}
		switch {
		case all:
			if wholeW > 0 {
				exact = true
			}
		case wholeW > 0:
			score, exact = wholeW*float64(len(toks)), true
		default:
			continue
		}
		hits = append(hits, Hit{ID: d.id, Score: score + bonus, Exact: exact})
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if d := b.Score - a.Score; math.Abs(d) > 1e-9 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return a.ID - b.ID
	})
	return hits
}

func hasPhraseRef(toks []refToken, ftoks []string) bool {
	for s := 0; s+len(toks) <= len(ftoks); s++ {
		ok := true
		for k, tok := range toks {
			if qu, _ := tok.quality(ftoks[s+k]); qu == 0 {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestAgainstReference(t *testing.T) {
	// Caller ids in document order, and scrambled (ties then go by id, not
	// by document).
	t.Run("sorted ids", func(t *testing.T) { testAgainstReference(t, func(i int) int { return i }) })
	t.Run("scrambled ids", func(t *testing.T) { testAgainstReference(t, func(i int) int { return (i * 7919) % 1009 }) })
}

func testAgainstReference(t *testing.T, idOf func(int) int) {
	ms := benchMissions(1500)
	b, ref := NewBuilder(), newRef()
	for i, m := range ms {
		fields := []Field{{m.Country, 3}, {m.Name, 2}, {m.City, 1.5}, {m.ID, 1}}
		if i%7 == 0 { // some documents with more than 8 fields (the field-set overflow bit)
			for j := 0; j < 4; j++ {
				fields = append(fields, Field{fmt.Sprintf("extra %s %d", m.City, j), 0.5 + float64(j)})
			}
		}
		b.Add(idOf(i), fields...)
		ref.add(idOf(i), fields...)
	}
	ix := b.Build()

	rnd := rand.New(rand.NewPCG(7, 7))
	words := make([]string, 0, len(ref.vocab))
	for w := range ref.vocab {
		words = append(words, w)
	}
	slices.Sort(words)
	mutate := func(w string) string {
		rs := []rune(w)
		switch rnd.IntN(6) {
		case 0: // prefix
			if len(rs) > 2 {
				rs = rs[:2+rnd.IntN(len(rs)-2)]
			}
		case 1: // substitution
			rs[rnd.IntN(len(rs))] = rune('a' + rnd.IntN(26))
		case 2: // transposition
			if len(rs) > 1 {
				i := rnd.IntN(len(rs) - 1)
				rs[i], rs[i+1] = rs[i+1], rs[i]
			}
		case 3: // deletion
			if len(rs) > 1 {
				i := rnd.IntN(len(rs))
				rs = append(rs[:i], rs[i+1:]...)
			}
		}
		return string(rs)
	}
	queries := []string{"co", "c", "in", "of", "consulate gen", "co general", "emb of", "cg ch", "san sa",
		"new", "ne yo", "con co", "general of in", "extra", "extra 1", "1", "10", "consulate consulate", "saint"}
	for _, m := range ms[:60] {
		queries = append(queries, m.Country, m.City, m.Name, m.ID, compact(Normalize(m.Country)),
			m.Country+" "+m.City, "consulate "+m.City, m.City+" "+m.Country)
	}
	for i := 0; i < 800; i++ {
		n := 1 + rnd.IntN(3)
		var parts []string
		for j := 0; j < n; j++ {
			parts = append(parts, mutate(words[rnd.IntN(len(words))]))
		}
		queries = append(queries, strings.Join(parts, " "))
	}
	for _, q := range queries {
		want := ref.search(q)
		for _, limit := range []int{5, 1 << 20} {
			got, total := ix.Search(q, limit)
			if total != len(want) {
				t.Fatalf("%q: total %d, reference %d", q, total, len(want))
			}
			w := want[:min(limit, len(want))]
			if len(got) != len(w) {
				t.Fatalf("%q limit %d: %d hits, reference %d", q, limit, len(got), len(w))
			}
			for i := range got {
				if got[i].ID != w[i].ID || math.Abs(got[i].Score-w[i].Score) > 1e-9 || got[i].Exact != w[i].Exact {
					t.Fatalf("%q limit %d: hit %d = %+v, reference %+v", q, limit, i, got[i], w[i])
				}
			}
		}
	}
}
