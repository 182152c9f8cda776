package slack

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"liaisonbot/bot"
)

// The decoders read what arrives from outside (after the signature check,
// but a bug in Slack or a leaked secret must not crash the bot): they must
// never panic, and what they accept must be usable.

func FuzzDecodeSlashCommand(f *testing.F) {
	f.Add(slashForm("contact canada", "https://hooks.slack.com/commands/T1/2/3", nil))
	f.Add([]byte("user_id=U1&channel_id=C1&text=%22unterminated"))
	f.Add([]byte("text=%zz"))
	f.Add([]byte("user_id=U1&channel_id=C1&text=%41+b&text=c&command=%2Fliaison&command=x&text="))
	f.Add([]byte("user_id=U1&channel_id=C1&text=&text=late+one&response_url=%4"))
	f.Add([]byte(`{"user_id":"U1","channel_id":"C1","is_enterprise_install":"false","text":"help"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := &Adapter{cfg: mustConfig(t, testConfig)}
		a.now = nowForFuzz
		// The one-pass form reader agrees with net/url where both accept.
		if v, err := url.ParseQuery(string(data)); err == nil {
			if sc, err := decodeSlashCommand(data); err == nil {
				got := map[string]string{"team_id": sc.TeamID, "team_domain": sc.TeamDomain,
					"enterprise_id": sc.EnterpriseID, "enterprise_name": sc.EnterpriseName,
					"channel_id": sc.ChannelID, "channel_name": sc.ChannelName, "user_id": sc.UserID,
					"user_name": sc.UserName, "user_team": sc.UserTeam, "command": sc.Command, "text": sc.Text,
					"response_url": sc.ResponseURL, "trigger_id": sc.TriggerID, "api_app_id": sc.APIAppID}
				for k, g := range got {
					if len(v[k]) == 1 && v.Get(k) != g {
						t.Fatalf("%s = %q, net/url says %q", k, g, v.Get(k))
					}
				}
			}
		}
		for _, decode := range []func([]byte) (slashCommand, error){decodeSlashCommand, decodeSlashCommandJSON} {
			sc, err := decode(data)
			if err != nil {
				continue
			}
			if sc.UserID == "" || sc.ChannelID == "" {
				t.Fatalf("accepted without user or channel: %+v", sc)
			}
			req := a.commandRequest(sc)
			if req.Platform != bot.Slack || req.Channel != sc.ChannelID || req.Text != sc.Text {
				t.Fatalf("request %+v from %+v", req, sc)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(messageEnvelope("Ev1", "C1", "U1", "T1", "hi", "1700000000.000100", "1699999999.000001", true)))
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","channel":"C1","message":{"user":"U1","text":"b","ts":"1.2"},"previous_message":{"text":"a"}}}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","subtype":"message_deleted","channel":"C1","deleted_ts":"1.2"}}`))
	f.Add([]byte(`{"type":"event_callback","event":"string"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if err != nil {
			return
		}
		a := &Adapter{cfg: mustConfig(t, testConfig)}
		ev, ok := a.toEvent(env)
		if !ok {
			return
		}
		if ev.Platform != bot.Slack || ev.Channel == "" || ev.MessageID == "" {
			t.Fatalf("dispatchable event without a channel or message: %+v", ev)
		}
		if ev.FromBot && ev.Role.Kind != bot.RoleNone {
			t.Fatalf("the bot's own message has a role: %+v", ev)
		}
	})
}

func FuzzDecodeInteraction(f *testing.F) {
	f.Add([]byte("payload=" + strings.ReplaceAll(interactionJSON("contact canada", "https://hooks.slack.com/actions/T1/2/3", "U1", "T1", "C1"), "\n", "")))
	f.Add([]byte(`payload={"type":"block_actions","actions":[{"type":"button","action_id":"liaison.run.0","value":""}]}`))
	f.Add([]byte("payload=%7B"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeInteraction(data)
		if err != nil {
			return
		}
		a := &Adapter{cfg: mustConfig(t, testConfig)}
		a.now = nowForFuzz
		if req, ok := a.buttonRequest(in); ok && (req.Text == "" || req.User.ID == "" || req.Channel == "") {
			t.Fatalf("button request without text, user or channel: %+v", req)
		}
	})
}

// FuzzPlainText checks that Slack markup of any shape reads without a
// panic, and that text without markup or entities passes unchanged.
func FuzzPlainText(f *testing.F) {
	f.Add("hi <@U1|lee> &amp; <https://x|y> <!here> <#C1>")
	f.Add("<<>>|&&amp;;<")
	f.Fuzz(func(t *testing.T, s string) {
		got := plainText(s)
		if !strings.ContainsAny(s, "<&") && got != s {
			t.Fatalf("plainText(%q) = %q", s, got)
		}
	})
}

// FuzzRender checks that any text renders within Block Kit's limits and
// with nothing Slack would parse as a mention or a link.
func FuzzRender(f *testing.F) {
	f.Add("<!channel> & <https://evil|x>", "<@U1>", "field", "&amp;", 3)
	f.Add(strings.Repeat("é&<", 1500), "", "", "", 40)
	f.Fuzz(func(t *testing.T, title, text, label, value string, n int) {
		m := &bot.Message{Title: title, Text: text, Footer: value, Error: n%2 == 0}
		for i := range min(max(n, 0), 60) {
			m.Sections = append(m.Sections, bot.Section{Title: title, Fields: []bot.Field{{Label: label, Value: value}}})
			m.Buttons = append(m.Buttons, bot.Button{Label: label, Command: value + string(rune('a'+i%26))})
		}
		data, err := json.Marshal(replyFor(m))
		if err != nil {
			t.Fatal(err)
		}
		checkLimits(t, data)
		for _, s := range textsOf(t, data) {
			if !utf8.ValidString(title + text + label + value) {
				break // invalid UTF-8 comes back replaced; nothing to compare
			}
			if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s), "<>&") {
				t.Fatalf("unescaped text %q", s)
			}
		}
	})
}

func nowForFuzz() time.Time { return time.Unix(1700000000, 0) }
