package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	e2eSecret   = "e2e-signing-secret-0123456789abcdef"
	e2eBotToken = "xoxb-e2e-test-token"
)

// fakeSlackAPI answers the Web API methods the adapter calls at start and
// records every call, so the test can assert that rejected requests caused
// none.
type fakeSlackAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

func newFakeSlackAPI(t *testing.T) *fakeSlackAPI {
	f := &fakeSlackAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.URL.Path)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/auth.test":
			fmt.Fprint(w, `{"ok":true,"team_id":"TDIV","user_id":"UBOT","bot_id":"BBOT"}`)
		default:
			fmt.Fprint(w, `{"ok":true,"channel":"C1","ts":"1700000000.000100"}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlackAPI) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// freeAddr finds a loopback port no one listens on, for LIAISON_LISTEN.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// slackRequest signs body as Slack does, at now+skew.
func slackRequest(t *testing.T, target, secret, body, contentType string, skew time.Duration) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Add(skew).Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitHealthy polls /healthz until it answers or the deadline passes.
func waitHealthy(t *testing.T, base string, exited <-chan struct{}, stderr func() string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(15 * time.Second)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-tick.C:
		case <-exited:
			t.Fatalf("serve exited before it was healthy:\n%s", stderr())
		case <-timeout:
			t.Fatalf("serve not healthy in time:\n%s", stderr())
		}
	}
}

func slashBody(text string) string {
	v := url.Values{}
	for k, val := range map[string]string{
		"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "TDIV", "team_domain": "pld",
		"enterprise_id": "E0001", "enterprise_name": "Globular Construct Inc", "is_enterprise_install": "false",
		"channel_id": "C2147483705", "channel_name": "watch", "user_id": "UAGENT01", "user_name": "alice",
		"command": "/liaison", "text": text, "response_url": "https://hooks.slack.com/commands/TDIV/1/x",
		"trigger_id": "13345224609.738474920.8088930838d88f008e0", "api_app_id": "A123456",
	} {
		v.Set(k, val)
	}
	return v.Encode()
}

// TestServeSlack runs the built binary with a signing secret and talks to it
// as Slack would: a signed command is answered, tampered, stale and
// oversized requests are refused with nothing done, and the Events API's
// url_verification is answered.
func TestServeSlack(t *testing.T) {
	api := newFakeSlackAPI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	environ := env(t,
		"SLACK_SIGNING_SECRET="+e2eSecret,
		"SLACK_BOT_TOKEN="+e2eBotToken,
		"SLACK_API_URL="+api.URL+"/",
		"LIAISON_LISTEN="+addr,
		"LIAISON_LOG_FORMAT=json",
	)
	cmd := exec.Command(binary, "serve")
	cmd.Env = environ
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(p) })
	logs := func() string { mu.Lock(); defer mu.Unlock(); return stderr.String() }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	})
	waitHealthy(t, base, exited, logs)

	form := "application/x-www-form-urlencoded"
	good := slashBody("contact canada")
	code, body := send(t, slackRequest(t, base+"/slack/commands", e2eSecret, good, form, 0))
	if code != 200 {
		t.Fatalf("signed command: %d %s\n%s", code, body, logs())
	}
	var answer struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.ResponseType != "ephemeral" || len(answer.Blocks) == 0 {
		t.Fatalf("answer is not a Block Kit reply: %v\n%s", err, body)
	}
	inOrder(t, answer.Text, "Missions matching", "Embassy of Canada", "501 Pennsylvania Avenue NW", "DSS Washington Field Office",
		"Consulate General of Canada in Chicago", "DSS Chicago Field Office", "(312) 353-6163", "571-345-3146")

	// Refused, and nothing else happens.
	tampered := slackRequest(t, base+"/slack/commands", e2eSecret, good, form, 0)
	tampered.Body = io.NopCloser(strings.NewReader(strings.Replace(good, "canada", "mexico", 1)))
	if code, _ := send(t, tampered); code != 401 {
		t.Errorf("tampered: %d, want 401", code)
	}
	if code, _ := send(t, slackRequest(t, base+"/slack/commands", e2eSecret, slashBody("contact mexico"), form, -6*time.Minute)); code != 401 {
		t.Errorf("stale: %d, want 401", code)
	}
	if code, _ := send(t, slackRequest(t, base+"/slack/commands", "not-the-secret", slashBody("contact mexico"), form, 0)); code != 401 {
		t.Errorf("wrong secret: %d, want 401", code)
	}
	oversized := slashBody("contact mexico") + "&pad=" + strings.Repeat("a", 64<<10)
	if code, _ := send(t, slackRequest(t, base+"/slack/commands", e2eSecret, oversized, form, 0)); code != 413 {
		t.Errorf("oversized: %d, want 413", code)
	}

	challenge := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	if code, body := send(t, slackRequest(t, base+"/slack/events", e2eSecret, challenge, "application/json", 0)); code != 200 || body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", code, body)
	}
	if code, _ := send(t, slackRequest(t, base+"/slack/events", e2eSecret, challenge, "application/json", 6*time.Minute)); code != 401 {
		t.Errorf("url_verification from the future: %d, want 401", code)
	}

	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("readyz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Stop it as an init system would, then read the audit: the one good
	// command, nothing from the refused ones.
	cmd.Process.Signal(syscall.SIGTERM)
	<-exited
	stopped = true
	if waitErr != nil {
		t.Fatalf("serve exited with %v:\n%s", waitErr, logs())
	}
	r := run(t, environ, "", "audit", "export")
	if r.code != 0 {
		t.Fatalf("audit export: %d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"command":"contact"`) || !strings.Contains(lines[0], `"platform":"slack"`) || !strings.Contains(lines[0], `"role":"agent"`) {
		t.Fatalf("audit after one good and five refused requests:\n%s", r.stdout)
	}
	for _, path := range api.seen() {
		if path != "/auth.test" {
			t.Errorf("unexpected call to the Slack API: %s", path)
		}
	}
	for _, secret := range []string{e2eSecret, e2eBotToken} {
		if strings.Contains(logs(), secret) {
			t.Errorf("a secret appears in the log")
		}
	}
	if !strings.Contains(logs(), `"reason":"bad signature"`) || !strings.Contains(logs(), `"reason":"timestamp more than 5 minutes off"`) {
		t.Errorf("refusals not logged with their reason:\n%s", logs())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
