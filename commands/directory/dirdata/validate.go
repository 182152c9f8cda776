package dirdata

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field size limits. They keep one bad row from turning into a megabyte of
// chat output, and leave room for the long provenance notes in SOURCES.md.
const (
	maxFieldBytes  = 1000
	maxSourceBytes = 2000
	maxIDBytes     = 64
)

// fieldError is a validation failure of one field of one row; the reader adds
// the file, the line and, for JSON, the path.
type fieldError struct {
	Field string
	Msg   string
}

// usStates holds the codes an office may sit in or cover: the 50 states, the
// District of Columbia and the inhabited territories.
var usStates = map[string]bool{
	"AL": true, "AK": true, "AZ": true, "AR": true, "CA": true, "CO": true, "CT": true,
	"DE": true, "FL": true, "GA": true, "HI": true, "ID": true, "IL": true, "IN": true,
	"IA": true, "KS": true, "KY": true, "LA": true, "ME": true, "MD": true, "MA": true,
	"MI": true, "MN": true, "MS": true, "MO": true, "MT": true, "NE": true, "NV": true,
	"NH": true, "NJ": true, "NM": true, "NY": true, "NC": true, "ND": true, "OH": true,
	"OK": true, "OR": true, "PA": true, "RI": true, "SC": true, "SD": true, "TN": true,
	"TX": true, "UT": true, "VT": true, "VA": true, "WA": true, "WV": true, "WI": true,
	"WY": true,
	"DC": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true,
}

// IsUSState reports whether code is the two-letter upper-case code of a US
// state, the District of Columbia or an inhabited territory.
func IsUSState(code string) bool { return usStates[code] }

// quoteShort quotes a user value for an error message. Quoting escapes control
// characters, and the cut keeps a huge field from flooding the answer.
func quoteShort(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == max {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

// forbiddenRune reports runes that text fields must not carry. Control
// characters (tabs and newlines included), line and paragraph separators and
// the bidirectional embedding, override and isolate controls can change how a
// chat client lays out an answer: they are how a row smuggles formatting or
// disguises a number.
func forbiddenRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// checkText applies the rules every text field shares.
func checkText(field, v string, max int, required bool) *fieldError {
	if v == "" {
		if required {
			return &fieldError{field, "is empty; it is required"}
		}
		return nil
	}
	if len(v) > max {
		return &fieldError{field, "is " + strconv.Itoa(len(v)) + " bytes long; the limit is " + strconv.Itoa(max)}
	}
	if !utf8.ValidString(v) {
		return &fieldError{field, "is not valid UTF-8"}
	}
	for _, r := range v {
		if forbiddenRune(r) {
			return &fieldError{field, quoteShort(v) + " contains the control or formatting character " + strconv.QuoteRune(r)}
		}
	}
	return nil
}

// checkID checks an id: the store keys and chat commands use it, so it is kept
// to a small, unambiguous alphabet.
func checkID(field, v string) *fieldError {
	if v == "" {
		return &fieldError{field, "is empty; it is required"}
	}
	ok := len(v) <= maxIDBytes
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			ok = false
		}
	}
	if !ok {
		return &fieldError{field, quoteShort(v) + " is not a valid id: use up to 64 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"}
	}
	return nil
}

func checkOfficeKind(v string) *fieldError {
	switch v {
	case KindField, KindResident, KindSatellite:
		return nil
	case "":
		return &fieldError{"kind", "is empty; it is required (field, resident or satellite)"}
	}
	return &fieldError{"kind", quoteShort(v) + " is not an office kind: use field, resident or satellite"}
}

func checkMissionKind(v string) *fieldError {
	if v == "" {
		return &fieldError{"kind", "is empty; it is required (embassy, consulate_general, consulate, delegation, …)"}
	}
	ok := len(v) <= maxFieldBytes
	for i := 0; ok && i < len(v); i++ {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c == '_') {
			ok = false
		}
	}
	if !ok {
		return &fieldError{"kind", quoteShort(v) + " is not a mission kind: use lower-case letters and '_', like embassy or consulate_general"}
	}
	return nil
}

// checkUSState checks an office or headquarters state.
func checkUSState(field, v string, required bool) *fieldError {
	if v == "" {
		if required {
			return &fieldError{field, "is empty; it is required (a two-letter code such as DC)"}
		}
		return nil
	}
	if !usStates[v] {
		return &fieldError{field, quoteShort(v) + " is not a US state or territory code (two upper-case letters, such as DC or PR)"}
	}
	return nil
}

// checkTwoLetter checks a mission's state: any two-letter code, since the
// table of US codes is not the place to decide where a mission may be.
func checkTwoLetter(field, v string) *fieldError {
	if v == "" {
		return nil
	}
	if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
		return &fieldError{field, quoteShort(v) + " is not a two-letter upper-case code"}
	}
	return nil
}

func checkCoord(field string, v float64, limit float64) *fieldError {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return &fieldError{field, "is not a finite number"}
	}
	if v < -limit || v > limit {
		return &fieldError{field, strconv.FormatFloat(v, 'f', -1, 64) + " is out of range [-" + strconv.FormatFloat(limit, 'f', -1, 64) + ", " + strconv.FormatFloat(limit, 'f', -1, 64) + "]"}
	}
	return nil
}

// parseNumber parses a CSV number cell. present is false for an empty cell.
func parseNumber(field, v string) (f float64, present bool, err *fieldError) {
	if v == "" {
		return 0, false, nil
	}
	f, perr := strconv.ParseFloat(v, 64)
	if perr != nil {
		return 0, true, &fieldError{field, quoteShort(v) + " is not a number"}
	}
	return f, true, nil
}

// stripExtension returns v without a trailing extension ("ext. 12",
// "ext 12", "x12": up to 6 digits after a number ending in a digit or ')').
func stripExtension(v string) string {
	i := len(v)
	for i > 0 && v[i-1] >= '0' && v[i-1] <= '9' {
		i--
	}
	if i == len(v) || len(v)-i > 6 {
		return v
	}
	rest := strings.TrimRight(v[:i], " ")
	for _, mark := range []string{"ext.", "ext", "x"} {
		if n := len(rest) - len(mark); n >= 0 && strings.EqualFold(rest[n:], mark) {
			num := strings.TrimRight(rest[:n], " ")
			if num != "" && (num[len(num)-1] >= '0' && num[len(num)-1] <= '9' || num[len(num)-1] == ')') {
				return num
			}
			return v
		}
	}
	return v
}

// checkPhone accepts what people write as a phone number and nothing that
// could carry markup or a link: digits, spaces, "+()-./", an optional
// extension ("ext. 12", "ext 12", "x12"), 7 to 15 digits before the extension
// (the E.164 maximum is 15).
func checkPhone(field, v string, required bool) *fieldError {
	if fe := checkText(field, v, maxFieldBytes, required); fe != nil || v == "" {
		return fe
	}
	bad := func() *fieldError {
		return &fieldError{field, quoteShort(v) + " does not look like a phone number (digits, spaces, +()-./, 7 to 15 digits, optional extension like \"ext. 12\")"}
	}
	main := stripExtension(v)
	digits := 0
	for k := 0; k < len(main); k++ {
		c := main[k]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+':
			if k != 0 {
				return bad()
			}
		case c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/':
		default:
			return bad()
		}
	}
	if digits < 7 || digits > 15 {
		return bad()
	}
	return nil
}

// checkEmail is deliberately loose: one '@' with text on both sides, no
// spaces. Deliverability is the operator's business.
func checkEmail(field, v string) *fieldError {
	if fe := checkText(field, v, maxFieldBytes, false); fe != nil || v == "" {
		return fe
	}
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.Count(v, "@") != 1 || strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return &fieldError{field, quoteShort(v) + " is not an email address"}
	}
	return nil
}

// normalizeStates trims the codes, drops empty ones (a trailing ';' is
// harmless) and checks the rest.
func normalizeStates(in []string) ([]string, *fieldError) {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !usStates[s] {
			return nil, &fieldError{"states", quoteShort(s) + " is not a US state or territory code (two upper-case letters, such as IL)"}
		}
		if seen[s] {
			return nil, &fieldError{"states", s + " is listed twice"}
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

func trimOffice(o *Office) {
	for _, p := range []*string{&o.ID, &o.Name, &o.Kind, &o.City, &o.State, &o.Phone, &o.AfterHoursPhone, &o.Source} {
		*p = strings.TrimSpace(*p)
	}
}

// validateOffice trims o in place and checks it, field by field in column
// order, so the first error reported is the leftmost one. hasLat and hasLon
// say whether the input gave coordinates at all.
func validateOffice(o *Office, hasLat, hasLon bool) *fieldError {
	trimOffice(o)
	if fe := checkID("id", o.ID); fe != nil {
		return fe
	}
	if fe := checkText("name", o.Name, maxFieldBytes, true); fe != nil {
		return fe
	}
	if fe := checkOfficeKind(o.Kind); fe != nil {
		return fe
	}
	if fe := checkText("city", o.City, maxFieldBytes, false); fe != nil {
		return fe
	}
	if fe := checkUSState("state", o.State, true); fe != nil {
		return fe
	}
	if !hasLat {
		return &fieldError{"lat", "is empty; it is required for an office"}
	}
	if fe := checkCoord("lat", o.Lat, 90); fe != nil {
		return fe
	}
	if !hasLon {
		return &fieldError{"lon", "is empty; it is required for an office"}
	}
	if fe := checkCoord("lon", o.Lon, 180); fe != nil {
		return fe
	}
	if fe := checkPhone("phone", o.Phone, false); fe != nil {
		return fe
	}
	if fe := checkPhone("after_hours_phone", o.AfterHoursPhone, false); fe != nil {
		return fe
	}
	states, fe := normalizeStates(o.States)
	if fe != nil {
		return fe
	}
	o.States = states
	return checkText("source", o.Source, maxSourceBytes, false)
}

func trimMission(m *Mission) {
	for _, p := range []*string{&m.ID, &m.Country, &m.Kind, &m.Name, &m.City, &m.State, &m.Address, &m.Source} {
		*p = strings.TrimSpace(*p)
	}
}

// validateMission trims m in place and checks it in column order; nested
// contacts (JSON) are checked last, named contacts[i].field.
func validateMission(m *Mission) *fieldError {
	trimMission(m)
	if fe := checkID("id", m.ID); fe != nil {
		return fe
	}
	// A mission without a country cannot be found by the search that exists
	// to find it.
	if fe := checkText("country", m.Country, maxFieldBytes, true); fe != nil {
		return fe
	}
	if fe := checkMissionKind(m.Kind); fe != nil {
		return fe
	}
	if fe := checkText("name", m.Name, maxFieldBytes, true); fe != nil {
		return fe
	}
	if fe := checkText("city", m.City, maxFieldBytes, false); fe != nil {
		return fe
	}
	if fe := checkTwoLetter("state", m.State); fe != nil {
		return fe
	}
	if fe := checkText("address", m.Address, maxFieldBytes, false); fe != nil {
		return fe
	}
	if m.Lat != nil {
		if fe := checkCoord("lat", *m.Lat, 90); fe != nil {
			return fe
		}
	}
	switch {
	case m.Lat != nil && m.Lon == nil:
		return &fieldError{"lon", "is empty but lat is given: give both or neither"}
	case m.Lat == nil && m.Lon != nil:
		return &fieldError{"lat", "is empty but lon is given: give both or neither"}
	}
	if m.Lon != nil {
		if fe := checkCoord("lon", *m.Lon, 180); fe != nil {
			return fe
		}
	}
	if fe := checkText("source", m.Source, maxSourceBytes, false); fe != nil {
		return fe
	}
	for i := range m.Contacts {
		if fe := validateContact(&m.Contacts[i]); fe != nil {
			fe.Field = "contacts[" + strconv.Itoa(i) + "]." + fe.Field
			return fe
		}
	}
	if len(m.Contacts) == 0 {
		m.Contacts = nil
	}
	return nil
}

// validateContact trims c in place and checks it. The mission id of a CSV
// row is checked by the reader, which owns that column.
func validateContact(c *Contact) *fieldError {
	for _, p := range []*string{&c.Name, &c.Title, &c.Phone, &c.Email} {
		*p = strings.TrimSpace(*p)
	}
	if fe := checkText("name", c.Name, maxFieldBytes, true); fe != nil {
		return fe
	}
	if fe := checkText("title", c.Title, maxFieldBytes, false); fe != nil {
		return fe
	}
	if fe := checkPhone("phone", c.Phone, false); fe != nil {
		return fe
	}
	return checkEmail("email", c.Email)
}

// validateHeadquarters trims h in place and checks it. Unlike an office, a
// headquarters row exists only to give a number, so its phone is required.
func validateHeadquarters(h *Headquarters) *fieldError {
	for _, p := range []*string{&h.ID, &h.Name, &h.City, &h.State, &h.Phone, &h.Hours, &h.Source} {
		*p = strings.TrimSpace(*p)
	}
	if fe := checkID("id", h.ID); fe != nil {
		return fe
	}
	if fe := checkText("name", h.Name, maxFieldBytes, true); fe != nil {
		return fe
	}
	if fe := checkText("city", h.City, maxFieldBytes, false); fe != nil {
		return fe
	}
	if fe := checkUSState("state", h.State, false); fe != nil {
		return fe
	}
	if fe := checkPhone("phone", h.Phone, true); fe != nil {
		return fe
	}
	if fe := checkText("hours", h.Hours, maxFieldBytes, false); fe != nil {
		return fe
	}
	return checkText("source", h.Source, maxSourceBytes, false)
}
