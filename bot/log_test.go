package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
)

// Every line logged about a request carries its id, platform and user id,
// those logged around the handler included, and the attributes the handler
// adds (an incident id); a key the logger already has is not repeated.
func TestRequestLogAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(bot.LogHandler(slog.NewJSONHandler(&buf, nil)))
	m := bot.NewMux("liaison", log)
	m.Use(bot.Recover(log), bot.Authorize(m))
	adapterLog := log.With("platform", "slack")
	m.HandleFunc("incident update <id> <text>", "update", bot.AccessAgents, func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		bot.AddLogAttrs(ctx, slog.String("incident_id", req.Args.Get("id")))
		adapterLog.InfoContext(ctx, "working")
		return nil, errors.New("disk on fire")
	})
	req := &bot.Request{ID: "r1", Platform: "slack", User: bot.User{ID: "U1"}, Role: bot.Role{Kind: bot.RoleAgent}, Text: "incident update INC-2026-0001 hello"}
	ctx := bot.WithRequestLog(context.Background(), req)
	m.Serve(ctx, req)
	log.InfoContext(ctx, "after serve") // as an adapter delivering a late answer
	log.Info("unrelated")

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if strings.Count(l, `"platform"`) > 1 {
			t.Errorf("platform repeated: %s", l)
		}
		lines = append(lines, rec)
	}
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got:\n%s", buf.String())
	}
	for _, rec := range lines[:3] {
		if rec["request_id"] != "r1" || rec["platform"] != "slack" || rec["user_id"] != "U1" || rec["incident_id"] != "INC-2026-0001" {
			t.Errorf("line %q lacks the request's attributes: %v", rec["msg"], rec)
		}
	}
	if lines[1]["msg"] != "command failed" {
		t.Errorf("second line: %v", lines[1])
	}
	if _, ok := lines[3]["request_id"]; ok {
		t.Errorf("a line logged without the request's context has its id: %v", lines[3])
	}
}

// The context WithRequestLog returns is its parent's in all else: values,
// cancellation (of contexts made from it too) and deadline.
func TestRequestLogContextIsItsParents(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	req := &bot.Request{ID: "r1"}
	ctx := bot.WithRequestLog(parent, req)
	child, cancelChild := context.WithTimeout(ctx, time.Hour)
	defer cancelChild()
	if ctx.Value(key{}) != "v" || child.Value(key{}) != "v" {
		t.Errorf("value lost: %v, %v", ctx.Value(key{}), child.Value(key{}))
	}
	if _, ok := ctx.Deadline(); ok {
		t.Errorf("a deadline appeared")
	}
	if bot.WithRequestLog(child, req) != child {
		t.Errorf("WithRequestLog is not idempotent under a derived context")
	}
	if bot.WithRequestLog(parent, req) == parent {
		t.Errorf("WithRequestLog found attributes in a context that has none")
	}
	cancel()
	<-child.Done()
	if ctx.Err() != context.Canceled || context.Cause(child) != context.Canceled {
		t.Errorf("err %v, cause %v", ctx.Err(), context.Cause(child))
	}
	if attrs := bot.LogAttrs(child); len(attrs) != 3 || attrs[0].Value.String() != "r1" {
		t.Errorf("attrs %v", attrs)
	}
}
