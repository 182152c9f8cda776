package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/help"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func indent(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// fixedSecret makes button signatures reproducible in golden files.
func fixedSecret(t *testing.T, st store.Store) {
	t.Helper()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		return tx.Put(bucket, keySecret, bytes.Repeat([]byte{'k'}, secretLen))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGoldenAnswers renders real answers of the directory feature, as a
// user gets them through the slash command.
func TestGoldenAnswers(t *testing.T) {
	w := newWorld(t)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir, err := directory.Open(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	fixedSecret(t, st)
	r := w.start(startOptions{store: st, register: func(m *bot.Mux) {
		help.Register(m)
		directory.Register(m, dir)
	}})
	r.ready(t)
	for name, line := range map[string]string{
		"help":           "help",
		"contact_canada": "contact canada",
		"office_miami":   "office Miami",
		"emergency":      "emergency",
		"error":          "frobnicate",
	} {
		t.Run(name, func(t *testing.T) {
			res := w.execute(w.agent, w.internal, line)
			if res.Status != 200 {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			golden(t, name, indent(t, res.Body))
		})
	}
}

func TestGoldenButtons(t *testing.T) {
	w := newWorld(t)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "liaison.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fixedSecret(t, st)
	r := w.start(startOptions{store: st, noRun: true, env: map[string]string{"LIAISON_PUBLIC_URL": "https://liaison.example.gov"}})
	m := &bot.Message{
		Title: `Which mission did you mean by "jpan"?`,
		Text:  "• Embassy of Japan (Washington, DC): contact emb-dc-japan\n• Consulate General of Japan in Houston (Houston, TX): contact cg-houston-japan",
		Buttons: []bot.Button{
			{Label: "Embassy of Japan", Command: "contact emb-dc-japan", Primary: true},
			{Label: "Consulate General of Japan in Houston", Command: "contact cg-houston-japan"},
		},
		Footer: "24-hour command center: 571-345-3146.",
	}
	js, err := json.Marshal(r.ad.commandResponse(m))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "buttons", indent(t, js))
	// The signature is of the command line under the install's secret.
	if !r.ad.verify("contact emb-dc-japan", r.ad.sign("contact emb-dc-japan")) || r.ad.verify("contact emb-dc-japan", r.ad.sign("contact x")) {
		t.Fatal("sign/verify")
	}
}

func TestRenderLayout(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{noRun: true})
	got := r.ad.render(&bot.Message{
		Title: "Title", Text: "line one\n    indented", Error: true,
		Sections: []bot.Section{{Title: "S", Text: "t", Fields: []bot.Field{
			{Label: "Short", Value: "202-895-3600"},
			{Label: "Long", Value: strings.Repeat("x", shortField+1)},
		}}},
		Footer: "foot",
	})
	if got.Text != ":warning: **Title**\nline one\n\u00a0\u00a0\u00a0\u00a0indented" {
		t.Errorf("text %q", got.Text)
	}
	if len(got.Attachments) != 2 || got.Attachments[1].Text != "_foot_" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	f := got.Attachments[0].Fields
	if !bool(f[0].Short) || bool(f[1].Short) || f[0].Value != "202-895-3600" {
		t.Errorf("fields %+v %+v", f[0], f[1])
	}
	// Without sections the footer closes the text.
	if got := r.ad.render(&bot.Message{Text: "a", Footer: "b"}); got.Text != "a\n_b_" || got.Attachments != nil {
		t.Errorf("%+v", got)
	}
}
