package bot

import (
	"context"
	"log/slog"
	"sync"
)

// Request-scoped logging. Every line logged about a request carries its
// request_id, platform and user_id, and its incident_id once a handler
// knows one. The attributes travel in the context (WithRequestLog,
// AddLogAttrs); LogHandler adds them to each record logged with that
// context, by whatever logger: code logs with InfoContext(ctx, …) and the
// like, and keeps its own logger.

type logKey struct{}

// logAttrs are a request's log attributes. A handler adds to them while
// middleware around it logs later, so they are shared and guarded.
type logAttrs struct {
	id    string // the request's id, so WithRequestLog is idempotent
	mu    sync.Mutex
	attrs []slog.Attr
}

// WithRequestLog returns ctx carrying req's log attributes. Mux.Serve calls
// it; an adapter that logs about a request around Serve (a late answer not
// delivered) calls it first and passes the result to Serve, so that both
// share the attributes a handler adds.
func WithRequestLog(ctx context.Context, req *Request) context.Context {
	if la, ok := ctx.Value(logKey{}).(*logAttrs); ok && la.id == req.ID {
		return ctx
	}
	return context.WithValue(ctx, logKey{}, &logAttrs{id: req.ID, attrs: []slog.Attr{
		slog.String("request_id", req.ID),
		slog.String("platform", req.Platform),
		slog.String("user_id", req.User.ID),
	}})
}

// AddLogAttrs adds attributes to the request's lines from now on, those
// the middleware around the handler logs included; an attribute replaces
// one of the same key. Without a request in ctx it does nothing.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	la, ok := ctx.Value(logKey{}).(*logAttrs)
	if !ok {
		return
	}
	la.mu.Lock()
	defer la.mu.Unlock()
next:
	for _, a := range attrs {
		for i := range la.attrs {
			if la.attrs[i].Key == a.Key {
				la.attrs[i] = a
				continue next
			}
		}
		la.attrs = append(la.attrs, a)
	}
}

// LogAttrs returns the request attributes ctx carries, nil when none.
func LogAttrs(ctx context.Context) []slog.Attr {
	la, ok := ctx.Value(logKey{}).(*logAttrs)
	if !ok {
		return nil
	}
	la.mu.Lock()
	defer la.mu.Unlock()
	return append([]slog.Attr(nil), la.attrs...)
}

// LogHandler wraps h so that a record logged with a request's context
// carries the request's attributes, first. A key the record or the
// logger (With) already has is not repeated: an adapter's logger names its
// platform already. Under WithGroup the attributes land in the group.
func LogHandler(h slog.Handler) slog.Handler {
	if ch, ok := h.(*ctxHandler); ok {
		return ch
	}
	return &ctxHandler{inner: h}
}

type ctxHandler struct {
	inner   slog.Handler
	keys    map[string]bool // top-level keys added with WithAttrs
	grouped bool
}

func (h *ctxHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := LogAttrs(ctx)
	if len(attrs) == 0 {
		return h.inner.Handle(ctx, r)
	}
	have := func(key string) bool {
		if h.keys[key] {
			return true
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = a.Key == key
			return !found
		})
		return found
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	for _, a := range attrs {
		if !have(a.Key) {
			out.AddAttrs(a)
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *ctxHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	keys := h.keys
	if !h.grouped {
		keys = make(map[string]bool, len(h.keys)+len(attrs))
		for k := range h.keys {
			keys[k] = true
		}
		for _, a := range attrs {
			keys[a.Key] = true
		}
	}
	return &ctxHandler{inner: h.inner.WithAttrs(attrs), keys: keys, grouped: h.grouped}
}

func (h *ctxHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &ctxHandler{inner: h.inner.WithGroup(name), keys: h.keys, grouped: true}
}
