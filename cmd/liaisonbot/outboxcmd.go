package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"liaisonbot/bot/outbox"
)

// outboxCmd: `outbox list` shows the posts waiting or failing, with errors.
func (e *environment) outboxCmd(args []string) error {
	if len(args) != 1 || args[0] != "list" {
		return usageErr("outbox: want `outbox list`")
	}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	entries, err := outbox.List(ctx, a.store)
	if err != nil {
		return err
	}
	stats, err := outbox.Count(ctx, a.store)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d waiting, %d failing, %d sent\n", stats.Pending, stats.Failing, stats.Sent)
	if len(entries) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCHANNEL\tATTEMPTS\tNEXT ATTEMPT\tFOR\tLAST ERROR")
	for _, en := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", en.ID, en.Status, en.ChannelRef(), en.Attempts,
			en.NextAttempt.Local().Format(time.DateTime), en.Origin, en.LastError)
	}
	return tw.Flush()
}
