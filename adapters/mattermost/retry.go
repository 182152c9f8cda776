package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// Rate limiting (off by default on a server; 10/s per IP when on): a 429
// carries Retry-After and X-Ratelimit-Reset, both in seconds.
const (
	maxRateLimitAttempts = 6
	defaultRetryAfter    = time.Second
	maxRetryAfter        = time.Minute
)

// call runs one REST request, waiting out 429 answers as the server asks
// and trying again a bounded number of times. Other failures are returned
// at once: whoever called decides (the outbox retries posts, start-up
// retries the whole sequence), so nothing is silently dropped here.
func (a *Adapter) call(ctx context.Context, op string, f func(ctx context.Context) (*model.Response, error)) error {
	for attempt := 1; ; attempt++ {
		resp, err := f(ctx)
		if err == nil {
			return nil
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || attempt == maxRateLimitAttempts {
			return &apiError{op: op, status: statusOf(resp), err: err}
		}
		d := retryAfter(resp.Header)
		a.log.WarnContext(ctx, "mattermost rate limit, waiting", "op", op, "wait", d.String(), "attempt", attempt)
		if a.onLimit != nil {
			a.onLimit(d)
		}
		if err := a.wait(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// apiError is a failed REST call with its HTTP status (0 when the server
// was not reached).
type apiError struct {
	op     string
	status int
	err    error
}

func (e *apiError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %v", e.op, e.err)
	}
	return fmt.Sprintf("%s: HTTP %d: %v", e.op, e.status, e.err)
}

func (e *apiError) Unwrap() error { return e.err }

func statusOf(resp *model.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// retryAfter reads how long the server wants us to wait: Retry-After
// (seconds, or an HTTP date), else X-Ratelimit-Reset (seconds until the
// window resets, not a timestamp), else a second; at most a minute.
func retryAfter(h http.Header) time.Duration {
	d := defaultRetryAfter
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			d = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	} else if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			d = time.Duration(n) * time.Second
		}
	}
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	return min(d, maxRetryAfter)
}
