package slack

import (
	"sync"

	"liaisonbot/bot"
	"liaisonbot/internal/jsonenc"
)

// Rendering an answer (escaping, clipping, Block Kit, its JSON) was the
// largest part of a slash command's cost after the network. A frozen
// message (bot.Message.Frozen: a look-up answer the directory keeps for
// its snapshot) never changes, so its rendering is kept here, keyed by the
// pointer. The cache holds the message itself, so the pointer cannot be
// reused for another message while its rendering is kept.

// maxCachedRenders bounds the cache: a few KB per answer.
const maxCachedRenders = 1024

// rendering is what replyFor makes of a message, the blocks also encoded.
type rendering struct {
	text       string
	textJSON   []byte // text as a JSON string
	blocks     []block
	blocksJSON []byte
}

type renderCache struct {
	mu sync.RWMutex
	m  map[*bot.Message]*rendering
}

var frozenRenders renderCache

// get returns the rendering of a frozen message, rendering it on first use.
func (c *renderCache) get(m *bot.Message) *rendering {
	c.mu.RLock()
	r, ok := c.m[m]
	c.mu.RUnlock()
	if ok {
		return r
	}
	text, blocks := render(m)
	r = &rendering{text: text, textJSON: jsonenc.AppendString(nil, text), blocks: blocks}
	if len(blocks) > 0 {
		r.blocksJSON = appendBlocks(nil, blocks)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[*bot.Message]*rendering)
	}
	if len(c.m) >= maxCachedRenders {
		for k := range c.m { // random order: a random victim
			delete(c.m, k)
			break
		}
	}
	c.m[m] = r
	return r
}
