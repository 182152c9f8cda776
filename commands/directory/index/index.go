// Package index is the directory's in-memory fuzzy text index: it answers
// `contact <query>` over foreign missions and `office <city>` over field
// offices (SPEC §2), tolerant of case, accents, punctuation and typos, and
// fast enough for 50,000 entries (SPEC §8: p99 under 2 ms).
//
// A document is a caller-chosen id plus weighted text fields. Build turns
// the documents into an inverted index (each distinct field word -> the
// sorted list of documents holding it), so a search reads only the lists of
// its own words, never the whole collection, and keeps only the best hits
// asked for, however many documents match. An Index is immutable and safe
// for concurrent Search.
//
// # Matching
//
// The query and the fields are folded by Normalize and split into words
// (tokens). A document matches when every query token matches some word of
// one of its fields:
//
//   - exactly (quality 1.0);
//   - as a prefix, for tokens of two or more characters (0.8);
//   - with a typo, only when the token is not itself a word of the index
//     (so "iran" never finds "iraq"): optimal-string-alignment distance
//     (a transposition counts one edit) at most 1 for tokens of 4–7
//     characters, 2 for 8 or more (0.6 at distance 1, 0.4 at distance 2).
//     Shorter tokens and digit-only ones are never typo-corrected.
//
// A document also matches when the query with its spaces removed equals one
// of its fields with spaces removed: "cotedivoire" and "cote d ivoire" find
// "Côte d'Ivoire". Hit.Exact reports that no typo correction was needed.
//
// # Scoring
//
// Score = the sum over query tokens of quality × the weight of the heaviest
// field where it matched, plus one bonus, the larger that applies: 2 ×
// weight when the whole query equals a whole field (spaces ignored), or
// 0.5 × weight when a query of two or more tokens matches consecutive words
// of a field, in order. A document matched only through the whole-field
// rule scores weight × number of tokens, plus its bonus. Weights are kept as
// float32, so a weight such as 1.1 shows in scores as 1.100000023841858.
package index

import (
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Field is one searchable text of a document.
type Field struct {
	Text   string  // raw text; the index normalizes it
	Weight float64 // how much a match in this field counts; <= 0, NaN or Inf count as 1
}

// Tuning. The bonuses are multiplied by the weight of the field concerned.
const (
	qualityExact  = 1.0
	qualityPrefix = 0.8
	qualityTypo1  = 0.6
	qualityTypo2  = 0.4

	wholeFieldBonus = 2.0
	phraseBonus     = 0.5

	minPrefixLen = 2  // runes; "c" would match half the vocabulary
	minTypoLen   = 4  // runes; below this a typo is another word ("iran"/"iraq" are 4, hence exact-first)
	maxTypoLen   = 48 // runes; longer tokens are not typo-corrected (and are not words)

	// Abuse guards, applied inside Search.
	maxRawQuery   = 1024 // bytes looked at before normalization
	maxQueryBytes = 256  // bytes kept after normalization
	maxTokens     = 8    // distinct tokens kept
)

// Builder collects documents for an Index. It is not safe for concurrent use.
type Builder struct {
	ids    []int
	docEnd []int32 // docEnd[i]: end of document i's fields in fields
	fields []builtField
}

type builtField struct {
	norm   string
	weight float32
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{} }

// Add adds a document. id is the caller's handle (typically an index into its
// own slice), returned in Hit.ID; it need not be unique or dense. Empty
// fields are allowed and match nothing.
func (b *Builder) Add(id int, fields ...Field) {
	for _, f := range fields {
		w := f.Weight
		// A forgotten weight should not silently make a field worthless.
		if !(w > 0) || math.IsInf(w, 0) {
			w = 1
		}
		b.fields = append(b.fields, builtField{norm: Normalize(f.Text), weight: float32(w)})
	}
	b.ids = append(b.ids, id)
	b.docEnd = append(b.docEnd, int32(len(b.fields)))
}

// Index is an immutable search index built by Builder.Build. Its methods are
// safe for concurrent use.
type Index struct {
	ids       []int // caller ids, by internal document number
	idsSorted bool  // ids never decrease: document order is result order among ties

	// Fields of document d are docField[d]..docField[d+1]; the term ids of
	// field f, in text order, are seq[fieldSeq[f]:fieldSeq[f+1]] (for phrases).
	docField []int32
	fieldSeq []int32
	fieldW   []float32
	seq      []int32

	// Vocabulary: distinct field tokens, sorted so that all the words with a
	// given prefix are one contiguous range found by binary search.
	vocab  []string
	termID map[string]int32

	// Posting list of term t: documents postDoc[postStart[t]:postStart[t+1]],
	// ascending, each with the weight of the heaviest field holding t and
	// the set of fields holding it (bit i: the doc's field i; bit 7 also
	// stands for every field after the 8th). The field sets tell in which
	// fields a multi-word query can appear as a phrase, so only those are
	// read.
	postStart []int32
	postDoc   []int32
	postW     []float32
	postMask  []uint8

	// phrasePot[m] bounds the phrase bonus of a document whose tokens are
	// all in the field set m: phraseBonus × the heaviest weight any
	// document gives a field position in m.
	phrasePot [256]float32

	// Typo candidates bucketed by length in runes, so a query token is
	// compared only with words whose length is within the allowed distance.
	typoByLen [][]typoEntry
	typoRunes []rune

	// Whole-field match: a field with its spaces removed -> the documents
	// having such a field, with that field's weight.
	compactID    map[string]int32
	compactStart []int32
	compactDoc   []int32
	compactW     []float32

	pool sync.Pool // of *scratch
}

type typoEntry struct {
	term int32
	off  int32  // its runes are typoRunes[off : off+length]
	mask uint64 // runeMask of the word, a cheap filter before the edit distance
}

// Build returns the Index of the documents added so far and resets the
// Builder, which may then be reused for a new index.
func (b *Builder) Build() *Index {
	ix := &Index{ids: b.ids, idsSorted: slices.IsSorted(b.ids)}
	nd := len(b.ids)

	// Provisional term ids in order of appearance, then renumbered in
	// sorted order.
	prov := map[string]int32{}
	var provTerms []string
	ix.docField = make([]int32, nd+1)
	ix.fieldSeq = make([]int32, len(b.fields)+1)
	ix.fieldW = make([]float32, len(b.fields))
	var seq []int32
	start := int32(0)
	for d := 0; d < nd; d++ {
		ix.docField[d] = start
		end := b.docEnd[d]
		for f := start; f < end; f++ {
			ix.fieldSeq[f] = int32(len(seq))
			ix.fieldW[f] = b.fields[f].weight
			for tok := range strings.SplitSeq(b.fields[f].norm, " ") {
				if tok == "" {
					continue
				}
				id, ok := prov[tok]
				if !ok {
					// A copy: the token is a slice of the whole normalized
					// field, which would otherwise stay alive with it.
					tok = strings.Clone(tok)
					id = int32(len(provTerms))
					prov[tok] = id
					provTerms = append(provTerms, tok)
				}
				seq = append(seq, id)
			}
		}
		start = end
	}
	ix.docField[nd] = start
	ix.fieldSeq[len(b.fields)] = int32(len(seq))

	order := make([]int32, len(provTerms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(provTerms[a], provTerms[b]) })
	remap := make([]int32, len(provTerms))
	ix.vocab = make([]string, len(provTerms))
	ix.termID = make(map[string]int32, len(provTerms))
	for newID, old := range order {
		remap[old] = int32(newID)
		ix.vocab[newID] = provTerms[old]
		ix.termID[provTerms[old]] = int32(newID)
	}
	for i, t := range seq {
		seq[i] = remap[t]
	}
	ix.seq = seq

	ix.buildPostings()
	ix.buildPhrasePot()
	ix.buildTypo()
	ix.buildCompact(b.fields)

	ix.pool.New = func() any { return new(scratch) }
	*b = Builder{}
	return ix
}

// buildPostings fills the posting lists: counting pass, then filling pass,
// both in document order so every list comes out sorted.
func (ix *Index) buildPostings() {
	nt := len(ix.vocab)
	nd := len(ix.ids)
	best := make([]float32, nt) // per term, weight within the current doc
	mask := make([]uint8, nt)   // per term, fields holding it in the current doc
	seen := make([]int32, nt)   // per term, last doc+1 that held it
	var touched []int32

	count := make([]int32, nt+1)
	forEachDocTerm := func(d int, fn func(t int32, w float32, m uint8)) {
		touched = touched[:0]
		first := ix.docField[d]
		for f := first; f < ix.docField[d+1]; f++ {
			w := ix.fieldW[f]
			bit := uint8(1) << min(f-first, 7)
			for _, t := range ix.seq[ix.fieldSeq[f]:ix.fieldSeq[f+1]] {
				if seen[t] != int32(d)+1 {
					seen[t] = int32(d) + 1
					best[t], mask[t] = w, bit
					touched = append(touched, t)
					continue
				}
				best[t] = max(best[t], w)
				mask[t] |= bit
			}
		}
		for _, t := range touched {
			fn(t, best[t], mask[t])
		}
	}
	for d := 0; d < nd; d++ {
		forEachDocTerm(d, func(t int32, _ float32, _ uint8) { count[t+1]++ })
	}
	for t := 0; t < nt; t++ {
		count[t+1] += count[t]
	}
	ix.postStart = count
	total := count[nt]
	ix.postDoc = make([]int32, total)
	ix.postW = make([]float32, total)
	ix.postMask = make([]uint8, total)
	next := slices.Clone(count[:nt])
	clear(seen)
	for d := 0; d < nd; d++ {
		forEachDocTerm(d, func(t int32, w float32, m uint8) {
			i := next[t]
			ix.postDoc[i], ix.postW[i], ix.postMask[i] = int32(d), w, m
			next[t]++
		})
	}
}

func (ix *Index) buildPhrasePot() {
	var posMax [8]float32
	for d := range ix.ids {
		first := ix.docField[d]
		for f := first; f < ix.docField[d+1]; f++ {
			b := min(f-first, 7)
			posMax[b] = max(posMax[b], ix.fieldW[f])
		}
	}
	for m := 1; m < 256; m++ {
		for b := 0; b < 8; b++ {
			if m&(1<<b) != 0 {
				ix.phrasePot[m] = max(ix.phrasePot[m], phraseBonus*posMax[b])
			}
		}
	}
}

// buildTypo buckets the words that may be typo targets by rune length.
// Digit-only words are left out: numbers are never typo-corrected.
func (ix *Index) buildTypo() {
	for t, w := range ix.vocab {
		if isDigits(w) {
			continue
		}
		n := utf8.RuneCountInString(w)
		if n > maxTypoLen {
			continue
		}
		for len(ix.typoByLen) <= n {
			ix.typoByLen = append(ix.typoByLen, nil)
		}
		off := int32(len(ix.typoRunes))
		ix.typoRunes = append(ix.typoRunes, []rune(w)...)
		ix.typoByLen[n] = append(ix.typoByLen[n], typoEntry{term: int32(t), off: off, mask: runeMask(w)})
	}
}

func (ix *Index) buildCompact(fields []builtField) {
	type entry struct {
		doc int32
		w   float32
	}
	groups := map[string][]entry{}
	var keys []string
	for d := range ix.ids {
		for f := ix.docField[d]; f < ix.docField[d+1]; f++ {
			c := compact(fields[f].norm)
			if c == "" {
				continue
			}
			g, ok := groups[c]
			if !ok {
				keys = append(keys, c)
			}
			w := ix.fieldW[f]
			if n := len(g); n > 0 && g[n-1].doc == int32(d) {
				g[n-1].w = max(g[n-1].w, w) // same text twice in one doc
			} else {
				g = append(g, entry{int32(d), w})
			}
			groups[c] = g
		}
	}
	ix.compactID = make(map[string]int32, len(keys))
	ix.compactStart = make([]int32, 0, len(keys)+1)
	for i, k := range keys {
		ix.compactID[k] = int32(i)
		ix.compactStart = append(ix.compactStart, int32(len(ix.compactDoc)))
		for _, e := range groups[k] {
			ix.compactDoc = append(ix.compactDoc, e.doc)
			ix.compactW = append(ix.compactW, e.w)
		}
	}
	ix.compactStart = append(ix.compactStart, int32(len(ix.compactDoc)))
}

// Len returns the number of documents in the index.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.ids)
}

// compact drops the spaces of a normalized string.
func compact(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}

// isDigits reports whether s is a non-empty run of digits (any script).
func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}
