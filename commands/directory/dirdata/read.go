package dirdata

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The kinds of data a file can carry, as listed in File.Kinds (in this order)
// and as WriteCSV's kind.
const (
	DataOffices      = "offices"
	DataMissions     = "missions"
	DataContacts     = "contacts"
	DataHeadquarters = "headquarters"
)

// Limits on one import file. The whole file is held in memory so that an
// import is all or nothing; these keep that memory bounded.
const (
	MaxFileBytes = 32 << 20
	MaxRows      = 200_000 // data rows per file; for JSON, offices + missions + contacts + headquarters
)

// File is what one import file holds.
type File struct {
	Name      string
	Kinds     []string // which of "offices", "missions", "contacts", "headquarters" it carries, in that order
	Directory          // Offices, Missions (JSON may nest contacts), Headquarters
	// Contacts holds the rows of a contacts.csv by mission_id, in file order.
	// It is nil for JSON, where contacts are nested in their missions (see
	// ContactsByMission for either form).
	Contacts map[string][]Contact
	// ContactLines is the line of the first contacts.csv row of each mission
	// id, so that a caller that finds an unknown mission id can name the line.
	ContactLines map[string]int
}

// ContactsByMission returns the file's contacts by mission id, whichever form
// carried them: the rows of a contacts.csv, or the contacts nested in the
// missions of a JSON document (missions without contacts are left out). The
// slices are shared with f.
func (f *File) ContactsByMission() map[string][]Contact {
	if f.Contacts != nil {
		return f.Contacts
	}
	out := map[string][]Contact{}
	for _, m := range f.Missions {
		if len(m.Contacts) > 0 {
			out[m.ID] = m.Contacts
		}
	}
	return out
}

// LineError is a problem with an import file, naming where it is. Line is 0
// and Field is "" when not known; for JSON, Field is the path of the value
// (offices[3].lat).
type LineError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *LineError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadFile reads an import file: .csv or .json by its extension. The error
// names the path as given.
func ReadFile(path string) (*File, error) {
	if _, err := formatOf(path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	// A pipe or a device could block or never end; an import is a file.
	if !fi.Mode().IsRegular() {
		return nil, &LineError{File: path, Msg: "is not a regular file"}
	}
	if fi.Size() > MaxFileBytes {
		return nil, tooBig(path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return Read(path, fh)
}

// Read reads an import file from r; the extension of name (.csv or .json)
// decides the format, and name is what errors call the file. It reads at most
// MaxFileBytes+1 bytes and refuses a longer input.
func Read(name string, r io.Reader) (*File, error) {
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, tooBig(name)
	}
	return parse(name, format, data)
}

func tooBig(name string) error {
	return &LineError{File: name, Msg: fmt.Sprintf("is larger than %d MiB, the limit for one import file", MaxFileBytes>>20)}
}

func formatOf(name string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv", ".json":
		return ext, nil
	}
	return "", &LineError{File: name, Msg: "unsupported file type: want .csv (offices.csv, missions.csv, contacts.csv, headquarters.csv) or .json"}
}

var utf8BOM = []byte("\uFEFF")

func parse(name, format string, data []byte) (*File, error) {
	// Spreadsheet programs like to start UTF-8 files with a byte order mark.
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, &LineError{File: name, Line: lineAt(data, int64(off)), Msg: "is not valid UTF-8 text: save it as UTF-8"}
	}
	if format == ".json" {
		return readJSON(name, data)
	}
	return readCSV(name, data)
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	l := lineCounter{data: data, line: 1}
	return l.at(off)
}

// lineCounter finds the lines of increasing offsets in one pass, so that
// naming the line of every element of a large document stays linear.
type lineCounter struct {
	data []byte
	off  int64 // offset counted up to
	line int   // line at off
}

func (l *lineCounter) at(off int64) int {
	off = max(0, min(off, int64(len(l.data))))
	if off < l.off {
		l.off, l.line = 0, 1
	}
	l.line += bytes.Count(l.data[l.off:off], []byte("\n"))
	l.off = off
	return l.line
}

// csvFormat is one accepted CSV header.
type csvFormat struct {
	kind   string
	cols   []string
	source bool // a last "source" column may follow
}

var csvFormats = []csvFormat{
	{DataOffices, []string{"id", "name", "kind", "city", "state", "lat", "lon", "phone", "after_hours_phone", "states"}, true},
	{DataMissions, []string{"id", "country", "kind", "name", "city", "state", "address", "lat", "lon"}, true},
	{DataContacts, []string{"mission_id", "name", "title", "phone", "email"}, false},
	{DataHeadquarters, []string{"id", "name", "city", "state", "phone", "hours"}, true},
}

func formatFor(kind string) *csvFormat {
	for i := range csvFormats {
		if csvFormats[i].kind == kind {
			return &csvFormats[i]
		}
	}
	return nil
}

// matchHeader finds the format of a header row and returns its normalised
// columns (with "source" when present).
func matchHeader(header []string) (*csvFormat, []string) {
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	for i := range csvFormats {
		f := &csvFormats[i]
		n := len(f.cols)
		switch {
		case len(cols) == n:
		case len(cols) == n+1 && f.source && cols[n] == "source":
		default:
			continue
		}
		if equalStrings(cols[:n], f.cols) {
			return f, cols
		}
	}
	return nil, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func acceptedHeaders() string {
	var b strings.Builder
	for i, f := range csvFormats {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.kind + ".csv: " + strings.Join(f.cols, ","))
		if f.source {
			b.WriteString("[,source]")
		}
	}
	return b.String()
}

func readCSV(name string, data []byte) (*File, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = 0 // the header row sets the count every row must have
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &LineError{File: name, Msg: "is empty: a CSV file starts with its header row"}
	}
	if err != nil {
		return nil, csvError(name, err, nil, 0)
	}
	format, cols := matchHeader(header)
	if format == nil {
		h := strings.Join(header, ",")
		if len(h) > 120 {
			h = h[:120]
			for !utf8.ValidString(h) {
				h = h[:len(h)-1]
			}
			h += "…"
		}
		return nil, &LineError{File: name, Line: 1, Msg: fmt.Sprintf("unrecognised header %q; the accepted headers are %s", h, acceptedHeaders())}
	}
	hasSource := len(cols) > len(format.cols)
	f := &File{Name: name, Kinds: []string{format.kind}}
	if format.kind == DataContacts {
		f.Contacts = map[string][]Contact{}
		f.ContactLines = map[string]int{}
	}
	firstLine := map[string]int{} // id → line, to name both lines of a duplicate
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err, rec, len(cols))
		}
		line, _ := cr.FieldPos(0)
		rows++
		if rows > MaxRows {
			return nil, &LineError{File: name, Line: line, Msg: fmt.Sprintf("more than %d rows; split the file", MaxRows)}
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		source := ""
		if hasSource {
			source = rec[len(rec)-1]
		}
		var fe *fieldError
		id := ""
		switch format.kind {
		case DataOffices:
			o := Office{ID: rec[0], Name: rec[1], Kind: rec[2], City: rec[3], State: rec[4],
				Phone: rec[7], AfterHoursPhone: rec[8], Source: source}
			if rec[9] != "" {
				o.States = strings.Split(rec[9], ";")
			}
			var latErr, lonErr *fieldError
			var hasLat, hasLon bool
			o.Lat, hasLat, latErr = parseNumber("lat", rec[5])
			o.Lon, hasLon, lonErr = parseNumber("lon", rec[6])
			fe = leftmost(cols, latErr, lonErr, validateOffice(&o, hasLat, hasLon))
			id = o.ID
			f.Offices = append(f.Offices, o)
		case DataMissions:
			m := Mission{ID: rec[0], Country: rec[1], Kind: rec[2], Name: rec[3], City: rec[4],
				State: rec[5], Address: rec[6], Source: source}
			lat, hasLat, latErr := parseNumber("lat", rec[7])
			lon, hasLon, lonErr := parseNumber("lon", rec[8])
			if hasLat {
				m.Lat = &lat
			}
			if hasLon {
				m.Lon = &lon
			}
			fe = leftmost(cols, latErr, lonErr, validateMission(&m))
			id = m.ID
			f.Missions = append(f.Missions, m)
		case DataContacts:
			c := Contact{Name: rec[1], Title: rec[2], Phone: rec[3], Email: rec[4]}
			fe = checkID("mission_id", rec[0])
			if fe == nil {
				fe = validateContact(&c)
			}
			if fe == nil {
				mid := rec[0]
				f.Contacts[mid] = append(f.Contacts[mid], c)
				if _, ok := f.ContactLines[mid]; !ok {
					f.ContactLines[mid] = line
				}
			}
		case DataHeadquarters:
			h := Headquarters{ID: rec[0], Name: rec[1], City: rec[2], State: rec[3], Phone: rec[4],
				Hours: rec[5], Source: source}
			fe = validateHeadquarters(&h)
			id = h.ID
			f.Headquarters = append(f.Headquarters, h)
		}
		if fe != nil {
			return nil, &LineError{File: name, Line: fieldLine(cr, cols, fe.Field, line), Field: fe.Field, Msg: fe.Msg}
		}
		if id != "" {
			if first, dup := firstLine[id]; dup {
				return nil, &LineError{File: name, Line: line, Field: "id", Msg: fmt.Sprintf("%q is already used on line %d; ids must be unique", id, first)}
			}
			firstLine[id] = line
		}
	}
	return f, nil
}

// leftmost returns the error of the leftmost column, so that a row with
// several problems always reports the same one; on a tie the earlier argument
// wins (a parse error explains a later "missing" better than the reverse).
func leftmost(cols []string, errs ...*fieldError) *fieldError {
	var best *fieldError
	bestCol := 0
	for _, fe := range errs {
		if fe == nil {
			continue
		}
		col := columnOf(cols, fe.Field)
		if best == nil || col < bestCol {
			best, bestCol = fe, col
		}
	}
	return best
}

func columnOf(cols []string, field string) int {
	for i, c := range cols {
		if c == field {
			return i
		}
	}
	return len(cols)
}

// fieldLine is the line a field of the current record starts on; a quoted
// field may span lines.
func fieldLine(cr *csv.Reader, cols []string, field string, recordLine int) int {
	if i := columnOf(cols, field); i < len(cols) {
		if l, _ := cr.FieldPos(i); l > 0 {
			return l
		}
	}
	return recordLine
}

func csvError(name string, err error, rec []string, want int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &LineError{File: name, Msg: err.Error()}
	}
	var msg string
	line := pe.Line
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		line = pe.StartLine
		msg = fmt.Sprintf("the row has %d fields but the header has %d (a comma inside a value needs the value in double quotes)", len(rec), want)
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = fmt.Sprintf(`bad quoting at byte %d: a quoted value must end with '"' and write a '"' inside it as '""'`, pe.Column)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = fmt.Sprintf(`bad quoting at byte %d: '"' inside an unquoted value; put the value in double quotes and write the '"' as '""'`, pe.Column)
	default:
		msg = pe.Err.Error()
	}
	return &LineError{File: name, Line: line, Msg: msg}
}

// jsonOffice is Office as it arrives in JSON: pointers tell a missing lat/lon
// from a zero one. Its fields and tags must match Office's (a test checks).
type jsonOffice struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Kind            string   `json:"kind"`
	City            string   `json:"city"`
	State           string   `json:"state"`
	Lat             *float64 `json:"lat"`
	Lon             *float64 `json:"lon"`
	Phone           string   `json:"phone"`
	AfterHoursPhone string   `json:"after_hours_phone"`
	States          []string `json:"states"`
	Source          string   `json:"source"`
}

func (j *jsonOffice) office() Office {
	o := Office{ID: j.ID, Name: j.Name, Kind: j.Kind, City: j.City, State: j.State,
		Phone: j.Phone, AfterHoursPhone: j.AfterHoursPhone, States: j.States, Source: j.Source}
	if j.Lat != nil {
		o.Lat = *j.Lat
	}
	if j.Lon != nil {
		o.Lon = *j.Lon
	}
	return o
}

const jsonShape = `{"offices":[…],"missions":[…],"headquarters":[…]}`

// readJSON walks the top-level object token by token and decodes one array
// element at a time, so that every error can name the element's path and line.
func readJSON(name string, data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	lines := lineCounter{data: data, line: 1}
	fail := func(off int64, field, msg string) error {
		return &LineError{File: name, Line: lines.at(off), Field: field, Msg: msg}
	}
	syntax := func(err error, field string) error {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return fail(se.Offset, field, "invalid JSON: "+se.Error())
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail(int64(len(data)), field, "the JSON document ends early")
		}
		return fail(dec.InputOffset(), field, strings.TrimPrefix(err.Error(), "json: "))
	}

	tok, err := dec.Token()
	if err == io.EOF {
		return nil, &LineError{File: name, Msg: "is empty: want one JSON document " + jsonShape}
	}
	if err != nil {
		return nil, syntax(err, "")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(dec.InputOffset(), "", "want one JSON object "+jsonShape)
	}
	f := &File{Name: name}
	present := map[string]bool{}
	seen := map[string]bool{}
	rows := 0
	for dec.More() {
		keyOff := skipSpace(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err, "")
		}
		key, _ := tok.(string)
		switch key {
		case DataOffices, DataMissions, DataHeadquarters:
		case DataContacts:
			return nil, fail(keyOff, key, `unknown field: contacts go inside their missions ("contacts":[…] in a mission)`)
		default:
			// The key is the path, but only a tame one goes in the Field:
			// anything else is quoted (and cut) in the message.
			if checkID("", strings.ToLower(key)) == nil {
				return nil, fail(keyOff, key, "unknown field: want "+jsonShape)
			}
			return nil, fail(keyOff, "", "unknown field "+quoteShort(key)+": want "+jsonShape)
		}
		if seen[key] {
			return nil, fail(keyOff, key, "appears twice")
		}
		seen[key] = true
		tok, err = dec.Token()
		if err != nil {
			return nil, syntax(err, key)
		}
		if tok == nil {
			continue // null: the document does not carry this kind
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, fail(keyOff, key, "want an array")
		}
		present[key] = true
		ids := map[string]int{}
		for i := 0; dec.More(); i++ {
			// More has skipped to the separating comma, which Decode then
			// consumes: the offsets in Decode's errors count from after it.
			base := dec.InputOffset()
			if base < int64(len(data)) && data[base] == ',' {
				base++
			}
			start := skipSpace(data, base)
			line := lines.at(start)
			path := key + "[" + strconv.Itoa(i) + "]"
			rows++
			if rows > MaxRows {
				return nil, fail(start, path, fmt.Sprintf("more than %d rows; split the file", MaxRows))
			}
			var fe *fieldError
			id := ""
			switch key {
			case DataOffices:
				var jo jsonOffice
				if err := dec.Decode(&jo); err != nil {
					return nil, decodeError(fail, syntax, base, start, path, err)
				}
				o := jo.office()
				fe = validateOffice(&o, jo.Lat != nil, jo.Lon != nil)
				id = o.ID
				f.Offices = append(f.Offices, o)
			case DataMissions:
				var m Mission
				if err := dec.Decode(&m); err != nil {
					return nil, decodeError(fail, syntax, base, start, path, err)
				}
				rows += len(m.Contacts)
				if rows > MaxRows {
					return nil, fail(start, path, fmt.Sprintf("more than %d rows; split the file", MaxRows))
				}
				fe = validateMission(&m)
				id = m.ID
				f.Missions = append(f.Missions, m)
			case DataHeadquarters:
				var h Headquarters
				if err := dec.Decode(&h); err != nil {
					return nil, decodeError(fail, syntax, base, start, path, err)
				}
				fe = validateHeadquarters(&h)
				id = h.ID
				f.Headquarters = append(f.Headquarters, h)
			}
			if fe != nil {
				return nil, &LineError{File: name, Line: line, Field: path + "." + fe.Field, Msg: fe.Msg}
			}
			if first, dup := ids[id]; dup {
				return nil, &LineError{File: name, Line: line, Field: path + ".id", Msg: fmt.Sprintf("%q is already used on line %d; ids must be unique", id, first)}
			}
			ids[id] = line
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, syntax(err, key)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, syntax(err, "")
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for end < int64(len(data)) && strings.IndexByte(" \t\r\n", data[end]) >= 0 {
			end++
		}
		return nil, fail(end, "", "trailing data after the JSON document")
	}
	for _, k := range []string{DataOffices, DataMissions} {
		if present[k] {
			f.Kinds = append(f.Kinds, k)
		}
	}
	for _, m := range f.Missions {
		if len(m.Contacts) > 0 {
			f.Kinds = append(f.Kinds, DataContacts)
			break
		}
	}
	if present[DataHeadquarters] {
		f.Kinds = append(f.Kinds, DataHeadquarters)
	}
	if len(f.Kinds) == 0 {
		return nil, &LineError{File: name, Msg: "carries no offices, missions or headquarters: want " + jsonShape}
	}
	return f, nil
}

// skipSpace moves off past JSON whitespace and a separating comma, to where
// the next value or key starts.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// decodeError turns an error from decoding one array element into a
// LineError naming the element's path and, where the decoder says, the line.
func decodeError(fail func(int64, string, string) error, syntax func(error, string) error, base, start int64, path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path
		if te.Field != "" {
			field += "." + te.Field
		}
		want := jsonTypeName(te.Type)
		got := te.Value // "string", "number", or "number 1e400" with the literal
		if len(got) > 60 {
			got = got[:60] + "…" // a number literal is ASCII: the cut is safe
		}
		msg := "want " + want + ", got " + got
		if strings.HasPrefix(got, "number ") && want == "a number" {
			msg = strings.TrimPrefix(got, "number ") + " is out of range"
		}
		// The offset counts from base and points just past the bad value.
		return fail(base+te.Offset, field, msg)
	}
	// Unknown fields come back as a plain error: `json: unknown field "x"`.
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		key, uerr := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		if uerr != nil {
			key = msg
		}
		return fail(start, path, "unknown field "+quoteShort(key))
	}
	return syntax(err, path)
}

func jsonTypeName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}
