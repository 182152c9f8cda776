package slack

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot/audit"
)

// TestSignMatchesSlackVector checks the tests' signer against the vector in
// slack-go's own tests, so "signed" below means what Slack means.
func TestSignMatchesSlackVector(t *testing.T) {
	body := `{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`
	got := sign("e6b19c573432dcc6b075501d51b51bb8", 1531431954, []byte(body))
	if want := "v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c"; got != want {
		t.Fatalf("sign = %s, want %s", got, want)
	}
}

// TestVerification sends each kind of bad request to each endpoint and
// checks that it is refused with nothing else happening: no command run,
// nothing audited, no event recorded or dispatched, no answer posted.
func TestVerification(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	form := slashForm("contact canada", h.slack.hookURL(), nil)
	event := []byte(messageEnvelope("EvVERIFY01", "C2147483705", agentID, homeTeam, "hello", "1700000100.000100", "", false))
	button := interactionForm(t, "contact emb-dc-canada", h.slack.hookURL(), agentID, homeTeam, "C2147483705")
	oversized := append(bytes.Repeat([]byte("a"), MaxBody), 'b')

	type mutate func(r *http.Request)
	tests := []struct {
		name   string
		body   []byte
		secret string
		skew   time.Duration
		mutate mutate
		want   int
	}{
		{name: "tampered body", want: 401, mutate: func(r *http.Request) {
			// One byte changed after signing, the length kept.
			b, _ := io.ReadAll(r.Body)
			b[len(b)/2] ^= 0x01
			r.Body = io.NopCloser(bytes.NewReader(b))
		}},
		{name: "wrong secret", secret: "not-the-secret", want: 401},
		{name: "missing headers", want: 401, mutate: func(r *http.Request) {
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
		}},
		{name: "missing signature", want: 401, mutate: func(r *http.Request) { r.Header.Del("X-Slack-Signature") }},
		{name: "garbage signature", want: 401, mutate: func(r *http.Request) { r.Header.Set("X-Slack-Signature", "v0=zz") }},
		{name: "no v0 prefix", want: 401, mutate: func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		}},
		{name: "timestamp not a number", want: 401, mutate: func(r *http.Request) { r.Header.Set("X-Slack-Request-Timestamp", "soon") }},
		{name: "stale by 6 minutes", skew: -6 * time.Minute, want: 401},
		{name: "6 minutes in the future", skew: 6 * time.Minute, want: 401},
		{name: "oversized by one byte", body: oversized, want: 413},
		{name: "oversized without a length", body: oversized, want: 413, mutate: func(r *http.Request) { r.ContentLength = -1 }},
	}
	for _, path := range []struct {
		path, ctype string
		body        []byte
	}{
		{"/slack/commands", "application/x-www-form-urlencoded", form},
		{"/slack/events", "application/json", event},
		{"/slack/interactions", "application/x-www-form-urlencoded", button},
	} {
		for _, tt := range tests {
			t.Run(path.path+"/"+tt.name, func(t *testing.T) {
				body := path.body
				if tt.body != nil {
					body = tt.body
				}
				secret := testSecret
				if tt.secret != "" {
					secret = tt.secret
				}
				req := signed(t, h.srv.URL+path.path, secret, body, path.ctype, tt.skew)
				if tt.mutate != nil {
					tt.mutate(req)
				}
				if code, _ := do(t, req); code != tt.want {
					t.Fatalf("status %d, want %d", code, tt.want)
				}
			})
		}
	}
	if n := h.count(t, audit.Bucket); n != 0 {
		t.Errorf("%d commands audited after rejected requests, want 0", n)
	}
	if n := h.count(t, EventsBucket); n != 0 {
		t.Errorf("%d events recorded after rejected requests, want 0", n)
	}

	// The same bodies, signed properly, do go through: the table tested
	// the signature, not a broken payload.
	if code, body := h.send(t, "/slack/commands", form, "application/x-www-form-urlencoded"); code != 200 || !strings.Contains(body, "Embassy of Canada") {
		t.Fatalf("good command: %d %s", code, body)
	}
	if code, _ := h.send(t, "/slack/events", event, "application/json"); code != 200 {
		t.Fatalf("good event: %d", code)
	}
	if e := h.nextEvent(t); e.MessageID != "1700000100.000100" {
		t.Fatalf("good event dispatched as %+v", e)
	}
	select {
	case c := <-h.slack.calls:
		t.Fatalf("a rejected request led to a call to Slack: %+v", c)
	default:
	}
	if n := h.count(t, audit.Bucket); n != 1 {
		t.Errorf("%d commands audited, want exactly the good one", n)
	}
}

func TestBodyAtLimitIsRead(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A body of exactly MaxBody is within the limit: it is verified and
	// parsed (here as a command whose text is padded to the limit).
	form := slashForm("emergency", h.slack.hookURL(), nil)
	pad := MaxBody - len(form) - len("&x=")
	body := append(form, []byte("&x="+strings.Repeat("a", pad))...)
	if len(body) != MaxBody {
		t.Fatalf("test body is %d bytes", len(body))
	}
	if code, answer := h.send(t, "/slack/commands", body, "application/x-www-form-urlencoded"); code != 200 || !strings.Contains(answer, "911") {
		t.Fatalf("status %d: %.200s", code, answer)
	}
}

func TestMethodsOtherThanPostAreRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	resp, err := http.Get(h.srv.URL + "/slack/commands")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /slack/commands: %d", resp.StatusCode)
	}
}

// A body shorter than its Content-Length (the client gave up half way) is
// refused as unreadable once the connection ends: no command runs.
func TestBodyShorterThanItsLength(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	form := slashForm("contact canada", h.slack.hookURL(), nil)
	signedReq := signed(t, h.srv.URL+"/slack/commands", testSecret, form, "application/x-www-form-urlencoded", 0)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "POST /slack/commands HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", len(form)+100)
	for _, k := range []string{"X-Slack-Request-Timestamp", "X-Slack-Signature"} {
		fmt.Fprintf(&raw, "%s: %s\r\n", k, signedReq.Header.Get(k))
	}
	raw.WriteString("\r\n")
	raw.Write(form)
	if _, err := conn.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if n := h.count(t, audit.Bucket); n != 0 {
		t.Fatalf("%d commands audited after a cut-short body", n)
	}
}
