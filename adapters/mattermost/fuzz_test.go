package mattermost

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// FuzzDecodeCommand feeds slash command form bodies, as anyone on the
// network could send them, to the decoder: it must never panic, and what
// it returns must be valid UTF-8 for the mux.
func FuzzDecodeCommand(f *testing.F) {
	f.Add("token=t&team_id=T&channel_id=C&user_id=U&user_name=alice&command=%2Fliaison&text=contact+canada&response_url=http%3A%2F%2Fmm%2Fhooks%2Fcommands%2Fx&root_id=R", "")
	f.Add("text=%zz&token=", "Token abc")
	f.Add("text=%ff%fe&user_id=%00", "token x")
	f.Add(strings.Repeat("a=b&", 100), "Bearer nope")
	f.Fuzz(func(t *testing.T, body, auth string) {
		c, err := decodeCommand([]byte(body), auth)
		if err != nil {
			return
		}
		for _, s := range []string{c.TeamID, c.ChannelID, c.UserID, c.UserName, c.Command, c.Text, c.RootID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 passed on: %q", s)
			}
		}
		if form, _ := url.ParseQuery(body); form.Get("token") != "" && c.Token != form.Get("token") {
			t.Fatalf("token %q, form says %q", c.Token, form.Get("token"))
		}
		c.missing()
	})
}

// FuzzDecodeWebsocketPost feeds websocket frames to the event decoder: it
// must never panic, and a post it accepts names its post and channel.
func FuzzDecodeWebsocketPost(f *testing.F) {
	f.Add([]byte(`{"event":"posted","data":{"post":"{\"id\":\"p1\",\"channel_id\":\"c1\",\"root_id\":\"r1\",\"user_id\":\"u1\",\"message\":\"hi\",\"create_at\":1}","sender_name":"@alice"},"broadcast":{"channel_id":"c1"},"seq":3}`))
	f.Add([]byte(`{"event":"post_edited","data":{"post":"{\"id\":\"p1\"}"}}`))
	f.Add([]byte(`{"event":"post_deleted","data":{"post":42}}`))
	f.Add([]byte(`{"event":"hello","data":{"server_version":"10"}}`))
	f.Add([]byte(`{"event":"posted","data":{"user":{"id":"x"},"post":"not json"}}`))
	f.Add([]byte(`{"status":"OK","seq_reply":1}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, p, _, ok, err := decodeWebsocketPost(frame)
		if ok && (err != nil || p == nil || p.Id == "" || p.ChannelId == "") {
			t.Fatalf("accepted a post without id or channel: %+v %v", p, err)
		}
	})
}

// FuzzEscapeMarkdown checks the escaping's promises on any text: no
// mention, no autolinked URL and no unescaped link syntax survive.
func FuzzEscapeMarkdown(f *testing.F) {
	f.Add("@channel [x](https://evil) ![i](https://evil/i.png) <!channel>")
	f.Add("  - www.evil.com\n#tag ~chan @all")
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeMarkdown(s)
		for _, bad := range []string{"://", "](", "<!"} {
			if hasUnescaped(out, bad) {
				t.Fatalf("%q survives in %q (from %q)", bad, out, s)
			}
		}
		if m := mention(out); m != "" {
			t.Fatalf("mention %q in %q (from %q)", m, out, s)
		}
		if strings.Contains(strings.ToLower(out), "www.") && strings.Contains(strings.ToLower(s), "www.") {
			for i := strings.Index(strings.ToLower(out), "www."); i >= 0; {
				// The rune before, not the byte: "Νwww." (a Greek letter
				// before) is inside a word and not autolinked.
				if before, _ := utf8.DecodeLastRuneInString(out[:i]); i == 0 || !isWordRune(before) {
					t.Fatalf("autolinkable www. in %q", out)
				}
				j := strings.Index(strings.ToLower(out[i+1:]), "www.")
				if j < 0 {
					break
				}
				i += j + 1
			}
		}
		p := plainText(s)
		for _, bad := range []string{"://", "](", "<!", "!["} {
			if strings.Contains(p, bad) {
				t.Fatalf("%q survives in plain %q (from %q)", bad, p, s)
			}
		}
		if m := mention(p); m != "" {
			t.Fatalf("mention %q in plain %q (from %q)", m, p, s)
		}
	})
}

// mention finds an @word that Mattermost would take for a mention: an @
// at the start of a word followed by a letter.
func mention(s string) string {
	var prev rune
	for i, r := range s {
		if r == '@' && !isWordRune(prev) {
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if isWordRune(next) {
				return s[i:min(len(s), i+12)]
			}
		}
		prev = r
	}
	return ""
}

// decodeWebsocketPost reads one websocket frame as model.WebSocketClient
// does, then the post out of it as the adapter does; ok is false for
// events other than posts.
func decodeWebsocketPost(frame []byte) (kind bot.EventKind, p *model.Post, sender string, ok bool, err error) {
	ev, err := model.WebSocketEventFromJSON(bytes.NewReader(frame))
	if err != nil {
		return 0, nil, "", false, fmt.Errorf("decode websocket event: %w", err)
	}
	kind, ok = eventKind(ev.EventType())
	if !ok {
		return 0, nil, "", false, nil
	}
	p, sender, err = decodePostEvent(ev)
	if err != nil {
		return 0, nil, "", false, err
	}
	return kind, p, sender, true, nil
}
