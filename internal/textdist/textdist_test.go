package textdist

import (
	"strings"
	"testing"
)

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"contact", "contact", 0}, {"contcat", "contact", 2}, {"misson", "mission", 1},
		{"", "abc", 3}, {"oncal", "oncall", 1}, {strings.Repeat("a", 65), strings.Repeat("a", 65), 0},
		{strings.Repeat("a", 65), strings.Repeat("b", 65), 1 << 16},
	} {
		if got := Levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("Levenshtein(%.10q, %.10q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
