package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/config"
	"liaisonbot/internal/backoff"
)

// DefaultInlineWait is how long a command may take to be answered in the
// HTTP response or the Socket Mode ack. Slack shows the person an error after
// 3 s; the rest is margin for the network.
const DefaultInlineWait = 2 * time.Second

// commandTimeout bounds one command's run, answered late or not. A
// response_url stays usable for 30 minutes; no command should come close.
const commandTimeout = 2 * time.Minute

// lateTimeout bounds delivering a late answer, rate-limit retries included.
const lateTimeout = time.Minute

// drainTimeout bounds how long Run waits, once its context ends, for events
// still queued and commands still running.
const drainTimeout = 10 * time.Second

// Options configure an Adapter. Config, Mux and Store are required.
type Options struct {
	Config *config.Config // credentials, internal teams, admins, partners
	Mux    *bot.Mux       // serves commands and receives events
	Store  store.Store    // holds the event-id dedupe bucket
	Logger *slog.Logger

	// HTTPClient sends Web API calls and response_url posts; default a
	// client with a 30 s timeout.
	HTTPClient *http.Client
	// InlineWait overrides DefaultInlineWait.
	InlineWait time.Duration
	// Wait sleeps before a retry (a 429's Retry-After, a reconnect); it
	// returns early with ctx's error. Tests replace it so nothing sleeps.
	Wait func(ctx context.Context, d time.Duration) error
	// Now is the clock for request times and the dedupe bucket.
	Now func() time.Time
	// SocketOptions are passed to socketmode.New (tests set a ping interval).
	SocketOptions []socketmode.Option
	// OnRateLimit, optional, is called each time Slack answers 429 and the
	// adapter waits before trying again. For metrics.
	OnRateLimit func(wait time.Duration)
}

// Adapter is the Slack platform: bot.Adapter and bot.Readiness, plus the
// HTTP handlers that Register mounts.
type Adapter struct {
	cfg        *config.Config
	mux        *bot.Mux
	log        *slog.Logger
	api        *slackapi.Client // nil without a bot token: answers only, no posts
	http       *http.Client
	secret     string
	signatures *signatures // checks requests against secret
	inlineWait time.Duration
	// commandTimeout is the const of that name; tests shorten it.
	commandTimeout time.Duration
	watchdog       *watchdog // keeps both moments of the commands in flight
	wait           func(context.Context, time.Duration) error
	now            func() time.Time
	hooks          responseHosts
	socketOpts     []socketmode.Option
	onLimit        func(time.Duration)

	dedupe   *dedupe
	events   chan bot.Event // dispatched in order by Run's worker
	inflight sync.WaitGroup // commands and late answers still running
	self     atomic.Pointer[identity]
	conn     connState

	authMu    sync.Mutex // one auth.test at a time
	authRetry time.Time  // after a failed auth.test, when a post may ask again
}

var (
	_ bot.Adapter   = (*Adapter)(nil)
	_ bot.Readiness = (*Adapter)(nil)
)

// identity is who the bot is on Slack, from auth.test or an event's
// authorizations.
type identity struct {
	UserID string // the bot user: its own messages are FromBot
	TeamID string // the workspace the app is installed in
	// Web is the workspace's web address ("https://pld.slack.com"), from
	// auth.test's url: the base of permalinks. Events do not carry it.
	Web string
}

// errNoBotToken is returned by posts when only a signing secret is set.
var errNoBotToken = errors.New("slack: no bot token (set SLACK_BOT_TOKEN): the bot can answer commands but not post")

// New builds the adapter. It does not talk to Slack: Run does.
func New(o Options) (*Adapter, error) {
	if o.Config == nil || o.Mux == nil || o.Store == nil {
		return nil, errors.New("slack: Options need Config, Mux and Store")
	}
	s := o.Config.Slack
	if s.SigningSecret == "" && s.AppToken == "" {
		return nil, errors.New("slack: neither SLACK_SIGNING_SECRET (HTTP mode) nor SLACK_APP_TOKEN (Socket Mode) is set")
	}
	if s.AppToken != "" && s.BotToken == "" {
		return nil, errors.New("slack: Socket Mode (SLACK_APP_TOKEN) needs SLACK_BOT_TOKEN too")
	}
	a := &Adapter{
		cfg:            o.Config,
		mux:            o.Mux,
		log:            o.Logger,
		http:           o.HTTPClient,
		secret:         s.SigningSecret,
		signatures:     newSignatures(s.SigningSecret),
		inlineWait:     o.InlineWait,
		commandTimeout: commandTimeout,
		wait:           o.Wait,
		now:            o.Now,
		socketOpts:     o.SocketOptions,
		onLimit:        o.OnRateLimit,
		events:         make(chan bot.Event, 1024),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("platform", bot.Slack)
	if a.http == nil {
		a.http = &http.Client{Timeout: 30 * time.Second}
	}
	if a.inlineWait <= 0 {
		a.inlineWait = DefaultInlineWait
	}
	a.watchdog = &watchdog{tick: watchdogTick(a.inlineWait)}
	if a.wait == nil {
		a.wait = backoff.Sleep
	}
	if a.now == nil {
		a.now = time.Now
	}
	hooks, err := newResponseHosts(s.APIURL)
	if err != nil {
		return nil, err
	}
	a.hooks = hooks
	a.dedupe = &dedupe{store: o.Store, now: a.now}
	if s.BotToken != "" {
		// No OptionRetry: slack-go's retry handlers also retry after a
		// connection reset, which can post a message Slack already
		// accepted a second time. Retries happen here, on 429 only.
		opts := []slackapi.Option{slackapi.OptionHTTPClient(a.http)}
		if s.APIURL != "" {
			opts = append(opts, slackapi.OptionAPIURL(s.APIURL))
		}
		if s.AppToken != "" {
			opts = append(opts, slackapi.OptionAppLevelToken(s.AppToken))
		}
		a.api = slackapi.New(s.BotToken, opts...)
	}
	a.conn.set(false, "not connected yet")
	return a, nil
}

// Platform is "slack".
func (a *Adapter) Platform() string { return bot.Slack }

// Register mounts the HTTP endpoints on mux. Without a signing secret there
// is nothing to verify requests with, so nothing is mounted.
func (a *Adapter) Register(mux *http.ServeMux) {
	if a.secret == "" {
		return
	}
	mux.HandleFunc("POST /slack/commands", a.handleCommand)
	mux.HandleFunc("POST /slack/events", a.handleEvents)
	mux.HandleFunc("POST /slack/interactions", a.handleInteraction)
}

// Run dispatches events and, in Socket Mode, holds the connection, until ctx
// ends. Then it lets queued events and running commands finish, within
// drainTimeout.
func (a *Adapter) Run(ctx context.Context) error {
	worker := make(chan struct{})
	go func() {
		defer close(worker)
		a.dispatchLoop(ctx)
	}()
	if a.api != nil {
		a.inflight.Go(func() { a.learnIdentity(ctx) })
	} else {
		a.log.Warn("no SLACK_BOT_TOKEN: answering slash commands only; posts (incident threads, digests) will fail")
	}
	var err error
	if a.cfg.Slack.SocketMode() {
		err = a.runSocket(ctx)
	} else {
		<-ctx.Done()
	}
	<-worker
	done := make(chan struct{})
	go func() { a.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		a.log.Warn("stopped with commands still running")
	}
	return err
}

// Ready reports whether the Socket Mode connection is up. In HTTP mode
// Slack comes to us, so there is nothing to be connected to.
func (a *Adapter) Ready() error {
	if !a.cfg.Slack.SocketMode() {
		return nil
	}
	return a.conn.err()
}

// learnIdentity asks Slack who the bot is, for FromBot and for telling the
// workspace's own people from Slack Connect guests, and where the workspace
// lives on the web, for permalinks. Failing is not fatal: events carry the
// same facts but the last, and a post asks again for it.
func (a *Adapter) learnIdentity(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if err := a.authTest(ctx); err != nil {
		a.log.Warn("auth.test failed; learning the bot's identity from events instead", "err", err)
		return
	}
	id := a.identity()
	a.log.Info("slack identity", "bot_user", id.UserID, "team", id.TeamID, "workspace", id.Web)
}

// authTest calls auth.test and records the answer; a.authMu must be held.
func (a *Adapter) authTest(ctx context.Context) error {
	resp, err := a.api.AuthTestContext(ctx)
	if err != nil {
		a.authRetry = a.now().Add(authRetryAfter)
		return err
	}
	a.self.Store(&identity{UserID: resp.UserID, TeamID: resp.TeamID, Web: workspaceWeb(resp.URL)})
	return nil
}

// authRetryAfter spaces the auth.test calls that posts make while the
// workspace's address is unknown.
const authRetryAfter = time.Minute

// workspaceWeb reads auth.test's url ("https://pld.slack.com/") into the
// base of permalinks; "" when it is not a web address.
func workspaceWeb(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return "https://" + u.Host
}

// workspaceURL is the base of permalinks. auth.test at start gives it; a
// post made before that answered (the outbox starts sending at once) asks
// itself, at most once a minute while Slack will not say. "" when unknown.
func (a *Adapter) workspaceURL(ctx context.Context) string {
	if web := a.identity().Web; web != "" {
		return web
	}
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if web := a.identity().Web; web != "" || a.now().Before(a.authRetry) {
		return web
	}
	if err := a.authTest(ctx); err != nil {
		a.log.Warn("auth.test failed: posts have no permalink until it works", "err", err)
	}
	return a.identity().Web
}

// identity returns what is known of the bot; fields may be empty.
func (a *Adapter) identity() identity {
	if id := a.self.Load(); id != nil {
		return *id
	}
	return identity{}
}

// connState is the Socket Mode connection as /readyz sees it.
type connState struct {
	mu     sync.Mutex
	up     bool
	reason string
}

func (c *connState) set(up bool, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up, c.reason = up, reason
}

func (c *connState) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up {
		return nil
	}
	return fmt.Errorf("socket mode not connected: %s", c.reason)
}
