package mattermost

import (
	"context"
	"strings"
	"testing"

	"liaisonbot/bot"
)

func TestPostRefsCarryPermalinks(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	ctx := context.Background()
	root, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Key: "outbox-1", Message: bot.Message{Text: "INC-2026-0042 opened"}})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := r.ad.Post(ctx, bot.Post{Channel: w.shared.Id, ThreadRef: root.ID, Key: "outbox-2", Message: bot.Message{Text: "Units on scene"}})
	if err != nil {
		t.Fatal(err)
	}
	// <MATTERMOST_URL>/<team name>/pl/<post id>: a reply's opens it in its thread.
	for _, ref := range []bot.MessageRef{root, reply} {
		if want := w.srv.URL + "/pld/pl/" + ref.ID; ref.Link != want {
			t.Fatalf("link %q, want %q", ref.Link, want)
		}
	}
}

// Before start has resolved MATTERMOST_TEAM, a name serves as it is; an id
// gives no link until the server has said the team's name.
func TestPermalinkTeamName(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byName := w.start(startOptions{noRun: true})
	ref, err := byName.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Message: bot.Message{Text: "x"}})
	if err != nil || ref.Link != w.srv.URL+"/pld/pl/"+ref.ID {
		t.Fatalf("by name, not started: %+v %v", ref, err)
	}
	byID := w.start(startOptions{noRun: true, env: map[string]string{"MATTERMOST_TEAM": w.team.Id, "MATTERMOST_URL": w.srv.URL + "/"}})
	if ref, err := byID.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Message: bot.Message{Text: "x"}}); err != nil || ref.Link != "" {
		t.Fatalf("by id, not started: %+v %v", ref, err)
	}
	if err := byID.ad.resolveTeams(ctx); err != nil {
		t.Fatal(err)
	}
	if ref, err := byID.ad.Post(ctx, bot.Post{Channel: w.shared.Id, Message: bot.Message{Text: "x"}}); err != nil || ref.Link != w.srv.URL+"/pld/pl/"+ref.ID {
		t.Fatalf("by id, resolved: %+v %v", ref, err)
	}
}

func TestFieldLinks(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	link := w.srv.URL + "/pld/pl/" + strings.Repeat("a", 26)
	out := r.ad.render(&bot.Message{Sections: []bot.Section{{Fields: []bot.Field{
		{Label: "Metropolitan Police Department (Mattermost)", Value: "the thread", URL: link},
		{Label: "Typed", Value: "[click](https://evil.example)", URL: "javascript:alert(1)"},
		{Label: "Bad", Value: "text", URL: "https://x.example/a)b"},
	}}}})
	fields := out.Attachments[0].Fields
	if want := "[the thread](" + link + ")"; fields[0].Value != want {
		t.Errorf("linked field %q, want %q", fields[0].Value, want)
	}
	if want := r.ad.md("[click](https://evil.example)"); fields[1].Value != want {
		t.Errorf("field with a refused URL %q, want it escaped as text, %q", fields[1].Value, want)
	}
	if fields[2].Value != "text" {
		t.Errorf("field with a URL that would end the link %q", fields[2].Value)
	}
	flat := r.ad.flatten(&bot.Message{Sections: []bot.Section{{Fields: []bot.Field{{Label: "Thread", Value: "the thread", URL: link}}}}})
	if want := "Thread: [the thread](" + link + ")"; flat != want {
		t.Errorf("flattened %q, want %q", flat, want)
	}
}
