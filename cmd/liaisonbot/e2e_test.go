package main_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"liaisonbot/internal/etcdtest"
)

// binary is the liaisonbot built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse() // etcdtest.StartShared looks at -test.bench
	dir, err := os.MkdirTemp("", "liaisonbot-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "liaisonbot")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build liaisonbot: " + err.Error())
	}
	stopEtcd := etcdtest.StartShared()
	code := m.Run()
	stopEtcd()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// env is a clean environment: no platform credentials leak in from the
// machine running the tests, and the database lives in the test's temp dir.
func env(t *testing.T, extra ...string) []string {
	t.Helper()
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"USER=tester",
		"LIAISON_DB=" + filepath.Join(t.TempDir(), "liaison.db"),
	}, extra...)
}

func run(t *testing.T, environ []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// inOrder asserts that each want appears in s after the previous one.
func inOrder(t *testing.T, s string, wants ...string) {
	t.Helper()
	rest := s
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing %q (in order) in output:\n%s", w, s)
		}
		rest = rest[i+len(w):]
	}
}

func TestScriptedConsole(t *testing.T) {
	script := strings.Join([]string{
		"contact canada",
		"contact cnada",
		"office Miami",
		"office 29.76,-95.37",
		"emergency",
		"help",
		"frobnicate",
		"/liaison contact cote d'ivoire",
		"office TX",
	}, "\n") + "\n"
	r := run(t, env(t), script, "console")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	inOrder(t, r.stdout,
		// contact canada: both missions, their field offices, the 24-hour line
		"Missions matching \"canada\"", "Embassy of Canada", "501 Pennsylvania Avenue NW", "DSS Washington Field Office", "not on file: call the 24-hour command center, 571-345-3146",
		"Consulate General of Canada in Chicago", "DSS Chicago Field Office", "(312) 353-6163",
		// contact cnada: typo tolerated
		"Missions matching \"cnada\"", "Embassy of Canada",
		// office Miami
		"DSS offices for Miami, FL", "DSS Miami Field Office",
		// office by coordinates
		"DSS offices for 29.76,-95.37", "DSS Houston Field Office",
		// emergency
		"Call 911 first", "571-345-3146", "866-217-2089", "202-895-3600",
		// help lists every subcommand
		"/liaison commands", "/liaison contact <query>", "/liaison emergency", "/liaison help [subcommand]", "/liaison office <query>",
		// unknown command: clear error, and the next line is still answered
		"Error: Unknown command \"frobnicate\".", "Embassy of the Republic of Côte d'Ivoire",
		"DSS offices for Texas", "DSS Houston Field Office",
	)
	if strings.Contains(r.stdout, "panic") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("panic in output:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestPartnerSeesNoContacts(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(cfg, []byte("partners:\n  - id: mpd\n    name: Metropolitan Police Department\n    oncall: \"@mpd-watch\"\n    channels: [\"console:mpd\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, env(t, "LIAISON_CONFIG="+cfg), "contact canada\nemergency\nhelp\n", "console", "--channel", "mpd")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "not allowed", "(your role: partner:mpd)", "Call 911 first")
	if strings.Contains(r.stdout, "Embassy of Canada") || strings.Contains(r.stdout, "/liaison contact") {
		t.Fatalf("partner saw mission contacts or the contact command:\n%s", r.stdout)
	}
}

func TestSecondProcessFailsFast(t *testing.T) {
	environ := env(t)
	first := exec.Command(binary, "console")
	first.Env = environ
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); first.Wait() }()
	// Once the first process has answered, it holds the database.
	io.WriteString(stdin, "emergency\n")
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "911") {
	}
	r := run(t, environ, "", "directory", "export")
	if r.code == 0 {
		t.Fatalf("second process succeeded on a locked database")
	}
	msg := strings.TrimSpace(r.stderr)
	if !strings.Contains(msg, "in use") || strings.Count(msg, "\n") != 0 {
		t.Fatalf("want one line saying the database is in use, got %q", msg)
	}
}

func TestBrokenImportChangesNothing(t *testing.T) {
	environ := env(t)
	before := run(t, environ, "", "directory", "export")
	if before.code != 0 || !strings.Contains(before.stdout, "emb-dc-canada") {
		t.Fatalf("export: %d %s", before.code, before.stderr)
	}
	broken := filepath.Join(t.TempDir(), "missions.csv")
	data := "id,country,kind,name,city,state,address,lat,lon\n" +
		"emb-dc-canada,Canada,embassy,Embassy of Canada (changed),Washington,DC,501 Pennsylvania Avenue NW,38.89,-77.01\n" +
		"emb-dc-atlantis,Atlantis,embassy,Embassy of Atlantis,Washington,DC,1 Sea Road,north,-77.0\n"
	if err := os.WriteFile(broken, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, environ, "", "directory", "import", broken)
	if r.code == 0 {
		t.Fatalf("broken import succeeded: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "missions.csv:3") || !strings.Contains(r.stderr, "lat") {
		t.Fatalf("error does not name file, line and field: %q", r.stderr)
	}
	after := run(t, environ, "", "directory", "export")
	if after.stdout != before.stdout {
		t.Fatalf("export changed after a failed import")
	}
}

func TestImportContactsThenLookup(t *testing.T) {
	environ := env(t)
	contacts, err := filepath.Abs(filepath.Join("..", "..", "commands", "directory", "dirdata", "testdata", "contacts-fictional.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, environ, "", "directory", "import", contacts)
	if r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	inOrder(t, r.stdout, "contacts", "added")
	r = run(t, environ, "contact embassy of canada\n", "console")
	inOrder(t, r.stdout, "Embassy of Canada", "Jordan Avery, Regional Security Liaison (FICTIONAL SAMPLE): 202-555-0101, j.avery@example.org")
	// Exported CSV re-imports unchanged.
	out := t.TempDir()
	if r := run(t, environ, "", "directory", "export", "--format", "csv", "--out", out); r.code != 0 {
		t.Fatalf("export csv: %s", r.stderr)
	}
	for _, kind := range []string{"offices", "missions", "contacts", "headquarters"} {
		r := run(t, environ, "", "directory", "import", filepath.Join(out, kind+".csv"))
		if r.code != 0 || !strings.Contains(r.stdout, " 0 added, 0 updated") {
			t.Fatalf("re-import %s: %d\n%s%s", kind, r.code, r.stdout, r.stderr)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("teams:\n  - id: watch\n    timezone: Mars/Olympus\n    shift_changes: [\"0 7 * *\"]\n    channels: [\"console:watch\"]\nlisten: nowhere\n"), 0o600)
	r := run(t, env(t), "", "--config", bad, "config", "check")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	inOrder(t, r.stdout, "problem(s)")
	for _, key := range []string{"teams[0].timezone", "teams[0].shift_changes[0]", "listen"} {
		if !strings.Contains(r.stdout, key) {
			t.Errorf("config check does not name %s:\n%s", key, r.stdout)
		}
	}
	// A bad configuration stops every start, with the key named.
	r = run(t, env(t), "help\n", "--config", bad, "console")
	if r.code != 2 || !strings.Contains(r.stderr, "teams[0].timezone") {
		t.Fatalf("console with bad config: %d %q", r.code, r.stderr)
	}
	good := run(t, env(t, "SLACK_SIGNING_SECRET=s3cret-value", "SLACK_BOT_TOKEN=xoxb-t0ken-value"), "", "config", "check")
	if good.code != 0 || strings.Contains(good.stdout, "s3cret-value") || strings.Contains(good.stdout, "t0ken-value") {
		t.Fatalf("config check: exit %d or a secret shown:\n%s%s", good.code, good.stdout, good.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := run(t, env(t), "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "liaisonbot ") || !strings.Contains(r.stdout, "commit") {
		t.Fatalf("version: %q", r.stdout)
	}
}

func TestHealthcheck(t *testing.T) {
	addr := freeAddr(t)
	environ := env(t, "LIAISON_LISTEN="+addr)
	if r := run(t, environ, "", "healthcheck"); r.code == 0 || !strings.Contains(r.stderr, "healthcheck") {
		t.Fatalf("healthcheck with nothing listening: exit %d, %q", r.code, r.stderr)
	}
	serve := exec.Command(binary, "serve")
	serve.Env = environ
	var logs bytes.Buffer
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { serve.Wait(); close(exited) }()
	defer func() { serve.Process.Signal(os.Interrupt); <-exited }()
	waitHealthy(t, "http://"+addr, exited, logs.String)
	if r := run(t, environ, "", "healthcheck"); r.code != 0 || strings.TrimSpace(r.stdout) != "ok" {
		t.Fatalf("healthcheck: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, environ, "", "healthcheck", "--path", "/readyz"); r.code != 0 || !strings.Contains(r.stdout, "ready") {
		t.Fatalf("healthcheck /readyz: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
