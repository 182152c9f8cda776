package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/adapters/mattermost/mmtest"
)

// buttonsOf runs "choose" and returns its buttons.
func buttonsOf(t *testing.T, w *world) []*model.PostAction {
	t.Helper()
	res := w.execute(w.agent, w.internal, "choose")
	acts := mmtest.Actions(res.Response.Props)
	if len(acts) != 2 {
		t.Fatalf("want 2 buttons, got %s", res.Body)
	}
	for _, a := range acts {
		if a.Type != model.PostActionTypeButton || a.Integration.URL != w.web.URL+ActionsPath {
			t.Fatalf("button %+v %+v", a, a.Integration)
		}
	}
	return acts
}

func TestButtonRunsItsCommandAsThePresser(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	acts := buttonsOf(t, w)
	before := r.audit.len()
	status, resp, err := w.srv.DoAction(context.Background(), mmtest.Click{UserID: w.guest.Id, ChannelID: w.shared.Id, PostID: model.NewId(), Action: acts[0]})
	if err != nil || status != http.StatusOK {
		t.Fatalf("%d %v", status, err)
	}
	if err := contains(resp.EphemeralText, "role=partner:mpd", "user="+w.guest.Id, "channel="+w.shared.Id); err != nil {
		t.Fatal(err)
	}
	if !resp.SkipSlackParsing || r.audit.len() != before+1 {
		t.Errorf("skip_slack_parsing %v, audited %d", resp.SkipSlackParsing, r.audit.len()-before)
	}

	// An in-channel answer is posted to the channel.
	status, resp, err = w.srv.DoAction(context.Background(), mmtest.Click{UserID: w.agent.Id, ChannelID: w.internal.Id, Action: acts[1]})
	if err != nil || status != http.StatusOK || resp.EphemeralText != "" {
		t.Fatalf("%d %v %+v", status, err, resp)
	}
	posts := w.srv.Posts()
	if len(posts) == 0 || posts[len(posts)-1].Message != "announced: done" || posts[len(posts)-1].UserId != w.bot.Id {
		t.Fatalf("posts %+v", posts)
	}
}

func TestButtonWithBadSignatureDoesNothing(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{})
	r.ready(t)
	acts := buttonsOf(t, w)
	before := r.audit.len()
	forge := func(change func(ctx map[string]any)) *model.PostAction {
		a := *acts[0]
		integ := *a.Integration
		integ.Context = map[string]any{}
		for k, v := range acts[0].Integration.Context {
			integ.Context[k] = v
		}
		change(integ.Context)
		a.Integration = &integ
		return &a
	}
	for name, a := range map[string]*model.PostAction{
		"other command, same sig": forge(func(c map[string]any) { c["command"] = "secret" }),
		"bad sig":                 forge(func(c map[string]any) { c["sig"] = strings.Repeat("0", 64) }),
		"sig not hex":             forge(func(c map[string]any) { c["sig"] = "zz" }),
		"no sig":                  forge(func(c map[string]any) { delete(c, "sig") }),
		"no command":              forge(func(c map[string]any) { delete(c, "command") }),
		"sig of another button":   forge(func(c map[string]any) { c["sig"] = acts[1].Integration.Context["sig"] }),
	} {
		t.Run(name, func(t *testing.T) {
			status, _, err := w.srv.DoAction(context.Background(), mmtest.Click{UserID: w.agent.Id, ChannelID: w.internal.Id, Action: a})
			if err != nil || status != http.StatusUnauthorized {
				t.Fatalf("%d %v", status, err)
			}
		})
	}
	if r.audit.len() != before {
		t.Fatalf("%d commands ran", r.audit.len()-before)
	}
	// A body over the limit is refused before anything is read into it.
	big := bytes.Repeat([]byte("x"), maxBody+1)
	resp, err := http.Post(w.web.URL+ActionsPath, "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge action: %d", resp.StatusCode)
	}
	body, _ := json.Marshal(map[string]any{"user_id": w.agent.Id})
	resp, err = http.Post(w.web.URL+ActionsPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("action without context: %d", resp.StatusCode)
	}
}

func TestButtonsWithoutPublicURLAreTyped(t *testing.T) {
	w := newWorld(t)
	r := w.start(startOptions{env: map[string]string{"LIAISON_PUBLIC_URL": ""}, noRun: true})
	resp := r.ad.commandResponse(mustServe(t, r, "choose"))
	if len(mmtest.Actions(resp.Props)) != 0 || !strings.Contains(resp.Text, "Who am I: /liaison whoami") {
		t.Fatalf("%+v", resp)
	}
}
