package directory

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/commands/directory/geo"
)

var benchCountries = []string{"Canada", "Mexico", "Japan", "France", "Germany", "Côte d'Ivoire", "Türkiye", "Brazil",
	"India", "China", "Korea", "Italy", "Spain", "Poland", "Nigeria", "Kenya", "Egypt", "Israel", "Jordan", "Qatar",
	"Norway", "Sweden", "Denmark", "Finland", "Ireland", "Greece", "Austria", "Australia", "Argentina", "Colombia",
	"Peru", "Chile", "Ecuador", "Bolivia", "Paraguay", "Uruguay", "Venezuela", "Panama", "Honduras", "Guatemala",
	"El Salvador", "Nicaragua", "Costa Rica", "Cuba", "Haiti", "Jamaica", "Bahamas", "Barbados", "Belize", "Ghana"}

var benchCities = []struct {
	name, state string
	lat, lon    float64
}{
	{"Washington", "DC", 38.9, -77.03}, {"New York", "NY", 40.71, -74.0}, {"Chicago", "IL", 41.88, -87.63},
	{"Houston", "TX", 29.76, -95.37}, {"Miami", "FL", 25.76, -80.19}, {"Los Angeles", "CA", 34.05, -118.24},
	{"San Francisco", "CA", 37.77, -122.42}, {"Atlanta", "GA", 33.75, -84.39}, {"Boston", "MA", 42.36, -71.06},
	{"Seattle", "WA", 47.61, -122.33}, {"Denver", "CO", 39.74, -104.99}, {"Detroit", "MI", 42.33, -83.05},
	{"Phoenix", "AZ", 33.45, -112.07}, {"Dallas", "TX", 32.78, -96.8}, {"Philadelphia", "PA", 39.95, -75.17},
	{"San Juan", "PR", 18.47, -66.11}, {"Honolulu", "HI", 21.31, -157.86}, {"New Orleans", "LA", 29.95, -90.07},
	{"St. Louis", "MO", 38.63, -90.2}, {"Minneapolis", "MN", 44.98, -93.27},
}

var benchKinds = []string{"embassy", "consulate_general", "consulate", "delegation"}

// syntheticMissions generates n realistic missions, deterministically.
func syntheticMissions(n int) []dirdata.Mission {
	out := make([]dirdata.Mission, 0, n)
	for i := 0; len(out) < n; i++ {
		country := benchCountries[i%len(benchCountries)]
		city := benchCities[(i/len(benchCountries))%len(benchCities)]
		kind := benchKinds[(i/7)%len(benchKinds)]
		lat, lon := city.lat+float64(i%100)/1000, city.lon-float64(i%100)/1000
		name := fmt.Sprintf("Consulate General of %s in %s", country, city.name)
		if kind == "embassy" {
			name = "Embassy of " + country
		}
		out = append(out, dirdata.Mission{
			ID: fmt.Sprintf("m-%06d", i), Country: country, Kind: kind, Name: name,
			City: city.name, State: city.state, Address: fmt.Sprintf("%d Main Street", i%5000), Lat: &lat, Lon: &lon,
		})
	}
	return out
}

func bundledSnapshot(b *testing.B, missions []dirdata.Mission) *Snapshot {
	b.Helper()
	f, err := dirdata.Bundled()
	if err != nil {
		b.Fatal(err)
	}
	d := f.Directory
	if missions != nil {
		d.Missions = missions
	}
	return NewSnapshot(&d)
}

// BenchmarkContactSearch50k is SPEC §8's search target: p99 under 2 ms over
// 50,000 missions. It reports per-query percentiles over a mixed query set.
func BenchmarkContactSearch50k(b *testing.B) {
	snap := bundledSnapshot(b, syntheticMissions(50_000))
	queries := []string{"canada", "cnada", "cote d'ivoire", "japan houston", "consulate general of mexico in chicago",
		"embassy of ghana", "turkiye", "el salvador miami", "panma", "zzqxw", "m-012345", "new york", "costa"}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res := snap.SearchMissions(queries[i%len(queries)], maxShown)
		lat = append(lat, time.Since(start))
		_ = res
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkContactAnswer50k includes rendering the answer (nearest office per mission).
func BenchmarkContactAnswer50k(b *testing.B) {
	snap := bundledSnapshot(b, syntheticMissions(50_000))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = snap.contactAnswer("canada")
	}
}

// BenchmarkNearestOffice is SPEC §8's nearest-office target: under 50 µs.
func BenchmarkNearestOffice(b *testing.B) {
	snap := bundledSnapshot(b, nil)
	points := []geo.Point{{Lat: 29.76, Lon: -95.37}, {Lat: 40.71, Lon: -74.0}, {Lat: 47.6, Lon: -122.3}, {Lat: 18.4, Lon: -66.1}}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		_ = snap.NearestOffices(points[i%len(points)])
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}
