package geo

import (
	"testing"
)

func TestStatesTable(t *testing.T) {
	all := AllStates()
	if len(all) != 56 { // 50 states, DC, PR, GU, VI, AS, MP
		t.Fatalf("%d entries", len(all))
	}
	codes, names := map[string]bool{}, map[string]bool{}
	for _, s := range all {
		if len(s.Code) != 2 || codes[s.Code] || names[s.Name] || !s.Center.Valid() || s.Center == (Point{}) {
			t.Errorf("bad or duplicate entry %+v", s)
		}
		codes[s.Code], names[s.Name] = true, true
		// Every centre is in the US's broad box (or, for the Pacific
		// territories, west of the antimeridian or south of the equator).
		if s.Center.Lat < -15 || s.Center.Lat > 72 {
			t.Errorf("%s: centre %v out of the US", s.Code, s.Center)
		}
	}
	for _, c := range []string{"DC", "PR", "GU", "VI", "AS", "MP", "TX", "AK", "HI"} {
		if !codes[c] {
			t.Errorf("missing %s", c)
		}
	}
	all[0].Name = "changed"
	if s, _ := StateByCode(all[0].Code); s.Name == "changed" {
		t.Error("AllStates returned the table itself")
	}
}

func TestStateByCode(t *testing.T) {
	tests := []struct {
		code, want string
	}{
		{"TX", "Texas"}, {"tx", "Texas"}, {" ny ", "New York"}, {"DC", "District of Columbia"},
		{"pr", "Puerto Rico"}, {"VI", "U.S. Virgin Islands"}, {"MP", "Northern Mariana Islands"},
		{"XX", ""}, {"", ""}, {"Texas", ""}, {"T", ""},
	}
	for _, tt := range tests {
		s, ok := StateByCode(tt.code)
		if ok != (tt.want != "") || s.Name != tt.want {
			t.Errorf("StateByCode(%q) = %+v, %v; want %q", tt.code, s, ok, tt.want)
		}
	}
}

func TestStateByName(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"new york", "NY"},
		{"New York", "NY"},
		{"NEW-YORK", "NY"},
		{"newyork", "NY"},
		{"District of Columbia", "DC"},
		{"district of columbia", "DC"},
		{"Puerto Rico", "PR"},
		{"U.S. Virgin Islands", "VI"},
		{"US Virgin Islands", "VI"},
		{"Hawaiʻi", "HI"},
		{"Washington", "WA"},
		{"West Virginia", "WV"},
		{"Virginia", "VA"},
		{"Guam", "GU"},
		{"American Samoa", "AS"},
		{"Northern Mariana Islands", "MP"},
		{"Washington DC", ""}, // names only, no aliases
		{"virgin islands", ""},
		{"york", ""},
		{"TX", ""},
		{"", ""},
	}
	for _, tt := range tests {
		s, ok := StateByName(tt.name)
		if ok != (tt.want != "") || s.Code != tt.want {
			t.Errorf("StateByName(%q) = %+v, %v; want %q", tt.name, s, ok, tt.want)
		}
	}
}

// A state's centre is nearer its own neighbours than far-away states: a
// coarse check that no centre was typed with a sign or digit wrong.
func TestStateCentresPlausible(t *testing.T) {
	near := map[string]string{
		"TX": "OK", "NY": "PA", "CA": "NV", "IL": "IN", "FL": "GA", "WA": "OR", "DC": "MD",
		"MA": "RI", "CO": "UT", "AK": "WA", "HI": "CA", "PR": "VI", "GU": "MP",
	}
	for a, b := range near {
		sa, _ := StateByCode(a)
		sb, _ := StateByCode(b)
		d := DistanceKm(sa.Center, sb.Center)
		if d > 4500 { // Hawaii-California is about 4,000 km
			t.Errorf("%s-%s centres %.0f km apart", a, b, d)
		}
	}
	// Every contiguous state's centre lies in the lower-48 box.
	for _, s := range AllStates() {
		switch s.Code {
		case "AK", "HI", "PR", "GU", "VI", "AS", "MP":
			continue
		}
		if s.Center.Lat < 24 || s.Center.Lat > 50 || s.Center.Lon < -125 || s.Center.Lon > -66 {
			t.Errorf("%s centre %v outside the lower 48", s.Code, s.Center)
		}
	}
}
