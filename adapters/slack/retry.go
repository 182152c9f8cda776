package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"
)

// maxAttempts bounds the tries of one call that keeps getting 429. After
// that the error goes back to the caller (the outbox keeps the post), so
// nothing is dropped and nothing waits forever.
const maxAttempts = 5

// defaultRetryAfter is the wait after a 429 that did not say how long.
const defaultRetryAfter = time.Second

// retry runs fn, and again after Slack's Retry-After while it is rate
// limited. Only 429 is retried: a 429 means Slack did not act on the call,
// whereas a timeout or reset may come after Slack posted the message.
func (a *Adapter) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		wait, limited := rateLimited(err)
		if !limited {
			return err
		}
		if attempt >= maxAttempts {
			return fmt.Errorf("%s: still rate limited after %d attempts: %w", what, attempt, err)
		}
		a.log.WarnContext(ctx, "rate limited by slack", "method", what, "retry_after", wait.String(), "attempt", attempt)
		if a.onLimit != nil {
			a.onLimit(wait)
		}
		if werr := a.wait(ctx, wait); werr != nil {
			return fmt.Errorf("%s: %w while waiting out a rate limit (%v)", what, werr, err)
		}
	}
}

// rateLimited reports whether err is a 429 and how long Slack asked to wait.
func rateLimited(err error) (time.Duration, bool) {
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		if rl.RetryAfter <= 0 {
			return defaultRetryAfter, true
		}
		return rl.RetryAfter, true
	}
	// slack-go reports a 429 without Retry-After as a status error.
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return defaultRetryAfter, true
	}
	return 0, false
}
