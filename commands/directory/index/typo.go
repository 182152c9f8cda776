package index

import "math/bits"

// typoBudget is the number of edits tolerated for a query token of n runes.
func typoBudget(n int) int {
	switch {
	case n < minTypoLen || n > maxTypoLen+2:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// runeMask is a 64-bit set of the characters of s (letters and digits get
// their own bit, anything else shares by hash). One edit adds or removes at
// most one character, so changes at most two bits: two words within k edits
// differ in at most 2k bits. That rejects most of a length bucket with one
// popcount, before any edit distance is computed.
func runeMask(s string) uint64 {
	var m uint64
	for _, r := range s {
		m |= 1 << runeBit(r)
	}
	return m
}

func runeMaskRunes(rs []rune) uint64 {
	var m uint64
	for _, r := range rs {
		m |= 1 << runeBit(r)
	}
	return m
}

func runeBit(r rune) uint {
	switch {
	case r >= 'a' && r <= 'z':
		return uint(r - 'a')
	case r >= '0' && r <= '9':
		return 26 + uint(r-'0')
	default:
		return 36 + uint(r)%28
	}
}

func maskWithin(a, b uint64, k int) bool {
	return bits.OnesCount64(a^b) <= 2*k
}

// osaWithin returns the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions each
// cost 1) when it is at most k, and k+1 otherwise. Only the diagonal band
// |i-j| <= k is computed and it stops as soon as a whole row exceeds k, so
// a hopeless pair costs a few cells. Both strings must be at most
// maxTypoLen+2 runes long (longer ones report k+1).
func osaWithin(a, b []rune, k int) int {
	la, lb := len(a), len(b)
	if la-lb > k || lb-la > k {
		return k + 1
	}
	if la > maxTypoLen+2 || lb > maxTypoLen+2 {
		return k + 1
	}
	const w = maxTypoLen + 4
	var rows [3][w]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	big := k + 1
	for i := 1; i <= la; i++ {
		lo, hi := max(1, i-k), min(lb, i+k)
		if lo > 1 {
			cur[lo-1] = big
		} else {
			cur[0] = i
		}
		rowMin := cur[lo-1]
		ai := a[i-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if ai == b[j-1] {
				cost = 0
			}
			v := prev[j-1] + cost
			if d := prev[j] + 1; d < v {
				v = d
			}
			if d := cur[j-1] + 1; d < v {
				v = d
			}
			if i > 1 && j > 1 && ai == b[j-2] && a[i-2] == b[j-1] {
				if d := prev2[j-2] + 1; d < v {
					v = d
				}
			}
			cur[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		if hi < lb {
			cur[hi+1] = big // the next row reads one cell past this band
		}
		if rowMin > k {
			return big
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if d := prev[lb]; d <= k {
		return d
	}
	return big
}
