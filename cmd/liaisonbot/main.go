// Command liaisonbot is the chat-ops bot of the Protective Liaison Division.
// This file only wires packages together: every behaviour lives in bot,
// adapters/… and commands/….
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	_ "time/tzdata" // team time zones must load in a minimal container
)

const usageText = `liaisonbot: the Protective Liaison Division's chat-ops bot

Usage:
  liaisonbot                      console when no platform is configured, else serve
  liaisonbot console [--as ROLE] [--channel ID]
  liaisonbot serve
  liaisonbot directory import FILE [--replace] [--dry-run]
  liaisonbot directory export [--format csv|json] [--kind KIND] [--out DIR]
  liaisonbot backup FILE          a consistent copy, also while the bot runs
  liaisonbot restore FILE         replace the database with FILE (bot stopped; FILE checked first)
  liaisonbot incident export ID   the Markdown after-action report
  liaisonbot outbox list          posts waiting or failing, with their errors
  liaisonbot audit export [--since TIME]
  liaisonbot store migrate --from bbolt:FILE --to etcd   (or --from etcd --to bbolt:FILE; offline, into an empty store)
  liaisonbot config check
  liaisonbot healthcheck [--path /readyz]   exit 0 when the local server answers (container checks)
  liaisonbot version

Global flags (before the subcommand): --config FILE (or LIAISON_CONFIG)
`

// exitError carries an exit code: 1 for failures, 2 for usage and configuration.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(os.Stderr, "liaisonbot: "+msg)
	}
	os.Exit(code)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("liaisonbot", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usageText) }
	configPath := global.String("config", os.Getenv("LIAISON_CONFIG"), "configuration file (YAML)")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: 2, err: errors.New("")}
	}
	args = global.Args()
	env := &environment{configPath: *configPath, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return env.defaultMode()
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "console":
		return env.console(rest)
	case "serve":
		return env.serve(rest)
	case "directory":
		return env.directory(rest)
	case "audit":
		return env.audit(rest)
	case "backup":
		return env.backupCmd(rest)
	case "restore":
		return env.restoreCmd(rest)
	case "incident":
		return env.incidentCmd(rest)
	case "outbox":
		return env.outboxCmd(rest)
	case "config":
		return env.configCmd(rest)
	case "store":
		return env.storeCmd(rest)
	case "healthcheck":
		return env.healthcheck(rest)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	default:
		return usageErr("unknown command %q\n%s", cmd, usageText)
	}
}

// parseFlags parses flags that may come before or after positional
// arguments ("directory import FILE --replace"), returning the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func quietFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
