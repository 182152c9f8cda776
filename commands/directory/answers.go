package directory

import (
	"sync"

	"liaisonbot/bot"
)

// Look-up answers depend only on the question and the directory snapshot,
// and the same questions come again and again ("contact canada" on every
// shift): each snapshot keeps the answers it has given, frozen, so a repeat
// costs a map read instead of a search and an answer, and an adapter can
// keep the answer's rendering too (bot.Message.Frozen). A new snapshot (an
// import) starts with no answers, so nothing stale is ever served.
const (
	// maxCachedAnswers bounds the memory of one snapshot's answers: a few
	// KB each, so a few MB at most.
	maxCachedAnswers = 2048
	// maxCachedQuery keeps long, one-off questions out of the cache.
	maxCachedQuery = 200
)

// answerKind tells apart the look-ups whose answers share the cache.
type answerKind uint8

const (
	answerContact answerKind = iota + 1
	answerOffice
	answerEmergency
)

type answerKey struct {
	kind  answerKind
	query string // as typed: answers quote it
}

// answerCache is safe for concurrent use.
type answerCache struct {
	mu sync.RWMutex
	m  map[answerKey]*bot.Message
}

// answer returns the cached answer to (kind, query), or builds, freezes and
// keeps it. A full cache forgets one answer for each one it keeps, so a
// stream of distinct questions cannot grow it.
func (c *answerCache) answer(kind answerKind, query string, build func() *bot.Message) *bot.Message {
	if len(query) > maxCachedQuery {
		return build()
	}
	key := answerKey{kind, query}
	c.mu.RLock()
	msg, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return msg
	}
	msg = build()
	msg.Frozen = true
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[key]; ok {
		return prev // built twice at once: hand out one of them only
	}
	if c.m == nil {
		c.m = make(map[answerKey]*bot.Message)
	}
	if len(c.m) >= maxCachedAnswers {
		for k := range c.m { // Go's map order is random: a random victim
			delete(c.m, k)
			break
		}
	}
	c.m[key] = msg
	return msg
}
