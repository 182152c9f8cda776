package bot

import (
	"context"
	"fmt"
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
// middleware around it logs later, so they are shared and guarded. The
// request's own three are made when a line is logged, not per request:
// most requests log nothing.
type logAttrs struct {
	id, platform, userID string // the request's; id tells whether req.ID changed since
	mu                   sync.Mutex
	extra                []slog.Attr // added by AddLogAttrs; a key here replaces a request one
}

// WithRequestLog returns ctx carrying req's log attributes. Mux.Serve calls
// it; an adapter that logs about a request around Serve (a late answer not
// delivered) calls it first and passes the result to Serve, so that both
// share the attributes a handler adds.
//
// The request remembers its attributes, and ctx is searched for them only
// when it has some: searching a context that does not hold them costs an
// allocation when it is a context.WithoutCancel, as an adapter's is.
func WithRequestLog(ctx context.Context, req *Request) context.Context {
	if la := req.log; la != nil && la.id == req.ID && ctx.Value(logKey{}) == la {
		return ctx
	}
	c := &logCtx{Context: ctx, attrs: logAttrs{id: req.ID, platform: req.Platform, userID: req.User.ID}}
	req.log = &c.attrs
	return c
}

// logCtx is context.WithValue(ctx, logKey{}, &attrs) in one allocation
// instead of two, made for every request.
type logCtx struct {
	context.Context
	attrs logAttrs
}

func (c *logCtx) Value(key any) any {
	if key == (logKey{}) {
		return &c.attrs
	}
	return c.Context.Value(key)
}

func (c *logCtx) String() string {
	return fmt.Sprint(c.Context) + ".WithRequestLog(" + c.attrs.id + ")"
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
		for i := range la.extra {
			if la.extra[i].Key == a.Key {
				la.extra[i] = a
				continue next
			}
		}
		la.extra = append(la.extra, a)
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
	out := make([]slog.Attr, 0, 3+len(la.extra))
	for _, a := range [...]slog.Attr{
		slog.String("request_id", la.id),
		slog.String("platform", la.platform),
		slog.String("user_id", la.userID),
	} {
		if !hasKey(la.extra, a.Key) {
			out = append(out, a)
		}
	}
	return append(out, la.extra...)
}

func hasKey(attrs []slog.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
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
