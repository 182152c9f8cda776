// Package geo is the directory's small geography kit: great-circle
// distances, the nearest of a set of points (which office is closest to a
// mission, a city or a typed `lat,lon`), parsing of coordinates typed in
// chat, and a table of US states and territories with a centre point each,
// so `office <state>` can answer with the office nearest the state.
//
// Distances are on a sphere of the mean Earth radius: within about 0.5 %
// of the true (ellipsoidal) distance, more than enough to rank offices.
package geo

import "math"

// EarthRadiusKm is the mean Earth radius (IUGG), in kilometres.
const EarthRadiusKm = 6371.0088

const kmPerMile = 1.609344

// Point is a position in decimal degrees, north and east positive.
type Point struct{ Lat, Lon float64 }

// Valid reports whether p is a real position: latitude in [-90, 90],
// longitude in [-180, 180], neither NaN nor infinite.
func (p Point) Valid() bool {
	// The comparisons are false for NaN, so NaN is rejected too.
	return p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180
}

// DistanceKm returns the great-circle distance between a and b in
// kilometres, by the haversine formula (accurate at short distances, where
// the spherical law of cosines loses precision). It is NaN when a point is
// not Valid.
func DistanceKm(a, b Point) float64 {
	if !a.Valid() || !b.Valid() {
		return math.NaN()
	}
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(haversine(a, b, math.Cos(rad(a.Lat)))))
}

// DistanceMiles returns the great-circle distance between a and b in
// statute miles.
func DistanceMiles(a, b Point) float64 { return DistanceKm(a, b) / kmPerMile }

// Nearest returns the index of the point of pts closest to p, and its
// distance in kilometres; ties go to the lower index. Points that are not
// Valid are skipped. It returns -1 and 0 when pts holds no valid point or p
// is not valid.
func Nearest(pts []Point, p Point) (int, float64) {
	if !p.Valid() {
		return -1, 0
	}
	// Compare haversine terms, not distances: the distance grows with the
	// term, so the order is the same, and the arcsine and square root are
	// paid once instead of once per point.
	cosLat := math.Cos(rad(p.Lat))
	best, bestH := -1, math.Inf(1)
	for i, q := range pts {
		if !q.Valid() {
			continue
		}
		if h := haversine(p, q, cosLat); h < bestH {
			best, bestH = i, h
		}
	}
	if best < 0 {
		return -1, 0
	}
	return best, 2 * EarthRadiusKm * math.Asin(math.Sqrt(bestH))
}

// haversine returns hav(central angle) between a and b, given cos(a.Lat),
// clamped to [0, 1] against rounding.
func haversine(a, b Point, cosLatA float64) float64 {
	sLat := math.Sin(rad(b.Lat-a.Lat) / 2)
	sLon := math.Sin(rad(b.Lon-a.Lon) / 2)
	h := sLat*sLat + cosLatA*math.Cos(rad(b.Lat))*sLon*sLon
	return min(max(h, 0), 1)
}

func rad(deg float64) float64 { return deg * (math.Pi / 180) }
