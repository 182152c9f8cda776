package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/incident"
)

// written is one incident the bot acknowledged, with when the request
// was sent and when its answer came back.
type written struct {
	id         string
	start, end time.Time
}

// incidentOpener opens incidents through serve's signed Slack endpoint.
// Answers later than Slack's 3 seconds would go to response_url: that is
// a loopback server here, and such an incident counts as not acknowledged.
func incidentOpener(t *testing.T, base string) func(summary string) (string, error) {
	late := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(late.Close)
	return func(summary string) (string, error) {
		v, err := url.ParseQuery(slashBody("incident open mission:canada sev:3 " + summary))
		if err != nil {
			return "", err
		}
		v.Set("response_url", late.URL+"/late")
		req := slackRequest(t, base+"/slack/commands", e2eSecret, v.Encode(), "application/x-www-form-urlencoded", 0)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", errors.New(resp.Status + ": " + string(body))
		}
		return incidentIDPattern.FindString(string(body)), nil
	}
}

// incidentsIn reads which of ids a database file holds, and how many
// incidents it holds in all.
func incidentsIn(t *testing.T, path string, ids []string) (present map[string]bool, total int) {
	t.Helper()
	db, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	present = map[string]bool{}
	err = db.View(context.Background(), func(tx store.Tx) error {
		for _, id := range ids {
			_, ok, err := incident.Load(tx, id)
			if err != nil {
				return err
			}
			present[id] = ok
		}
		total, err = tx.Count(incident.BucketIncidents)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return present, total
}

// names lists a directory.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// oneLine asserts a failed run said one line on stderr, naming want.
func oneLine(t *testing.T, what string, r result, want ...string) {
	t.Helper()
	msg := strings.TrimSpace(r.stderr)
	if r.code == 0 || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "liaisonbot: ") {
		t.Fatalf("%s: exit %d, want one line and a non-zero exit, got:\n%s\n%s", what, r.code, r.stderr, r.stdout)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Fatalf("%s: %q does not say %q", what, msg, w)
		}
	}
}

// TestBackupUnderWriteLoadThenRestore backs up a running serve while
// incidents are being opened, restores the copy, and checks it holds every
// incident acknowledged before the backup started and none opened after it
// ended: a consistent point in between.
func TestBackupUnderWriteLoadThenRestore(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte(twoPartners), 0o600); err != nil {
		t.Fatal(err)
	}
	dbDir := t.TempDir()
	db := filepath.Join(dbDir, "liaison.db")
	addr := freeAddr(t)
	base := "http://" + addr
	environ := env(t, "LIAISON_CONFIG="+cfg, "LIAISON_DB="+db, "LIAISON_LISTEN="+addr,
		"LIAISON_LOG_FORMAT=json", "SLACK_SIGNING_SECRET="+e2eSecret)
	bot := mmStartServe(t, environ)
	bot.until(t, "/readyz", func() bool { return mmStatus(base+"/readyz") == http.StatusOK })
	bot.until(t, "the control socket", func() bool { _, err := os.Stat(db + ".sock"); return err == nil })
	if fi, err := os.Stat(db + ".sock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v, mode %v", err, fi.Mode())
	}
	open := incidentOpener(t, base)
	var mu sync.Mutex
	var acks []written
	for i := range 10 {
		start := time.Now()
		id, err := open("before the backup " + string(rune('a'+i)))
		if err != nil || id == "" {
			t.Fatalf("incident open: %q %v", id, err)
		}
		acks = append(acks, written{id, start, time.Now()})
	}

	// Two writers, until the backup is done.
	stop := make(chan struct{})
	first := make(chan struct{}, 2)
	var wg sync.WaitGroup
	var failures []error
	for w := range 2 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				id, err := open("under load " + string(rune('a'+w)))
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else if id != "" {
					acks = append(acks, written{id, start, time.Now()})
				}
				mu.Unlock()
				if n == 0 {
					first <- struct{}{} // also on failure: the test reports it, not hangs
				}
				if err != nil {
					return
				}
			}
		})
	}
	<-first
	<-first
	backupDir := t.TempDir()
	backup := filepath.Join(backupDir, "liaison-backup.db")
	began := time.Now()
	r := run(t, environ, "", "backup", backup)
	ended := time.Now()
	// Some more writes after the backup, which it must not hold.
	mu.Lock()
	n := len(acks)
	mu.Unlock()
	bot.until(t, "writes after the backup", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acks) >= n+4
	})
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("writes failed: %v", failures)
	}
	if r.code != 0 {
		t.Fatalf("backup: exit %d\n%s%s\nserve log:\n%s", r.code, r.stdout, r.stderr, bot.log.String())
	}
	inOrder(t, r.stdout, backup+":", "bytes", "a snapshot from the running liaisonbot (pid", "verified", "incidents", "63 missions")
	if got := names(t, backupDir); !slices.Equal(got, []string{"liaison-backup.db"}) {
		t.Fatalf("backup directory holds %v, want the backup alone", got)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, fi.Mode())
	}
	bot.stop(t)
	if _, err := os.Stat(db + ".sock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("control socket left after shutdown: %v", err)
	}

	var before, overlapped, after, all []string
	for _, a := range acks {
		all = append(all, a.id)
		switch {
		case a.end.Before(began):
			before = append(before, a.id)
		case a.start.After(ended):
			after = append(after, a.id)
		default:
			overlapped = append(overlapped, a.id)
		}
	}
	if len(overlapped) == 0 || len(after) == 0 {
		t.Fatalf("no write overlapped the backup (%d) or followed it (%d): the test did not test", len(overlapped), len(after))
	}
	t.Logf("%d incidents acknowledged before the backup, %d during, %d after", len(before), len(overlapped), len(after))

	// Restore into a new database path.
	fresh := filepath.Join(t.TempDir(), "restored.db")
	freshEnv := env(t, "LIAISON_CONFIG="+cfg, "LIAISON_DB="+fresh)
	r = run(t, freshEnv, "", "restore", backup)
	if r.code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	inOrder(t, r.stdout, fresh+": restored from "+backup, "verified", "incidents")
	if strings.Contains(r.stdout, "kept") {
		t.Errorf("restore into a new path kept a previous database:\n%s", r.stdout)
	}
	present, total := incidentsIn(t, fresh, all)
	for _, id := range before {
		if !present[id] {
			t.Errorf("%s, acknowledged before the backup started, is not in the restored database", id)
		}
	}
	for _, id := range after {
		if present[id] {
			t.Errorf("%s, opened after the backup ended, is in the restored database", id)
		}
	}
	if total < len(before) || total > len(before)+len(overlapped) {
		t.Errorf("restored database holds %d incidents; %d before, %d during the backup", total, len(before), len(overlapped))
	}
	// The binary reads it.
	if r := run(t, freshEnv, "", "incident", "export", before[0]); r.code != 0 || !strings.Contains(r.stdout, "before the backup a") {
		t.Fatalf("incident export on the restored database: %d %s", r.code, r.stderr)
	}

	// Restore over the live database: the one it replaces is kept.
	r = run(t, environ, "", "restore", backup)
	if r.code != 0 {
		t.Fatalf("restore over the database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	kept := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if _, k, ok := strings.Cut(line, "the previous database is kept as "); ok {
			kept = k
		}
	}
	if !strings.HasPrefix(kept, db+".before-restore-") {
		t.Fatalf("no previous database kept:\n%s", r.stdout)
	}
	if got, want := names(t, dbDir), []string{"liaison.db", filepath.Base(kept)}; !slices.Equal(got, want) {
		t.Fatalf("database directory holds %v, want %v", got, want)
	}
	if p, _ := incidentsIn(t, db, after); p[after[0]] {
		t.Errorf("the database still holds %s after the restore", after[0])
	}
	if p, n := incidentsIn(t, kept, all); !p[after[len(after)-1]] || n != len(all) {
		t.Errorf("the kept database lacks what the database held: %d of %d incidents", n, len(all))
	}
}

// TestBackupAndRestoreRefusals: an offline backup, then every file restore
// must refuse, each with one line, the database untouched; and a database
// held by a bot (which answers on its socket) or by another process
// (which does not).
func TestBackupAndRestoreRefusals(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte(twoPartners), 0o600); err != nil {
		t.Fatal(err)
	}
	dbDir := t.TempDir()
	db := filepath.Join(dbDir, "liaison.db")
	environ := env(t, "LIAISON_CONFIG="+cfg, "LIAISON_DB="+db)
	if r := run(t, environ, "incident open mission:canada sev:3 Offline copy test\n", "console"); r.code != 0 {
		t.Fatalf("console: %d %s", r.code, r.stderr)
	}
	files := t.TempDir()
	backup := filepath.Join(files, "good.db")
	r := run(t, environ, "", "backup", backup)
	if r.code != 0 {
		t.Fatalf("offline backup: %d %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, backup+":", "an offline copy (no bot running)", "verified", "1 incidents (1 open)", "63 missions", "31 offices")

	write := func(name string, data []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(files, "foreign.db")
	f, err := boltstore.Open(foreign, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Update(context.Background(), func(tx store.Tx) error { return tx.Put("sessions", "s1", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	f.Close()
	empty := filepath.Join(files, "empty.db")
	e, err := boltstore.Open(empty, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()

	dbSum, dbNames := sum(t, db), names(t, dbDir)
	untouched := func(what string) {
		t.Helper()
		if sum(t, db) != dbSum || !slices.Equal(names(t, dbDir), dbNames) {
			t.Fatalf("%s: the database or its directory changed (%v)", what, names(t, dbDir))
		}
	}
	for _, tt := range []struct {
		name, file string
		says       string
	}{
		{"missing file", filepath.Join(files, "missing.db"), "no such file"},
		{"directory", files, "is a directory"},
		{"random bytes", write("random.db", bytes.Repeat([]byte("\x00\x01liaison"), 4096)), "corrupt"},
		{"truncated backup", write("truncated.db", good[:len(good)/2]), "corrupt"},
		{"another program's bbolt file", foreign, "another program"},
		{"empty bbolt file", empty, "empty"},
		{"the database itself", db, "the database itself"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			oneLine(t, "restore "+tt.name, run(t, environ, "", "restore", tt.file), tt.says, "nothing changed")
			untouched("restore " + tt.name)
		})
	}

	// Backups that cannot be made leave an existing FILE as it was.
	previous := write("previous.db", []byte("yesterday's backup"))
	noDB := env(t, "LIAISON_DB="+filepath.Join(t.TempDir(), "none.db"))
	oneLine(t, "backup without a database", run(t, noDB, "", "backup", previous), "no database at")
	oneLine(t, "backup onto the database", run(t, environ, "", "backup", db), "the database itself")
	oneLine(t, "backup into a directory", run(t, environ, "", "backup", files), "is a directory")
	corrupt := env(t, "LIAISON_DB="+write("corrupt-live.db", bytes.Repeat([]byte("garbage!"), 8192)))
	oneLine(t, "backup of a corrupt database", run(t, corrupt, "", "backup", previous), "corrupt", "not written")
	untouched("failed backups")

	// A console holds the database and answers on its socket: backup
	// goes through it, restore refuses at once.
	console := exec.Command(binary, "console")
	console.Env = environ
	stdin, err := console.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := console.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := console.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "emergency\n")
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "911") {
	}
	r = run(t, environ, "", "backup", previous)
	if r.code != 0 || !strings.Contains(r.stdout, "a snapshot from the running liaisonbot (pid") {
		t.Fatalf("backup from a running console: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	oneLine(t, "restore while a bot runs", run(t, environ, "", "restore", backup), "in use by a running liaisonbot", "stop the bot first", "nothing changed")
	stdin.Close()
	if err := console.Wait(); err != nil {
		t.Fatalf("console: %v", err)
	}
	if _, err := os.Stat(db + ".sock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the console left its socket: %v", err)
	}
	dbSum = sum(t, db)
	if err := os.WriteFile(previous, []byte("yesterday's backup"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Another process (this test) holds the lock and answers on no socket.
	holder, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oneLine(t, "restore while locked", run(t, environ, "", "restore", backup), "in use", "stop the bot first", "nothing changed")
	oneLine(t, "backup while locked", run(t, environ, "", "backup", previous), "in use, and no running liaisonbot answers", "not written")
	holder.Close()
	untouched("locked")
	if got, _ := os.ReadFile(previous); string(got) != "yesterday's backup" {
		t.Fatalf("a failed backup changed the existing file")
	}
	if got := names(t, files); slices.ContainsFunc(got, func(n string) bool { return strings.Contains(n, ".tmp-") }) {
		t.Fatalf("temporary files left: %v", got)
	}

	// A corrupt database is what restores are for: replaced, and kept.
	broken := env(t, "LIAISON_CONFIG="+cfg, "LIAISON_DB="+write("broken.db", bytes.Repeat([]byte("garbage!"), 8192)))
	r = run(t, broken, "", "restore", backup)
	if r.code != 0 || !strings.Contains(r.stdout, "the previous database (unreadable) is kept as") {
		t.Fatalf("restore over a corrupt database: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, broken, "", "incident", "export", fmt.Sprintf("INC-%d-0001", time.Now().UTC().Year())); r.code != 0 || !strings.Contains(r.stdout, "Offline copy test") {
		t.Fatalf("the restored database does not work: %s", r.stderr)
	}
}

// TestBackupAfterACrash: a killed serve leaves its socket behind. backup
// then finds no one answering and copies the file itself (the kernel
// released the lock), and the next serve replaces the socket.
func TestBackupAfterACrash(t *testing.T) {
	db := filepath.Join(t.TempDir(), "liaison.db")
	addr := freeAddr(t)
	environ := env(t, "LIAISON_DB="+db, "LIAISON_LISTEN="+addr, "LIAISON_LOG_FORMAT=json", "SLACK_SIGNING_SECRET="+e2eSecret)
	bot := mmStartServe(t, environ)
	bot.until(t, "the control socket", func() bool { _, err := os.Stat(db + ".sock"); return err == nil })
	if err := bot.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-bot.done
	if _, err := os.Lstat(db + ".sock"); err != nil {
		t.Fatalf("no socket left by the killed process (the test tests nothing): %v", err)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	r := run(t, environ, "", "backup", backup)
	if r.code != 0 || !strings.Contains(r.stdout, "an offline copy (no bot running)") {
		t.Fatalf("backup after a crash: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bot = mmStartServe(t, environ)
	bot.until(t, "/readyz after the crash", func() bool { return mmStatus("http://"+addr+"/readyz") == http.StatusOK })
	r = run(t, environ, "", "backup", backup)
	if r.code != 0 || !strings.Contains(r.stdout, "a snapshot from the running liaisonbot") {
		t.Fatalf("backup from the restarted serve: %d\n%s%s\n%s", r.code, r.stdout, r.stderr, bot.log.String())
	}
	bot.stop(t)
}
