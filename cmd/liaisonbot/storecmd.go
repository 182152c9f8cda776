package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/bot/store/etcdstore"
	"liaisonbot/bot/store/migrate"
	"liaisonbot/config"
)

// storeCmd: `store migrate --from bbolt:FILE --to etcd` (and back) copies
// every bucket into an empty store and verifies it per bucket. Offline: the
// bbolt file is locked while a bot runs on it, and replicas must be stopped.
func (e *environment) storeCmd(args []string) error {
	if len(args) == 0 || args[0] != "migrate" {
		return usageErr("store: want `store migrate --from bbolt:FILE|etcd --to etcd|bbolt:FILE`")
	}
	fs := quietFlags("store migrate", e.stderr)
	from := fs.String("from", "", "source: bbolt:FILE, bbolt (LIAISON_DB) or etcd (the configuration's etcd)")
	to := fs.String("to", "", "destination, as --from")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 || *from == "" || *to == "" {
		return usageErr("store migrate: want --from and --to, e.g. --from bbolt:liaisonbot.db --to etcd")
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	src, err := openSpec(ctx, cfg, *from, true)
	if err != nil {
		return fmt.Errorf("--from %s: %w", *from, err)
	}
	defer src.Close()
	dst, err := openSpec(ctx, cfg, *to, false)
	if err != nil {
		return fmt.Errorf("--to %s: %w", *to, err)
	}
	defer dst.Close()
	rep, err := migrate.Copy(ctx, src, dst)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tKEYS\tSEQUENCE\tSHA-256")
	keys := 0
	for _, b := range rep.Buckets {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.16s\n", b.Name, b.Keys, b.Sequence, b.SHA256)
		keys += b.Keys
	}
	tw.Flush()
	if len(rep.Mismatches) > 0 {
		return fmt.Errorf("the copy does not match its source:\n  %s", strings.Join(rep.Mismatches, "\n  "))
	}
	fmt.Fprintf(e.stdout, "Copied %d buckets, %d keys from %s to %s; counts and checksums match.\n", len(rep.Buckets), keys, *from, *to)
	return nil
}

// openSpec opens bbolt:FILE, bbolt (the configured file) or etcd.
func openSpec(ctx context.Context, cfg *config.Config, spec string, readOnly bool) (store.Store, error) {
	switch {
	case spec == "etcd":
		if len(cfg.Etcd.Endpoints) == 0 {
			return nil, errors.New("no etcd.endpoints in the configuration")
		}
		return etcdstore.Open(ctx, etcdConfig(cfg.Etcd))
	case spec == "bbolt":
		return boltstore.Open(cfg.DB, boltstore.Options{ReadOnly: readOnly})
	case strings.HasPrefix(spec, "bbolt:") && len(spec) > len("bbolt:"):
		return boltstore.Open(spec[len("bbolt:"):], boltstore.Options{ReadOnly: readOnly})
	}
	return nil, usageErr("%q: want bbolt:FILE, bbolt or etcd", spec)
}
