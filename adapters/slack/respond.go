package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"liaisonbot/config"
)

// responseHosts are where a response_url may point. The URL comes inside a
// payload, so a bad one could make the bot send an answer anywhere; the
// payload is signed, but answers go only to Slack's hooks hosts regardless.
type responseHosts struct {
	// extra is the SLACK_API_URL origin (scheme://host:port) when it is
	// not Slack's: tests and proxies answer there.
	extra string
}

// slackHooks are Slack's response_url hosts: the commercial cloud and
// GovSlack.
var slackHooks = []string{"hooks.slack.com", "hooks.slack-gov.com"}

func newResponseHosts(apiURL string) (responseHosts, error) {
	if apiURL == "" || apiURL == config.DefaultSlackAPIURL {
		return responseHosts{}, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return responseHosts{}, fmt.Errorf("slack: SLACK_API_URL %q is not a URL", apiURL)
	}
	return responseHosts{extra: u.Scheme + "://" + u.Host}, nil
}

// check accepts https://hooks.slack.com/… (or GovSlack's), or a URL under
// SLACK_API_URL's origin when that is set.
func (h responseHosts) check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" {
		return errors.New("response_url is not a plain absolute URL")
	}
	if h.extra != "" && u.Scheme+"://"+u.Host == h.extra {
		return nil
	}
	if u.Scheme == "https" && u.Port() == "" {
		for _, host := range slackHooks {
			if strings.EqualFold(u.Host, host) {
				return nil
			}
		}
	}
	return fmt.Errorf("response_url host %q is not Slack's", u.Host)
}

// respond posts a reply to a response_url, retrying on 429. The URL is a
// credential of sorts (anyone holding it may answer in the channel for 30
// minutes), so errors name only its host.
func (a *Adapter) respond(ctx context.Context, responseURL string, rep reply) error {
	if err := a.hooks.check(responseURL); err != nil {
		return err
	}
	host := hostOf(responseURL)
	no := false
	rep.ReplaceOriginal = &no
	body := rep.appendJSON(nil)
	return a.retry(ctx, "response_url", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("response_url %s: %w", host, err)
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := a.http.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL
			}
			return fmt.Errorf("response_url %s: %w", host, err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return &slackapi.RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("response_url %s: %s", host, resp.Status)
		}
		// Slack answers "ok" or {"ok":true}; {"ok":false,"error":…} is a refusal.
		var r struct {
			OK    *bool  `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(answer, &r) == nil && r.OK != nil && !*r.OK {
			return fmt.Errorf("response_url %s: %s", host, r.Error)
		}
		return nil
	})
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}

// retryAfter reads a Retry-After header in seconds; Slack sends no dates.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
