package mattermost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/config"
	"liaisonbot/internal/backoff"
)

// Paths Mattermost calls, under LIAISON_PUBLIC_URL.
const (
	CommandPath = "/mattermost/command"
	ActionsPath = "/mattermost/actions"
)

// maxBody bounds every request body Mattermost sends us; a slash command
// form or a button press is a few hundred bytes.
const maxBody = 64 << 10

// Defaults of the tunables in Options.
const (
	DefaultSlowAfter = 2 * time.Second
	DefaultRoleTTL   = 5 * time.Minute
	// maxWork bounds one command's work once it has been acknowledged.
	maxWork = 2 * time.Minute
	// syncWait is how long a command may keep Mattermost waiting when its
	// response_url cannot be used; the server gives up after 30 s.
	syncWait = 25 * time.Second
)

// Options configure an Adapter.
type Options struct {
	Config *config.Config
	Mux    *bot.Mux
	Store  store.Store
	Logger *slog.Logger

	// Wait pauses between retries (start-up, reconnects, 429s). Tests
	// inject one that does not sleep. The default waits on a timer and
	// returns ctx.Err() when ctx ends first.
	Wait func(ctx context.Context, d time.Duration) error
	// SlowAfter is how long a command may run before it is acknowledged
	// with "Working on it…" and answered later through response_url.
	SlowAfter time.Duration
	// RoleTTL is how long a user's team membership is cached.
	RoleTTL time.Duration
	// HTTPClient calls the REST API and response_url hooks.
	HTTPClient *http.Client
	// OnRateLimit, optional, is called each time the server answers 429
	// and the adapter waits before trying again. For metrics.
	OnRateLimit func(wait time.Duration)
}

// Adapter is the Mattermost platform. Build it with New, mount its HTTP
// handlers with Register, then Run it.
type Adapter struct {
	cfg       *config.Config
	mux       *bot.Mux
	st        store.Store
	log       *slog.Logger
	wait      func(ctx context.Context, d time.Duration) error
	onLimit   func(time.Duration)
	slowAfter time.Duration
	roleTTL   time.Duration
	httpc     *http.Client
	client    *model.Client4 // nil when only the command token is configured
	server    *url.URL       // MATTERMOST_URL, nil when unset
	watched   map[string]bool
	handles   map[string]bool // configured on-call handles: mentions that stay mentions
	secret    []byte          // signs button contexts
	// inflight counts commands still working, acknowledged or not, and
	// their late answers: Run lets them finish before it returns, so
	// SIGTERM does not close the store under them.
	inflight sync.WaitGroup

	mu       sync.Mutex
	readyErr error
	botID    string
	teamID   string
	teamName string   // MATTERMOST_TEAM's name, for permalinks
	internal []string // internal team ids, resolved at start
	resolved bool     // teamID and internal are known
	cmdToken string   // token of the command registered through the API
	// tokenReloaded is when cmdToken was last read again from the store.
	tokenReloaded time.Time
	users         map[string]userEntry
	cursors       map[string]*cursor
	seen          *seenSet
}

var (
	_ bot.Adapter   = (*Adapter)(nil)
	_ bot.Readiness = (*Adapter)(nil)
)

// New builds the adapter from the configuration. It reads its state from
// the store (the per-install button secret, created on first use, and the
// token of a command it registered earlier) but does not contact
// Mattermost: Run does, so a server that is down cannot stop the bot from
// starting.
func New(ctx context.Context, o Options) (*Adapter, error) {
	if o.Config == nil || o.Mux == nil || o.Store == nil {
		return nil, errors.New("mattermost: Config, Mux and Store are required")
	}
	a := &Adapter{
		cfg: o.Config, mux: o.Mux, st: o.Store, log: o.Logger,
		wait: o.Wait, onLimit: o.OnRateLimit, slowAfter: o.SlowAfter, roleTTL: o.RoleTTL, httpc: o.HTTPClient,
		readyErr: errors.New("not connected yet"),
		users:    map[string]userEntry{},
		cursors:  map[string]*cursor{},
		seen:     newSeenSet(4096),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("platform", bot.Mattermost)
	if a.wait == nil {
		a.wait = backoff.Sleep
	}
	if a.slowAfter <= 0 {
		a.slowAfter = DefaultSlowAfter
	}
	if a.roleTTL <= 0 {
		a.roleTTL = DefaultRoleTTL
	}
	if a.httpc == nil {
		a.httpc = &http.Client{Timeout: 30 * time.Second}
	}
	mm := o.Config.Mattermost
	if mm.URL != "" {
		u, err := url.Parse(mm.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("mattermost: MATTERMOST_URL %q is not an http(s) URL", mm.URL)
		}
		a.server = u
	}
	if mm.BotToken != "" && a.server != nil {
		a.client = model.NewAPIv4Client(mm.URL)
		a.client.HTTPClient = a.httpc
		a.client.SetToken(mm.BotToken)
	}
	a.watched = watchedChannels(o.Config)
	a.handles = configuredHandles(o.Config)
	if err := a.loadState(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// watchedChannels are the Mattermost channels of partners and teams: the
// ones whose thread replies the bot follows.
func watchedChannels(c *config.Config) map[string]bool {
	out := map[string]bool{}
	add := func(chs []config.Channel) {
		for _, ch := range chs {
			if strings.EqualFold(ch.Platform, config.PlatformMattermost) {
				out[ch.ID] = true
			}
		}
	}
	for _, p := range c.Partners {
		add(p.Channels)
	}
	for _, t := range c.Teams {
		add(t.Channels)
	}
	return out
}

// configuredHandles are the handles the operator named to be notified:
// partners' on-call, teams' escalation and shift leads.
func configuredHandles(c *config.Config) map[string]bool {
	var hs []string
	for _, p := range c.Partners {
		hs = append(hs, p.Oncall)
	}
	for _, t := range c.Teams {
		hs = append(hs, t.EscalateTo)
		hs = append(hs, t.Leads...)
	}
	return mentionHandles(hs...)
}

// Platform is "mattermost".
func (a *Adapter) Platform() string { return bot.Mattermost }

// Ready reports nil once the bot account is checked and the websocket is
// connected, and otherwise why not, for /readyz.
func (a *Adapter) Ready() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.readyErr
}

func (a *Adapter) setReady(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.readyErr = err
}

// Register mounts the HTTP handlers Mattermost calls.
func (a *Adapter) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+CommandPath, a.serveCommand)
	mux.HandleFunc("POST "+ActionsPath, a.serveAction)
}

// Run checks the bot account and registers the slash command (retrying
// with backoff while the server is unreachable), then follows the
// websocket until ctx ends, reconnecting whenever it drops.
func (a *Adapter) Run(ctx context.Context) error {
	if a.client == nil {
		return errors.New("mattermost: MATTERMOST_URL and MATTERMOST_BOT_TOKEN are needed to run")
	}
	if err := a.start(ctx); err != nil {
		return err
	}
	a.setReady(errors.New("websocket connecting"))
	return a.follow(ctx)
}

// drainTimeout bounds how long Drain waits for commands still working and
// their late answers.
const drainTimeout = 10 * time.Second

// Drain waits for the slash commands in flight, within drainTimeout. The
// server calls it once its HTTP intake has stopped (nothing starts a new
// one then) and before the store closes, on every replica: commands are
// served by followers too, whose Run never starts.
func (a *Adapter) Drain() {
	done := make(chan struct{})
	go func() { a.inflight.Wait(); close(done) }()
	timer := time.NewTimer(drainTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		a.log.Warn("stopped with slash commands still running")
	}
}
