package console_test

import (
	"strings"
	"testing"

	"liaisonbot/adapters/console"
	"liaisonbot/bot"
)

func TestFieldLinksArePrinted(t *testing.T) {
	out := console.Render(&bot.Message{Sections: []bot.Section{{Fields: []bot.Field{
		{Label: "MPD (Mattermost)", Value: "https://chat.example.gov/pld/pl/abc", URL: "https://chat.example.gov/pld/pl/abc"},
		{Label: "USPP (Slack)", Value: "the thread", URL: "https://pld.slack.com/archives/C1/p1"},
		{Label: "FBI (console)", Value: "console:fbi #3"},
	}}}})
	want := "  MPD (Mattermost): https://chat.example.gov/pld/pl/abc\n" +
		"  USPP (Slack): the thread (https://pld.slack.com/archives/C1/p1)\n" +
		"  FBI (console): console:fbi #3\n"
	if !strings.HasSuffix(out, want) {
		t.Fatalf("got\n%s\nwant it to end with\n%s", out, want)
	}
}
