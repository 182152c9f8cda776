// Command liaisonload measures how many signed Slack slash commands per
// second liaisonbot answers over HTTP, against a bare net/http handler that
// returns a body of the same size, in the same run (SPEC §8: the bot should
// reach at least 70 % of the bare handler's rate).
//
//	go build -o /tmp/lb ./cmd/liaisonbot
//	LIAISON_DB=$(mktemp -d)/l.db SLACK_SIGNING_SECRET=S SLACK_BOT_TOKEN=xoxb-x \
//	  LIAISON_LISTEN=127.0.0.1:8080 /tmp/lb serve &
//	go run ./cmd/liaisonload -secret S -url http://127.0.0.1:8080/slack/commands -c 32 -d 10s
//
// Both targets get the same requests: a slash command form signed with the
// secret at the time it is sent, so the client does the same work for each.
// The bare handler runs inside this process, the bot in its own: on a
// machine with few cores the comparison is a little kind to the bot.
//
// `liaisonload soak` is the soak test instead (scripts/soak.sh): a fixed
// rate of valid and invalid requests for a bounded time, open loop, with
// per-class statuses, latency and the server's memory growth:
//
//	liaisonload soak -url http://127.0.0.1:8080 -secret S [-mm-token T] [-pid PID] -rate 200 -duration 60s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if os.Getenv(childEnv) != "" {
		if err := baselineChild(); err != nil {
			fmt.Fprintln(os.Stderr, "liaisonload baseline:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "liaisonload:", err)
		os.Exit(1)
	}
}

type options struct {
	url         string
	secret      string
	text        string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	baseline    bool
	childProc   bool
}

func run(args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "soak" {
		return runSoak(args[1:], out)
	}
	fs := flag.NewFlagSet("liaisonload", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/slack/commands", "the bot's slash command endpoint")
	fs.StringVar(&o.secret, "secret", os.Getenv("SLACK_SIGNING_SECRET"), "Slack signing secret the bot verifies with (default $SLACK_SIGNING_SECRET)")
	fs.StringVar(&o.text, "text", "contact canada", "the command line sent after /liaison")
	fs.IntVar(&o.concurrency, "c", 32, "concurrent requests")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "how long to measure each target")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	fs.BoolVar(&o.baseline, "baseline", true, "also measure a bare net/http handler returning a body of the same size")
	fs.BoolVar(&o.childProc, "baseline-process", false, "run the bare handler in a child process, as the bot runs in its own (default: in this process)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.secret == "" {
		return errors.New("-secret (or SLACK_SIGNING_SECRET) is required")
	}
	if o.concurrency < 1 || o.duration <= 0 {
		return errors.New("-c must be at least 1 and -d positive")
	}
	ctx := context.Background()
	client := newClient(o.concurrency)
	form := slashForm(o.text)

	// One request first: the bot must answer it, and its answer sets the
	// size of the baseline's body.
	answer, ctype, err := probe(ctx, client, o.url, o.secret, form)
	if err != nil {
		return fmt.Errorf("%s: %w", o.url, err)
	}
	fmt.Fprintf(out, "liaisonload: %d concurrent, %s per target, /liaison %s (answer %d bytes)\n", o.concurrency, o.duration, o.text, len(answer))

	bot := measure(ctx, client, o, o.url, form)
	report(out, "bot", o.url, bot)
	if !o.baseline {
		return nil
	}
	start := serveBaseline
	name := "baseline"
	if o.childProc {
		start, name = startBaselineProcess, "baseline*"
	}
	addr, stop, err := start(answer, ctype)
	if err != nil {
		return err
	}
	defer stop()
	bare := measure(ctx, client, o, "http://"+addr+"/slack/commands", form)
	report(out, name, "http://"+addr+"/slack/commands", bare)
	if o.childProc {
		fmt.Fprintln(out, "          * in a child process")
	}
	if bare.rate() > 0 {
		ratio := 100 * bot.rate() / bare.rate()
		verdict := "below"
		if ratio >= 70 {
			verdict = "meets"
		}
		fmt.Fprintf(out, "ratio     bot/baseline = %.1f %% (%s the SPEC §8 target of 70 %%)\n", ratio, verdict)
	}
	return nil
}

func report(out io.Writer, name, url string, r *result) {
	fmt.Fprintf(out, "%-9s %-45s %8d requests  %9.1f req/s  p50 %-9s p99 %-9s errors %d\n",
		name, url, r.n, r.rate(), r.percentile(50).Round(time.Microsecond), r.percentile(99).Round(time.Microsecond), r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(out, "          first error: %v\n", r.firstErr)
	}
}
