package dirdata

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	officesHdr  = "id,name,kind,city,state,lat,lon,phone,after_hours_phone,states,source\n"
	officeOK    = "fo-ok,Good Office,field,Boston,MA,42.36,-71.05,,,,src\n"
	missionsHdr = "id,country,kind,name,city,state,address,lat,lon,source\n"
	missionOK   = "emb-ok,Canada,embassy,Embassy of Canada,Washington,DC,501 Pennsylvania Avenue NW,38.89,-77.01,src\n"
	contactsHdr = "mission_id,name,title,phone,email\n"
	contactOK   = "emb-ok,Jordan Avery,Liaison,202-555-0101,j.avery@example.org\n"
	hqHdr       = "id,name,city,state,phone,hours,source\n"
	hqOK        = "pld,Protective Liaison Division,Washington,DC,202-895-3600,business hours,src\n"
)

func mustBundled(t testing.TB) *File {
	t.Helper()
	b, err := Bundled()
	if err != nil {
		t.Fatalf("Bundled: %v", err)
	}
	return b
}

func mustReadFile(t testing.TB, path string) *File {
	t.Helper()
	f, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	return f
}

func TestBundled(t *testing.T) {
	b := mustBundled(t)
	if got, want := b.Kinds, []string{DataOffices, DataMissions, DataHeadquarters}; !slices.Equal(got, want) {
		t.Errorf("Kinds = %v, want %v", got, want)
	}
	if len(b.Offices) != 31 || len(b.Missions) != 63 || len(b.Headquarters) != 3 {
		t.Fatalf("bundled has %d offices, %d missions, %d headquarters; want 31, 63, 3",
			len(b.Offices), len(b.Missions), len(b.Headquarters))
	}
	kinds := map[string]int{}
	for _, o := range b.Offices {
		kinds[o.Kind]++
		if o.ID == "fo-chicago" {
			if o.Phone != "(312) 353-6163" {
				t.Errorf("Chicago phone = %q", o.Phone)
			}
			if len(o.States) != 13 || o.States[0] != "IL" || o.States[12] != "WI" {
				t.Errorf("Chicago states = %v, want 13 from IL to WI", o.States)
			}
			continue
		}
		// No phone was inferred: a blank means "not on file".
		if o.Phone != "" || o.AfterHoursPhone != "" {
			t.Errorf("%s has phone %q / %q; only Chicago's is sourced", o.ID, o.Phone, o.AfterHoursPhone)
		}
	}
	if kinds[KindField] != 8 || kinds[KindResident] != 20 || kinds[KindSatellite] != 3 {
		t.Errorf("office kinds = %v, want 8 field, 20 resident, 3 satellite", kinds)
	}
	located := 0
	for _, m := range b.Missions {
		if len(m.Contacts) > 0 {
			t.Errorf("bundled mission %s has contacts; contacts are never bundled", m.ID)
		}
		if m.HasLocation() {
			located++
		}
	}
	if located != 62 { // the Philippines in Houston has no coordinates
		t.Errorf("%d missions have a location, want 62", located)
	}
	if b.Contacts != nil {
		t.Errorf("bundled File has contacts")
	}
	hq := map[string]string{}
	for _, h := range b.Headquarters {
		hq[h.ID] = h.Phone
	}
	if hq[HQDivision] != "202-895-3600" || hq[HQCommandCenter] != "571-345-3146" || hq[HQCommandCenterTollFree] != "866-217-2089" {
		t.Errorf("headquarters = %v", hq)
	}

	// A fresh copy each time: a caller changing one cannot change the next.
	b.Offices[0].Name = "changed"
	b.Offices[1].States = append(b.Offices[1].States, "XX")
	if again := mustBundled(t); again.Offices[0].Name == "changed" || slices.Contains(again.Offices[1].States, "XX") {
		t.Errorf("Bundled returned shared data")
	}
}

func TestBundledFiles(t *testing.T) {
	src := BundledSources()
	disk, err := os.ReadFile("bundled/SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, disk) || !bytes.HasPrefix(src, []byte("# DSS field offices")) {
		t.Errorf("BundledSources is not bundled/SOURCES.md")
	}
	var names []string
	err = fs.WalkDir(bundledFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bundled/README.md", "bundled/SOURCES.md", "bundled/headquarters.csv", "bundled/missions.csv", "bundled/offices.csv"}
	if !slices.Equal(names, want) {
		t.Errorf("embedded %v, want %v", names, want)
	}
	for _, n := range names {
		data, _ := bundledFS.ReadFile(n)
		if strings.HasSuffix(n, ".csv") && (bytes.Contains(data, []byte("FICTIONAL")) || bytes.Contains(data, []byte("example.org"))) {
			t.Errorf("%s carries fictional sample contacts", n)
		}
	}
}

// TestJSONOfficeMirrorsOffice keeps the JSON reader's copy of Office in step
// with model.go: a field added there and not here would be refused as unknown.
func TestJSONOfficeMirrorsOffice(t *testing.T) {
	a, b := reflect.TypeFor[Office](), reflect.TypeFor[jsonOffice]()
	if a.NumField() != b.NumField() {
		t.Fatalf("Office has %d fields, jsonOffice %d", a.NumField(), b.NumField())
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		tagA, _, _ := strings.Cut(fa.Tag.Get("json"), ",")
		tagB, _, _ := strings.Cut(fb.Tag.Get("json"), ",")
		if fa.Name != fb.Name || tagA != tagB {
			t.Errorf("field %d: Office %s %q, jsonOffice %s %q", i, fa.Name, tagA, fb.Name, tagB)
		}
	}
}

func TestReadFileSamples(t *testing.T) {
	c := mustReadFile(t, "testdata/contacts-fictional.csv")
	if !slices.Equal(c.Kinds, []string{DataContacts}) {
		t.Errorf("Kinds = %v", c.Kinds)
	}
	if n := len(c.Contacts["emb-dc-canada"]); n != 2 || c.Contacts["emb-dc-canada"][1].Name != "Sam Okafor" {
		t.Errorf("emb-dc-canada contacts = %v", c.Contacts["emb-dc-canada"])
	}
	wantLines := map[string]int{"emb-dc-canada": 2, "cg-chicago-canada": 4, "emb-dc-japan": 5, "cg-miami-japan": 6}
	if !reflect.DeepEqual(c.ContactLines, wantLines) {
		t.Errorf("ContactLines = %v, want %v", c.ContactLines, wantLines)
	}
	if got := c.ContactsByMission(); !reflect.DeepEqual(got, c.Contacts) {
		t.Errorf("ContactsByMission = %v", got)
	}

	// The raw 2015 layer is a lead list, not an import: refused as it is.
	_, err := ReadFile("testdata/dc-embassies-2015.csv")
	var le *LineError
	if !errors.As(err, &le) || le.Line != 1 || !strings.Contains(le.Msg, "unrecognised header") ||
		!strings.Contains(le.Msg, "missions.csv: id,country,kind,name,city,state,address,lat,lon[,source]") {
		t.Fatalf("dc-embassies-2015.csv: err = %v, want an unrecognised header error listing the accepted ones", err)
	}
	if !strings.HasPrefix(err.Error(), "testdata/dc-embassies-2015.csv:1: unrecognised header \"objectid,") {
		t.Errorf("error = %q", err)
	}
}

// lineErr checks that err is a LineError with that file, line and field, that
// its text starts with the file:line: field prefix, and that it says msg.
func lineErr(t *testing.T, err error, file string, line int, field, msg string) {
	t.Helper()
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v (%T), want a LineError", err, err)
	}
	if le.File != file || le.Line != line || le.Field != field {
		t.Errorf("error at %s:%d field %q, want %s:%d field %q (%v)", le.File, le.Line, le.Field, file, line, field, err)
	}
	prefix := file
	if line > 0 {
		prefix += ":" + strconv.Itoa(line)
	}
	if prefix != "" {
		prefix += ": "
	}
	if field != "" {
		prefix += "field " + field + ": "
	}
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Error() = %q, want prefix %q", err, prefix)
	}
	if !strings.Contains(le.Msg, msg) {
		t.Errorf("Msg = %q, want it to say %q", le.Msg, msg)
	}
}

func TestLineErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    LineError
		want string
	}{
		{LineError{"missions.csv", 14, "lat", `"abc" is not a number`}, `missions.csv:14: field lat: "abc" is not a number`},
		{LineError{"missions.csv", 0, "lat", "x"}, "missions.csv: field lat: x"},
		{LineError{"missions.csv", 3, "", "x"}, "missions.csv:3: x"},
		{LineError{"missions.csv", 0, "", "x"}, "missions.csv: x"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestCSVValidation(t *testing.T) {
	long := strings.Repeat("a", 1001)
	tests := []struct {
		name  string
		file  string
		data  string
		line  int
		field string
		msg   string
	}{
		// ids
		{"id empty", "offices.csv", officesHdr + officeOK + ",X,field,Boston,MA,1,1,,,,\n", 3, "id", "is empty; it is required"},
		{"id upper case", "offices.csv", officesHdr + officeOK + "FO-X,X,field,Boston,MA,1,1,,,,\n", 3, "id", `"FO-X" is not a valid id`},
		{"id leading dash", "offices.csv", officesHdr + officeOK + "-x,X,field,Boston,MA,1,1,,,,\n", 3, "id", "is not a valid id"},
		{"id with space", "missions.csv", missionsHdr + missionOK + "emb x,Canada,embassy,E,W,DC,,,,\n", 3, "id", "is not a valid id"},
		{"id too long", "offices.csv", officesHdr + officeOK + strings.Repeat("a", 65) + ",X,field,Boston,MA,1,1,,,,\n", 3, "id", "is not a valid id"},
		{"id twice", "offices.csv", officesHdr + officeOK + "fo-ok,Other,field,Boston,MA,1,1,,,,\n", 3, "id", `"fo-ok" is already used on line 2`},
		{"hq id twice", "headquarters.csv", hqHdr + hqOK + hqOK, 3, "id", "already used on line 2"},
		// text
		{"name empty", "offices.csv", officesHdr + officeOK + "fo-x, ,field,Boston,MA,1,1,,,,\n", 3, "name", "is empty; it is required"},
		{"name with tab", "offices.csv", officesHdr + officeOK + "fo-x,A\tB,field,Boston,MA,1,1,,,,\n", 3, "name", `control or formatting character '\t'`},
		{"name with bidi override", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,Evil\u202Etxt,W,DC,,,,\n", 3, "name", `'\u202e'`},
		{"name with newline, line of the field", "offices.csv", officesHdr + officeOK + "fo-x,\"A\nB\",field,Boston,MA,1,1,,,,\n", 3, "name", `'\n'`},
		{"name too long", "offices.csv", officesHdr + officeOK + "fo-x," + long + ",field,Boston,MA,1,1,,,,\n", 3, "name", "is 1001 bytes long; the limit is 1000"},
		{"city with C1 control", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Bos\u0085ton,MA,1,1,,,,\n", 3, "city", "control or formatting"},
		{"source too long", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,,,," + strings.Repeat("s", 2001) + "\n", 3, "source", "the limit is 2000"},
		{"address too long", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC," + long + ",,,\n", 3, "address", "the limit is 1000"},
		{"hours line separator", "headquarters.csv", hqHdr + "pld,PLD,Washington,DC,202-895-3600,24\u2028hours,\n", 2, "hours", "control or formatting"},
		// lines counted across a quoted field that spans lines
		{"line after multi-line field", "missions.csv", missionsHdr + "m-a,Canada,embassy,E,W,DC,\"1 Main St\n\",,,\n" + missionOK + "m-b,,embassy,E,W,DC,,,,\n", 5, "country", "is empty"},
		// office kind and state
		{"office kind wrong", "offices.csv", officesHdr + officeOK + "fo-x,X,embassy,Boston,MA,1,1,,,,\n", 3, "kind", `"embassy" is not an office kind`},
		{"office kind empty", "offices.csv", officesHdr + officeOK + "fo-x,X,,Boston,MA,1,1,,,,\n", 3, "kind", "is empty"},
		{"office state unknown", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,XX,1,1,,,,\n", 3, "state", `"XX" is not a US state`},
		{"office state lower case", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,ma,1,1,,,,\n", 3, "state", "is not a US state"},
		{"office state empty", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,,1,1,,,,\n", 3, "state", "is empty"},
		// coordinates
		{"office lat empty", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,,1,,,,\n", 3, "lat", "is empty; it is required"},
		{"office lon empty", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,,,,,\n", 3, "lon", "is empty; it is required"},
		{"office lat not a number", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,abc,1,,,,\n", 3, "lat", `"abc" is not a number`},
		{"office lat NaN", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,NaN,1,,,,\n", 3, "lat", "is not a finite number"},
		{"office lon infinite", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,-Inf,,,,\n", 3, "lon", "is not a finite number"},
		{"office lat too big", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,90.5,1,,,,\n", 3, "lat", "90.5 is out of range [-90, 90]"},
		{"office lon too small", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,-180.01,,,,\n", 3, "lon", "is out of range [-180, 180]"},
		{"office number overflow", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1e999,1,,,,\n", 3, "lat", `"1e999" is not a number`},
		{"leftmost error wins", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,abc,1,nophone,,XX,\n", 3, "lat", "is not a number"},
		{"earlier column beats a bad number", "offices.csv", officesHdr + officeOK + "fo-x,X,bad,Boston,MA,abc,1,,,,\n", 3, "kind", "not an office kind"},
		{"mission lat without lon", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC,,38.9,,\n", 3, "lon", "give both or neither"},
		{"mission lon without lat", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC,,,-77,\n", 3, "lat", "give both or neither"},
		{"mission lat not a number", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC,,abc,-77,\n", 3, "lat", `"abc" is not a number`},
		{"mission lat out of range", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC,,-91,-77,\n", 3, "lat", "out of range"},
		{"mission lon out of range", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DC,,1,181,\n", 3, "lon", "out of range"},
		// mission kind, country, name, state
		{"mission country empty", "missions.csv", missionsHdr + missionOK + "m-x,,embassy,E,W,DC,,,,\n", 3, "country", "is empty"},
		{"mission kind empty", "missions.csv", missionsHdr + missionOK + "m-x,Canada,,E,W,DC,,,,\n", 3, "kind", "is empty"},
		{"mission kind upper case", "missions.csv", missionsHdr + missionOK + "m-x,Canada,Embassy,E,W,DC,,,,\n", 3, "kind", `"Embassy" is not a mission kind`},
		{"mission kind with dash", "missions.csv", missionsHdr + missionOK + "m-x,Canada,consulate-general,E,W,DC,,,,\n", 3, "kind", "is not a mission kind"},
		{"mission name empty", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,,W,DC,,,,\n", 3, "name", "is empty"},
		{"mission state three letters", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,DCA,,,,\n", 3, "state", "is not a two-letter upper-case code"},
		{"mission state lower case", "missions.csv", missionsHdr + missionOK + "m-x,Canada,embassy,E,W,dc,,,,\n", 3, "state", "is not a two-letter"},
		// states covered
		{"states unknown code", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,,,IL;XX,\n", 3, "states", `"XX" is not a US state`},
		{"states twice", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,,,IL; IN;IL,\n", 3, "states", "IL is listed twice"},
		{"states comma-separated", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,,,\"IL,IN\",\n", 3, "states", `"IL,IN" is not a US state`},
		// phones
		{"phone words", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,call the desk,,,\n", 3, "phone", "does not look like a phone number"},
		{"phone too few digits", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,555-010,,,\n", 3, "phone", "does not look like a phone number"},
		{"phone too many digits", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,+1 202 555 0101 0101 99,,,\n", 3, "phone", "does not look like"},
		{"phone plus inside", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,202+555-0101,,,\n", 3, "phone", "does not look like"},
		{"phone markup", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,<tel:2025550101|call>,,,\n", 3, "phone", "does not look like"},
		{"phone extension too long", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,202-555-0101 x1234567,,,\n", 3, "phone", "does not look like"},
		{"after-hours phone bad", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1,,24h,,\n", 3, "after_hours_phone", "does not look like"},
		{"contact phone bad", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,abc,\n", 3, "phone", "does not look like"},
		{"hq phone empty", "headquarters.csv", hqHdr + hqOK + "cc,Command Center,Arlington,VA,,24 hours,\n", 3, "phone", "is empty; it is required"},
		{"hq state unknown", "headquarters.csv", hqHdr + hqOK + "cc,Command Center,Arlington,XX,571-345-3146,24 hours,\n", 3, "state", "is not a US state"},
		{"hq name empty", "headquarters.csv", hqHdr + hqOK + "cc,,Arlington,VA,571-345-3146,24 hours,\n", 3, "name", "is empty"},
		{"hq id bad", "headquarters.csv", hqHdr + hqOK + "Command Center,CC,Arlington,VA,571-345-3146,24 hours,\n", 3, "id", "is not a valid id"},
		// contacts
		{"contact mission_id empty", "contacts.csv", contactsHdr + contactOK + ",A,,,\n", 3, "mission_id", "is empty"},
		{"contact mission_id bad", "contacts.csv", contactsHdr + contactOK + "Emb Canada,A,,,\n", 3, "mission_id", "is not a valid id"},
		{"contact name empty", "contacts.csv", contactsHdr + contactOK + "emb-ok,,Liaison,,\n", 3, "name", "is empty"},
		{"email without at", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,,a.example.org\n", 3, "email", `"a.example.org" is not an email address`},
		{"email two ats", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,,a@b@example.org\n", 3, "email", "is not an email address"},
		{"email nothing before at", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,,@example.org\n", 3, "email", "is not an email address"},
		{"email nothing after at", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,,a@\n", 3, "email", "is not an email address"},
		{"email with space", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,,,a b@example.org\n", 3, "email", "is not an email address"},
		// file-level problems
		{"wrong field count", "offices.csv", officesHdr + officeOK + "fo-x,X,field,Boston,MA,1,1\n", 3, "", "the row has 7 fields but the header has 11"},
		{"too many fields", "contacts.csv", contactsHdr + contactOK + "emb-ok,A,B,,,extra\n", 3, "", "the row has 6 fields but the header has 5"},
		{"bad quote", "offices.csv", officesHdr + officeOK + "fo-x,\"Office \"X\",field,Boston,MA,1,1,,,,\n", 3, "", "bad quoting"},
		{"bare quote", "offices.csv", officesHdr + officeOK + "fo-x,Office \"X\",field,Boston,MA,1,1,,,,\n", 3, "", `'"' inside an unquoted value`},
		{"unterminated quote", "offices.csv", officesHdr + officeOK + "fo-x,\"Office,field,Boston,MA,1,1,,,,\nmore\n", 4, "", "bad quoting"},
		{"invalid UTF-8", "offices.csv", officesHdr + officeOK + "fo-x,Caf\xe9,field,Boston,MA,1,1,,,,\n", 3, "", "is not valid UTF-8"},
		{"empty file", "offices.csv", "", 0, "", "is empty"},
		{"only a BOM", "offices.csv", "\uFEFF", 0, "", "is empty"},
		{"unrecognised header", "offices.csv", "id,name,kind,city,state,lat,lon,phone,states\n", 1, "", "unrecognised header"},
		{"contacts take no source", "contacts.csv", "mission_id,name,title,phone,email,source\n", 1, "", "unrecognised header"},
		{"source only last", "offices.csv", "source,id,name,kind,city,state,lat,lon,phone,after_hours_phone,states\n", 1, "", "unrecognised header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(tc.file, strings.NewReader(tc.data))
			if err == nil {
				t.Fatalf("Read accepted it: %+v", f)
			}
			if f != nil {
				t.Errorf("Read returned a File with its error; an import is all or nothing")
			}
			lineErr(t, err, tc.file, tc.line, tc.field, tc.msg)
		})
	}
}

func TestCSVAccepts(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		data  string
		check func(t *testing.T, f *File)
	}{
		{"BOM, case and spaces in the header", "offices.csv", "\uFEFF ID , Name,KIND,city,state,lat,lon,phone,after_hours_phone,states, Source \n" + officeOK,
			func(t *testing.T, f *File) {
				if len(f.Offices) != 1 || f.Offices[0].Source != "src" {
					t.Errorf("offices = %+v", f.Offices)
				}
			}},
		{"BOM before a quoted header", "contacts.csv", "\uFEFF\"mission_id\",\"name\",\"title\",\"phone\",\"email\"\r\n" + contactOK, nil},
		{"no source column", "offices.csv", "id,name,kind,city,state,lat,lon,phone,after_hours_phone,states\nfo-x,X,satellite,Bridgeport,CT,41.1,-73.1,,,\n",
			func(t *testing.T, f *File) {
				if f.Offices[0].Source != "" || f.Offices[0].Kind != KindSatellite {
					t.Errorf("office = %+v", f.Offices[0])
				}
			}},
		{"header only", "missions.csv", missionsHdr,
			func(t *testing.T, f *File) {
				if !slices.Equal(f.Kinds, []string{DataMissions}) || f.Missions != nil {
					t.Errorf("file = %+v", f)
				}
			}},
		{"trims every field, states list", "offices.csv", officesHdr + " fo-x , Office X ,resident, St. Louis , MO , 38.6 , -90.2 , (314) 555-0100 ext. 12 , +1 314 555 0100 x9 , MO; IL ;KS; , a source \n",
			func(t *testing.T, f *File) {
				want := Office{ID: "fo-x", Name: "Office X", Kind: KindResident, City: "St. Louis", State: "MO", Lat: 38.6, Lon: -90.2,
					Phone: "(314) 555-0100 ext. 12", AfterHoursPhone: "+1 314 555 0100 x9", States: []string{"MO", "IL", "KS"}, Source: "a source"}
				if !reflect.DeepEqual(f.Offices[0], want) {
					t.Errorf("office = %+v\nwant %+v", f.Offices[0], want)
				}
			}},
		{"territories", "offices.csv", officesHdr + "ro-x,X,resident,San Juan,PR,18.4,-66.1,,,PR;VI;GU;AS;MP;DC,\n", nil},
		{"mission without location or state, any kind word", "missions.csv", missionsHdr + "m-x,Holy See,apostolic_nunciature,Apostolic Nunciature,,,,,,\n",
			func(t *testing.T, f *File) {
				if f.Missions[0].HasLocation() || f.Missions[0].Lat != nil {
					t.Errorf("mission = %+v", f.Missions[0])
				}
			}},
		{"Unicode text, quotes and commas", "missions.csv", missionsHdr + "emb-x,Côte d'Ivoire,embassy,\"Embassy of \"\"Côte\"\", d'Ivoire\",東京,,,,,\n",
			func(t *testing.T, f *File) {
				if f.Missions[0].Name != `Embassy of "Côte", d'Ivoire` {
					t.Errorf("name = %q", f.Missions[0].Name)
				}
			}},
		{"blank lines skipped", "headquarters.csv", hqHdr + "\n" + hqOK + "\n\n", nil},
		{"phones", "contacts.csv", contactsHdr +
			"m,A,,202-555-0101,\nm,B,,+44 20 7946 0958,\nm,C,,202.555.0101,\nm,D,,(202) 555-0101 ext 7,\nm,E,,2025550101x7,\nm,F,,+1 (202) 555/0101 EXT.123456,\n",
			func(t *testing.T, f *File) {
				if len(f.Contacts["m"]) != 6 || f.ContactLines["m"] != 2 {
					t.Errorf("contacts = %+v", f.Contacts)
				}
			}},
		{"field of exactly the limit", "offices.csv", officesHdr + "fo-x," + strings.Repeat("n", 1000) + ",field,Boston,MA,1,1,,,," + strings.Repeat("s", 2000) + "\n", nil},
		{"upper-case extension", "offices.CSV", officesHdr + officeOK, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(tc.file, strings.NewReader(tc.data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	good := []string{"202-555-0101", "(312) 353-6163", "+1 202 555 0101", "202.555.0101", "202/555-0101", "1234567",
		"123456789012345", "(202) 555-0101 ext. 12", "202-555-0101 EXT 123456", "202-555-0101x1", "(202) 555-0101 X 7"}
	bad := []string{"123456", "1234567890123456", "ext. 12", "x12", "202-555-0101 -x12", "202-555-0101 x1234567",
		"202-555-0101 ext.", "202 555 0101 ext 1 2", "1234567İx1", "2025550101#", "202+5550101", "++12025550101",
		"tel:2025550101", "202-555-0101 or 0102", "２０２５５５０１０１"}
	for _, v := range good {
		if fe := checkPhone("phone", v, false); fe != nil {
			t.Errorf("%q refused: %s", v, fe.Msg)
		}
	}
	for _, v := range bad {
		if fe := checkPhone("phone", v, false); fe == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestTooManyRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(contactsHdr)
	for range MaxRows {
		b.WriteString("m,A,,,\n")
	}
	if _, err := Read("contacts.csv", strings.NewReader(b.String())); err != nil {
		t.Fatalf("MaxRows rows: %v", err)
	}
	b.WriteString("m,A,,,\n")
	_, err := Read("contacts.csv", strings.NewReader(b.String()))
	lineErr(t, err, "contacts.csv", MaxRows+2, "", "more than 200000 rows")
}

func TestTooManyJSONRows(t *testing.T) {
	// Rows are counted across arrays and nested contacts.
	var b strings.Builder
	b.WriteString(`{"missions": [{"id": "m", "country": "C", "kind": "embassy", "name": "N", "contacts": [{"name": "A"}, {"name": "B"}]}],` + "\n" + `"headquarters": [`)
	for i := range MaxRows - 3 { // + 1 mission + 2 contacts
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"id": "h` + strconv.Itoa(i) + `", "name": "N", "phone": "202-555-0100"}`)
	}
	ok := b.String()
	if _, err := Read("d.json", strings.NewReader(ok+"]}")); err != nil {
		t.Fatalf("MaxRows rows: %v", err)
	}
	_, err := Read("d.json", strings.NewReader(ok+`, {"id": "one-more"}]}`))
	lineErr(t, err, "d.json", MaxRows-2, "headquarters["+strconv.Itoa(MaxRows-3)+"]", "more than 200000 rows")
}

const jsonOK = `{
  "offices": [
    {"id": "fo-ok", "name": "Good Office", "kind": "field", "city": "Boston", "state": "MA", "lat": 42.36, "lon": -71.05},
    OFFICE
  ],
  "missions": [
    {"id": "emb-ok", "country": "Canada", "kind": "embassy", "name": "Embassy of Canada", "city": "Washington", "state": "DC",
     "contacts": [{"name": "Jordan Avery", "phone": "202-555-0101"}]},
    MISSION
  ]
}
`

func jsonDoc(office, mission string) string {
	if office == "" {
		office = `{"id": "fo-2", "name": "Other", "kind": "resident", "city": "Dallas", "state": "TX", "lat": 32.7, "lon": -96.8}`
	}
	if mission == "" {
		mission = `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "Embassy of Japan"}`
	}
	return strings.NewReplacer("OFFICE", office, "MISSION", mission).Replace(jsonOK)
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		line  int
		field string
		msg   string
	}{
		{"unknown field", jsonDoc(`{"id": "fo-2", "bogus": 1}`, ""), 4, "offices[1]", `unknown field "bogus"`},
		{"unknown field in a contact", jsonDoc("", `{"id": "emb-2", "contacts": [{"name": "A", "mobile": "1"}]}`), 9, "missions[1]", `unknown field "mobile"`},
		{"unknown top-level field", `{"offices": [], "partners": []}`, 1, "partners", "unknown field"},
		{"unknown top-level field, odd name", `{"\nx": 1}`, 1, "", `unknown field "\nx"`},
		{"unknown field, long name", jsonDoc(`{"id": "fo-2", "`+strings.Repeat("k", 5000)+`": 1}`, ""), 4, "offices[1]", `unknown field "kkkkkkkkkk`},
		{"huge number", jsonDoc(`{"id": "fo-2", "lat": 1`+strings.Repeat("0", 5000)+`}`, ""), 4, "offices[1].lat", "00000… is out of range"},
		{"contacts at the top level", "{\n\"contacts\": []}", 2, "contacts", "contacts go inside their missions"},
		{"number as string", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "E",
      "lat": "abc", "lon": 1}`), 10, "missions[1].lat", "want a number, got string"},
		{"string as number", jsonDoc(`{"id": 7}`, ""), 4, "offices[1].id", "want a string, got number"},
		{"contact phone as number", jsonDoc("", `{"id": "emb-2", "contacts": [{"name": "A", "phone": 2025550101}]}`), 9, "missions[1].contacts.phone", "want a string, got number"},
		{"number out of range", jsonDoc(`{"id": "fo-2", "lat": 1e400}`, ""), 4, "offices[1].lat", "1e400 is out of range"},
		{"states not an array", jsonDoc(`{"id": "fo-2", "states": "IL"}`, ""), 4, "offices[1].states", "want an array, got string"},
		{"office without lat", jsonDoc(`{"id": "fo-2", "name": "X", "kind": "field", "state": "TX", "lon": 1}`, ""), 4, "offices[1].lat", "is empty; it is required"},
		{"office null lon", jsonDoc(`{"id": "fo-2", "name": "X", "kind": "field", "state": "TX", "lat": 1, "lon": null}`, ""), 4, "offices[1].lon", "is required"},
		{"validation: state", jsonDoc(`{"id": "fo-2", "name": "X", "kind": "field", "state": "XX", "lat": 1, "lon": 1}`, ""), 4, "offices[1].state", "is not a US state"},
		{"validation: states", jsonDoc(`{"id": "fo-2", "name": "X", "kind": "field", "state": "TX", "lat": 1, "lon": 1, "states": ["TX", "ZZ"]}`, ""), 4, "offices[1].states", `"ZZ" is not`},
		{"validation: mission kind", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "Embassy", "name": "E"}`), 9, "missions[1].kind", "is not a mission kind"},
		{"validation: lat without lon", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "E", "lat": 1}`), 9, "missions[1].lon", "give both or neither"},
		{"validation: contact email", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "E", "contacts": [{"name": "A"}, {"name": "B", "email": "b"}]}`), 9, "missions[1].contacts[1].email", "is not an email address"},
		{"validation: contact name", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "E", "contacts": [{"name": " "}]}`), 9, "missions[1].contacts[0].name", "is empty"},
		{"validation: control character", jsonDoc("", `{"id": "emb-2", "country": "Japan", "kind": "embassy", "name": "E\u0007"}`), 9, "missions[1].name", "control or formatting"},
		{"duplicate id", jsonDoc("", `{"id": "emb-ok", "country": "Japan", "kind": "embassy", "name": "E"}`), 9, "missions[1].id", `"emb-ok" is already used on line 7`},
		{"headquarters phone", `{"headquarters": [{"id": "pld", "name": "PLD", "phone": "none"}]}`, 1, "headquarters[0].phone", "does not look like a phone number"},
		{"trailing data", jsonDoc("", "") + "x", 12, "", "trailing data after the JSON document"},
		{"second document", jsonDoc("", "") + "\n{}", 13, "", "trailing data"},
		{"not an object", `[{"id": "x"}]`, 1, "", "want one JSON object"},
		{"key twice", `{"offices": [], "offices": []}`, 1, "offices", "appears twice"},
		{"not an array", "{\"offices\": {}}", 1, "offices", "want an array"},
		{"syntax error", "{\"offices\": [\n{\"id\": }]}", 2, "offices[0]", "invalid JSON"},
		{"ends early", "{\"offices\": [\n", 2, "offices", "ends early"},
		{"empty", "", 0, "", "is empty"},
		{"empty object", "{}", 0, "", "carries no offices, missions or headquarters"},
		{"only nulls", `{"offices": null}`, 0, "", "carries no"},
		{"invalid UTF-8", "{\"offices\": [\n{\"name\": \"Caf\xe9\"}]}", 2, "", "is not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read("directory.json", strings.NewReader(tc.data))
			if err == nil {
				t.Fatalf("Read accepted it: %+v", f)
			}
			lineErr(t, err, "directory.json", tc.line, tc.field, tc.msg)
		})
	}
}

func TestJSONAccepts(t *testing.T) {
	f, err := Read("d.JSON", strings.NewReader("\uFEFF"+jsonDoc("", "")+"\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Kinds, []string{DataOffices, DataMissions, DataContacts}) {
		t.Errorf("Kinds = %v", f.Kinds)
	}
	if f.Contacts != nil || f.ContactLines != nil {
		t.Errorf("JSON contacts belong in their missions, not in File.Contacts")
	}
	want := map[string][]Contact{"emb-ok": {{Name: "Jordan Avery", Phone: "202-555-0101"}}}
	if got := f.ContactsByMission(); !reflect.DeepEqual(got, want) {
		t.Errorf("ContactsByMission = %v", got)
	}

	f, err = Read("d.json", strings.NewReader(`{"missions": [{"id": " m ", "country": "X", "kind": "embassy", "name": "E", "contacts": []}], "offices": null,
		"headquarters": [{"id": "pld", "name": "PLD", "phone": "202-895-3600"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Kinds, []string{DataMissions, DataHeadquarters}) {
		t.Errorf("Kinds = %v", f.Kinds)
	}
	if m := f.Missions[0]; m.ID != "m" || m.Contacts != nil {
		t.Errorf("mission = %+v: want trimmed id and nil contacts", m)
	}

	// An explicitly empty array is carried: it says "none of these".
	f, err = Read("d.json", strings.NewReader(`{"offices": []}`))
	if err != nil || !slices.Equal(f.Kinds, []string{DataOffices}) || f.Offices != nil {
		t.Errorf("empty offices: %+v, %v", f, err)
	}
}

func TestFileTypes(t *testing.T) {
	for _, name := range []string{"offices.txt", "offices", "offices.csv.gz", ""} {
		_, err := Read(name, strings.NewReader(officesHdr))
		lineErr(t, err, name, 0, "", "unsupported file type")
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.csv"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "dir.csv")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(dir)
	lineErr(t, err, dir, 0, "", "is not a regular file")
}

// bigReader yields n bytes of a valid-looking CSV without holding them.
type bigReader struct{ n int64 }

func (r *bigReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = 'a'
	}
	r.n -= int64(len(p))
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestOversized(t *testing.T) {
	for _, name := range []string{"offices.csv", "directory.json"} {
		src := &countingReader{r: &bigReader{n: 4 * MaxFileBytes}}
		_, err := Read(name, src)
		lineErr(t, err, name, 0, "", "is larger than 32 MiB")
		if src.n > MaxFileBytes+1 {
			t.Errorf("Read consumed %d bytes; it must stop at MaxFileBytes+1", src.n)
		}
	}
	// ReadFile refuses by size before reading: a sparse file costs nothing.
	path := filepath.Join(t.TempDir(), "offices.csv")
	if err := os.WriteFile(path, []byte(officesHdr), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, MaxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	lineErr(t, err, path, 0, "", "is larger than 32 MiB")
}

// withContacts returns the bundled directory with the fictional sample
// contacts attached to their missions.
func withContacts(t testing.TB) *Directory {
	t.Helper()
	b := mustBundled(t)
	c := mustReadFile(t, "testdata/contacts-fictional.csv")
	attached := 0
	for i := range b.Missions {
		if cs, ok := c.Contacts[b.Missions[i].ID]; ok {
			b.Missions[i].Contacts = cs
			attached++
		}
	}
	if attached != len(c.Contacts) {
		t.Fatalf("only %d of %d sample mission ids are bundled missions", attached, len(c.Contacts))
	}
	return &b.Directory
}

// sorted is d as the writers order it, for comparing with what is read back.
func sorted(d *Directory) Directory {
	return Directory{
		Offices:      sortedByID(d.Offices, officeID),
		Missions:     sortedByID(d.Missions, missionID),
		Headquarters: sortedByID(d.Headquarters, hqID),
	}
}

// contactsOnly is a directory carrying just contacts, for WriteCSV.
func contactsOnly(contacts map[string][]Contact) *Directory {
	d := &Directory{}
	for id, cs := range contacts {
		d.Missions = append(d.Missions, Mission{ID: id, Contacts: cs})
	}
	return d
}

func writeCSV(t testing.TB, kind string, d *Directory) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, kind, d); err != nil {
		t.Fatalf("WriteCSV(%s): %v", kind, err)
	}
	return buf.Bytes()
}

func writeJSON(t testing.TB, d *Directory) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, d); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	return buf.Bytes()
}

func TestRoundTripCSV(t *testing.T) {
	d := withContacts(t)
	files := map[string]*File{}
	for _, kind := range []string{DataOffices, DataMissions, DataContacts, DataHeadquarters} {
		name := kind + ".csv"
		f, err := Read(name, bytes.NewReader(writeCSV(t, kind, d)))
		if err != nil {
			t.Fatalf("reading written %s: %v", name, err)
		}
		if !slices.Equal(f.Kinds, []string{kind}) {
			t.Errorf("%s: Kinds = %v", name, f.Kinds)
		}
		files[kind] = f
	}
	got := Directory{Offices: files[DataOffices].Offices, Missions: files[DataMissions].Missions, Headquarters: files[DataHeadquarters].Headquarters}
	for i := range got.Missions {
		got.Missions[i].Contacts = files[DataContacts].Contacts[got.Missions[i].ID]
	}
	if want := sorted(d); !reflect.DeepEqual(got, want) {
		t.Errorf("CSV round trip differs:\n got %+v\nwant %+v", got, want)
	}
	// Contacts come out by mission id, then in file order.
	wantCSV := contactsHdr +
		"cg-chicago-canada,Riley Chen,Security Coordinator (FICTIONAL SAMPLE),312-555-0103,r.chen@example.org\n" +
		"cg-miami-japan,Casey Ruiz,Consular Security Officer (FICTIONAL SAMPLE),305-555-0105,c.ruiz@example.org\n" +
		"emb-dc-canada,Jordan Avery,Regional Security Liaison (FICTIONAL SAMPLE),202-555-0101,j.avery@example.org\n" +
		"emb-dc-canada,Sam Okafor,Deputy Security Officer (FICTIONAL SAMPLE),202-555-0102,s.okafor@example.org\n" +
		"emb-dc-japan,Morgan Ito,Security Attaché (FICTIONAL SAMPLE),202-555-0104,m.ito@example.org\n"
	if got := string(writeCSV(t, DataContacts, d)); got != wantCSV {
		t.Errorf("contacts CSV:\n%s\nwant\n%s", got, wantCSV)
	}
}

func TestRoundTripJSON(t *testing.T) {
	d := withContacts(t)
	data := writeJSON(t, d)
	f, err := Read("directory.json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading written JSON: %v", err)
	}
	if want := []string{DataOffices, DataMissions, DataContacts, DataHeadquarters}; !slices.Equal(f.Kinds, want) {
		t.Errorf("Kinds = %v, want %v", f.Kinds, want)
	}
	if want := sorted(d); !reflect.DeepEqual(f.Directory, want) {
		t.Errorf("JSON round trip differs")
	}
	// And the JSON form through CSV and back.
	for _, kind := range f.Kinds {
		if _, err := Read(kind+".csv", bytes.NewReader(writeCSV(t, kind, &f.Directory))); err != nil {
			t.Errorf("%s from JSON: %v", kind, err)
		}
	}
	if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte("\n  \"offices\": [\n    {\n      \"id\": \"fo-boston\",")) {
		t.Errorf("JSON is not indented by two spaces with a trailing newline:\n%.200s", data)
	}
	if !bytes.Contains(data, []byte(`"country": "Côte d'Ivoire"`)) {
		t.Errorf("JSON escapes text it need not")
	}
}

func TestWriteDeterministic(t *testing.T) {
	d := withContacts(t)
	shuffled := *d
	shuffled.Offices = slices.Clone(d.Offices)
	shuffled.Missions = slices.Clone(d.Missions)
	shuffled.Headquarters = slices.Clone(d.Headquarters)
	slices.Reverse(shuffled.Offices)
	slices.Reverse(shuffled.Missions)
	slices.Reverse(shuffled.Headquarters)
	before := slices.Clone(d.Offices)

	first := writeJSON(t, d)
	if again := writeJSON(t, d); !bytes.Equal(first, again) {
		t.Errorf("two JSON writes differ")
	}
	if other := writeJSON(t, &shuffled); !bytes.Equal(first, other) {
		t.Errorf("JSON depends on input order")
	}
	for _, kind := range []string{DataOffices, DataMissions, DataContacts, DataHeadquarters} {
		a, b, c := writeCSV(t, kind, d), writeCSV(t, kind, d), writeCSV(t, kind, &shuffled)
		if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
			t.Errorf("%s CSV is not deterministic", kind)
		}
	}
	if !reflect.DeepEqual(before, d.Offices) {
		t.Errorf("writing reordered the caller's data")
	}

	// Floats as written: shortest decimal, no exponent; no location, no numbers.
	got := string(writeCSV(t, DataMissions, &Directory{Missions: []Mission{
		{ID: "a", Country: "C", Kind: "embassy", Name: "N", Lat: ptr(1e-7), Lon: ptr(-77.0)},
		{ID: "b", Country: "C", Kind: "embassy", Name: "N"},
	}}))
	want := missionsHdr + "a,C,embassy,N,,,,0.0000001,-77,\nb,C,embassy,N,,,,,,\n"
	if got != want {
		t.Errorf("missions CSV = %q, want %q", got, want)
	}
	if got := string(writeJSON(t, &Directory{})); got != "{\n  \"offices\": [],\n  \"missions\": []\n}\n" {
		t.Errorf("empty JSON = %q", got)
	}
	if err := WriteCSV(io.Discard, "partners", &Directory{}); err == nil {
		t.Errorf("WriteCSV accepted an unknown kind")
	}
}

func ptr(f float64) *float64 { return &f }

// checkRoundTrip writes f in every form it can take and reads it back.
func checkRoundTrip(t *testing.T, f *File) {
	t.Helper()
	for _, kind := range f.Kinds {
		d := &f.Directory
		if kind == DataContacts && f.Contacts != nil {
			d = contactsOnly(f.Contacts)
		}
		data := writeCSV(t, kind, d)
		again, err := Read("again.csv", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("re-reading written %s CSV: %v\n%s", kind, err, data)
		}
		var same bool
		switch kind {
		case DataContacts:
			same = reflect.DeepEqual(again.Contacts, f.ContactsByMission())
		case DataOffices:
			same = reflect.DeepEqual(again.Offices, sorted(&f.Directory).Offices)
		case DataMissions:
			m := sorted(&f.Directory).Missions
			for i := range m {
				m[i].Contacts = nil
			}
			same = reflect.DeepEqual(again.Missions, m)
		case DataHeadquarters:
			same = reflect.DeepEqual(again.Headquarters, sorted(&f.Directory).Headquarters)
		}
		if !same {
			t.Fatalf("%s CSV round trip differs:\n%s", kind, data)
		}
	}
	if f.Contacts != nil {
		return // contacts alone are not a JSON document
	}
	data := writeJSON(t, &f.Directory)
	again, err := Read("again.json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("re-reading written JSON: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(again.Directory, sorted(&f.Directory)) {
		t.Fatalf("JSON round trip differs:\n%s", data)
	}
}

func TestRoundTripEdges(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"offices.csv", officesHdr + "fo-x,\"A, \"\"B\"\"\",field,Boston,MA,-0,1e-300,,,,\\.\n"},
		{"missions.csv", missionsHdr},
		{"missions.csv", missionsHdr + "m-x,Côte d'Ivoire,x,\"#1, =SUM(A1)\",,,\"  Rue \"\" \",,,\n"},
		{"contacts.csv", contactsHdr + "b,B,,,\na,A,,,\nb,C,,,\n"},
		{"d.json", `{"offices":[{"id":"a","name":"\u00e9\ud83d\ude00 \udc00","kind":"field","state":"DC","lat":1e-320,"lon":1}]}`},
		{"d.json", `{"offices":[{"id":"a","name":"N","kind":"field","state":"DC","lat":-0,"lon":1E2,"states":[]}],"missions":[{"id":"m","country":"c","kind":"k","name":"n","lat":null,"contacts":null}],"headquarters":[]}`},
	} {
		f, err := Read(tc.name, strings.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkRoundTrip(t, f)
	}
}

func benchData(b *testing.B, n int) (csvData, jsonData []byte) {
	d := &Directory{}
	for i := range n {
		lat, lon := 38.9+float64(i%1000)/1e4, -77.0-float64(i%997)/1e4
		d.Missions = append(d.Missions, Mission{ID: "m-" + strconv.Itoa(i), Country: "Country " + strconv.Itoa(i%200),
			Kind: "embassy", Name: "Embassy number " + strconv.Itoa(i), City: "Washington", State: "DC",
			Address: strconv.Itoa(i) + " Massachusetts Avenue NW", Lat: &lat, Lon: &lon, Source: "benchmark"})
	}
	return writeCSV(b, DataMissions, d), writeJSON(b, d)
}

// Reading is linear in the file: 50,000 missions, the size SPEC §8 plans for.
func BenchmarkRead(b *testing.B) {
	csvData, jsonData := benchData(b, 50_000)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"missions.csv", csvData}, {"missions.json", jsonData}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				if _, err := Read(tc.name, bytes.NewReader(tc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	for _, p := range []string{"bundled/offices.csv", "bundled/missions.csv", "bundled/headquarters.csv", "testdata/contacts-fictional.csv", "testdata/dc-embassies-2015.csv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(writeJSON(f, withContacts(f)))
	f.Add([]byte(jsonDoc("", "")))
	f.Add([]byte(officesHdr + "fo-x,\"A\nB\",field,Boston,MA,1,1,,,IL;IN,\n"))
	f.Add([]byte("\uFEFF" + hqHdr + hqOK))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.csv", "fuzz.json"} {
			file, err := Read(name, bytes.NewReader(data))
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.File != name {
					t.Fatalf("error %v (%T) is not a LineError naming %s", err, err, name)
				}
				continue
			}
			checkRoundTrip(t, file)
		}
	})
}
