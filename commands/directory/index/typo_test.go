package index

import (
	"math/rand/v2"
	"testing"
)

// osaReference is the textbook full-matrix optimal string alignment distance.
func osaReference(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func TestOSAWithin(t *testing.T) {
	tests := []struct {
		a, b string
		k    int
		want int
	}{
		{"canada", "canada", 1, 0},
		{"cnada", "canada", 1, 1},
		{"canda", "canada", 1, 1},
		{"kanada", "canada", 1, 1},
		{"indai", "india", 1, 1}, // transposition
		{"ca", "abc", 2, 3},      // OSA, not unrestricted Damerau: 3
		{"abc", "", 2, 3},
		{"", "ab", 2, 2},
		{"philipines", "philippines", 2, 1},
		{"switzerland", "swtizerlnd", 2, 2},
		{"switzerland", "swzerlnd", 2, 3},
		{"türkiye", "turkiye", 1, 1},
	}
	for _, tt := range tests {
		if got := osaWithin([]rune(tt.a), []rune(tt.b), tt.k); got != tt.want {
			t.Errorf("osaWithin(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.k, got, tt.want)
		}
	}
}

// The banded, early-exit version agrees with the reference on random words
// over a small alphabet (so that near misses and transpositions are common).
func TestOSAWithinMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		w := make([]rune, r.IntN(12))
		for i := range w {
			w[i] = rune('a' + r.IntN(4))
		}
		return w
	}
	for i := 0; i < 20000; i++ {
		a, b := word(), word()
		if r.IntN(2) == 0 { // b a light mutation of a
			b = append([]rune(nil), a...)
			if len(b) > 1 {
				j := r.IntN(len(b) - 1)
				b[j], b[j+1] = b[j+1], b[j]
			}
		}
		k := 1 + r.IntN(3)
		want := min(osaReference(a, b), k+1)
		if got := osaWithin(a, b, k); got != want {
			t.Fatalf("osaWithin(%q, %q, %d) = %d, want %d", string(a), string(b), k, got, want)
		}
	}
}

func TestMaskFilterNeverRejectsAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		a := make([]rune, 1+r.IntN(10))
		for j := range a {
			a[j] = rune('a' + r.IntN(6))
		}
		b := make([]rune, 1+r.IntN(10))
		for j := range b {
			b[j] = rune('a' + r.IntN(6))
		}
		d := osaReference(a, b)
		if d <= 2 && !maskWithin(runeMaskRunes(a), runeMaskRunes(b), d) {
			t.Fatalf("mask rejects %q/%q at distance %d", string(a), string(b), d)
		}
	}
}

func TestTypoBudget(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 0, 3: 0, 4: 1, 7: 1, 8: 2, 20: 2, maxTypoLen + 3: 0} {
		if got := typoBudget(n); got != want {
			t.Errorf("typoBudget(%d) = %d, want %d", n, got, want)
		}
	}
}
