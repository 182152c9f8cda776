package index

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Hit is one matching document.
type Hit struct {
	ID    int
	Score float64
	Exact bool // every query token matched exactly or as a prefix (no typo correction needed)
}

// expansion is one vocabulary word a query token stands for.
type expansion struct {
	term    int32
	quality float64
	typo    bool
}

type qtoken struct {
	text       string
	start, end int // its expansions: scratch.exps[start:end]
	cost       int // total postings of its expansions
}

// scratch is the per-search working memory, pooled per Index so a search
// allocates little more than its result. The per-document and per-word
// arrays are allocated on first use: most searches need neither, and each
// concurrent search holds a scratch of its own.
type scratch struct {
	toks []qtoken
	exps []expansion
	curs []cursor
	subs []cursor // the per-word cursors of kindMulti cursors

	// The best candidates so far (see offer); once full, the key and caller
	// ID of the worst of them.
	heap    []cand
	limit   int
	full    bool
	worst   float64
	worstID int
	phrase  bool // the query has several tokens: phrase bonuses apply

	// Unions: for each token standing for several words, the merged
	// postings of those words, in document order (see unionOf).
	uDocs  []int32
	uScore []float64
	uMask  []uint8
	uNT    []bool
	uTmp   []posting

	// Per-document slots, used to merge dense unions. A slot is valid only
	// when its stamp equals the current generation, so slots never need
	// clearing between searches.
	gen  uint32
	docs []docSlot

	// Phrase marks: for each word a query token stands for, which token
	// positions (bit i) it can fill; valid when termStamp == tgen.
	tgen      uint32
	termStamp []uint32
	termMask  []uint8

	qr []rune
}

type docSlot struct {
	best    float64 // best score of the token being merged
	stamp   uint32
	mask    uint8 // fields holding it
	nonTypo bool  // matched without typo
}

// slots returns the per-document slots and the next generation.
func (s *scratch) slots(docs int) ([]docSlot, uint32) {
	if s.docs == nil {
		s.docs = make([]docSlot, docs)
	}
	s.gen++
	if s.gen == 0 { // wrapped: old stamps could look current
		for i := range s.docs {
			s.docs[i].stamp = 0
		}
		s.gen = 1
	}
	return s.docs, s.gen
}

// phraseMarks readies the per-word phrase marks for a new query.
func (s *scratch) phraseMarks(terms int) {
	if s.termStamp == nil {
		s.termStamp = make([]uint32, terms)
		s.termMask = make([]uint8, terms)
	}
	s.tgen++
	if s.tgen == 0 {
		clear(s.termStamp)
		s.tgen = 1
	}
}

// Search returns at most limit hits, best first (score descending, then ID
// ascending, then order of Add, so output is stable), and the total number
// of documents that matched. An empty query, or one with no letter or digit,
// matches nothing. Only the first 1 KiB of the query is read, and only its
// first 256 bytes and 8 distinct words after normalization are used, so any
// input returns quickly. limit <= 0 returns no hits but still the total.
func (ix *Index) Search(query string, limit int) (hits []Hit, total int) {
	if ix == nil || len(ix.ids) == 0 {
		return nil, 0
	}
	q := normalizeQuery(query)
	if q == "" {
		return nil, 0
	}
	s := ix.pool.Get().(*scratch)
	defer ix.pool.Put(s)

	s.toks = s.toks[:0]
	s.exps = s.exps[:0]
	for tok := range strings.SplitSeq(q, " ") {
		if len(s.toks) == maxTokens {
			break
		}
		if slices.ContainsFunc(s.toks, func(t qtoken) bool { return t.text == tok }) {
			continue // a repeated word adds nothing but work
		}
		s.toks = append(s.toks, ix.expand(s, tok))
	}

	total = ix.match(s, compact(q), limit)
	if limit <= 0 || total == 0 {
		return nil, total
	}
	return ix.results(s), total
}

// normalizeQuery applies the abuse guards around Normalize.
func normalizeQuery(query string) string {
	if len(query) > maxRawQuery {
		query = query[:runeStart(query, maxRawQuery)]
	}
	q := Normalize(query)
	if len(q) > maxQueryBytes {
		q = strings.TrimRight(q[:runeStart(q, maxQueryBytes)], " ")
	}
	return q
}

// runeStart returns the largest i <= n at which s has a rune boundary.
func runeStart(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// expand finds the vocabulary words tok stands for: itself, the words it is
// a prefix of, and, only when tok is not itself a word, the words within the
// typo budget. Exact-first keeps a correct word from dragging in its
// neighbours ("iran" must not find "iraq").
func (ix *Index) expand(s *scratch, tok string) qtoken {
	t := qtoken{text: tok, start: len(s.exps)}
	exact, isWord := ix.termID[tok]
	if isWord {
		s.exps = append(s.exps, expansion{term: exact, quality: qualityExact})
	}
	n := utf8.RuneCountInString(tok)
	if n >= minPrefixLen {
		i, _ := slices.BinarySearch(ix.vocab, tok)
		for ; i < len(ix.vocab) && strings.HasPrefix(ix.vocab[i], tok); i++ {
			if int32(i) != exact || !isWord {
				s.exps = append(s.exps, expansion{term: int32(i), quality: qualityPrefix})
			}
		}
	}
	if k := typoBudget(n); !isWord && k > 0 && !isDigits(tok) {
		s.qr = s.qr[:0]
		for _, r := range tok {
			s.qr = append(s.qr, r)
		}
		qm := runeMaskRunes(s.qr)
		for l := max(1, n-k); l <= n+k && l < len(ix.typoByLen); l++ {
			for _, e := range ix.typoByLen[l] {
				if !maskWithin(qm, e.mask, k) {
					continue
				}
				d := osaWithin(s.qr, ix.typoRunes[e.off:e.off+int32(l)], k)
				if d > k || strings.HasPrefix(ix.vocab[e.term], tok) {
					continue // too far, or already there as a prefix
				}
				quality := qualityTypo1
				if d > 1 {
					quality = qualityTypo2
				}
				s.exps = append(s.exps, expansion{term: e.term, quality: quality, typo: true})
			}
		}
	}
	t.end = len(s.exps)
	for _, e := range s.exps[t.start:t.end] {
		t.cost += int(ix.postStart[e.term+1] - ix.postStart[e.term])
	}
	return t
}
