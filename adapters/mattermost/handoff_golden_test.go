package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisonbot/adapters/mattermost/mmtest"
	"liaisonbot/bot"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/handoff/handofftest"
	"liaisonbot/config"
)

// The handoff feature as Mattermost shows it: the reminder, the digest,
// the escalation and the acknowledged digest, produced by the real
// incident and handoff features on a fake clock and sent through this
// adapter's Post and Update to the fake server. The golden files are the
// message (Markdown) and props (attachments, buttons) of the create-post
// and patch-post requests the server received; a zero-width space is
// written \u200b so that the escaping shows. Refresh with:
// go test ./adapters/mattermost -run HandoffGolden -update

const handoffPublicURL = "https://liaison.example.gov"

// User-supplied text that Mattermost would turn into mentions, links and
// formatting if it were not escaped: an incident summary and a handoff note.
const (
	handoffEvilSummary = "Sign reading <!channel> & [click](https://evil.example) at the *east* gate, @here"
	handoffEvilNote    = "<@U0ADMIN> says see www.evil.example, ~town-square #urgent & tell @channel"
)

func TestHandoffGolden(t *testing.T) {
	s, ad, w, loc := newHandoffScene(t)
	got := map[string]mmtest.Request{}
	seen := len(w.srv.Requests())
	for _, st := range handofftest.NightShift(loc, handoffEvilSummary, handoffEvilNote) {
		s.Play(st)
		var reqs []mmtest.Request
		reqs, seen = writesSince(w, seen)
		if st.Golden == "" {
			if len(reqs) != 0 {
				t.Fatalf("%s %q: %d unexpected writes to Mattermost", st.At, st.Text, len(reqs))
			}
			continue
		}
		if len(reqs) != 1 {
			t.Fatalf("%s %q: %d writes to Mattermost, want 1", st.At, st.Text, len(reqs))
		}
		got[st.Golden] = reqs[0]
	}

	for _, tc := range []struct {
		golden, method, title string
		ack                   string // the command of the Acknowledge button; "" for none
	}{
		{handofftest.Reminder, http.MethodPost, handofftest.ReminderTitle, ""},
		{handofftest.Digest, http.MethodPost, handofftest.DigestTitle, handofftest.AcknowledgeCommand},
		{handofftest.Escalation, http.MethodPost, handofftest.EscalationTitle, handofftest.AcknowledgeCommand},
		{handofftest.DigestAcknowledged, http.MethodPut, handofftest.DigestTitle, ""},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := got[tc.golden]
			if r.Method != tc.method || r.Status/100 != 2 {
				t.Fatalf("%s %s answered %d, want a %s", r.Method, r.Path, r.Status, tc.method)
			}
			p := handoffPost(t, r)
			golden(t, tc.golden, handoffDoc(t, p))

			if first, _, _ := strings.Cut(p.Message, "\n"); first != "**"+tc.title+"**" {
				t.Fatalf("message begins %q, want the title %q", first, tc.title)
			}
			var acks []string
			for _, a := range mmtest.Actions(p.Props) {
				if a.Name != "Acknowledge" || a.Integration == nil {
					continue
				}
				cmd, _ := a.Integration.Context["command"].(string)
				sig, _ := a.Integration.Context["sig"].(string)
				if a.Integration.URL != handoffPublicURL+ActionsPath || a.Style != "primary" || !ad.verify(cmd, sig) {
					t.Fatalf("Acknowledge button %+v %+v: not a signed call to %s", a, a.Integration, handoffPublicURL+ActionsPath)
				}
				acks = append(acks, cmd)
			}
			switch {
			case tc.ack == "" && len(acks) > 0:
				t.Fatalf("an Acknowledge button %q where none belongs", acks)
			case tc.ack != "" && (len(acks) != 1 || acks[0] != tc.ack):
				t.Fatalf("Acknowledge buttons %q, want one running %q", acks, tc.ack)
			}
			if tc.method == http.MethodPut {
				// An edit replaces the attachments: the button goes away.
				if _, ok := p.Props["attachments"]; !ok {
					t.Fatal("the edit leaves the old attachments in place")
				}
			}
			checkHandoffInert(t, p)
		})
	}

	// The digest carries the user-supplied text, escaped, before and after
	// it is acknowledged.
	for _, name := range []string{handofftest.Digest, handofftest.DigestAcknowledged} {
		doc := string(handoffDoc(t, handoffPost(t, got[name])))
		for _, want := range []string{
			`Sign reading \\<!channel\\> & \\[click\\](https:\u200b//evil.example) at the \\*east\\* gate, @\u200bhere`,
			`tester: \\<@\u200bU0ADMIN\\> says see www\u200b.evil.example, ~\u200btown-square #\u200burgent & tell @\u200bchannel`,
			"Gate 3 camera is down",
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s lacks %s", name, want)
			}
		}
		if strings.Contains(doc, "informant") {
			t.Errorf("%s quotes an internal note", name)
		}
	}
	ackd := handoffPost(t, got[handofftest.DigestAcknowledged])
	if !strings.Contains(ackd.Message, handofftest.AcknowledgedMessage) {
		t.Errorf("the edit does not show the acknowledgement:\n%s", ackd.Message)
	}
	// The configured handles stay mentions: they are meant to notify.
	esc := handoffPost(t, got[handofftest.Escalation])
	if !strings.Contains(esc.Message, "@pld-duty-officer: handoff digest watch-0001") || !strings.Contains(esc.Message, "Incoming lead: @bob.") {
		t.Errorf("the escalation does not mention the configured handles:\n%s", esc.Message)
	}
}

// handoffWrite is what the adapter sent: a new post's or a patch's
// message and props.
type handoffWrite struct {
	Message string         `json:"message"`
	Props   map[string]any `json:"props"`
}

func handoffPost(t *testing.T, r mmtest.Request) handoffWrite {
	t.Helper()
	var p handoffWrite
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s %s: %v\n%s", r.Method, r.Path, err, r.Body)
	}
	return p
}

// handoffDoc is the golden form of a write: indented, <, > and & written as
// themselves, and zero-width spaces as \u200b.
func handoffDoc(t *testing.T, p handoffWrite) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b.Bytes(), []byte(zwsp), []byte(`\u200b`))
}

// checkHandoffInert asserts that no text of a write, outside the buttons'
// integration (URL, command, signature), holds user-supplied text in a form
// Mattermost would turn into a mention, a link, HTML or formatting.
func checkHandoffInert(t *testing.T, p handoffWrite) {
	t.Helper()
	raw := []string{
		"<!channel>", "<@U0ADMIN>", "[click](", "https://", "*east*", "@here", "@channel",
		"www.evil", "~town-square", "#urgent",
	}
	var texts []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			texts = append(texts, v)
		case map[string]any:
			for k, x := range v {
				if k != "integration" {
					walk(k, x)
				}
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		}
	}
	walk("message", p.Message)
	walk("props", p.Props)
	for _, s := range texts {
		for _, r := range raw {
			if strings.Contains(s, r) {
				t.Errorf("%q left as is in %q", r, s)
			}
		}
		for i := 0; i < len(s); i++ {
			if (s[i] == '<' || s[i] == '>') && (i == 0 || s[i-1] != '\\') && !strings.HasPrefix(s[i+1:], zwsp) {
				t.Errorf("unescaped %q in %q", s[i], s)
			}
		}
	}
}

// ---- the incident and handoff features over a bbolt file, on a fake clock ----

// newHandoffScene plays the shift through this adapter against mmtest.
func newHandoffScene(t *testing.T) (*handofftest.Scene, *Adapter, *world, *time.Location) {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	clock := handofftest.NewClock(handofftest.Start(loc))
	yaml := "mattermost:\n  internal_teams: [pld]\n" + fmt.Sprintf(handofftest.TeamYAML, "mattermost:"+w.internal.Id)
	env := map[string]string{
		"MATTERMOST_URL":       w.srv.URL,
		"MATTERMOST_BOT_TOKEN": botToken,
		"MATTERMOST_TEAM":      "pld",
		"LIAISON_PUBLIC_URL":   handoffPublicURL,
	}
	cfg, err := config.Parse([]byte(yaml), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fixedSecret(t, st)
	mux := bot.NewMux("liaison", nil)
	mux.Use(bot.Authorize(mux))
	ad, err := New(context.Background(), Options{Config: cfg, Mux: mux, Store: st, Wait: newWaiter().wait})
	if err != nil {
		t.Fatal(err)
	}
	s := handofftest.New(t, handofftest.Options{Store: st, Config: cfg, Clock: clock, Mux: mux, Adapter: ad,
		Channel: w.internal.Id, User: bot.User{ID: w.agent.Id, Name: "tester"}})
	return s, ad, w, loc
}

// writesSince returns the requests other than reads the fake server
// received after the first seen ones, and the new count; posts and edits
// are synchronous, so they are all there.
func writesSince(w *world, seen int) ([]mmtest.Request, int) {
	all := w.srv.Requests()
	var out []mmtest.Request
	for _, r := range all[seen:] {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out, len(all)
}
