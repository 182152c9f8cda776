package index

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds s for matching, so that what a user types on any keyboard
// meets what the data says: lower case; accents removed (compatibility
// decomposition, then combining marks dropped, so "Côte" -> "cote" and
// full-width "ＵＳＡ" -> "usa"); a few Latin letters that do not decompose
// folded by hand ("ø" -> "o", "ß" -> "ss", "ł" -> "l", …); apostrophes
// (' ’ ‘ ` ´ ʼ ʻ) removed so "d'Ivoire" -> "divoire" and "Hawaiʻi" -> "hawaii";
// every other run of characters that are neither letters nor digits becomes
// one space; leading and trailing spaces trimmed.
//
//	"Côte d'Ivoire"    -> "cote divoire"
//	"Turkey (Türkiye)" -> "turkey turkiye"
//	"St. Louis"        -> "st louis"
//
// The result contains only letters, digits and single spaces, so splitting it
// on ' ' gives its tokens.
func Normalize(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return normalizeUnicode(s)
		}
	}
	return normalizeASCII(s)
}

// normalizeASCII is the common case (ids, English names, most queries): one
// pass, one allocation, no Unicode tables.
func normalizeASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is pending
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '\'' || c == '`':
			continue // apostrophes join: "d'Ivoire" -> "divoire"
		default:
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

func normalizeUnicode(s string) string {
	// Apostrophes go before decomposition: NFKD turns "´" into a space plus
	// a combining accent, which would otherwise split the word.
	s = strings.Map(func(r rune) rune {
		if isApostrophe(r) {
			return -1
		}
		return r
	}, s)
	s = norm.NFKD.String(s)

	var b strings.Builder
	b.Grow(len(s))
	space := false
	emit := func(r rune) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			space = true // invalid UTF-8 separates, never matches
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
			// accents and other non-spacing marks: dropped
		case isApostrophe(r):
			// can reappear from a compatibility decomposition
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
			// Spacing marks (Mc) are part of words in Indic scripts.
			r = unicode.ToLower(r)
			if f, ok := latinFolds[r]; ok {
				for _, fr := range f {
					emit(fr)
				}
				continue
			}
			emit(r)
		default:
			space = true
		}
	}
	return b.String()
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u2019', '\u2018', '\u00b4', '\u02bc', '\u02bb', '\u2032':
		return true
	}
	return false
}

// latinFolds covers letters that carry their "accent" in the glyph itself and
// so survive decomposition; people type them without it.
var latinFolds = map[rune]string{
	'ß': "ss",
	'ø': "o",
	'æ': "ae",
	'œ': "oe",
	'ł': "l",
	'đ': "d",
	'ð': "d",
	'þ': "th",
	'ı': "i",
	'ħ': "h",
	'ŧ': "t",
	'ŋ': "n",
	'ς': "σ",
}
