package index

import "slices"

// A cursor walks, in document order, the documents one query token matches.
// One token may stand for several words (prefix, typos), read in one of
// four ways, whichever is cheapest for its size and role.
const (
	kindOne   = iota // one word: its posting list
	kindList         // several words, few postings: merged into a sorted list up front
	kindMulti        // several words, not driving: each word's posting list probed in turn
	kindDense        // several words, many postings: stamped into the per-document slots
)

type cursor struct {
	kind  uint8
	docs  []int32   // kindOne, kindList
	masks []uint8   // kindOne, kindList: fields holding the token, per document
	ws    []float32 // kindOne: posting weights; score = q × weight
	q     float64   // kindOne
	typo  bool      // kindOne
	score []float64 // kindList
	nt    []bool    // kindList: matched without typo
	subs  []cursor  // kindMulti: one kindOne cursor per word
	gen   uint32    // kindDense: the slots' generation
	slots []docSlot // kindDense
	i     int

	// The current document and what the token scores there, valid after
	// next or a successful seek.
	d       int32
	sc      float64
	mask    uint8
	nonTypo bool
}

func (c *cursor) load(j int) {
	c.d, c.mask = c.docs[j], c.masks[j]
	if c.kind == kindOne {
		c.sc, c.nonTypo = c.q*float64(c.ws[j]), !c.typo
	} else {
		c.sc, c.nonTypo = c.score[j], c.nt[j]
	}
}

// next moves a driving cursor to its next document.
func (c *cursor) next() bool {
	if c.kind == kindDense {
		for c.i < len(c.slots) {
			d := c.i
			c.i++
			if sl := &c.slots[d]; sl.stamp == c.gen {
				c.d, c.sc, c.mask, c.nonTypo = int32(d), sl.best, sl.mask, sl.nonTypo
				return true
			}
		}
		return false
	}
	if c.i >= len(c.docs) {
		return false
	}
	c.load(c.i)
	c.i++
	return true
}

// seek reports whether the token matches document d, and done when it
// matches no document from d on. Calls come with increasing d.
func (c *cursor) seek(d int32) (found, done bool) {
	switch c.kind {
	case kindDense:
		sl := &c.slots[d]
		if sl.stamp != c.gen {
			return false, false
		}
		c.d, c.sc, c.mask, c.nonTypo = d, sl.best, sl.mask, sl.nonTypo
		return true, false
	case kindMulti:
		done = true
		for k := range c.subs {
			sub := &c.subs[k]
			f, dn := sub.seek(d)
			done = done && dn
			if !f {
				continue
			}
			if !found || sub.sc > c.sc {
				c.sc = sub.sc
			}
			if !found {
				c.mask, c.nonTypo = 0, false
			}
			found = true
			c.mask |= sub.mask
			c.nonTypo = c.nonTypo || sub.nonTypo
		}
		return found, done && !found
	}
	docs, j := c.docs, c.skip(c.i, d)
	c.i = j
	if j == len(docs) {
		return false, true
	}
	if docs[j] != d {
		return false, false
	}
	c.load(j)
	return true, false
}

// skip returns the position of the first document >= d from j on. Dense
// lists advance a step or two per call: walk. Sparse ones would take long
// walks: gallop to a bound, then binary search inside it.
func (c *cursor) skip(j int, d int32) int {
	docs := c.docs
	for walk := 0; walk < 4 && j < len(docs) && docs[j] < d; walk++ {
		j++
	}
	if j < len(docs) && docs[j] < d {
		step := 1
		for j+step < len(docs) && docs[j+step] < d {
			j += step
			step *= 2
		}
		k, _ := slices.BinarySearch(docs[j:min(j+step+1, len(docs))], d)
		j += k
	}
	return j
}

// posting is one entry of a sparse union being merged.
type posting struct {
	doc     int32
	mask    uint8
	nonTypo bool
	score   float64
}

// match finds every matching document, offers each to the top-k heap (see
// offer) and returns how many there are. Nothing proportional to the number
// of matches is written: a query of common words matching half the index
// reads its posting lists once and keeps only the best limit documents.
//
// It is a document-at-a-time intersection: the token with the fewest
// postings drives, and every other token's cursor is moved forward to each
// of the driver's documents; a document matches when all of them land on
// it. Documents with a field equal to the whole query (spaces ignored) are
// merged in as one more sorted list: they get the whole-field bonus, and
// those the tokens missed are added on their own.
func (ix *Index) match(s *scratch, qc string, limit int) (total int) {
	s.heap, s.limit, s.full = s.heap[:0], limit, false
	s.phrase = len(s.toks) > 1
	if s.phrase {
		ix.markPhraseTerms(s)
	}

	var wDocs []int32
	var wW []float32
	if id, ok := ix.compactID[qc]; ok {
		lo, hi := ix.compactStart[id], ix.compactStart[id+1]
		wDocs, wW = ix.compactDoc[lo:hi], ix.compactW[lo:hi]
	}
	wi := 0
	ntok := float64(len(s.toks))
	wholeOnly := func(upTo int32) { // whole-field documents below upTo that the tokens missed
		for ; wi < len(wDocs) && wDocs[wi] < upTo; wi++ {
			total++
			w := wW[wi]
			ix.offer(s, &cand{doc: wDocs[wi], score: float64(w) * qualityExact * ntok, bonus: wholeFieldBonus * w, exact: true})
		}
	}

	if ix.cursors(s) {
		drv, others := &s.curs[0], s.curs[1:]
		one := drv.kind == kindOne // the usual driver, read inline below
	docs:
		for {
			var d int32
			var score float64
			var mask uint8
			var nonTypo bool
			if one {
				i := drv.i
				if i >= len(drv.docs) {
					break
				}
				drv.i++
				d, score, mask, nonTypo = drv.docs[i], drv.q*float64(drv.ws[i]), drv.masks[i], !drv.typo
			} else {
				if !drv.next() {
					break
				}
				d, score, mask, nonTypo = drv.d, drv.sc, drv.mask, drv.nonTypo
			}
			for k := range others {
				c := &others[k]
				if c.kind <= kindList {
					// seek, inlined for the usual case: the next
					// posting or the one after.
					j := c.i
					if j < len(c.docs) && c.docs[j] < d {
						if j++; j < len(c.docs) && c.docs[j] < d {
							j = c.skip(j, d)
						}
					}
					c.i = j
					if j == len(c.docs) {
						break docs
					}
					if c.docs[j] != d {
						continue docs
					}
					if c.kind == kindOne {
						score += c.q * float64(c.ws[j])
						nonTypo = nonTypo && !c.typo
					} else {
						score += c.score[j]
						nonTypo = nonTypo && c.nt[j]
					}
					mask &= c.masks[j]
					continue
				}
				found, done := c.seek(d)
				if done {
					break docs
				}
				if !found {
					continue docs
				}
				score += c.sc
				mask &= c.mask
				nonTypo = nonTypo && c.nonTypo
			}
			total++
			if s.full && wi >= len(wDocs) {
				// Most matches of a common word cannot enter the heap:
				// reject them on their optimistic key before any call.
				k := score
				if s.phrase {
					k += float64(ix.phrasePot[mask])
				}
				if k < s.worst || k == s.worst && ix.idOrderAfter(d, s.worstID, s.heap[0].doc) {
					continue
				}
			}
			cd := cand{doc: d, score: score, mask: mask, exact: nonTypo}
			if wi < len(wDocs) {
				wholeOnly(d)
				if wi < len(wDocs) && wDocs[wi] == d {
					cd.bonus = wholeFieldBonus * wW[wi]
					cd.exact = true
					wi++
				}
			}
			ix.offer(s, &cd)
		}
	}
	wholeOnly(int32(len(ix.ids)))
	return total
}

// cursors sets up s.curs, the driver first, then the others rarest first
// (they reject a document soonest). It reports false when some token
// matches no word, so that no document can match them all.
func (ix *Index) cursors(s *scratch) bool {
	var orderBuf [maxTokens]int
	order := orderBuf[:0]
	for i, t := range s.toks {
		if t.end == t.start {
			return false
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return s.toks[a].cost - s.toks[b].cost })
	drvCost := s.toks[order[0]].cost
	bigToken := func(t qtoken) bool { return t.cost*16 >= len(ix.ids) }

	// Choose each token's kind. At most one token can use the slots.
	var kinds [maxTokens]uint8
	denseTaken := false
	for k, ti := range order {
		t := s.toks[ti]
		nexp := t.end - t.start
		switch {
		case nexp == 1:
			kinds[k] = kindOne
		case k == 0: // the driver iterates: merge its words
			kinds[k] = kindList
			if bigToken(t) {
				kinds[k], denseTaken = kindDense, true
			}
		case nexp*drvCost <= t.cost: // probing each word per driver document is cheaper than merging
			kinds[k] = kindMulti
		case bigToken(t) && !denseTaken:
			kinds[k], denseTaken = kindDense, true
		default:
			kinds[k] = kindList
		}
	}

	// Merged lists first: a big one borrows the slots while merging, which
	// must happen before a dense cursor claims them. Slices into the union
	// buffers are taken only after, since appending may move them.
	s.uDocs, s.uScore, s.uMask, s.uNT = s.uDocs[:0], s.uScore[:0], s.uMask[:0], s.uNT[:0]
	var spans [maxTokens][2]int
	for k, ti := range order {
		if kinds[k] == kindList {
			lo := len(s.uDocs)
			ix.unionOf(s, s.toks[ti])
			spans[k] = [2]int{lo, len(s.uDocs)}
		}
	}
	s.subs = s.subs[:0]
	for k, ti := range order {
		if kinds[k] == kindMulti {
			t := s.toks[ti]
			for _, e := range s.exps[t.start:t.end] {
				s.subs = append(s.subs, ix.oneCursor(e))
			}
		}
	}

	s.curs = s.curs[:0]
	sub := 0
	for k, ti := range order {
		t := s.toks[ti]
		var c cursor
		switch kinds[k] {
		case kindOne:
			c = ix.oneCursor(s.exps[t.start])
		case kindList:
			lo, hi := spans[k][0], spans[k][1]
			c = cursor{kind: kindList, docs: s.uDocs[lo:hi], masks: s.uMask[lo:hi], score: s.uScore[lo:hi], nt: s.uNT[lo:hi]}
		case kindMulti:
			n := t.end - t.start
			c = cursor{kind: kindMulti, subs: s.subs[sub : sub+n]}
			sub += n
		case kindDense:
			gen := ix.markDense(s, t)
			c = cursor{kind: kindDense, gen: gen, slots: s.docs}
		}
		s.curs = append(s.curs, c)
	}
	return true
}

func (ix *Index) oneCursor(e expansion) cursor {
	lo, hi := ix.postStart[e.term], ix.postStart[e.term+1]
	return cursor{kind: kindOne, docs: ix.postDoc[lo:hi], masks: ix.postMask[lo:hi], ws: ix.postW[lo:hi], q: e.quality, typo: e.typo}
}

// markDense stamps into the slots every document matching one of t's words,
// with the best score there, and returns the stamp.
func (ix *Index) markDense(s *scratch, t qtoken) uint32 {
	slots, gen := s.slots(len(ix.ids))
	for _, e := range s.exps[t.start:t.end] {
		lo, hi := ix.postStart[e.term], ix.postStart[e.term+1]
		for p := lo; p < hi; p++ {
			sc := e.quality * float64(ix.postW[p])
			sl := &slots[ix.postDoc[p]]
			if sl.stamp != gen {
				*sl = docSlot{best: sc, stamp: gen, mask: ix.postMask[p], nonTypo: !e.typo}
				continue
			}
			sl.best = max(sl.best, sc)
			sl.mask |= ix.postMask[p]
			sl.nonTypo = sl.nonTypo || !e.typo
		}
	}
	return gen
}

// unionOf appends to the union buffers the documents matching one of t's
// words, in document order, each with its best score. Few postings are
// gathered and sorted; many are stamped into the slots and swept in
// document order, one pass over the slots instead of a sort.
func (ix *Index) unionOf(s *scratch, t qtoken) {
	if t.cost*16 >= len(ix.ids) {
		gen := ix.markDense(s, t)
		for d := range s.docs {
			if sl := &s.docs[d]; sl.stamp == gen {
				s.uDocs = append(s.uDocs, int32(d))
				s.uScore = append(s.uScore, sl.best)
				s.uMask = append(s.uMask, sl.mask)
				s.uNT = append(s.uNT, sl.nonTypo)
			}
		}
		return
	}
	tmp := s.uTmp[:0]
	for _, e := range s.exps[t.start:t.end] {
		lo, hi := ix.postStart[e.term], ix.postStart[e.term+1]
		for p := lo; p < hi; p++ {
			tmp = append(tmp, posting{doc: ix.postDoc[p], mask: ix.postMask[p], nonTypo: !e.typo,
				score: e.quality * float64(ix.postW[p])})
		}
	}
	slices.SortFunc(tmp, func(a, b posting) int { return int(a.doc - b.doc) })
	for i, p := range tmp {
		if n := len(s.uDocs); i > 0 && s.uDocs[n-1] == p.doc {
			s.uScore[n-1] = max(s.uScore[n-1], p.score)
			s.uMask[n-1] |= p.mask
			s.uNT[n-1] = s.uNT[n-1] || p.nonTypo
			continue
		}
		s.uDocs = append(s.uDocs, p.doc)
		s.uScore = append(s.uScore, p.score)
		s.uMask = append(s.uMask, p.mask)
		s.uNT = append(s.uNT, p.nonTypo)
	}
	s.uTmp = tmp
}
