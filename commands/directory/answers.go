package directory

import (
	"liaisonbot/bot"
	"liaisonbot/internal/memo"
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

// newAnswerCache makes a snapshot's cache of answers.
func newAnswerCache() *memo.Map[answerKey, *bot.Message] {
	return memo.New[answerKey, *bot.Message](maxCachedAnswers)
}
