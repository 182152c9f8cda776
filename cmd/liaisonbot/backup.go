package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory"
	"liaisonbot/commands/incident"
)

// backupCmd: `backup FILE` writes a consistent copy of the database to
// FILE. With a bot running on the database it asks that process over the
// control socket (bbolt's flock keeps everyone else out); with none, it
// copies the file itself. Either way the copy is written beside FILE,
// synced, verified (bbolt's consistency check, a liaisonbot database) and
// only then renamed to FILE: FILE is whole or untouched.
func (e *environment) backupCmd(args []string) error {
	rest, err := parseFlags(quietFlags("backup", e.stderr), args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] == "" {
		return usageErr("backup: want `backup FILE`")
	}
	file := rest[0]
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if err := notTheDatabase(file, cfg.DB); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if fi, err := os.Stat(file); err == nil && fi.IsDir() {
		return fmt.Errorf("backup: %s is a directory: name the file to write, e.g. %s", file, filepath.Join(file, "liaisonbot-"+time.Now().UTC().Format("2006-01-02")+".db"))
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	how, err := snapshot(cfg.DB, tmp)
	if err != nil {
		return fmt.Errorf("backup: %w; %s not written", err, file)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: %w; %s not written", err, file)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w; %s not written", err, file)
	}
	info, err := boltstore.Verify(tmp.Name(), dbIdentity, 0)
	if err != nil {
		return fmt.Errorf("backup: the copy does not verify: %w; %s not written", err, file)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	keep = true
	if err := syncDir(filepath.Dir(file)); err != nil {
		return fmt.Errorf("backup: %s written, but its directory not synced: %w", file, err)
	}
	fmt.Fprintf(e.stdout, "%s: %d bytes, %s of %s, verified\n  %s\n", file, info.Size, how, cfg.DB, describeContents(info))
	return nil
}

// snapshot writes a consistent copy of the database at db to w and says
// how it was taken.
func snapshot(db string, w io.Writer) (string, error) {
	sock := controlPath(db)
	_, pid, err := fetchBackup(sock, w)
	if err == nil {
		return "a snapshot from the running liaisonbot (pid " + pid + ")", nil
	}
	if !errors.Is(err, errNoControl) {
		return "", err
	}
	if _, err := os.Stat(db); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("no database at %s (LIAISON_DB)", db)
		}
		return "", err
	}
	st, err := boltstore.Open(db, boltstore.Options{ReadOnly: true, Identity: dbIdentity})
	if errors.Is(err, store.ErrInUse) {
		return "", fmt.Errorf("database %s is in use, and no running liaisonbot answers on %s (an older version, or a socket it could not create: see its log): stop it, or copy the file while it is stopped", db, sock)
	}
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := st.Backup(context.Background(), w); err != nil {
		return "", err
	}
	return "an offline copy (no bot running)", nil
}

// restoreCmd: `restore FILE` replaces the database with FILE, offline. FILE
// is checked before anything is touched; the current database is kept
// beside it as <db>.before-restore-<UTC time>; the new one is copied next
// to the database, synced, checked again and renamed into place, so the
// database is at every moment either the old file or the new one.
func (e *environment) restoreCmd(args []string) error {
	rest, err := parseFlags(quietFlags("restore", e.stderr), args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] == "" {
		return usageErr("restore: want `restore FILE`")
	}
	file := rest[0]
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	db := cfg.DB
	nothing := "; nothing changed"
	if err := notTheDatabase(file, db); err != nil {
		return fmt.Errorf("restore: %w%s", err, nothing)
	}
	info, err := boltstore.Verify(file, dbIdentity, 0)
	if err != nil {
		return fmt.Errorf("restore: %w%s", err, nothing)
	}

	// Hold the current database's lock until the new file is in place, so
	// that no bot starts on it meanwhile. A corrupt one cannot be opened
	// (bbolt did get its lock, so no process holds it) and is replaced all
	// the same: that is what restores are for.
	if answering(controlPath(db)) {
		return fmt.Errorf("restore: database %s is in use by a running liaisonbot: stop the bot first (systemctl stop liaisonbot, docker stop liaisonbot), then restore%s", db, nothing)
	}
	var old os.FileInfo
	corrupt := false
	if fi, err := os.Stat(db); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("restore: %s (LIAISON_DB) is not a regular file%s", db, nothing)
		}
		old = fi
		cur, err := boltstore.Open(db, boltstore.Options{Identity: dbIdentity})
		switch {
		case errors.Is(err, store.ErrInUse):
			return fmt.Errorf("restore: database %s is in use: stop the bot first (systemctl stop liaisonbot, docker stop liaisonbot), then restore%s", db, nothing)
		case errors.Is(err, store.ErrForeign):
			return fmt.Errorf("restore: %v: check LIAISON_DB%s", err, nothing)
		case errors.Is(err, store.ErrCorrupt):
			corrupt = true
		case err != nil:
			return fmt.Errorf("restore: %w%s", err, nothing)
		default:
			defer cur.Close()
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restore: %w%s", err, nothing)
	}

	tmp, err := copyBeside(file, db)
	if err != nil {
		return fmt.Errorf("restore: %w%s", err, nothing)
	}
	installed := false
	defer func() {
		if !installed {
			os.Remove(tmp)
		}
	}()
	if _, err := boltstore.Verify(tmp, dbIdentity, 0); err != nil {
		return fmt.Errorf("restore: the copy of %s does not verify: %w%s", file, err, nothing)
	}
	kept := ""
	if old != nil {
		keepOwner(tmp, old)
		// And its mode: the copy was made 0600, and a group that could read
		// the database before must still after.
		if err := os.Chmod(tmp, old.Mode().Perm()); err != nil {
			return fmt.Errorf("restore: %w%s", err, nothing)
		}
		if kept, err = keepAside(db); err != nil {
			return fmt.Errorf("restore: keeping the current database: %w%s", err, nothing)
		}
	}
	if err := os.Rename(tmp, db); err != nil {
		return fmt.Errorf("restore: %w%s", err, nothing)
	}
	installed = true
	if err := syncDir(filepath.Dir(db)); err != nil {
		return fmt.Errorf("restore: %s in place, but its directory not synced: %w", db, err)
	}
	fmt.Fprintf(e.stdout, "%s: restored from %s (%d bytes, verified)\n  %s\n", db, file, info.Size, describeContents(info))
	switch {
	case kept != "" && corrupt:
		fmt.Fprintf(e.stdout, "  the previous database (unreadable) is kept as %s\n", kept)
	case kept != "":
		fmt.Fprintf(e.stdout, "  the previous database is kept as %s\n", kept)
	}
	return nil
}

// copyBeside copies file into a new file in db's directory and syncs it.
func copyBeside(file, db string) (string, error) {
	src, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(db), filepath.Base(db)+".restore-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst.Name())
		return "", err
	}
	return dst.Name(), nil
}

// keepAside gives the current database a second name,
// <db>.before-restore-<UTC time>. A hard link costs nothing and leaves
// the database in place until the rename replaces it; where links are
// not allowed, a copy.
func keepAside(db string) (string, error) {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		kept := db + ".before-restore-" + stamp
		if i > 0 {
			kept += fmt.Sprintf("-%d", i)
		}
		err := os.Link(db, kept)
		if err == nil {
			return kept, nil
		}
		if errors.Is(err, fs.ErrExist) {
			if i < 100 {
				continue
			}
			return "", err
		}
		if _, serr := os.Lstat(kept); serr == nil {
			continue
		}
		tmp, cerr := copyBeside(db, db)
		if cerr != nil {
			return "", fmt.Errorf("%v; copy: %w", err, cerr)
		}
		if err := os.Rename(tmp, kept); err != nil {
			os.Remove(tmp)
			return "", err
		}
		return kept, nil
	}
}

// notTheDatabase refuses a backup or restore whose file is the database.
func notTheDatabase(file, db string) error {
	a, err := os.Stat(file)
	if err != nil {
		return nil
	}
	b, err := os.Stat(db)
	if err != nil {
		return nil
	}
	if os.SameFile(a, b) {
		return fmt.Errorf("%s is the database itself (LIAISON_DB)", file)
	}
	return nil
}

// describeContents counts what a verified database holds.
func describeContents(info *boltstore.Info) string {
	b := info.Buckets
	parts := []string{
		fmt.Sprintf("%d incidents (%d open)", b[incident.BucketIncidents], b[incident.BucketOpen]),
		fmt.Sprintf("%d posts waiting in the outbox", b[outbox.BucketPending]),
		fmt.Sprintf("%d missions", b[directory.BucketMissions]),
		fmt.Sprintf("%d offices", b[directory.BucketOffices]),
	}
	return strings.Join(parts, ", ")
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// answering reports whether a process answers on the control socket: a
// bot runs on the database, and there is no need to wait for its lock.
func answering(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
