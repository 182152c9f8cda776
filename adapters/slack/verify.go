package slack

import (
	"errors"
	"io"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"
)

// MaxBody is the largest request body accepted. Slash commands, events and
// button payloads are a few kilobytes; anything near this is not Slack.
const MaxBody = 64 << 10

// verified reads the whole body, at most MaxBody bytes, and checks Slack's
// signature over it (v0=HMAC-SHA256 of "v0:<timestamp>:<body>", timestamp
// within 5 minutes either way). On failure it has already answered 413 or
// 401 and returns false: the caller does nothing else. Nothing parses the
// body before this returns true.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > MaxBody {
		a.reject(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	body, err := readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.reject(w, r, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			a.reject(w, r, http.StatusBadRequest, "unreadable body")
		}
		return nil, false
	}
	// The timestamp is checked against the wall clock, as slack-go's
	// verifier does; tests sign with the current time.
	if err := a.signatures.verify(r.Header, body, time.Now()); err != nil {
		a.reject(w, r, http.StatusUnauthorized, verifyReason(err))
		return nil, false
	}
	return body, true
}

// readBody reads at most MaxBody bytes of the body: into one buffer of the
// announced length when there is one (Slack always sends it), else growing.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= MaxBody {
		// net/http ends the body at Content-Length, so it needs no other
		// limit: a shorter one is an error here, a longer one is the next
		// request's problem.
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

// verifyReason names a verification failure for the log, never echoing what
// was sent.
func verifyReason(err error) string {
	switch {
	case errors.Is(err, slackapi.ErrMissingHeaders):
		return "missing signature headers"
	case errors.Is(err, slackapi.ErrExpiredTimestamp):
		return "timestamp more than 5 minutes off"
	case errors.Is(err, slackapi.ErrInvalidSignature):
		return "bad signature"
	default:
		return "malformed signature headers"
	}
}

func (a *Adapter) reject(w http.ResponseWriter, r *http.Request, status int, reason string) {
	a.log.Warn("slack request rejected", "path", r.URL.Path, "status", status, "reason", reason, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status)+"\n")
}
