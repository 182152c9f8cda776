package config

import (
	"fmt"
	"os"
)

// Warnings are what is worth fixing but no reason to refuse to start: a
// file holding a secret (a NAME_FILE setting, the etcd client key) that the
// file's group or everyone may read. Each names the file and the fix.
// The configuration file itself holds no secret (Load refuses one), so
// it may stay world-readable.
func (c *Config) Warnings() []string {
	files := append([]SecretFile(nil), c.SecretFiles...)
	if c.Etcd.TLS.Key != "" {
		files = append(files, SecretFile{Name: "etcd.tls.key", Path: c.Etcd.TLS.Key})
	}
	var out []string
	for _, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			continue // a problem of its own, reported by Load
		}
		if perm := fi.Mode().Perm(); perm&0o044 != 0 {
			who := "its group"
			switch {
			case perm&0o004 != 0 && perm&0o040 != 0:
				who = "its group and everyone"
			case perm&0o004 != 0:
				who = "everyone"
			}
			out = append(out, fmt.Sprintf("%s: %s holds a secret and %s may read it (mode %04o): chmod 600 %s", f.Name, quote(f.Path), who, perm, f.Path))
		}
	}
	return out
}
