package index

import (
	"strings"
	"testing"
	"unicode"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Côte d'Ivoire", "cote divoire"},
		{"COTE D’IVOIRE", "cote divoire"},
		{"cote d`ivoire", "cote divoire"},
		{"Turkey (Türkiye)", "turkey turkiye"},
		{"St. Louis", "st louis"},
		{"  Consulate   General  ", "consulate general"},
		{"cg-chicago-canada", "cg chicago canada"},
		{"China (People's Republic of)", "china peoples republic of"},
		{"São Tomé and Príncipe", "sao tome and principe"},
		{"Curaçao", "curacao"},
		{"Hawaiʻi", "hawaii"},
		{"Straße", "strasse"},
		{"Ørsted, København", "orsted kobenhavn"},
		{"Łódź", "lodz"},
		{"ＵＳＡ １２", "usa 12"},
		{"İstanbul", "istanbul"},
		{"Москва", "москва"},
		{"a\xffb", "a b"},
		{"", ""},
		{"!!! ... ---", ""},
		{"x__y", "x y"},
		{"'''", ""},
		{"Washington, D.C.", "washington d c"},
		{"9990 Richmond Ave., Suite 270N", "9990 richmond ave suite 270n"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The ASCII fast path and the Unicode path must agree on ASCII input.
func TestNormalizeASCIIAgreesWithUnicodePath(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 128; c++ {
		all.WriteByte(byte(c))
		all.WriteString("x")
	}
	for _, s := range []string{all.String(), "Emb-DC  Canada's (x)", "  a  ", "A'B`C"} {
		if a, u := normalizeASCII(s), normalizeUnicode(s); a != u {
			t.Errorf("ascii %q != unicode %q for %q", a, u, s)
		}
	}
}

// Output is always letters/digits separated by single spaces: Search and the
// Builder split on ' ' and rely on it.
func TestNormalizeShape(t *testing.T) {
	for _, s := range []string{"Côte d'Ivoire", "a\u0301\u0301\u0301 b", "\u00b4x\u00b4", "‘’ ʼ ʻ", "\x00\x01 é", "½ ﬁ"} {
		got := Normalize(s)
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Errorf("Normalize(%q) = %q: stray spaces", s, got)
		}
		for _, r := range got {
			if r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mc, r) {
				t.Errorf("Normalize(%q) = %q: unexpected rune %q", s, got, r)
			}
		}
		if Normalize(got) != got {
			t.Errorf("Normalize not idempotent on %q", s)
		}
	}
}
