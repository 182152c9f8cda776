package slack

import (
	"testing"

	"liaisonbot/bot"
)

// A frozen message's cached rendering encodes exactly like a fresh
// rendering of the same message, also after a caller changes what the
// reply says around the blocks (a button answer, a response_url post).
func TestFrozenRenderingMatchesFresh(t *testing.T) {
	for _, m := range []bot.Message{
		{Title: "Missions matching \"<!channel>\"", Text: "Best 5 of 9 & more", Footer: "24-hour line",
			Sections: []bot.Section{{Title: "Embassy", Fields: []bot.Field{{Label: "Phone", Value: "202-555-0101"}}}},
			Buttons:  []bot.Button{{Label: "Embassy of Canada", Command: "contact emb-dc-canada"}}},
		{Text: "No mission matches \"x\".", Error: true},
		{Title: "Only a title", Visibility: bot.InChannel},
	} {
		fresh := m
		frozen := m
		frozen.Frozen = true
		for range 2 { // the second time from the cache
			want, got := replyFor(&fresh), replyFor(&frozen)
			if w, g := string(want.appendJSON(nil)), string(got.appendJSON(nil)); w != g {
				t.Fatalf("frozen rendering differs:\nfresh  %s\nfrozen %s", w, g)
			}
			no := false
			want.ResponseType, got.ResponseType = "in_channel", "in_channel"
			want.ReplaceOriginal, got.ReplaceOriginal = &no, &no
			want.Text, got.Text = "changed & <!here>", "changed & <!here>"
			if w, g := string(want.appendJSON(nil)), string(got.appendJSON(nil)); w != g {
				t.Fatalf("frozen rendering differs once changed:\nfresh  %s\nfrozen %s", w, g)
			}
		}
	}
	if n := frozenRenders.Len(); n == 0 || n > maxCachedRenders {
		t.Fatalf("render cache holds %d renderings", n)
	}
}

func TestRenderCacheBounded(t *testing.T) {
	for i := range maxCachedRenders + 20 {
		m := &bot.Message{Text: "answer", Frozen: true}
		if i%2 == 0 {
			m.Title = "t"
		}
		replyFor(m)
	}
	if n := frozenRenders.Len(); n > maxCachedRenders {
		t.Fatalf("render cache holds %d renderings, bound %d", n, maxCachedRenders)
	}
}
