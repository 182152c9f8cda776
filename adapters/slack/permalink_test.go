package slack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slack-go/slack/slacktest"

	"liaisonbot/bot"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/config"
)

func TestPostRefsCarryPermalinks(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	root, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, Key: "outbox-1", Message: bot.Message{Text: "INC-2026-0042 opened"}})
	if err != nil {
		t.Fatal(err)
	}
	h.slack.next(t)
	// auth.test's url is https://pld.slack.com/; the fake's first ts is
	// 1700000000.000001.
	if want := "https://pld.slack.com/archives/" + mpdChannel + "/p1700000000000001"; root.ID != "1700000000.000001" || root.Link != want {
		t.Fatalf("root ref %+v, want link %s", root, want)
	}
	reply, err := h.ad.Post(ctx, bot.Post{Channel: mpdChannel, ThreadRef: root.ID, Key: "outbox-2", Message: bot.Message{Text: "Units on scene"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := h.slack.next(t); c.ThreadTS != root.ID {
		t.Fatalf("reply: %+v", c)
	}
	want := "https://pld.slack.com/archives/" + mpdChannel + "/p1700000000000002?thread_ts=1700000000.000001&cid=" + mpdChannel
	if reply.Link != want {
		t.Fatalf("reply link %q, want %q", reply.Link, want)
	}
}

// A post made while auth.test fails has no link, and is posted all the
// same; posts do not ask auth.test again for every message.
func TestPostWithoutWorkspaceHasNoLink(t *testing.T) {
	var authCalls atomic.Int32
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			authCalls.Add(1)
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		})
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.000009"}`, r.PostFormValue("channel"))
		})
	})
	srv.Start()
	t.Cleanup(srv.Stop)
	env := map[string]string{"SLACK_SIGNING_SECRET": testSecret, "SLACK_BOT_TOKEN": testBot, "SLACK_API_URL": srv.GetAPIURL()}
	cfg, err := config.Parse([]byte(testConfig), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "l.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ad, err := New(Options{Config: cfg, Mux: bot.NewMux("liaison", nil), Store: st, Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ref, err := ad.Post(context.Background(), bot.Post{Channel: mpdChannel, Message: bot.Message{Text: "x"}})
		if err != nil || ref.ID != "1700000000.000009" || ref.Link != "" {
			t.Fatalf("ref %+v, %v", ref, err)
		}
	}
	if n := authCalls.Load(); n != 1 {
		t.Fatalf("auth.test called %d times, want once", n)
	}
}

func TestPermalinkShape(t *testing.T) {
	for _, tt := range []struct{ web, channel, ts, thread, want string }{
		{"https://pld.slack.com", "C0USPP", "1355517523.000005", "", "https://pld.slack.com/archives/C0USPP/p1355517523000005"},
		{"https://pld.slack.com", "C0USPP", "1355517523.000008", "1355517523.000005",
			"https://pld.slack.com/archives/C0USPP/p1355517523000008?thread_ts=1355517523.000005&cid=C0USPP"},
		{"https://pld.slack.com", "C0USPP", "1355517523.000005", "1355517523.000005", "https://pld.slack.com/archives/C0USPP/p1355517523000005"},
		{"", "C0USPP", "1355517523.000005", "", ""},
		{"https://pld.slack.com", "", "1355517523.000005", "", ""},
	} {
		if got := permalink(tt.web, tt.channel, tt.ts, tt.thread); got != tt.want {
			t.Errorf("permalink(%q, %q, %q, %q) = %q, want %q", tt.web, tt.channel, tt.ts, tt.thread, got, tt.want)
		}
	}
	for raw, want := range map[string]string{
		"https://pld.slack.com/":                "https://pld.slack.com",
		"https://pld-gov.enterprise.slack.com/": "https://pld-gov.enterprise.slack.com",
		"http://localhost:1234/":                "https://localhost:1234",
		"":                                      "",
		"pld.slack.com":                         "",
		"javascript:alert(1)":                   "",
	} {
		if got := workspaceWeb(raw); got != want {
			t.Errorf("workspaceWeb(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestFieldLinks(t *testing.T) {
	link := "https://pld.slack.com/archives/C0USPP/p1700000000000002?thread_ts=1700000000.000001&cid=C0USPP"
	_, blocks := render(&bot.Message{Sections: []bot.Section{{Fields: []bot.Field{
		{Label: "United States Park Police (Slack)", Value: link, URL: link},
		{Label: "Typed <!channel>", Value: "<https://evil.example|click>", URL: "javascript:alert(1)"},
		{Label: "Bad", Value: "text", URL: "https://x.example/a|b>"},
	}}}})
	var fields []string
	for _, b := range blocks {
		fields = append(fields, b.Fields...)
	}
	if len(fields) != 3 {
		t.Fatalf("fields %q", fields)
	}
	escaped := strings.ReplaceAll(link, "&", "&amp;")
	if want := "*United States Park Police (Slack)*\n<" + escaped + "|" + escaped + ">"; fields[0] != want {
		t.Errorf("linked field %q, want %q", fields[0], want)
	}
	if want := "*Typed &lt;!channel&gt;*\n&lt;https://evil.example|click&gt;"; fields[1] != want {
		t.Errorf("field with a refused URL %q, want %q", fields[1], want)
	}
	if fields[2] != "*Bad*\ntext" {
		t.Errorf("field with a URL that would break the markup %q", fields[2])
	}
}
