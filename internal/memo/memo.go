// Package memo keeps values built once per key, bounded in number: the
// answers the directory has given for a snapshot, the renderings an
// adapter has made of them. When full, a random entry is forgotten for
// each one kept, so a stream of distinct keys cannot grow it.
package memo

import "sync"

// Map is safe for concurrent use; the zero value is not usable (New).
type Map[K comparable, V any] struct {
	max int
	mu  sync.RWMutex
	m   map[K]V
}

// New returns a Map holding at most max values.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{max: max, m: make(map[K]V)}
}

// Get returns the value kept for k, or builds, keeps and returns it. Two
// callers building the same key at once both get the one kept first.
func (c *Map[K, V]) Get(k K, build func() V) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = build()
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[k]; ok {
		return prev
	}
	if len(c.m) >= c.max {
		for victim := range c.m { // Go's map order is random: a random victim
			delete(c.m, victim)
			break
		}
	}
	c.m[k] = v
	return v
}

// Len is how many values are kept.
func (c *Map[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
