package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

func TestMain(m *testing.M) {
	// The test binary stands in for liaisonload when it re-executes
	// itself as the baseline process.
	if os.Getenv(childEnv) != "" {
		if err := baselineChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun loads a stand-in for the bot that checks every signature the way
// the bot does, then the baseline, in both places it can run.
func TestRun(t *testing.T) {
	var good, bad atomic.Int64
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		sv, err := slackapi.NewSecretsVerifier(r.Header, "s3cret")
		if err == nil {
			sv.Write(body.Bytes())
			err = sv.Ensure()
		}
		if err != nil || !strings.Contains(body.String(), "text=contact+canada") {
			bad.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		good.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"response_type":"ephemeral","text":"Missions matching \"canada\""}`)
	}))
	defer bot.Close()
	for _, proc := range []string{"false", "true"} {
		var out bytes.Buffer
		err := run([]string{"-secret", "s3cret", "-url", bot.URL + "/slack/commands", "-c", "4", "-d", "100ms", "-warmup", "0", "-baseline-process=" + proc}, &out)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"answer 67 bytes", "bot ", "baseline", "ratio", "errors 0"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	}
	if good.Load() == 0 || bad.Load() != 0 {
		t.Fatalf("%d requests verified, %d refused", good.Load(), bad.Load())
	}
}

func TestWrongSecretStopsAtOnce(t *testing.T) {
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	defer bot.Close()
	err := run([]string{"-secret", "x", "-url", bot.URL, "-d", time.Second.String()}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "wrong -secret") {
		t.Fatalf("err = %v", err)
	}
}

func TestPercentile(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.latencies = append(r.latencies, time.Duration(i)*time.Millisecond)
	}
	if r.percentile(50) != 50*time.Millisecond || r.percentile(99) != 99*time.Millisecond || r.percentile(100) != 100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s", r.percentile(50), r.percentile(99))
	}
	if (&result{}).percentile(50) != 0 {
		t.Fatal("empty result")
	}
}
