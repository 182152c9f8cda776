package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"liaisonbot/adapters/console"
	"liaisonbot/bot"
)

// defaultMode runs the console when no platform is configured, else serves.
func (e *environment) defaultMode() error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg.AnyPlatform() {
		return e.serve(nil)
	}
	return e.console(nil)
}

func (e *environment) console(args []string) error {
	fs := quietFlags("console", e.stderr)
	as := fs.String("as", "", "act as ROLE: admin, agent, partner:<id>")
	channel := fs.String("channel", "console", "the console channel typed in")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("console: unexpected argument %q", rest[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A reader that goes away (`console | head -1`) must not kill the
	// process by SIGPIPE before it closes the store and writes its audit:
	// writes fail instead, and the console ends.
	signal.Ignore(syscall.SIGPIPE)
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	defer a.serveControl()() // stopped before the store closes
	user := bot.User{ID: consoleUser(), Name: consoleUser(), Team: "console"}
	role := a.consoleRole(*channel, user.ID)
	if *as != "" {
		if role, err = bot.ParseRole(*as); err != nil {
			return usageErr("console --as: %v", err)
		}
		if role.Kind == bot.RolePartner {
			if _, ok := a.cfg.PartnerByID(role.Partner); !ok {
				return usageErr("console --as: no partner %q in the configuration", role.Partner)
			}
		}
	}
	interactive := false
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		interactive = true
		snap := a.directory.Snapshot()
		e.printf("liaisonbot console: %d missions, %d offices. You are %s in %s. Type help, or quit.\n",
			len(snap.Missions), len(snap.Offices), role, "console:"+*channel)
	}
	c := &console.Adapter{
		In: e.stdin, Out: e.stdout, Mux: a.mux, Channel: *channel,
		User: user, Role: role, Interactive: interactive,
	}
	// Posts a command caused (incident threads, mirrors) print right after
	// its answer, so a scripted session reads in order. Posts for Slack or
	// Mattermost stay in the outbox until `serve` runs.
	a.outbox.Adapters[bot.Console] = c
	if a.cfg.Store == "etcd" {
		// Serving replicas may share the store: claim what this session
		// sends, and leave their platforms' posts to them.
		a.outbox.Owner = "console/" + e.replicaID()
		a.outbox.OnlyOwnPlatforms = true
	}
	c.AfterLine = func(ctx context.Context) {
		if _, err := a.outbox.Flush(ctx); err != nil {
			a.log.Error("outbox flush", "err", err)
		}
	}
	return c.Run(ctx)
}

func consoleUser() string {
	for _, k := range []string{"LIAISON_CONSOLE_USER", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "operator"
}

func (e *environment) printf(format string, a ...any) {
	_, _ = fmt.Fprintf(e.stdout, format, a...)
}
