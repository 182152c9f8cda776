package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

// slackGoVerify is slack-go's own check, the oracle for ours.
func slackGoVerify(h http.Header, secret string, body []byte) error {
	sv, err := slackapi.NewSecretsVerifier(h, secret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// FuzzSignaturesMatchSlackGo holds the pooled verifier equal to slack-go's
// SecretsVerifier: the same requests pass, and a refusal is named the same
// way (verifyReason) by both.
func FuzzSignaturesMatchSlackGo(f *testing.F) {
	f.Add("S3CR3T", "body=1", int64(0), true, "", "")
	f.Add("S3CR3T", "body=1", int64(-301), true, "", "")
	f.Add("S3CR3T", "body=1", int64(10), false, "v0=abcd", "")
	f.Add("S3CR3T", "", int64(0), false, "v0="+string(make([]byte, 64)), "nan")
	f.Add("k", "x", int64(0), false, "V0=00", "1")
	f.Fuzz(func(t *testing.T, secret, body string, skew int64, signIt bool, sig, stamp string) {
		if secret == "" {
			return // the adapter never verifies without a secret
		}
		if skew > 1e6 || skew < -1e6 || (abs(abs(skew)-300) < 3) {
			return // stay clear of the window's edge: the two read the clock apart
		}
		ts := time.Now().Unix() + skew
		if stamp == "" {
			stamp = strconv.FormatInt(ts, 10)
		}
		if signIt {
			mac := hmac.New(sha256.New, []byte(secret))
			fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
			sig = "v0=" + hex.EncodeToString(mac.Sum(nil))
		}
		h := http.Header{}
		if sig != "" {
			h.Set("X-Slack-Signature", sig)
		}
		h.Set("X-Slack-Request-Timestamp", stamp)
		s := newSignatures(secret)
		for range 2 { // the second time with a pooled, reset HMAC
			ours, theirs := s.verify(h, []byte(body), time.Now()), slackGoVerify(h, secret, []byte(body))
			if (ours == nil) != (theirs == nil) || (ours != nil && verifyReason(ours) != verifyReason(theirs)) {
				t.Fatalf("sig %q stamp %q: ours %v, slack-go %v", sig, stamp, ours, theirs)
			}
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// A valid request passes and a tampered one fails, many times over one
// pool, from several goroutines: a reused HMAC carries nothing over.
func TestSignaturesPooledConcurrently(t *testing.T) {
	s := newSignatures("secret")
	now := time.Now()
	sign := func(body string) http.Header {
		mac := hmac.New(sha256.New, []byte("secret"))
		fmt.Fprintf(mac, "v0:%d:%s", now.Unix(), body)
		h := http.Header{}
		h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
		return h
	}
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 200 {
				body := fmt.Sprintf("text=%d-%d", g, i)
				h := sign(body)
				if err := s.verify(h, []byte(body), now); err != nil {
					done <- fmt.Errorf("valid %q refused: %v", body, err)
					return
				}
				if err := s.verify(h, []byte(body+"x"), now); err != slackapi.ErrInvalidSignature {
					done <- fmt.Errorf("tampered %q: %v", body, err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
