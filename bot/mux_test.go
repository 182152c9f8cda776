package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"liaisonbot/bot"
)

type memAuditor struct {
	mu      sync.Mutex
	records []bot.AuditRecord
}

func (m *memAuditor) Record(_ context.Context, r bot.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, r)
	return nil
}

func newMux(t testing.TB) (*bot.Mux, *memAuditor) {
	t.Helper()
	m := bot.NewMux("liaison", nil)
	a := &memAuditor{}
	m.Use(bot.Audit(a, nil, nil), bot.Recover(discard()), bot.Authorize(m))
	echo := func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
		return &bot.Message{Text: req.Command.Name() + ":" + req.Args.Get("query") + req.Args.Get("text")}, nil
	}
	m.HandleFunc("contact <query>", "contacts", bot.AccessAgents, echo)
	m.HandleFunc("emergency", "numbers", bot.AccessEveryone, echo)
	m.HandleFunc("incident update <id> <text>", "update", bot.AccessPartners, echo)
	m.HandleFunc("incident close <id> <text>", "close", bot.AccessAgents, echo)
	m.HandleFunc("audit", "audit", bot.AccessAdmins, echo)
	m.HandleFunc("boom", "panics", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) {
		var p *bot.Message
		return &bot.Message{Text: p.Text}, nil // nil dereference
	})
	m.HandleFunc("fail", "fails", bot.AccessEveryone, func(context.Context, *bot.Request) (*bot.Message, error) {
		return nil, errors.New("disk on fire")
	})
	return m, a
}

func TestMuxServe(t *testing.T) {
	agent := bot.Role{Kind: bot.RoleAgent}
	partner := bot.Role{Kind: bot.RolePartner, Partner: "mpd"}
	tests := []struct {
		text    string
		role    bot.Role
		want    string // substring of the answer
		isError bool
		outcome string
		command string
	}{
		{text: "contact canada", role: agent, want: "contact:canada", outcome: "ok", command: "contact"},
		{text: "/liaison contact canada", role: agent, want: "contact:canada", outcome: "ok", command: "contact"},
		{text: "CONTACT Canada", role: agent, want: "contact:Canada", outcome: "ok", command: "contact"},
		{text: "contact", role: agent, want: "missing <query>\nUsage: /liaison contact <query>", isError: true, outcome: "usage", command: "contact"},
		{text: "frobnicate", role: agent, want: `Unknown command "frobnicate".`, isError: true, outcome: "unknown", command: "?"},
		{text: "contcat canada", role: agent, want: "Did you mean contact?", isError: true, outcome: "unknown", command: "?"},
		{text: "incident", role: agent, want: "incident needs a subcommand", isError: true, outcome: "unknown", command: "?"},
		{text: "incident reopen x", role: agent, want: `Unknown subcommand "reopen" of incident`, isError: true, outcome: "unknown", command: "?"},
		{text: "incident update INC-1 all quiet", role: partner, want: "incident update:all quiet", outcome: "ok", command: "incident update"},
		{text: "incident close INC-1 done", role: partner, want: "not allowed", isError: true, outcome: "denied", command: "incident close"},
		{text: "contact", role: partner, want: "not allowed", isError: true, outcome: "denied", command: "contact"},
		{text: "audit", role: agent, want: "not allowed", isError: true, outcome: "denied", command: "audit"},
		{text: "emergency", role: bot.Role{}, want: "emergency:", outcome: "ok", command: "emergency"},
		{text: "boom", role: agent, want: "Something went wrong", isError: true, outcome: "failed", command: "boom"},
		{text: "fail", role: agent, want: "Reference: ", isError: true, outcome: "failed", command: "fail"},
		{text: `contact "unterminated`, role: agent, want: "never closed", isError: true, outcome: "usage", command: "?"},
		{text: "/LIAISON Contact canada", role: agent, want: "contact:canada", outcome: "ok", command: "contact"},
		{text: "/liaisoncontact canada", role: agent, want: `Unknown command "/liaisoncontact".`, isError: true, outcome: "unknown", command: "?"},
		{text: "INCIDENT Update INC-1 all quiet", role: partner, want: "incident update:all quiet", outcome: "ok", command: "incident update"},
		{text: `incident "update" INC-1 x`, role: agent, want: `Unknown subcommand "update" of incident`, isError: true, outcome: "unknown", command: "?"},
		{text: "incident update:x INC-1", role: agent, want: `Unknown subcommand "update:x" of incident`, isError: true, outcome: "unknown", command: "?"},
		// More words than Resolve keeps on its stack.
		{text: "incident update INC-1 " + strings.Repeat("word ", 40) + "end", role: agent,
			want: "incident update:" + strings.Repeat("word ", 40) + "end", outcome: "ok", command: "incident update"},
	}
	for _, tt := range tests {
		m, audit := newMux(t)
		req := &bot.Request{Platform: "console", Channel: "console", User: bot.User{ID: "u1"}, Role: tt.role, Text: tt.text}
		msg := m.Serve(context.Background(), req)
		if msg == nil {
			t.Fatalf("%q: nil message", tt.text)
		}
		if !strings.Contains(msg.Text, tt.want) || msg.Error != tt.isError {
			t.Errorf("%q as %s: got %q (error %v), want %q (error %v)", tt.text, tt.role, msg.Text, msg.Error, tt.want, tt.isError)
		}
		if len(audit.records) != 1 {
			t.Fatalf("%q: %d audit records, want 1", tt.text, len(audit.records))
		}
		r := audit.records[0]
		if r.Outcome != tt.outcome || r.Command != tt.command || r.Role != tt.role.String() || r.RequestID == "" || r.UserID != "u1" {
			t.Errorf("%q: audit %+v, want outcome %s command %s", tt.text, r, tt.outcome, tt.command)
		}
	}
}

func TestMuxRejectsBadRegistrations(t *testing.T) {
	m := bot.NewMux("liaison", nil)
	h := func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil }
	m.HandleFunc("contact <query>", "", bot.AccessAgents, h)
	for _, usage := range []string{"contact <other>", "<nothing>"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", usage)
				}
			}()
			m.HandleFunc(usage, "", bot.AccessAgents, h)
		}()
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]string{"admin": "admin", "agent": "agent", "partner:mpd": "partner:mpd", "none": "none"} {
		r, err := bot.ParseRole(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRole(%q) = %v, %v", in, r, err)
		}
	}
	for _, bad := range []string{"", "root", "partner:"} {
		if _, err := bot.ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) accepted", bad)
		}
	}
}

// flushAuditor counts Flush calls and how many records were queued before
// each.
type flushAuditor struct {
	memAuditor
	flushedAt []int
}

func (f *flushAuditor) Flush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushedAt = append(f.flushedAt, len(f.records))
	return nil
}

// A command that Writes has its audit record flushed before the answer;
// a read-only one does not wait for it.
func TestAuditFlushesWrites(t *testing.T) {
	m := bot.NewMux("liaison", nil)
	a := &flushAuditor{}
	m.Use(bot.Audit(a, nil, nil), bot.Authorize(m))
	ok := bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Message, error) { return &bot.Message{Text: "ok"}, nil })
	m.Handle(bot.Command{Usage: "contact <query>", Summary: "contacts", Access: bot.AccessAgents, Handler: ok})
	m.Handle(bot.Command{Usage: "incident note <id> <text>", Summary: "note", Access: bot.AccessAgents, Handler: ok, Writes: true})
	agent := bot.Role{Kind: bot.RoleAgent}
	for _, text := range []string{"contact canada", "incident note INC-1 quiet", "contact japan", "incident note INC-1 denied"} {
		role := agent
		if strings.HasSuffix(text, "denied") {
			role = bot.Role{Kind: bot.RolePartner, Partner: "mpd"}
		}
		m.Serve(context.Background(), &bot.Request{Platform: "console", Channel: "console", User: bot.User{ID: "u1"}, Role: role, Text: text})
	}
	// Flushed after the 2nd record (the note) and the 4th (the denied note).
	if got := a.flushedAt; len(got) != 2 || got[0] != 2 || got[1] != 4 {
		t.Fatalf("flushed after records %v, want [2 4]", got)
	}
}
