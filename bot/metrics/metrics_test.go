package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
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

// The series a command counts to are cached by their labels: each label
// set still counts its own commands, a new set included, and so do sets
// past the cache's bound.
func TestCommandSeriesPerLabels(t *testing.T) {
	m := metrics.New()
	mux := bot.NewMux("liaison", nil)
	mux.Use(m.Middleware(), bot.Authorize(mux))
	mux.HandleFunc("emergency", "numbers", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil })
	mux.HandleFunc("fail", "fails", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) {
		return nil, errors.New("disk on fire")
	})
	serve := func(platform, text string, times int) {
		for range times {
			mux.Serve(context.Background(), &bot.Request{Platform: platform, Text: text})
		}
	}
	serve(bot.Slack, "emergency", 3)
	serve(bot.Mattermost, "emergency", 2)
	serve(bot.Slack, "fail", 1)
	serve(bot.Slack, "emergency", 1) // cached by now
	serve(bot.Mattermost, "frobnicate", 4)
	var wg sync.WaitGroup
	for range 4 { // filling the cache while others read it
		wg.Go(func() { serve("shared", "emergency", 50) })
	}
	wg.Wait()
	for i := range 1100 { // more label sets than the cache keeps
		serve(fmt.Sprintf("p%d", i), "emergency", 1)
	}
	serve("p1099", "emergency", 1)
	has(t, scrape(t, m),
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="slack"} 4`,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="mattermost"} 2`,
		`liaisonbot_commands_total{command="fail",outcome="failed",platform="slack"} 1`,
		`liaisonbot_commands_total{command="unknown",outcome="unknown",platform="mattermost"} 4`,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="p0"} 1`,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="p1099"} 2`,
		`liaisonbot_commands_total{command="emergency",outcome="ok",platform="shared"} 200`,
		`liaisonbot_command_duration_seconds_count{command="emergency"} 1307`,
		`liaisonbot_command_duration_seconds_count{command="fail"} 1`,
		`liaisonbot_command_duration_seconds_count{command="unknown"} 4`,
	)
}
