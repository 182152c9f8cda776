package slack

import (
	"liaisonbot/bot"
	"liaisonbot/internal/jsonenc"
	"liaisonbot/internal/memo"
)

// Rendering an answer (escaping, clipping, Block Kit, its JSON) was the
// largest part of a slash command's cost after the network. A frozen
// message (bot.Message.Frozen: a look-up answer the directory keeps for
// its snapshot) never changes, so its rendering is kept here, keyed by the
// pointer. The cache holds the message itself, so the pointer cannot be
// reused for another message while its rendering is kept.

// maxCachedRenders bounds the cache: a few KB per answer.
const maxCachedRenders = 1024

// rendering is what replyFor makes of a message, the text and blocks also
// encoded.
type rendering struct {
	text       string
	textJSON   []byte // text as a JSON string
	blocks     []block
	blocksJSON []byte
}

var frozenRenders = memo.New[*bot.Message, *rendering](maxCachedRenders)

// renderFrozen returns the rendering of a frozen message, rendering it on
// first use.
func renderFrozen(m *bot.Message) *rendering {
	return frozenRenders.Get(m, func() *rendering {
		text, blocks := render(m)
		r := &rendering{text: text, textJSON: jsonenc.AppendString(nil, text), blocks: blocks}
		if len(blocks) > 0 {
			r.blocksJSON = appendBlocks(nil, blocks)
		}
		return r
	})
}
