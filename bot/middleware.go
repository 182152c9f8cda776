package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"liaisonbot/internal/jsonenc"
)

// Outcome names how a command ended, for the audit and metrics.
func Outcome(msg *Message, err error) string {
	if err == nil { // before the errors.As targets: they escape, one allocation each
		if msg != nil && msg.Error {
			return "rejected" // the handler answered with an error message
		}
		return "ok"
	}
	var usage *UsageError
	var unknown *UnknownCommandError
	var denied *DeniedError
	switch {
	case errors.As(err, &denied):
		return "denied"
	case errors.As(err, &unknown):
		return "unknown"
	case errors.As(err, &usage):
		return "usage"
	default:
		return "failed"
	}
}

// Recover turns a panic in a handler into an error, logged with its stack,
// so one bad input never takes the process down.
func Recover(logger *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (msg *Message, err error) {
			defer func() {
				if p := recover(); p != nil {
					logger.ErrorContext(ctx, "panic in command", "command", commandName(req),
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					msg, err = nil, fmt.Errorf("panic: %v", p)
				}
			}()
			return next.ServeCommand(ctx, req)
		})
	}
}

// Authorize checks the command's Access against the request's role. It
// resolves the command first, so a denial never reveals more than the
// command's name.
func Authorize(m *Mux) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (*Message, error) {
			if err := m.Resolve(req); err != nil {
				if req.Command == nil || req.Command.Access.Allows(req.Role) {
					return nil, err
				}
				// A usage error on a command the person may not run is a denial.
			}
			if !req.Command.Access.Allows(req.Role) {
				return nil, &DeniedError{Command: req.Command.Name(), Role: req.Role}
			}
			return next.ServeCommand(ctx, req)
		})
	}
}

// AuditRecord is one line of the audit trail: who asked what, where, and how
// it ended.
type AuditRecord struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Platform  string    `json:"platform"`
	Channel   string    `json:"channel"`
	UserID    string    `json:"user_id"`
	UserName  string    `json:"user_name,omitempty"`
	Role      string    `json:"role"`
	Command   string    `json:"command"` // the resolved command, or the raw first word
	Text      string    `json:"text"`    // the command line, truncated
	Outcome   string    `json:"outcome"`
	Millis    float64   `json:"ms"`
}

// AppendJSON writes the record as encoding/json would (the same fields,
// names and order; HTML characters are not escaped, which changes no
// value): every command writes one, and reflection cost more than the rest
// of the audit.
func (r *AuditRecord) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = jsonenc.AppendTime(b, r.Time)
	for _, f := range [...]struct {
		name, value string
		omitEmpty   bool
	}{
		{`,"request_id":`, r.RequestID, false},
		{`,"platform":`, r.Platform, false},
		{`,"channel":`, r.Channel, false},
		{`,"user_id":`, r.UserID, false},
		{`,"user_name":`, r.UserName, true},
		{`,"role":`, r.Role, false},
		{`,"command":`, r.Command, false},
		{`,"text":`, r.Text, false},
		{`,"outcome":`, r.Outcome, false},
	} {
		if f.omitEmpty && f.value == "" {
			continue
		}
		b = append(b, f.name...)
		b = jsonenc.AppendString(b, f.value)
	}
	b = append(b, `,"ms":`...)
	b = jsonenc.AppendFloat(b, r.Millis)
	return append(b, '}')
}

// Auditor keeps audit records. Writing one must not block a command for long.
type Auditor interface {
	Record(ctx context.Context, r AuditRecord) error
}

// AuditFlusher is an Auditor that can wait until every record it was given
// is stored (audit.Log groups records into one commit).
type AuditFlusher interface {
	Flush(ctx context.Context) error
}

// maxAuditText bounds what one audit line holds of a command line.
const maxAuditText = 500

// Audit records every command attempt, denials and unknown commands included.
// A failure to write the audit is logged, not shown to the person. The record
// of a command that Writes is stored before the answer leaves (when the
// Auditor is an AuditFlusher); read-only commands do not wait for it.
func Audit(a Auditor, logger *slog.Logger, now func() time.Time) Middleware {
	// Without a clock of its own, a command starts when its adapter
	// received it (Request.Time): one clock read less per command.
	received := now == nil
	if now == nil {
		now = time.Now
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (*Message, error) {
			start := req.Time
			if !received || start.IsZero() {
				start = now()
			}
			msg, err := next.ServeCommand(ctx, req)
			rec := AuditRecord{
				Time: start.UTC(), RequestID: req.ID, Platform: req.Platform, Channel: req.Channel,
				UserID: req.User.ID, UserName: req.User.Name, Role: req.Role.String(),
				Command: commandName(req), Text: truncate(req.Text, maxAuditText),
				Outcome: Outcome(msg, err), Millis: float64(now().Sub(start).Microseconds()) / 1000,
			}
			if rec.Command == "" {
				rec.Command = "?"
			}
			aerr := a.Record(ctx, rec)
			if f, ok := a.(AuditFlusher); ok && aerr == nil && req.Command != nil && req.Command.Writes {
				aerr = f.Flush(ctx)
			}
			if aerr != nil {
				logger.ErrorContext(ctx, "audit write failed", "err", aerr)
			}
			return msg, err
		})
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
