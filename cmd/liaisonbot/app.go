package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"liaisonbot/bot"
	"liaisonbot/bot/audit"
	"liaisonbot/bot/leader"
	"liaisonbot/bot/metrics"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/handoff"
	"liaisonbot/commands/help"
	"liaisonbot/commands/incident"
	"liaisonbot/config"
)

// environment is what every subcommand starts from.
type environment struct {
	configPath     string
	stdin          io.Reader
	stdout, stderr io.Writer
	// getenv reads the environment's variables; nil is os.Getenv. Tests
	// set their own, so they need not change the process's.
	getenv func(string) string
	// now is the clock of the features and the outbox; nil is time.Now.
	// In-process tests of several replicas share a fake one.
	now func() time.Time
}

// env reads a variable of the environment.
func (e *environment) env(key string) string {
	if e.getenv != nil {
		return e.getenv(key)
	}
	return os.Getenv(key)
}

// app is the wired bot: configuration, store, features and the mux.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	store     store.Store
	directory *directory.Service
	audit     *audit.Log
	mux       *bot.Mux
	metrics   *metrics.Metrics
	outbox    *outbox.Dispatcher
	incidents *incident.Service
	handoff   *handoff.Service
	now       func() time.Time // nil is time.Now
	// elector is set when replicas share an etcd store (serve).
	elector *leader.Elector
}

// dbIdentity is how a liaisonbot database is told from another program's
// bbolt file: the directory's marker, written at the first start.
var dbIdentity = boltstore.Identity{Bucket: directory.MarkerBucket, Key: directory.MarkerKey}

// loadConfig loads and validates the configuration; any problem stops the
// program with every problem listed, each naming its key.
func (e *environment) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(e.configPath, e.env)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) && len(ps) == 1 {
			// One problem, one line (SPEC §7).
			return nil, &exitError{code: 2, err: fmt.Errorf("configuration %s: %s", describePath(e.configPath), ps[0].Error())}
		}
		if errors.As(err, &ps) {
			return nil, &exitError{code: 2, err: fmt.Errorf("configuration %s: %d problems:\n  %s", describePath(e.configPath), len(ps), strings.ReplaceAll(ps.Error(), "\n", "\n  "))}
		}
		return nil, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

func describePath(p string) string {
	if p == "" {
		return "(environment only)"
	}
	return p
}

// logger logs to stderr: text on a terminal, JSON otherwise, with
// LIAISON_LOG_FORMAT (text or json) and LIAISON_LOG_LEVEL (debug, info,
// warn, error) overriding; a value it does not know is a configuration
// error rather than a silent default. Lines logged with a request's
// context carry the request's attributes (bot.LogHandler).
func (e *environment) logger(defaultLevel slog.Level) (*slog.Logger, error) {
	level := defaultLevel
	if v := e.env("LIAISON_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, &exitError{code: 2, err: fmt.Errorf("LIAISON_LOG_LEVEL: %q is not a level (debug, info, warn or error)", v)}
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	format := strings.ToLower(e.env("LIAISON_LOG_FORMAT"))
	if format == "" {
		format = "json"
		if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(e.stderr, opts)
	case "json":
		h = slog.NewJSONHandler(e.stderr, opts)
	default:
		return nil, &exitError{code: 2, err: fmt.Errorf("LIAISON_LOG_FORMAT: %q is not a format (text or json)", e.env("LIAISON_LOG_FORMAT"))}
	}
	return slog.New(bot.LogHandler(h)), nil
}

// open wires the bot: store, directory (seeded on first start), audit and
// the mux with its middleware and commands.
func (e *environment) open(ctx context.Context, logLevel slog.Level) (*app, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	log, err := e.logger(logLevel)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	dir, err := directory.Open(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, directory: dir, audit: &audit.Log{Store: st}, metrics: metrics.New(), now: e.now}
	a.outbox = &outbox.Dispatcher{
		Store: st, Logger: log, Adapters: map[string]bot.Adapter{}, Now: e.now,
		// Slack allows about one post per second per channel; Mattermost's
		// optional limit is per IP, so a lighter pace suffices there.
		Pace:      map[string]time.Duration{bot.Slack: time.Second, bot.Mattermost: 100 * time.Millisecond},
		OnAttempt: a.metrics.OutboxAttempt,
	}
	a.mux = bot.NewMux(cfg.Command, log)
	a.mux.Use(a.metrics.Middleware(), bot.Audit(a.audit, log, nil), bot.Recover(log), bot.Authorize(a.mux))
	help.Register(a.mux)
	directory.Register(a.mux, dir)
	a.registerIncidents()
	a.registerHandoff()
	return a, nil
}

// openStore opens the configured backend: the bbolt file (default), or the
// etcd cluster that several replicas share.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.Store != "etcd" {
		return boltstore.Open(cfg.DB, boltstore.Options{Identity: dbIdentity})
	}
	return etcdstore.Open(ctx, etcdConfig(cfg.Etcd))
}

func etcdConfig(e config.Etcd) etcdstore.Config {
	return etcdstore.Config{
		Endpoints: e.Endpoints,
		CA:        e.TLS.CA, Cert: e.TLS.Cert, Key: e.TLS.Key,
		Username: e.User, Password: e.Password,
		Options: etcdstore.Options{Prefix: e.Prefix},
	}
}

// close writes the queued audit records, then closes the store.
func (a *app) close() error {
	if err := a.audit.Close(); err != nil {
		a.log.Error("audit: last records not written", "err", err)
	}
	return a.store.Close()
}

// roleFor decides who a person is (SPEC §6): configured admins, people in a
// partner's channel are that partner, and everyone else on the division's
// own console is an agent.
func (a *app) consoleRole(channel, user string) bot.Role {
	if a.cfg.IsAdmin(bot.Console, user) {
		return bot.Role{Kind: bot.RoleAdmin}
	}
	if p, ok := a.cfg.PartnerForChannel(config.Channel{Platform: bot.Console, ID: channel}); ok {
		return bot.Role{Kind: bot.RolePartner, Partner: p.ID}
	}
	return bot.Role{Kind: bot.RoleAgent}
}
