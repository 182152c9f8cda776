package geo

import (
	"strings"
	"testing"
)

func TestParseLatLon(t *testing.T) {
	tests := []struct {
		in     string
		want   Point
		ok     bool
		errHas string // "" means no error
	}{
		{in: "29.76,-95.37", want: Point{29.76, -95.37}, ok: true},
		{in: "29.76, -95.37", want: Point{29.76, -95.37}, ok: true},
		{in: "29.76 -95.37", want: Point{29.76, -95.37}, ok: true},
		{in: "  29.76\t-95.37  ", want: Point{29.76, -95.37}, ok: true},
		{in: "(29.76, -95.37)", want: Point{29.76, -95.37}, ok: true},
		{in: `"29.76, -95.37"`, want: Point{29.76, -95.37}, ok: true},
		{in: "+29.76,+95.37", want: Point{29.76, 95.37}, ok: true},
		{in: "29.76N 95.37W", want: Point{29.76, -95.37}, ok: true},
		{in: "29.76 N 95.37 W", want: Point{29.76, -95.37}, ok: true},
		{in: "29.76° N, 95.37° W", want: Point{29.76, -95.37}, ok: true},
		{in: "33.87s,151.21e", want: Point{-33.87, 151.21}, ok: true},
		{in: "29.76, −95.37", want: Point{29.76, -95.37}, ok: true}, // typographic minus
		{in: "29º,-95º", want: Point{29, -95}, ok: true},
		{in: "0,0", want: Point{0, 0}, ok: true},
		{in: "90,180", want: Point{90, 180}, ok: true},
		{in: "-90,-180", want: Point{-90, -180}, ok: true},
		{in: "29,-95", want: Point{29, -95}, ok: true},

		// Not coordinates at all: the caller tries its other lookups.
		{in: ""},
		{in: "   "},
		{in: "houston"},
		{in: "New York"},
		{in: "TX"},
		{in: "NE"},
		{in: "cg-chicago-canada"},
		{in: "77002"},      // a ZIP code
		{in: "77002-1234"}, // ZIP+4
		{in: "NaN,NaN"},
		{in: "Inf,0"},
		{in: "Côte d'Ivoire"},
		{in: "- , -"}, // no digit
		{in: "0x1p-2,0"},

		// Coordinates, but wrong: say what is wrong.
		{in: "95.2,-95.37", errHas: "latitude 95.2 is out of range [-90, 90]"},
		{in: "29.76,-195.37", errHas: "longitude -195.37 is out of range [-180, 180]"},
		{in: "-91,0", errHas: "latitude -91 is out of range"},
		{in: "29.76,", errHas: "longitude is missing"},
		{in: ",-95.37", errHas: "latitude is missing"},
		{in: "29.7.6,-95.37", errHas: `latitude "29.7.6" is not a number`},
		{in: "29.76,-95..37", errHas: `longitude "-95..37" is not a number`},
		{in: "1,2,3", errHas: "want two numbers"},
		{in: "1 2 3", errHas: "want two numbers"},
		{in: "29.76E,95.37W", errHas: "latitude \"29.76E\": hemisphere must be N or S"},
		{in: "29.76N,95.37N", errHas: "longitude \"95.37N\": hemisphere must be E or W"},
		{in: "-29.76S,95.37W", errHas: "sign or a hemisphere letter, not both"},
		{in: "100N,0", errHas: "latitude 100 is out of range"},
		{in: "29°45'N 95°22'W", errHas: "degrees-minutes-seconds are not supported"},
		{in: "1e5,2", errHas: `latitude "1e5" is not a number`},
		{in: "-1 , -", errHas: `longitude "-" is not a number`},
	}
	for _, tt := range tests {
		p, ok, err := ParseLatLon(tt.in)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("ParseLatLon(%q) error = %v, want one containing %q", tt.in, err, tt.errHas)
			}
			if ok {
				t.Errorf("ParseLatLon(%q): ok with an error", tt.in)
			}
			continue
		}
		if err != nil || ok != tt.ok || p != tt.want {
			t.Errorf("ParseLatLon(%q) = %v, %v, %v; want %v, %v, nil", tt.in, p, ok, err, tt.want, tt.ok)
		}
		if ok && !p.Valid() {
			t.Errorf("ParseLatLon(%q) = %v: not Valid", tt.in, p)
		}
	}
}

// FuzzParseLatLon: no panic; success means a valid point and no error.
func FuzzParseLatLon(f *testing.F) {
	for _, s := range []string{"29.76,-95.37", "29.76 N 95.37 W", "(1,2)", "95,0", "houston", "1,2,3", "-", "°", "'\"", "NaN,1", "−5,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := ParseLatLon(s)
		if ok && (err != nil || !p.Valid()) {
			t.Fatalf("ParseLatLon(%q) = %v, %v, %v", s, p, ok, err)
		}
		if !ok && p != (Point{}) {
			t.Fatalf("ParseLatLon(%q) = %v without ok", s, p)
		}
	})
}
