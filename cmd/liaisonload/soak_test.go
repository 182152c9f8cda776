package main

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	slackapi "github.com/slack-go/slack"
)

// fakeBot applies the bot's rules for the soak's endpoints (SPEC §6): a
// 64 KiB bound, Slack's signature and 5-minute window, the Mattermost
// token, a readable form, POST only. It counts the requests of each kind
// it saw and serves /metrics. Or, lax, it answers 200 to anything.
type fakeBot struct {
	lax  bool
	mu   sync.Mutex
	seen map[string]int
}

const fakeMMToken = "soaktoken00000000000000001"

func (f *fakeBot) count(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[kind]++
}

func (f *fakeBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		fmt.Fprint(w, "# HELP go_goroutines x\ngo_goroutines 12\ngo_memstats_heap_inuse_bytes 4.194304e+06\ngo_memstats_heap_alloc_bytes 2097152\nprocess_resident_memory_bytes 2.097152e+07\ngo_memstats_next_gc_bytes 1.048576e+07\ngo_gc_gogc_percent 400\nlabelled{a=\"b\"} 1\n")
		return
	}
	if f.lax {
		f.count("any")
		return
	}
	if r.Method != http.MethodPost {
		f.count("method")
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		f.count("large")
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	switch r.URL.Path {
	case "/slack/commands":
		sv, err := slackapi.NewSecretsVerifier(r.Header, "s3cret") // checks the 5-minute window too
		if err == nil {
			sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			f.count("slack refused")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	case "/mattermost/command":
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Token "+fakeMMToken)) != 1 {
			f.count("mattermost refused")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		f.count("malformed")
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	f.count(r.URL.Path + " " + strings.Fields(form.Get("text"))[0])
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"text":"ok"}`)
}

// Every class of the mix is sent and gets the status the bot's rules give
// it; the report has every class, the totals and the memory read from
// /metrics.
func TestSoakMix(t *testing.T) {
	bot := &fakeBot{seen: map[string]int{}}
	srv := httptest.NewServer(bot)
	defer srv.Close()
	var out bytes.Buffer
	err := runSoak([]string{"-url", srv.URL, "-secret", "s3cret", "-mm-token", fakeMMToken, "-rate", "400", "-duration", "250ms", "-warmup", "0", "-sample", "50ms"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	for _, c := range soakClasses(&soakOptions{mmToken: "x"}) {
		line := ""
		for l := range strings.SplitSeq(report, "\n") {
			if strings.HasPrefix(l, fmt.Sprintf("%s (%d)", c.name, c.want)) {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, fmt.Sprintf(" %d:", c.want)) {
			t.Errorf("class %q: report line %q", c.name, line)
		}
	}
	for _, want := range []string{"scheduled 100, sent 100", "errors 0", "go_memstats_heap_inuse_bytes", "4.0 MiB →", "process_resident_memory_bytes", "go_goroutines", "live heap at the last collection ≤ heap goal / (1 + GOGC 400/100) = 2.0 MiB", "heap allocated at each sample, MiB: 2.0 2.0"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	bot.mu.Lock()
	defer bot.mu.Unlock()
	for _, kind := range []string{"method", "large", "slack refused", "mattermost refused", "malformed", "/slack/commands frobnicate", "/slack/commands contact", "/mattermost/command emergency"} {
		if bot.seen[kind] == 0 {
			t.Errorf("the server saw no %q request: %v", kind, bot.seen)
		}
	}
}

// A server that accepts what it should refuse fails the soak, and the
// report says which classes got what.
func TestSoakUnexpectedStatusesFail(t *testing.T) {
	srv := httptest.NewServer(&fakeBot{lax: true, seen: map[string]int{}})
	defer srv.Close()
	var out bytes.Buffer
	err := runSoak([]string{"-url", srv.URL, "-secret", "s3cret", "-rate", "200", "-duration", "200ms", "-warmup", "0"}, &out)
	if err == nil || !strings.Contains(err.Error(), "unexpected status") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	// Without -mm-token, no Mattermost requests; the refused classes show
	// the 200s they got.
	report := out.String()
	if strings.Contains(report, "mattermost") {
		t.Errorf("Mattermost requests without a token:\n%s", report)
	}
	for l := range strings.SplitSeq(report, "\n") {
		if strings.HasPrefix(l, "slack bad signature (401)") && !strings.Contains(l, " 200:") {
			t.Errorf("bad signatures: %q", l)
		}
	}
}

func TestSoakRefusesOtherHosts(t *testing.T) {
	for _, target := range []string{"http://10.0.0.1:8080", "http://example.org", "not a url"} {
		err := runSoak([]string{"-url", target, "-secret", "s", "-duration", "1s"}, io.Discard)
		if err == nil {
			t.Errorf("%s: soak started", target)
		}
	}
	for _, target := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"} {
		if err := loopbackOnly(target); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	got := parseMetrics(strings.NewReader("# TYPE a gauge\na 1.5e+06\nb{x=\"y\"} 3\nc 7\n"), "a", "b", "c", "d")
	if want := []int64{1500000, -1, 7, -1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
