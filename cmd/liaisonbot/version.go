package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// commit can be set at build time (-ldflags "-X main.commit=…") where the
// build has no VCS information.
var commit = ""

func versionString() string {
	version, rev, modified := "(devel)", commit, false
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	} else if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return fmt.Sprintf("liaisonbot %s (commit %s, %s, %s/%s)", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
