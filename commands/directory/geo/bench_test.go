package geo

import (
	"math/rand/v2"
	"testing"
)

// randomPoints returns n points scattered over the contiguous US, the same
// ones every run.
func randomPoints(n int) []Point {
	r := rand.New(rand.NewPCG(31, 1000))
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{Lat: 25 + r.Float64()*24, Lon: -124 + r.Float64()*57}
	}
	return pts
}

// BenchmarkNearest: the nearest office (31 of them in the bundled data;
// SPEC §8 target under 50 µs) and, for headroom, the nearest of 1,000.
func BenchmarkNearest(b *testing.B) {
	for _, n := range []struct {
		name string
		n    int
	}{{"31", 31}, {"1000", 1000}} {
		b.Run(n.name, func(b *testing.B) {
			pts := randomPoints(n.n)
			queries := randomPoints(64)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Nearest(pts, queries[i%len(queries)])
			}
		})
	}
}

func BenchmarkDistanceKm(b *testing.B) {
	for i := 0; i < b.N; i++ {
		DistanceKm(houston, miami)
	}
}
