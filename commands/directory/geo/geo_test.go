package geo

import (
	"math"
	"testing"
)

var (
	houston      = Point{29.7604, -95.3698}
	miami        = Point{25.7617, -80.1918}
	washingtonDC = Point{38.9072, -77.0369}
	losAngeles   = Point{34.0522, -118.2437}
	newYork      = Point{40.7128, -74.0060}
	chicago      = Point{41.8781, -87.6298}
	london       = Point{51.5074, -0.1278}
	sydney       = Point{-33.8688, 151.2093}
)

func TestValid(t *testing.T) {
	tests := []struct {
		p    Point
		want bool
	}{
		{houston, true},
		{Point{90, 180}, true},
		{Point{-90, -180}, true},
		{Point{0, 0}, true},
		{Point{90.0001, 0}, false},
		{Point{-90.0001, 0}, false},
		{Point{0, 180.0001}, false},
		{Point{0, -180.0001}, false},
		{Point{math.NaN(), 0}, false},
		{Point{0, math.NaN()}, false},
		{Point{math.Inf(1), 0}, false},
		{Point{0, math.Inf(-1)}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Valid(); got != tt.want {
			t.Errorf("%v.Valid() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		km   float64 // reference great-circle distance
		tol  float64 // relative
	}{
		{"Houston-Miami", houston, miami, 1555, 0.01},
		{"Washington-New York", washingtonDC, newYork, 328, 0.01},
		{"Los Angeles-New York", losAngeles, newYork, 3936, 0.01},
		{"Chicago-Houston", chicago, houston, 1516, 0.01},
		{"London-Sydney", london, sydney, 16994, 0.01},
		{"quarter meridian", Point{0, 0}, Point{90, 0}, math.Pi / 2 * EarthRadiusKm, 1e-12},
		{"half equator", Point{0, 0}, Point{0, 180}, math.Pi * EarthRadiusKm, 1e-12},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, math.Pi * EarthRadiusKm, 1e-12},
		{"across the antimeridian", Point{0, 179.5}, Point{0, -179.5}, math.Pi / 180 * EarthRadiusKm, 1e-9},
	}
	for _, tt := range tests {
		got := DistanceKm(tt.a, tt.b)
		if math.Abs(got-tt.km) > tt.tol*tt.km {
			t.Errorf("%s: %.3f km, want %.3f ± %.2g", tt.name, got, tt.km, tt.tol)
		}
		if back := DistanceKm(tt.b, tt.a); math.Abs(back-got) > 1e-9 {
			t.Errorf("%s: not symmetric: %v vs %v", tt.name, got, back)
		}
		if mi := DistanceMiles(tt.a, tt.b); math.Abs(mi*1.609344-got) > 1e-9 {
			t.Errorf("%s: %v miles for %v km", tt.name, mi, got)
		}
	}
	if d := DistanceKm(houston, houston); d != 0 {
		t.Errorf("zero distance: %v", d)
	}
	// Close points: haversine keeps precision where the law of cosines would not.
	if d := DistanceKm(Point{29.76, -95.37}, Point{29.76, -95.3699}); math.Abs(d-0.00965) > 0.0001 {
		t.Errorf("10 m apart: %v km", d)
	}
	if d := DistanceKm(Point{math.NaN(), 0}, houston); !math.IsNaN(d) {
		t.Errorf("invalid point: %v, want NaN", d)
	}
	if d := DistanceKm(houston, Point{0, 200}); !math.IsNaN(d) {
		t.Errorf("invalid point: %v, want NaN", d)
	}
}

func TestNearest(t *testing.T) {
	offices := []Point{washingtonDC, newYork, chicago, houston, losAngeles, miami}
	tests := []struct {
		name string
		pts  []Point
		p    Point
		want int
	}{
		{"Dallas -> Houston", offices, Point{32.7767, -96.7970}, 3},
		{"San Diego -> Los Angeles", offices, Point{32.7157, -117.1611}, 4},
		{"Boston -> New York", offices, Point{42.3601, -71.0589}, 1},
		{"Baltimore -> Washington", offices, Point{39.2904, -76.6122}, 0},
		{"Milwaukee -> Chicago", offices, Point{43.0389, -87.9065}, 2},
		{"Havana -> Miami", offices, Point{23.1136, -82.3666}, 5},
		{"on a point", offices, chicago, 2},
		{"empty", nil, houston, -1},
		{"only invalid points", []Point{{math.NaN(), 0}, {100, 0}}, houston, -1},
		{"invalid points skipped", []Point{{math.NaN(), 0}, miami, {0, 999}}, houston, 1},
		{"tie goes to the lower index", []Point{miami, miami}, houston, 0},
		{"across the antimeridian", []Point{{0, 170}, {0, -179}}, Point{0, 179}, 1},
		{"invalid query point", offices, Point{math.NaN(), 0}, -1},
	}
	for _, tt := range tests {
		i, km := Nearest(tt.pts, tt.p)
		if i != tt.want {
			t.Errorf("%s: Nearest = %d, want %d", tt.name, i, tt.want)
			continue
		}
		if i < 0 {
			if km != 0 {
				t.Errorf("%s: distance %v with no point", tt.name, km)
			}
			continue
		}
		if want := DistanceKm(tt.p, tt.pts[i]); math.Abs(km-want) > 1e-9 {
			t.Errorf("%s: distance %v, DistanceKm says %v", tt.name, km, want)
		}
		for j, q := range tt.pts { // nothing valid is strictly nearer
			if q.Valid() && DistanceKm(tt.p, q) < km-1e-9 {
				t.Errorf("%s: point %d is nearer than %d", tt.name, j, i)
			}
		}
	}
}
