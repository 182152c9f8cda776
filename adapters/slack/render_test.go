package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"liaisonbot/bot"
	"liaisonbot/commands/directory/dirdata"
	"liaisonbot/internal/jsonenc"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGoldenAnswers pins the Block Kit JSON of each command's answer as the
// HTTP response carries it. Refresh with: go test ./adapters/slack -run Golden -update
func TestGoldenAnswers(t *testing.T) {
	h := newHarness(t, harnessOptions{productOnly: true})
	for _, tt := range []struct{ golden, text string }{
		{"help", "help"},
		{"contact-canada", "contact canada"},
		{"contact-ambiguous", "contact austrlia"},
		{"office-miami", "office Miami"},
		{"emergency", "emergency"},
		{"error-no-match", "contact atlantis"},
		{"error-unknown", "frobnicate"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			code, body := h.command(t, tt.text, nil)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, []byte(body), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			checkGolden(t, filepath.Join("testdata", tt.golden+".golden"), pretty.Bytes())
			checkLimits(t, []byte(body))
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s", path, got)
	}
}

// TestUserTextIsInert imports a contact whose name is a mention and a link,
// then looks its mission up: the answer shows the text, escaped, and holds
// nothing Slack would parse.
func TestUserTextIsInert(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const evil = "<!channel> & <https://evil.example|x>"
	csv := "mission_id,name,title,phone,email\nemb-dc-canada,\"" + evil + "\",<@U0ADMIN>,202-555-0100,a@example.org\n"
	f, err := dirdata.Read("contacts.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.dir.Import(context.Background(), f, false, false); err != nil {
		t.Fatal(err)
	}
	_, body := h.command(t, "contact emb-dc-canada", nil)
	texts := textsOf(t, []byte(body))
	rendered := strings.Join(texts, "\n")
	for _, want := range []string{"&lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;", "&lt;@U0ADMIN&gt;"} {
		if !strings.Contains(rendered, want) {
			t.Fatalf("escaped %q missing:\n%s", want, rendered)
		}
	}
	// No text holds a raw <, > or & that Slack could parse.
	for _, s := range texts {
		if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s), "<>&") {
			t.Errorf("unescaped text: %q", s)
		}
	}
}

// textsOf collects every "text" string in a JSON document.
func textsOf(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "text" {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

func TestEscapeAndClip(t *testing.T) {
	if got := escape("<!here> & <@U1|x>"); got != "&lt;!here&gt; &amp; &lt;@U1|x&gt;" {
		t.Fatalf("escape = %q", got)
	}
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"ünïcödé-text", 5, "ünïc…"},
		{"ab&amp;cd", 5, "ab…"},     // never half an entity
		{"abc&lt;d", 8, "abc&lt;d"}, // whole entity kept when it fits
		{"&amp;&amp;", 7, "&amp;…"},
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestRenderLimits feeds a message over every Block Kit limit: the result
// stays within them, cut with "…", instead of being refused by Slack.
func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("x&<", 2000)
	m := &bot.Message{Title: long, Text: long, Footer: long, Error: true}
	for i := range 40 {
		s := bot.Section{Title: long, Text: long}
		for j := range 23 {
			s.Fields = append(s.Fields, bot.Field{Label: long, Value: long + string(rune('a'+j))})
		}
		if i == 0 {
			s.Fields = append(s.Fields, bot.Field{Label: "Empty", Value: ""})
		}
		m.Sections = append(m.Sections, s)
	}
	for i := range 30 {
		m.Buttons = append(m.Buttons, bot.Button{Label: long, Command: "contact " + strings.Repeat("y", i)})
	}
	m.Buttons = append(m.Buttons, bot.Button{Label: "too long to run", Command: strings.Repeat("z", maxButtonValue+1)})
	rep := replyFor(m)
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, data)
	if !strings.HasPrefix(rep.Text, warningPrefix) {
		t.Errorf("error answer without the warning: %.40q", rep.Text)
	}
	if strings.Contains(string(data), "zzzz") {
		t.Error("a button whose command is over the value limit was rendered")
	}
}

// checkLimits asserts Slack's Block Kit limits on a rendered answer.
func checkLimits(t *testing.T, data []byte) {
	t.Helper()
	var r struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	n := func(v any) int {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		return utf8.RuneCountInString(s)
	}
	if len(r.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(r.Blocks))
	}
	if l := utf8.RuneCountInString(r.Text); l > maxFallback || l == 0 {
		t.Errorf("fallback text of %d characters", l)
	}
	for _, b := range r.Blocks {
		switch b["type"] {
		case "header":
			if l := n(b["text"]); l > maxHeader || l == 0 {
				t.Errorf("header of %d characters", l)
			}
		case "section":
			if b["text"] != nil {
				if l := n(b["text"]); l > maxSectionText || l == 0 {
					t.Errorf("section text of %d characters", l)
				}
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > maxFields {
				t.Errorf("%d fields in a section", len(fields))
			}
			for _, f := range fields {
				if l := n(f); l > maxField || l == 0 {
					t.Errorf("field of %d characters", l)
				}
			}
			if b["text"] == nil && len(fields) == 0 {
				t.Error("empty section")
			}
		case "actions":
			elems, _ := b["elements"].([]any)
			if len(elems) > maxActions || len(elems) == 0 {
				t.Errorf("%d buttons in an actions block", len(elems))
			}
			for _, e := range elems {
				em := e.(map[string]any)
				if l := n(em["text"]); l > maxButtonText {
					t.Errorf("button text of %d characters", l)
				}
				// Slack counts characters; an invalid byte comes back as one
				// U+FFFD, three bytes.
				if v, _ := em["value"].(string); utf8.RuneCountInString(v) > maxButtonValue {
					t.Errorf("button value of %d characters", utf8.RuneCountInString(v))
				}
			}
		case "context":
			for _, e := range b["elements"].([]any) {
				if l := n(e); l > maxContext {
					t.Errorf("context of %d characters", l)
				}
			}
		}
	}
}

func TestRenderMessageShapes(t *testing.T) {
	text, blocks := render(&bot.Message{
		Title: "Incident INC-2026-0042", Text: "Opened by alice",
		Sections: []bot.Section{{Title: "Timeline", Fields: []bot.Field{{Label: "08:00", Value: "opened"}}}},
		Buttons:  []bot.Button{{Label: "Acknowledge", Command: "handoff ack", Primary: true}},
		Footer:   "24-hour line: 571-345-3146",
	})
	var kinds []string
	for _, b := range blocks {
		kinds = append(kinds, b.Kind)
	}
	if got := strings.Join(kinds, ","); got != "header,section,divider,section,actions,context" {
		t.Fatalf("blocks %s", got)
	}
	if btn := blocks[4].Buttons[0]; btn.Value != "handoff ack" || !btn.Primary || btn.ActionID != "liaison.run.0" {
		t.Fatalf("button %+v", btn)
	}
	if text != "Incident INC-2026-0042\nOpened by alice\nTimeline; 08:00: opened" {
		t.Fatalf("fallback %q", text)
	}
}

// TestJSONMatchesSlackGo holds the hand-written JSON of answers equal to
// what slack-go writes for the same blocks (toSlack, used for the Web API),
// and readable back by slack-go.
func TestJSONMatchesSlackGo(t *testing.T) {
	msgs := []*bot.Message{
		{Title: "T \"q\" <x>", Text: "line\n\ttab \u2028 \x01 ünï", Error: true,
			Sections: []bot.Section{{Title: "S", Text: "body", Fields: []bot.Field{{Label: "L", Value: "V"}, {Value: "no label"}}}, {Fields: []bot.Field{{Label: "only", Value: "fields"}}}},
			Buttons:  []bot.Button{{Label: "Go", Command: "contact canada", Primary: true}, {Label: "No", Command: "help"}},
			Footer:   "foot & note"},
		{Text: "plain"},
		{Title: "bad utf8 \xff\xfe"},
	}
	for i, m := range msgs {
		_, blocks := render(m)
		ours, err := json.Marshal(reply{Blocks: blocks}.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := json.Marshal(toSlack(blocks))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatalf("%d: our JSON does not parse: %v\n%s", i, err, ours)
		}
		json.Unmarshal(theirs, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%d: blocks differ\nours   %s\nslack-go %s", i, ours, theirs)
		}
		var parsed slackapi.Blocks
		if err := json.Unmarshal(ours, &parsed); err != nil || len(parsed.BlockSet) != len(blocks) {
			t.Errorf("%d: slack-go cannot read our blocks: %v", i, err)
		}
		// A string written by hand reads back as encoding/json reads it.
		for _, s := range []string{m.Title, m.Text} {
			var back, want string
			std, _ := json.Marshal(s)
			json.Unmarshal(std, &want)
			if err := json.Unmarshal(jsonenc.AppendString(nil, s), &back); err != nil || back != want {
				t.Errorf("%d: jsonenc.AppendString(%q) reads back as %q (%v), want %q", i, s, back, err, want)
			}
		}
	}
}
