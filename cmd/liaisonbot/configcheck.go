package main

import (
	"errors"
	"fmt"

	"liaisonbot/config"
)

// configCmd: `config check` prints the effective configuration with secrets
// masked and every problem; the exit code says valid (0) or not (2).
func (e *environment) configCmd(args []string) error {
	if len(args) != 1 || args[0] != "check" {
		return usageErr("config: want `config check`")
	}
	cfg, err := config.Load(e.configPath, e.env)
	if cfg != nil {
		fmt.Fprintf(e.stdout, "# effective configuration from %s, secrets masked\n%s", describePath(e.configPath), cfg.Masked())
	}
	if cfg != nil {
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(e.stdout, "\nwarning: %s\n", w)
		}
	}
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			fmt.Fprintf(e.stdout, "\n%d problem(s):\n", len(ps))
			for _, p := range ps {
				fmt.Fprintf(e.stdout, "  %s\n", p.Error())
			}
			return &exitError{code: 2, err: fmt.Errorf("configuration is not valid")}
		}
		return &exitError{code: 2, err: err}
	}
	fmt.Fprintln(e.stdout, "\nconfiguration is valid")
	return nil
}
