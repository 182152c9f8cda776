package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// newClient keeps one connection per worker alive, so the measurement is of
// answering, not of connecting.
func newClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// slashForm is a slash command as Slack posts it.
func slashForm(text string) string {
	v := url.Values{}
	v.Set("token", "load-test")
	v.Set("team_id", "TLOAD0001")
	v.Set("team_domain", "load")
	v.Set("channel_id", "CLOAD0001")
	v.Set("channel_name", "load")
	v.Set("user_id", "ULOAD0001")
	v.Set("user_name", "load")
	v.Set("command", "/liaison")
	v.Set("text", text)
	// A loopback address nothing answers on: should a command ever be
	// answered late, the bot refuses it as not Slack's, and nothing leaves
	// the machine.
	v.Set("response_url", "http://127.0.0.1:9/hooks/commands/TLOAD0001/1/load")
	v.Set("trigger_id", "1.2.load")
	v.Set("api_app_id", "ALOAD0001")
	return v.Encode()
}

// signedRequest signs body now, as Slack does for each request.
func signedRequest(ctx context.Context, target, secret, body string) (*http.Request, error) {
	return slackSigned(ctx, target, secret, body, time.Now())
}

// probe sends one request and returns the answer, which must be a 200.
func probe(ctx context.Context, c *http.Client, target, secret, body string) ([]byte, string, error) {
	req, err := signedRequest(ctx, target, secret, body)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("answered %s: %.200s (wrong -secret?)", resp.Status, answer)
	}
	return answer, resp.Header.Get("Content-Type"), nil
}

// result is one target's measurement.
type result struct {
	n, errors int
	elapsed   time.Duration
	latencies []time.Duration // sorted
	firstErr  error
}

func (r *result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

// percentile is the nearest-rank percentile of the successful requests.
func (r *result) percentile(p float64) time.Duration { return percentile(r.latencies, p) }

// measure loads target with o.concurrency workers: o.warmup unmeasured,
// then o.duration measured. Requests are counted by when they complete.
func measure(ctx context.Context, c *http.Client, o options, target, body string) *result {
	if o.warmup > 0 {
		wctx, cancel := context.WithTimeout(ctx, o.warmup)
		load(wctx, c, o, target, body)
		cancel()
	}
	mctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	start := time.Now()
	r := load(mctx, c, o, target, body)
	r.elapsed = time.Since(start)
	return r
}

func load(ctx context.Context, c *http.Client, o options, target, body string) *result {
	var mu sync.Mutex
	total := &result{}
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			var lat []time.Duration
			errs := 0
			var firstErr error
			for ctx.Err() == nil {
				// The request's own context is not ctx: a request in flight
				// when the time is up finishes and counts.
				req, err := signedRequest(context.WithoutCancel(ctx), target, o.secret, body)
				if err != nil {
					errs++
					firstErr = err
					break
				}
				t0 := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			total.latencies = append(total.latencies, lat...)
			total.errors += errs
			if total.firstErr == nil {
				total.firstErr = firstErr
			}
		})
	}
	wg.Wait()
	total.n = len(total.latencies)
	slices.Sort(total.latencies)
	return total
}
