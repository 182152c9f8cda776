// Package mmtest is an in-process fake of the Mattermost server, for tests
// that talk to a real HTTP server on loopback instead of mocked interfaces.
//
// It serves exactly the API v4 endpoints and websocket the liaisonbot
// adapter uses, with the request and response shapes of the public API
// reference (mattermost/mattermost api/v4/source/*.yaml), encoded with the
// model types of github.com/mattermost/mattermost/server/public so that the
// JSON names are the server's own. It plays Mattermost's side of the
// integrations too: Execute sends a slash command to the registered command
// URL the way the server does, and DoAction presses an interactive button.
//
// Every request it receives is recorded for assertions. Knobs turn on
// failures a real deployment sees: the bot may not manage slash commands
// (403), the server is down (503) or rate limited (429 with the headers of
// introduction.yaml), websockets are refused or dropped.
package mmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// maxPostSize is the server's default message limit (PostMessageMaxRunesV2).
const maxPostSize = model.PostMessageMaxRunesV2

// pendingWindow is how long the server remembers a pending_post_id.
const pendingWindow = 30 * time.Second

// Options configure New.
type Options struct {
	// Addr is the loopback address to listen on ("127.0.0.1:0" when empty),
	// so a test can bring the server up where a client already points.
	Addr string
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header // Authorization is kept: tests assert the scheme
	Body   []byte
	Status int // the status the fake answered with
}

// Server is the fake Mattermost server. Its zero value is not usable: call New.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:41234

	srv *httptest.Server

	mu             sync.Mutex
	changed        chan struct{} // closed and replaced on every state change
	tokens         map[string]string
	users          map[string]*model.User
	teams          map[string]*model.Team
	members        map[string]map[string]*model.TeamMember // team id -> user id
	channels       map[string]*model.Channel
	channelMembers map[string]map[string]bool
	commands       map[string]*model.Command
	posts          map[string]*model.Post
	postOrder      []string
	pending        map[string]pendingPost
	hooks          map[string]*hook
	hookCalls      []HookCall
	ephemerals     []*model.PostEphemeral
	requests       []Request
	lastMillis     int64

	forbidCommands bool
	down           bool
	limits         []rateLimit
	holds          []*holdRule

	ws        map[*wsConn]bool
	wsRefused bool
	wsTotal   int // authenticated connections ever made
}

type pendingPost struct {
	postID string
	at     time.Time
}

// holdRule keeps requests to one method and path waiting until released.
type holdRule struct {
	method, path string
	release      chan struct{}
	released     bool
	held         int // requests that arrived and waited
}

type rateLimit struct {
	method, path string
	left         int
	reset        int
}

// New starts a fake server on loopback. Close it when done.
func New(opts Options) (*Server, error) {
	s := &Server{
		changed:        make(chan struct{}),
		tokens:         map[string]string{},
		users:          map[string]*model.User{},
		teams:          map[string]*model.Team{},
		members:        map[string]map[string]*model.TeamMember{},
		channels:       map[string]*model.Channel{},
		channelMembers: map[string]map[string]bool{},
		commands:       map[string]*model.Command{},
		posts:          map[string]*model.Post{},
		pending:        map[string]pendingPost{},
		hooks:          map[string]*hook{},
		ws:             map[*wsConn]bool{},
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mmtest: listen on %s: %w", addr, err)
	}
	s.srv = httptest.NewUnstartedServer(s.routes())
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Close drops every websocket and stops the server.
func (s *Server) Close() {
	s.DropWebsockets()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// routes are Go 1.22 method+path patterns, one per endpoint of the API
// reference the adapter uses.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, me *model.User)) {
		mux.HandleFunc(pattern, s.authenticated(h))
	}
	api("GET /api/v4/users/me", s.getMe)
	api("GET /api/v4/users/{user_id}", s.getUser)
	api("GET /api/v4/teams/name/{name}", s.getTeamByName)
	api("GET /api/v4/teams/{team_id}", s.getTeam)
	api("GET /api/v4/teams/{team_id}/members/{user_id}", s.getTeamMember)
	api("GET /api/v4/commands", s.listCommands)
	api("POST /api/v4/commands", s.createCommand)
	api("POST /api/v4/posts", s.createPost)
	api("POST /api/v4/posts/ephemeral", s.createEphemeral)
	api("PUT /api/v4/posts/{post_id}", s.updatePost)
	api("PUT /api/v4/posts/{post_id}/patch", s.patchPost)
	api("GET /api/v4/channels/{channel_id}", s.getChannel)
	api("GET /api/v4/channels/{channel_id}/posts", s.getPostsSince)
	mux.HandleFunc("GET /api/v4/websocket", s.websocket)
	mux.HandleFunc("POST /hooks/commands/{id}", s.commandHook)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "api.context.404.app_error", "Sorry, we could not find the page.")
	})
	return s.recorder(mux)
}

// recorder keeps a copy of every request and applies the down and rate
// limit knobs before routing.
func (s *Server) recorder(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.requests = append(s.requests, Request{
				Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
				Header: r.Header.Clone(), Body: body, Status: rec.status,
			})
			s.notifyLocked()
			s.mu.Unlock()
		}()
		isAPI := strings.HasPrefix(r.URL.Path, "/api/v4/")
		s.mu.Lock()
		if h := s.holdLocked(r.Method, r.URL.Path); h != nil {
			h.held++
			s.notifyLocked()
			s.mu.Unlock()
			select {
			case <-h.release:
			case <-r.Context().Done():
			}
			s.mu.Lock()
		}
		down := s.down
		limited, reset := false, 0
		if isAPI && r.URL.Path != "/api/v4/websocket" {
			limited, reset = s.takeLimitLocked(r.Method, r.URL.Path)
		}
		s.mu.Unlock()
		switch {
		case down && isAPI:
			writeError(rec, http.StatusServiceUnavailable, "api.server.down", "The server is down for maintenance.")
			return
		case limited:
			// The real server's rate limiter (introduction.yaml, "rate limiting"):
			// a plain-text body and X-Ratelimit-Reset in seconds until reset.
			h := rec.Header()
			h.Set("X-Ratelimit-Limit", "10")
			h.Set("X-Ratelimit-Remaining", "0")
			h.Set("X-Ratelimit-Reset", strconv.Itoa(reset))
			h.Set("Retry-After", strconv.Itoa(reset))
			http.Error(rec, "limit exceeded", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack lets the websocket upgrade take the connection.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("mmtest: connection cannot be hijacked")
	}
	r.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *Server) takeLimitLocked(method, path string) (bool, int) {
	for i := range s.limits {
		l := &s.limits[i]
		if l.left > 0 && (l.method == "" || l.method == method) && (l.path == "" || l.path == path) {
			l.left--
			return true, l.reset
		}
	}
	return false, 0
}

// authenticated resolves "Authorization: Bearer <token>" (the scheme in any
// case: Client4 sends "BEARER") to a user, or answers 401 with an AppError.
func (s *Server) authenticated(h func(w http.ResponseWriter, r *http.Request, me *model.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		uid, ok := s.tokens[strings.TrimSpace(token)]
		me := s.users[uid]
		s.mu.Unlock()
		if !strings.EqualFold(scheme, "bearer") || !ok || me == nil {
			writeError(w, http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
			return
		}
		h(w, r, me)
	}
}

// writeJSON answers with a model value, the way the server encodes it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the AppError body every v4 error carries
// (introduction.yaml, "errors").
func writeError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, &model.AppError{Id: id, Message: message, StatusCode: status})
}

// notifyLocked wakes every Await; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Await blocks until cond holds or ctx ends. cond is called without the
// server's lock, after every request and state change, so it may use the
// accessors (Posts, Commands, Requests, …).
func (s *Server) Await(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("mmtest: waiting: %w", ctx.Err())
		}
	}
}

// millis is the server clock: real milliseconds, but strictly increasing,
// so two posts never share a create_at and "since" queries are exact.
func (s *Server) millisLocked() int64 {
	now := model.GetMillis()
	if now <= s.lastMillis {
		now = s.lastMillis + 1
	}
	s.lastMillis = now
	return now
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the requests with that method and path.
func (s *Server) RequestsTo(method, path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// SetForbidCommands makes the bot lack manage_slash_commands: listing
// custom commands and creating one answer 403, as on a server where only
// admins may manage integrations.
func (s *Server) SetForbidCommands(forbid bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidCommands = forbid
}

// SetDown makes every API request answer 503 and refuses websockets.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
	if down {
		s.DropWebsockets()
	}
}

// Hold makes every request to method and path wait, before it is
// answered, until release is called: a server slow to answer. Held tells
// how many have arrived.
func (s *Server) Hold(method, path string) (release func()) {
	h := &holdRule{method: method, path: path, release: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			h.released = true
			s.mu.Unlock()
			close(h.release)
		})
	}
}

// Held is how many requests to method and path have been held so far.
func (s *Server) Held(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.holds {
		if h.method == method && h.path == path {
			n += h.held
		}
	}
	return n
}

func (s *Server) holdLocked(method, path string) *holdRule {
	for _, h := range s.holds {
		if !h.released && h.method == method && h.path == path {
			return h
		}
	}
	return nil
}

// RateLimit makes the next n requests matching method and path (empty
// matches any) answer 429 with Retry-After and X-Ratelimit-Reset set to
// resetSeconds.
func (s *Server) RateLimit(method, path string, n, resetSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, rateLimit{method: method, path: path, left: n, reset: resetSeconds})
}

var errNotFound = errors.New("not found")
