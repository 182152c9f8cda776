package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/metrics"
)

type readiness struct{ err error }

func (r readiness) Ready() error { return r.err }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func has(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("missing %q", l)
		}
	}
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.Init([]string{bot.Slack}, []string{"watch"})
	m.Observe(metrics.Sources{
		Outbox:        func(context.Context) (int, int, error) { return 3, 1, nil },
		OpenIncidents: func(context.Context) (int, error) { return 0, errors.New("store closed") },
		Platforms:     map[string]bot.Readiness{bot.Slack: readiness{}, bot.Mattermost: readiness{errors.New("websocket connecting")}},
		StoreSize:     func() (int64, error) { return 65536, nil },
	})

	mux := bot.NewMux("liaison", nil)
	mux.Use(m.Middleware(), bot.Authorize(mux))
	mux.HandleFunc("emergency", "numbers", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil })
	mux.HandleFunc("fail", "fails", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) {
		return nil, errors.New("disk on fire")
	})
	for _, text := range []string{"emergency", "emergency", "fail", "frobnicate"} {
		mux.Serve(context.Background(), &bot.Request{Platform: bot.Slack, Text: text})
	}
	m.OutboxAttempt(bot.Slack, 1, errors.New("HTTP 500"))
	m.OutboxAttempt(bot.Slack, 2, nil)
	m.OutboxAttempt(bot.Mattermost, 1, nil)
	m.RateLimited(bot.Slack)(1500 * time.Millisecond)
	m.DigestPosted("watch", true)
	m.DigestAcknowledged("watch")

	body := scrape(t, m)
	has(t, body,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="slack"} 2`,
		`liaisonbot_commands_total{command="fail",outcome="failed",platform="slack"} 1`,
		`liaisonbot_commands_total{command="unknown",outcome="unknown",platform="slack"} 1`,
		`liaisonbot_command_duration_seconds_count{command="emergency"} 2`,
		`liaisonbot_outbox_sent_total{platform="slack"} 1`,
		`liaisonbot_outbox_sent_total{platform="mattermost"} 1`,
		`liaisonbot_outbox_send_failures_total{platform="slack"} 1`,
		`liaisonbot_outbox_retries_total{platform="slack"} 1`,
		`liaisonbot_rate_limit_waits_total{platform="slack"} 1`,
		`liaisonbot_rate_limit_wait_seconds_total{platform="slack"} 1.5`,
		`liaisonbot_handoff_digests_posted_total{team="watch",trigger="schedule"} 1`,
		`liaisonbot_handoff_digests_posted_total{team="watch",trigger="command"} 0`,
		`liaisonbot_handoff_digests_acknowledged_total{team="watch"} 1`,
		`liaisonbot_handoff_digests_escalated_total{team="watch"} 0`,
		`liaisonbot_outbox_entries{status="pending"} 3`,
		`liaisonbot_outbox_entries{status="failing"} 1`,
		`liaisonbot_platform_connected{platform="slack"} 1`,
		`liaisonbot_platform_connected{platform="mattermost"} 0`,
		`liaisonbot_store_size_bytes 65536`,
	)
	// A source that fails is left out; the rest is served.
	if strings.Contains(body, "liaisonbot_incidents_open ") {
		t.Errorf("open incidents served although their source failed")
	}
	if !strings.Contains(body, "go_goroutines ") || !strings.Contains(body, "process_start_time_seconds ") {
		t.Errorf("Go and process collectors missing")
	}
}
