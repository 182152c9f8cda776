package index

import "math/bits"

// cand is a matching document on its way to the top-k heap. Bonuses are a
// float32 field weight times 2 or 0.5, which float32 holds exactly.
type cand struct {
	score float64 // sum over tokens of quality × field weight
	bonus float32 // whole-field or phrase bonus, once known
	pot   float32 // while > 0: a phrase bonus this document might get, not yet checked
	doc   int32
	mask  uint8 // fields holding every query token (see Index.postMask)
	exact bool
}

// key is the score a candidate ranks by: final once settled (pot == 0),
// optimistic before.
func (c *cand) key() float64 {
	b := c.bonus
	if c.pot > b { // not the max builtin: its NaN handling costs in the hot loop
		b = c.pot
	}
	return c.score + float64(b)
}

// better is the result order: score descending, then caller ID ascending,
// then order of Add. It is total, so the output is stable.
func (ix *Index) better(a, b *cand) bool {
	if ka, kb := a.key(), b.key(); ka != kb {
		return ka > kb
	}
	return ix.idOrderAfter(b.doc, ix.ids[a.doc], a.doc)
}

// idOrderAfter reports whether document d comes after the document doc,
// whose caller ID is id, in result order among equal scores. When caller
// IDs never decrease in order of Add (the usual slice index), document
// order is the same order and the ID need not be read.
func (ix *Index) idOrderAfter(d int32, id int, doc int32) bool {
	if ix.idsSorted {
		return d > doc
	}
	if idd := ix.ids[d]; idd != id {
		return idd > id
	}
	return d > doc
}

// offer keeps c if it is among the best s.limit seen so far. s.heap is a
// heap whose root is the worst kept candidate (a parent is never better
// than its children), so a candidate that cannot make it costs one
// comparison with the root.
//
// The phrase bonus needs the document's words read, which for a query of
// common words ("consulate general", 20,000 matches) would cost more than
// the whole match. So a candidate is first judged on the best phrase bonus
// it could get (Index.phrasePot, by the fields holding all its tokens), and
// its words are read only if that is enough to enter the heap. Candidates
// that do not make it on their optimistic score would not on their real one.
func (ix *Index) offer(s *scratch, c *cand) {
	if s.phrase {
		if pot := ix.phrasePot[c.mask]; pot > c.bonus {
			c.pot = pot
		}
	}
	if s.full {
		// Inline the comparison with the root: this is the hot path.
		k := c.key()
		if k < s.worst {
			return
		}
		if k == s.worst && ix.idOrderAfter(c.doc, s.worstID, s.heap[0].doc) {
			return
		}
	} else if s.limit <= 0 {
		return
	}
	if c.pot > 0 {
		ix.settle(s, c)
		if s.full && !ix.better(c, &s.heap[0]) {
			return
		}
	}
	if s.full {
		s.heap[0] = *c
		ix.down(s.heap, 0)
	} else {
		s.heap = append(s.heap, *c)
		h := s.heap
		for j := len(h) - 1; j > 0; {
			p := (j - 1) / 2
			if !ix.better(&h[p], &h[j]) {
				break
			}
			h[p], h[j] = h[j], h[p]
			j = p
		}
		s.full = len(h) >= s.limit
	}
	if s.full {
		s.worst, s.worstID = s.heap[0].key(), ix.ids[s.heap[0].doc]
	}
}

// down restores the heap property below i.
func (ix *Index) down(h []cand, i int) {
	for {
		m := 2*i + 1
		if m >= len(h) {
			return
		}
		if r := m + 1; r < len(h) && ix.better(&h[m], &h[r]) {
			m = r // the worse child
		}
		if !ix.better(&h[i], &h[m]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// results empties the heap into hits, best first.
func (ix *Index) results(s *scratch) []Hit {
	h := s.heap
	hits := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		c := &h[0]
		hits[i] = Hit{ID: ix.ids[c.doc], Score: c.score + float64(c.bonus), Exact: c.exact}
		h[0] = h[len(h)-1]
		h = h[:len(h)-1]
		ix.down(h, 0)
	}
	return hits
}

// markPhraseTerms notes, for every word a query token stands for, which
// token positions (bit i) it can fill in a phrase.
func (ix *Index) markPhraseTerms(s *scratch) {
	s.phraseMarks(len(ix.vocab))
	for i, t := range s.toks {
		for _, e := range s.exps[t.start:t.end] {
			if s.termStamp[e.term] != s.tgen {
				s.termStamp[e.term] = s.tgen
				s.termMask[e.term] = 0
			}
			s.termMask[e.term] |= 1 << i
		}
	}
}

// settle decides c's phrase bonus: the query tokens, in order, matching
// consecutive words of one field. Only the fields holding every token are
// read.
func (ix *Index) settle(s *scratch, c *cand) {
	c.pot = 0
	n := len(s.toks)
	first, end := ix.docField[c.doc], ix.docField[c.doc+1]
	check := func(f int32) {
		w := phraseBonus * ix.fieldW[f]
		if w > c.bonus && s.hasPhrase(ix.seq[ix.fieldSeq[f]:ix.fieldSeq[f+1]], n) {
			c.bonus = w
		}
	}
	for m := c.mask; m != 0; m &= m - 1 {
		b := int32(bits.TrailingZeros8(m))
		if b < 7 {
			if f := first + b; f < end {
				check(f)
			}
			continue
		}
		for f := first + 7; f < end; f++ { // bit 7: the 8th field and after
			check(f)
		}
	}
}

func (s *scratch) hasPhrase(seq []int32, n int) bool {
outer:
	for start := 0; start+n <= len(seq); start++ {
		for k := 0; k < n; k++ {
			t := seq[start+k]
			if s.termStamp[t] != s.tgen || s.termMask[t]&(1<<k) == 0 {
				continue outer
			}
		}
		return true
	}
	return false
}
