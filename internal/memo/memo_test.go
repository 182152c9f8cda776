package memo

import "testing"

func TestGetBuildsOnceAndStaysBounded(t *testing.T) {
	m := New[int, *int](8)
	builds := 0
	build := func(v int) func() *int { return func() *int { builds++; return &v } }
	first := m.Get(1, build(1))
	if again := m.Get(1, build(1)); again != first || builds != 1 {
		t.Fatalf("second Get built again (builds %d, same %v)", builds, again == first)
	}
	for k := range 100 {
		m.Get(k, build(k))
		if m.Len() > 8 {
			t.Fatalf("holds %d values, bound 8", m.Len())
		}
	}
	if got := *m.Get(42, build(-1)); got != 42 && got != -1 {
		t.Fatalf("Get(42) = %d", got)
	}
}
