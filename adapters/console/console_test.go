package console_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"liaisonbot/adapters/console"
	"liaisonbot/bot"
)

func testMux() *bot.Mux {
	m := bot.NewMux("liaison", nil)
	m.Use(bot.Authorize(m))
	m.HandleFunc("echo <text>", "echo", bot.AccessEveryone, func(_ context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Title: "Echo", Text: req.Args.Get("text") + " from " + req.Channel + " as " + req.Role.String()}, nil
	})
	return m
}

func TestRunScripted(t *testing.T) {
	in := strings.Join([]string{
		"echo one",
		"",
		"# a comment",
		"echo " + strings.Repeat("x", 70_000),
		"/liaison echo two",
		"nope",
		"quit",
		"echo never",
	}, "\n")
	var out bytes.Buffer
	a := &console.Adapter{In: strings.NewReader(in), Out: &out, Mux: testMux(), Channel: "mpd", Role: bot.Role{Kind: bot.RolePartner, Partner: "mpd"}}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := "Echo\none from mpd as partner:mpd\n\n" +
		"Error: That line is longer than 65536 bytes and was skipped.\n\n" +
		"Echo\ntwo from mpd as partner:mpd\n\n" +
		"Error: Unknown command \"nope\". Type /liaison help for the list of commands.\n\n"
	if got != want {
		t.Fatalf("output:\n%q\nwant:\n%q", got, want)
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	var out bytes.Buffer
	a := &console.Adapter{In: strings.NewReader("echo last"), Out: &out, Mux: testMux()}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "last from console as none") {
		t.Fatalf("last line not answered: %q", out.String())
	}
}

func TestPostAndUpdateAreLabelled(t *testing.T) {
	var out bytes.Buffer
	a := &console.Adapter{Out: &out}
	ref, err := a.Post(context.Background(), bot.Post{Channel: "watch", ThreadRef: "7", Message: bot.Message{Text: "digest"}})
	if err != nil || ref.ID != "1" || ref.Channel != "watch" || ref.Platform != "console" {
		t.Fatalf("ref %+v, %v", ref, err)
	}
	if err := a.Update(context.Background(), ref, bot.Message{Text: "digest (acknowledged)"}); err != nil {
		t.Fatal(err)
	}
	want := "[console:watch thread 7 #1]\ndigest\n\n[console:watch #1 edited]\ndigest (acknowledged)\n\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestRenderDropsControlCharacters(t *testing.T) {
	got := console.Render(&bot.Message{
		Title:    "T\x1b[2J",
		Sections: []bot.Section{{Title: "S", Fields: []bot.Field{{Label: "L", Value: "v\x07"}}}},
		Buttons:  []bot.Button{{Label: "Pick", Command: "contact x"}},
		Footer:   "F",
	})
	want := "T[2J\n\nS\n  L: v\n\n  → contact x   (Pick)\n\nF\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

type failingWriter struct{ writes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("broken pipe")
}

func TestRunStopsWhenOutputIsGone(t *testing.T) {
	out := &failingWriter{}
	served := 0
	m := bot.NewMux("liaison", nil)
	m.HandleFunc("echo <text>", "echo", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) {
		served++
		return &bot.Message{Text: "x"}, nil
	})
	a := &console.Adapter{In: strings.NewReader("echo 1\necho 2\necho 3\n"), Out: out, Mux: m}
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if served != 1 || out.writes != 1 {
		t.Fatalf("served %d commands, %d writes after the output failed; want 1 and 1", served, out.writes)
	}
}
