package slack

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestManifestMatchesAdapter keeps deploy/slack/manifest.yml in step with
// the routes the adapter serves and the events and scopes it needs.
func TestManifestMatchesAdapter(t *testing.T) {
	data, err := os.ReadFile("../../deploy/slack/manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command string `yaml:"command"`
				URL     string `yaml:"url"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketMode *bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/liaison" {
		t.Fatalf("slash commands: %+v", m.Features.SlashCommands)
	}
	// Each request URL names a route the adapter serves.
	h := newHarness(t, harnessOptions{})
	for _, raw := range []string{m.Features.SlashCommands[0].URL, m.Settings.Events.RequestURL, m.Settings.Interactivity.RequestURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" {
			t.Fatalf("request URL %q is not https", raw)
		}
		mux := http.NewServeMux()
		h.ad.Register(mux)
		if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, u.Path, nil)); pattern == "" {
			t.Errorf("manifest URL %s: no such route", raw)
		}
	}
	for _, scope := range []string{"commands", "chat:write", "channels:history", "groups:history"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, scope) {
			t.Errorf("scope %s missing", scope)
		}
	}
	for _, ev := range []string{"message.channels", "message.groups"} {
		if !slices.Contains(m.Settings.Events.BotEvents, ev) {
			t.Errorf("event %s missing", ev)
		}
	}
	if !m.Settings.Interactivity.Enabled || m.Settings.SocketMode == nil || *m.Settings.SocketMode {
		t.Errorf("interactivity on and socket mode off expected: %+v", m.Settings)
	}
}
