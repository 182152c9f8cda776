package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"liaisonbot/bot/grammar"
	"liaisonbot/internal/textdist"
)

// Handler answers one command.
type Handler interface {
	ServeCommand(ctx context.Context, req *Request) (*Message, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Message, error)

// ServeCommand calls f.
func (f HandlerFunc) ServeCommand(ctx context.Context, req *Request) (*Message, error) {
	return f(ctx, req)
}

// Middleware wraps a Handler with a cross-cutting concern.
type Middleware func(Handler) Handler

// Access says who may run a command (SPEC §6).
type Access int

const (
	AccessAgents   Access = iota // the division's agents and admins (the default)
	AccessEveryone               // anyone who can reach the bot, partners included
	AccessPartners               // agents, admins and partner officers
	AccessAdmins                 // admins only
)

// Allows reports whether a role may run a command with this access.
func (a Access) Allows(r Role) bool {
	switch a {
	case AccessEveryone:
		return true
	case AccessPartners:
		return r.Kind >= RolePartner
	case AccessAdmins:
		return r.Kind == RoleAdmin
	default:
		return r.Kind >= RoleAgent
	}
}

// Command is one subcommand: its usage string is its parser, its help line
// and its route.
type Command struct {
	Usage   string // "contact <query>"
	Summary string // one line for help
	Help    string // longer text for "help <command>", optional
	Access  Access
	Handler Handler
	// Writes says the command changes what is stored (an incident, a
	// note). Its audit record is then committed before its answer goes
	// out, so a crash cannot leave an acknowledged change unaudited.
	Writes bool

	usage *grammar.Usage
	name  string // usage.Name(), kept: the audit and metrics ask per command
}

// Name is the command path: "contact", "incident open".
func (c *Command) Name() string { return c.name }

// Spec is the parsed usage.
func (c *Command) Spec() *grammar.Usage { return c.usage }

// Mux routes command lines to Commands. Register everything before serving.
type Mux struct {
	// Name is the slash command ("liaison"), used in usage lines and
	// stripped from the front of console lines.
	Name   string
	Logger *slog.Logger

	// Serving reads routes and chain without taking mu: under load a
	// read lock per command is a write, by every core, to mu's reader count.
	routes atomic.Pointer[routes]
	chain  atomic.Pointer[chain] // nil until the first command after a registration

	mu         sync.RWMutex // registration, and events
	middleware []Middleware
	events     []EventHandler
}

// routes are the registered commands. A registration replaces them
// whole; they are never changed once published.
type routes struct {
	commands map[string]*Command // by path
	// groups holds the commands of two words or more by their first word,
	// then the rest of their path: Resolve finds "incident open" without
	// joining the two words.
	groups map[string]map[string]*Command
}

// chain is the middleware around Mux.route.
type chain struct{ Handler }

// NewMux returns an empty Mux for the slash command name.
func NewMux(name string, logger *slog.Logger) *Mux {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Mux{Name: name, Logger: logger}
	m.routes.Store(&routes{commands: map[string]*Command{}, groups: map[string]map[string]*Command{}})
	return m
}

// Handle registers a command. A malformed usage string or a duplicate path is
// a programming error and panics at start-up, like http.ServeMux.
func (m *Mux) Handle(c Command) {
	u, err := grammar.ParseUsage(c.Usage)
	if err != nil {
		panic(err)
	}
	if c.Handler == nil {
		panic(fmt.Sprintf("command %q: nil handler", c.Usage))
	}
	c.usage, c.name = u, u.Name()
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.routes.Load()
	if _, dup := old.commands[c.name]; dup {
		panic(fmt.Sprintf("command %q registered twice", c.name))
	}
	r := &routes{commands: maps.Clone(old.commands), groups: maps.Clone(old.groups)}
	r.commands[c.name] = &c
	if len(u.Path) > 1 {
		group := maps.Clone(r.groups[u.Path[0]])
		if group == nil {
			group = map[string]*Command{}
		}
		group[strings.Join(u.Path[1:], " ")] = &c
		r.groups[u.Path[0]] = group
	}
	m.routes.Store(r)
	m.chain.Store(nil)
}

// HandleFunc registers a function as a command.
func (m *Mux) HandleFunc(usage, summary string, access Access, f HandlerFunc) {
	m.Handle(Command{Usage: usage, Summary: summary, Access: access, Handler: f})
}

// Use appends middleware; the first one added is the outermost.
func (m *Mux) Use(mw ...Middleware) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.middleware = append(m.middleware, mw...)
	m.chain.Store(nil)
}

// OnEvent registers a receiver of Events (thread replies and the like).
func (m *Mux) OnEvent(h EventHandler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, h)
}

// Commands lists the registered commands sorted by name.
func (m *Mux) Commands() []*Command {
	return slices.SortedFunc(maps.Values(m.routes.Load().commands), byName)
}

// Lookup finds a command by its path words ("incident", "open").
func (m *Mux) Lookup(path ...string) (*Command, bool) {
	c, ok := m.routes.Load().commands[strings.ToLower(strings.Join(path, " "))]
	return c, ok
}

// UsageLine is how a command is written in chat: "/liaison contact <query>".
func (m *Mux) UsageLine(c *Command) string { return "/" + m.Name + " " + c.Usage }

// DispatchEvent hands an Event to every registered receiver.
func (m *Mux) DispatchEvent(ctx context.Context, e Event) error {
	m.mu.RLock()
	hs := slices.Clone(m.events)
	m.mu.RUnlock()
	var errs []error
	for _, h := range hs {
		if err := h.HandleEvent(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Serve answers one request and never fails: every problem becomes a
// message the person can act on, and a panic anywhere becomes an internal
// error with a reference, so no input can knock the bot over. The context
// handlers get carries the request's log attributes (WithRequestLog).
func (m *Mux) Serve(ctx context.Context, req *Request) (msg *Message) {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	ctx = WithRequestLog(ctx, req)
	defer func() {
		if p := recover(); p != nil {
			m.Logger.ErrorContext(ctx, "panic outside handler", "panic", fmt.Sprint(p))
			msg = internalError(req)
		}
	}()
	h := m.handler()
	msg, err := h.ServeCommand(ctx, req)
	return m.render(ctx, req, msg, err)
}

func (m *Mux) handler() Handler {
	if c := m.chain.Load(); c != nil {
		return c.Handler
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.chain.Load(); c != nil {
		return c.Handler
	}
	var h Handler = HandlerFunc(m.route)
	for i := len(m.middleware) - 1; i >= 0; i-- {
		h = m.middleware[i](h)
	}
	m.chain.Store(&chain{h})
	return h
}

// route resolves the command, binds its arguments and calls its handler.
// Resolution happens here, inside the middleware chain, so that unknown
// commands and usage errors are audited like every other attempt; the
// Request carries the Command for middleware that runs before it (see
// Resolve).
func (m *Mux) route(ctx context.Context, req *Request) (*Message, error) {
	if req.Command == nil {
		if err := m.Resolve(req); err != nil {
			return nil, err
		}
	}
	return req.Command.Handler.ServeCommand(ctx, req)
}

// Resolve parses req.Text, finds its command and binds the arguments. It is
// idempotent; middleware that needs the command (authorization, audit)
// calls it before the handler runs.
func (m *Mux) Resolve(req *Request) error {
	if req.Command != nil {
		return nil
	}
	// The tokens of an ordinary line stay on the stack (16 cover a line of
	// free text; a longer one costs one allocation or two).
	var buf [16]grammar.Token
	tokens, err := grammar.AppendTokens(buf[:0], req.Text)
	if err != nil {
		return &UsageError{Err: err}
	}
	// Console users may type the slash command itself.
	if len(tokens) > 0 && isSlashCommand(tokens[0].Text, m.Name) && !tokens[0].Quoted {
		tokens = tokens[1:]
	}
	if len(tokens) == 0 {
		tokens = append(buf[:0], grammar.Token{Text: "help", Start: -1, End: -1})
	}
	r := m.routes.Load()
	first := strings.ToLower(tokens[0].Text)
	if tokens[0].Quoted || tokens[0].IsOption() {
		return &UnknownCommandError{Word: tokens[0].Text, Suggest: r.suggest(first)}
	}
	var cmd *Command
	rest := tokens[1:]
	group := r.groups[first]
	if group != nil && len(tokens) > 1 && !tokens[1].Quoted && !tokens[1].IsOption() {
		cmd = group[strings.ToLower(tokens[1].Text)]
		rest = tokens[2:]
	}
	if cmd == nil {
		cmd, rest = r.commands[first], tokens[1:]
	}
	if cmd == nil {
		if group != nil {
			return &UnknownCommandError{Word: first, Group: true, Subcommands: r.subcommands(first), Sub: subWord(tokens)}
		}
		return &UnknownCommandError{Word: tokens[0].Text, Suggest: r.suggest(first)}
	}
	req.Command = cmd
	args, err := cmd.usage.Bind(req.Text, rest)
	if err != nil {
		return &UsageError{Err: err, Command: cmd}
	}
	req.Args = args
	return nil
}

// isSlashCommand reports whether word is "/"+name in any case, as
// strings.EqualFold(word, "/"+name) without building "/"+name.
func isSlashCommand(word, name string) bool {
	return len(word) > 0 && word[0] == '/' && strings.EqualFold(word[1:], name)
}

func subWord(tokens []grammar.Token) string {
	if len(tokens) > 1 {
		return tokens[1].Text
	}
	return ""
}

// subcommands lists the commands of group sorted by name.
func (r *routes) subcommands(group string) []*Command {
	return slices.SortedFunc(maps.Values(r.groups[group]), byName)
}

func byName(a, b *Command) int { return strings.Compare(a.Name(), b.Name()) }

// suggest proposes the command word closest to a mistyped one.
func (r *routes) suggest(word string) string {
	best, bestDist := "", 3
	seen := map[string]bool{}
	for _, c := range r.commands {
		w := c.usage.Path[0]
		if seen[w] {
			continue
		}
		seen[w] = true
		if d := textdist.Levenshtein(word, w); d < bestDist && d <= max(1, len(w)/3) {
			best, bestDist = w, d
		}
	}
	return best
}

// render turns a handler's result into what the person sees.
func (m *Mux) render(ctx context.Context, req *Request, msg *Message, err error) *Message {
	if err == nil {
		if msg == nil {
			msg = &Message{Text: "Done."}
		}
		return msg
	}
	var usage *UsageError
	var unknown *UnknownCommandError
	var denied *DeniedError
	switch {
	case errors.As(err, &usage):
		text := usage.Err.Error()
		if usage.Command != nil {
			text += "\nUsage: " + m.UsageLine(usage.Command)
		} else {
			text += "\nType /" + m.Name + " help for the list of commands."
		}
		return &Message{Text: text, Error: true}
	case errors.As(err, &unknown):
		return m.unknownMessage(unknown)
	case errors.As(err, &denied):
		return &Message{Text: denied.Error(), Error: true}
	default:
		m.Logger.ErrorContext(ctx, "command failed", "command", commandName(req), "err", err)
		return internalError(req)
	}
}

func (m *Mux) unknownMessage(e *UnknownCommandError) *Message {
	var b strings.Builder
	if e.Group {
		if e.Sub == "" {
			fmt.Fprintf(&b, "%s needs a subcommand.", e.Word)
		} else {
			fmt.Fprintf(&b, "Unknown subcommand %q of %s.", e.Sub, e.Word)
		}
		b.WriteString(" Usage:")
		for _, c := range e.Subcommands {
			b.WriteString("\n  " + m.UsageLine(c))
		}
		return &Message{Text: b.String(), Error: true}
	}
	fmt.Fprintf(&b, "Unknown command %q.", e.Word)
	if e.Suggest != "" {
		fmt.Fprintf(&b, " Did you mean %s?", e.Suggest)
	}
	fmt.Fprintf(&b, " Type /%s help for the list of commands.", m.Name)
	return &Message{Text: b.String(), Error: true}
}

func internalError(req *Request) *Message {
	return &Message{Text: "Something went wrong on our side and nothing was changed. Reference: " + req.ID + ".", Error: true}
}

func commandName(req *Request) string {
	if req.Command != nil {
		return req.Command.Name()
	}
	return ""
}

// NewRequestID returns a short random id for logs and the audit.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
