package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"liaisonbot/config"
)

// healthcheck GETs /healthz of the local server, for container health
// checks in an image without curl or a shell: exit 0 when it answers 200.
func (e *environment) healthcheck(args []string) error {
	fs := quietFlags("healthcheck", e.stderr)
	path := fs.String("path", "/healthz", "the endpoint to ask (/healthz or /readyz)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	listen := config.DefaultListen
	if v := os.Getenv(config.EnvListen); v != "" {
		listen = v
	} else if cfg, err := config.Load(e.configPath, os.Getenv); cfg != nil && err == nil {
		listen = cfg.Listen
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return usageErr("healthcheck: listen address %q: %v", listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + *path)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s", resp.Status, body)
	}
	_, _ = e.stdout.Write(body)
	return nil
}
