//go:build unix

package main

import (
	"os"
	"syscall"
)

// keepOwner gives the restored file the owner of the database it replaces:
// restores run as root for a service that runs as its own user. Only root
// may do it; for anyone else the file is already theirs.
func keepOwner(path string, old os.FileInfo) {
	if st, ok := old.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		_ = os.Chown(path, int(st.Uid), int(st.Gid))
	}
}
