package mmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// The object shapes of the API reference, field by field, as listed in
// mattermost/mattermost api/v4/source/definitions.yaml (and the error body
// of introduction.yaml). The fake encodes the model types of
// server/public, whose JSON names are the server's; these tables check
// that every documented field is one of them, so a fake built on the model
// serves the documented shapes. Where the reference and the model differ,
// the model wins and the difference is listed with its reason.
var documented = map[string]struct {
	typ    reflect.Type
	fields []string
	differ map[string]string // documented name -> model name ("" = not in the model)
}{
	"User": {reflect.TypeFor[model.User](), []string{
		"id", "create_at", "update_at", "delete_at", "username", "first_name", "last_name", "nickname",
		"email", "email_verified", "auth_service", "roles", "locale", "notify_props", "props",
		"last_password_update", "last_picture_update", "failed_attempts", "mfa_active", "timezone",
		"terms_of_service_id", "terms_of_service_create_at",
	}, nil},
	"Team": {reflect.TypeFor[model.Team](), []string{
		"id", "create_at", "update_at", "delete_at", "display_name", "name", "description", "email",
		"type", "allowed_domains", "invite_id", "allow_open_invite", "policy_id",
	}, nil},
	"TeamMember": {reflect.TypeFor[model.TeamMember](), []string{
		"team_id", "user_id", "roles", "delete_at", "scheme_user", "scheme_admin", "explicit_roles",
	}, nil},
	"Channel": {reflect.TypeFor[model.Channel](), []string{
		"id", "create_at", "update_at", "delete_at", "team_id", "type", "display_name", "name",
		"header", "purpose", "last_post_at", "total_msg_count", "extra_update_at", "creator_id",
	}, nil},
	"Post": {reflect.TypeFor[model.Post](), []string{
		"id", "create_at", "update_at", "delete_at", "edit_at", "user_id", "channel_id", "root_id",
		"original_id", "message", "type", "props", "hashtag", "file_ids", "pending_post_id", "metadata",
	}, map[string]string{"hashtag": "hashtags"}}, // a typo in the reference; the server sends "hashtags"
	"PostList": {reflect.TypeFor[model.PostList](), []string{
		"order", "posts", "next_post_id", "prev_post_id", "has_next",
	}, nil},
	"Command": {reflect.TypeFor[model.Command](), []string{
		"id", "token", "create_at", "update_at", "delete_at", "creator_id", "team_id", "trigger",
		"method", "username", "icon_url", "auto_complete", "auto_complete_desc", "auto_complete_hint",
		"display_name", "description", "url",
	}, nil},
	// The reference writes CommandResponse and SlackAttachment with Go field
	// names; on the wire they are snake case, as the model's tags say.
	"CommandResponse": {reflect.TypeFor[model.CommandResponse](), []string{
		"ResponseType", "Text", "Username", "IconURL", "GotoLocation", "Attachments",
	}, map[string]string{"ResponseType": "response_type", "Text": "text", "Username": "username",
		"IconURL": "icon_url", "GotoLocation": "goto_location", "Attachments": "attachments"}},
	"SlackAttachment": {reflect.TypeFor[model.MessageAttachment](), []string{
		"Id", "Fallback", "Color", "Pretext", "AuthorName", "AuthorLink", "AuthorIcon", "Title",
		"TitleLink", "Text", "Fields", "ImageURL", "ThumbURL", "Footer", "FooterIcon", "Timestamp",
	}, map[string]string{"Id": "id", "Fallback": "fallback", "Color": "color", "Pretext": "pretext",
		"AuthorName": "author_name", "AuthorLink": "author_link", "AuthorIcon": "author_icon",
		"Title": "title", "TitleLink": "title_link", "Text": "text", "Fields": "fields",
		"ImageURL": "image_url", "ThumbURL": "thumb_url", "Footer": "footer", "FooterIcon": "footer_icon",
		"Timestamp": "ts"}},
	// introduction.yaml, "errors": is_oauth is gone from the model.
	"AppError": {reflect.TypeFor[model.AppError](), []string{
		"id", "message", "request_id", "status_code", "is_oauth",
	}, map[string]string{"is_oauth": ""}},
}

// jsonNames maps a struct's JSON names to whether they are omitempty.
func jsonNames(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = strings.Contains(opts, "omitempty")
	}
	return out
}

func TestDocumentedFieldsAreModelFields(t *testing.T) {
	for schema, d := range documented {
		names := jsonNames(d.typ)
		for _, f := range d.fields {
			name := f
			if alt, ok := d.differ[f]; ok {
				if alt == "" {
					continue
				}
				name = alt
			}
			if _, ok := names[name]; !ok {
				t.Errorf("%s.%s (documented) is not a JSON field of %s", schema, f, d.typ)
			}
		}
	}
}

// TestServedShapes reads the fake's answers as raw JSON and checks every
// documented field the model always sends is there.
func TestServedShapes(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	team := s.AddTeam("pld")
	bot := s.AddUser(UserOptions{Username: "bot", Bot: true, Token: "tok"})
	s.AddTeamMember(team.Id, bot.Id, false)
	ch := s.AddChannel(team.Id, "watch", bot.Id)
	s.AddCommand(team.Id, bot.Id, "liaison", "http://bot.example/mattermost/command")
	s.Post(bot.Id, ch.Id, "", "hello")

	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "bearer "+token) // any case of the scheme
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	check := func(schema string, raw json.RawMessage) {
		t.Helper()
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("%s: %v: %s", schema, err, raw)
		}
		d := documented[schema]
		names := jsonNames(d.typ)
		for _, f := range d.fields {
			name := f
			if alt, ok := d.differ[f]; ok {
				name = alt
			}
			if omit, known := names[name]; known && !omit {
				if _, ok := obj[name]; !ok {
					t.Errorf("%s answer lacks %q: %s", schema, name, raw)
				}
			}
		}
	}
	for path, schema := range map[string]string{
		"/api/v4/users/me":                                "User",
		"/api/v4/teams/name/pld":                          "Team",
		"/api/v4/teams/" + team.Id + "/members/" + bot.Id: "TeamMember",
		"/api/v4/channels/" + ch.Id:                       "Channel",
		"/api/v4/channels/" + ch.Id + "/posts?since=0":    "PostList",
	} {
		status, body := get(path, "tok")
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		check(schema, body)
		if schema == "PostList" {
			var list struct{ Posts map[string]json.RawMessage }
			_ = json.Unmarshal(body, &list)
			for _, p := range list.Posts {
				check("Post", p)
			}
		}
	}
	status, body := get("/api/v4/commands?team_id="+team.Id+"&custom_only=true", "tok")
	var cmds []json.RawMessage
	if err := json.Unmarshal(body, &cmds); err != nil || status != http.StatusOK || len(cmds) != 1 {
		t.Fatalf("commands: %d %s", status, body)
	}
	check("Command", cmds[0])

	// No or a wrong token: 401 with an AppError body.
	for _, tok := range []string{"", "nope"} {
		status, body := get("/api/v4/users/me", tok)
		if status != http.StatusUnauthorized {
			t.Fatalf("token %q: %d", tok, status)
		}
		check("AppError", body)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.AddUser(UserOptions{Username: "bot", Token: "tok"})
	s.RateLimit("", "", 1, 2)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v4/users/me", nil)
	req.Header.Set("Authorization", "BEARER tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Ratelimit-Reset") != "2" ||
		resp.Header.Get("Retry-After") != "2" || resp.Header.Get("X-Ratelimit-Remaining") != "0" || resp.Header.Get("X-Ratelimit-Limit") == "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the limit: %d", resp.StatusCode)
	}
}
