package geo

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseLatLon parses coordinates typed in chat:
//
//	"29.76,-95.37"   "29.76, -95.37"   "29.76 -95.37"   "(29.76, -95.37)"
//	"29.76N 95.37W"  "29.76° N, 95.37° W"
//
// latitude first. It returns ok=false and a nil error when s does not look
// like coordinates at all (a city, a state, a mission id, a lone number such
// as a ZIP code), so the caller can try its other lookups; and ok=false with
// an error saying which part is wrong when s looks like coordinates but is
// not valid ("latitude 95.2 is out of range [-90, 90]").
func ParseLatLon(s string) (Point, bool, error) {
	s = strings.TrimSpace(s)
	for _, q := range []string{`"`, "'"} { // a quoted value
		if len(s) >= 2 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q) {
			s = strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	if !looksLikeCoords(s) {
		return Point{}, false, nil
	}
	if strings.ContainsAny(s, "'\"′″") {
		return Point{}, false, fmt.Errorf("coordinates %q: degrees-minutes-seconds are not supported, use decimal degrees like 29.76,-95.37", s)
	}
	s = typography.Replace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "("), ")"))

	var parts []string
	if strings.Contains(s, ",") {
		parts = strings.Split(s, ",")
	} else {
		parts = strings.Fields(s)
		parts = joinHemispheres(parts)
	}
	if len(parts) == 1 {
		return Point{}, false, nil // one number: not coordinates (a ZIP code, an id)
	}
	if len(parts) != 2 {
		return Point{}, false, fmt.Errorf("coordinates %q: want two numbers, latitude then longitude, like 29.76,-95.37", s)
	}
	lat, err := parseDegrees(parts[0], "latitude", 'N', 'S', 90)
	if err != nil {
		return Point{}, false, err
	}
	lon, err := parseDegrees(parts[1], "longitude", 'E', 'W', 180)
	if err != nil {
		return Point{}, false, err
	}
	return Point{Lat: lat, Lon: lon}, true, nil
}

// typography maps what phones and word processors type to what is meant: a
// typographic minus, and the ordinal sign often typed for the degree sign.
var typography = strings.NewReplacer("−", "-", "º", "°")

// looksLikeCoords: at least one digit, and nothing but digits, signs,
// decimal points, separators, degree signs, parentheses and hemisphere
// letters. Anything with another letter is a name, not coordinates.
func looksLikeCoords(s string) bool {
	digit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune("+-−.,°º()'\"′″", r), unicode.IsSpace(r):
		case strings.ContainsRune("NSEWnsew", r):
		default:
			return false
		}
	}
	return digit
}

// joinHemispheres glues a lone hemisphere letter to the number before it,
// so "29.76 N 95.37 W" splits into two parts like "29.76N 95.37W".
func joinHemispheres(fields []string) []string {
	out := fields[:0]
	for _, f := range fields {
		if len(out) > 0 && len(f) == 1 && strings.ContainsRune("NSEWnsew", rune(f[0])) {
			out[len(out)-1] += f
			continue
		}
		out = append(out, f)
	}
	return out
}

// parseDegrees parses one coordinate: an optional sign, a decimal number, an
// optional degree sign, an optional hemisphere letter (pos or neg, which
// negates).
func parseDegrees(part, what string, pos, neg rune, limit float64) (float64, error) {
	v := strings.TrimSpace(part)
	if v == "" {
		return 0, fmt.Errorf("%s is missing: want latitude then longitude, like 29.76,-95.37", what)
	}
	sign := 1.0
	if last := rune(v[len(v)-1]); unicode.IsLetter(last) {
		switch unicode.ToUpper(last) {
		case pos:
		case neg:
			sign = -1
		default:
			return 0, fmt.Errorf("%s %q: hemisphere must be %c or %c", what, part, pos, neg)
		}
		v = strings.TrimSpace(v[:len(v)-1])
		if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
			return 0, fmt.Errorf("%s %q: give a sign or a hemisphere letter, not both", what, strings.TrimSpace(part))
		}
	}
	v = strings.TrimSpace(strings.TrimSuffix(v, "°"))
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || strings.ContainsAny(v, "_xXpPeEiInN") {
		return 0, fmt.Errorf("%s %q is not a number", what, strings.TrimSpace(part))
	}
	f *= sign
	if f < -limit || f > limit {
		return 0, fmt.Errorf("%s %s is out of range [%g, %g]", what, strconv.FormatFloat(f, 'f', -1, 64), -limit, limit)
	}
	return f, nil
}
