package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The soak mode: `liaisonload soak` drives a running `liaisonbot serve` at a
// fixed rate (open loop: requests leave on schedule whether or not earlier
// ones were answered, so a slow server meets more load, not less) for a
// bounded time, with valid and invalid requests mixed, and reports per
// class the statuses, any that were not the one the class must get, the
// latency (from when each request was due, so queueing counts), and how
// the server's memory moved from the start of the measurement to its end.

// soakOptions configure a soak.
type soakOptions struct {
	base        string // http://127.0.0.1:PORT
	secret      string // Slack signing secret
	mmToken     string // Mattermost command token; empty: no Mattermost requests
	rate        int    // requests per second
	duration    time.Duration
	warmup      time.Duration
	sample      time.Duration // memory sampling interval
	pid         int           // the server's pid, for VmRSS; 0: /metrics only
	maxInFlight int
	seed        uint64
}

// soakClass is one kind of request and the status it must get.
type soakClass struct {
	name   string
	weight int // requests of this class in a cycle of the mix
	want   int
	build  func(ctx context.Context, o *soakOptions, i int) (*http.Request, error)
}

// soakTexts are the valid commands, taken in turn.
var soakTexts = []string{"contact canada", "office Miami", "emergency", "contact japan", "office TX", "help"}

// soakMaxBody is above the bound both adapters put on a body (64 KiB).
const soakMaxBody = 80 << 10

// slackSigned is a Slack request signed with secret as if sent at ts.
func slackSigned(ctx context.Context, target, secret, body string, ts time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	sec := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = io.WriteString(mac, "v0:"+sec+":")
	_, _ = io.WriteString(mac, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", sec)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req, nil
}

// mmForm is a Mattermost slash command as the server sends it.
func mmForm(token, text string) string {
	v := url.Values{}
	v.Set("token", token)
	v.Set("team_id", "soakteam000000000000000001")
	v.Set("team_domain", "soak")
	v.Set("channel_id", "soakchannel000000000000001")
	v.Set("channel_name", "soak")
	v.Set("user_id", "soakuser000000000000000001")
	v.Set("user_name", "soak")
	v.Set("command", "/liaison")
	v.Set("text", text)
	v.Set("trigger_id", "soaktrigger")
	v.Set("response_url", "http://127.0.0.1:9/hooks/commands/soak")
	return v.Encode()
}

func mmRequest(ctx context.Context, target, token, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+token)
	return req, nil
}

// soakClasses is the mix: mostly valid commands, and every way a request
// should be refused, each with the status SPEC §6 and the adapters give it.
func soakClasses(o *soakOptions) []soakClass {
	slack := o.base + "/slack/commands"
	classes := []soakClass{
		{"slack valid", 8, http.StatusOK, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret, slashForm(soakTexts[i%len(soakTexts)]), time.Now())
		}},
		{"slack unknown command", 1, http.StatusOK, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret, slashForm("frobnicate "+strconv.Itoa(i)), time.Now())
		}},
		{"slack bad signature", 2, http.StatusUnauthorized, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret+"-wrong", slashForm("contact canada"), time.Now())
		}},
		{"slack stale timestamp", 2, http.StatusUnauthorized, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret, slashForm("contact canada"), time.Now().Add(-10*time.Minute))
		}},
		{"slack oversized body", 1, http.StatusRequestEntityTooLarge, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret, slashForm("contact "+strings.Repeat("x", soakMaxBody)), time.Now())
		}},
		{"slack malformed form", 1, http.StatusBadRequest, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return slackSigned(ctx, slack, o.secret, "command=%2Fliaison&text=%zz&user_id=%", time.Now())
		}},
		{"slack wrong method", 1, http.StatusMethodNotAllowed, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, slack, nil)
		}},
	}
	if o.mmToken == "" {
		return classes
	}
	mm := o.base + "/mattermost/command"
	return append(classes,
		soakClass{"mattermost valid", 3, http.StatusOK, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return mmRequest(ctx, mm, o.mmToken, mmForm(o.mmToken, []string{"emergency", "help"}[i%2]))
		}},
		soakClass{"mattermost bad token", 1, http.StatusUnauthorized, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			bad := strings.Repeat("z", len(o.mmToken))
			return mmRequest(ctx, mm, bad, mmForm(bad, "emergency"))
		}},
		soakClass{"mattermost malformed", 1, http.StatusBadRequest, func(ctx context.Context, o *soakOptions, i int) (*http.Request, error) {
			return mmRequest(ctx, mm, o.mmToken, "token="+o.mmToken+"&text=%zz")
		}},
	)
}

// soakSchedule is the order of classes in one cycle: each class weight
// times, shuffled with the seed so that the kinds interleave.
func soakSchedule(classes []soakClass, seed uint64) []int {
	var cycle []int
	for i, c := range classes {
		for range c.weight {
			cycle = append(cycle, i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	rng.Shuffle(len(cycle), func(i, j int) { cycle[i], cycle[j] = cycle[j], cycle[i] })
	return cycle
}

// classStats is what one class got.
type classStats struct {
	sent       int
	statuses   map[int]int
	unexpected int // a status other than want
	failed     int // no answer: a transport error or the client's timeout
	firstError string
	latencies  []time.Duration
}

// soakMetrics are read from the server's /metrics at each sample. The heap
// goal (next_gc) is the live heap at the last collection times 1+GOGC/100:
// unlike the heap in use, which saws up and down between collections, it
// grows only when what survives a collection does.
var soakMetrics = []string{
	"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes",
	"go_memstats_next_gc_bytes", "go_goroutines", "go_gc_duration_seconds_count", "go_gc_gogc_percent",
}

// memSample is the server's memory at one moment.
type memSample struct {
	at      time.Duration // since the measurement began
	rss     int64         // VmRSS, bytes; -1 unknown
	metrics []int64       // soakMetrics, in order; -1 unknown
}

func (m memSample) metric(name string) int64 {
	if i := slices.Index(soakMetrics, name); i >= 0 && i < len(m.metrics) {
		return m.metrics[i]
	}
	return -1
}

// soakReport is a whole soak.
type soakReport struct {
	classes   []soakClass
	stats     []*classStats
	scheduled int
	overload  int // requests not sent: maxInFlight were still waiting
	elapsed   time.Duration
	maxFlight int64
	memory    []memSample
}

func (r *soakReport) errors() int {
	n := r.overload
	for _, s := range r.stats {
		n += s.unexpected + s.failed
	}
	return n
}

// runSoak parses the soak's flags, soaks and prints the report; it fails
// when any request got an unexpected status or no answer.
func runSoak(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("liaisonload soak", flag.ContinueOnError)
	var o soakOptions
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "the bot's base URL (loopback)")
	fs.StringVar(&o.secret, "secret", os.Getenv("SLACK_SIGNING_SECRET"), "Slack signing secret the bot verifies with (default $SLACK_SIGNING_SECRET)")
	fs.StringVar(&o.mmToken, "mm-token", os.Getenv("MATTERMOST_COMMAND_TOKEN"), "Mattermost command token, to mix in Mattermost requests (default $MATTERMOST_COMMAND_TOKEN; empty: Slack only)")
	fs.IntVar(&o.rate, "rate", 200, "requests per second, open loop")
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long to measure (at most 1h)")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "load at the same rate before the measurement, not counted")
	fs.DurationVar(&o.sample, "sample", 5*time.Second, "how often to sample the server's memory")
	fs.IntVar(&o.pid, "pid", 0, "the server's process id, to read its VmRSS from /proc (default: /metrics only)")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 1000, "requests waiting for an answer at most; one due beyond it is counted as an error, not sent")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the order of the mix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.secret == "":
		return errors.New("soak: -secret (or SLACK_SIGNING_SECRET) is required")
	case o.rate < 1 || o.rate > 20000:
		return errors.New("soak: -rate must be between 1 and 20000")
	case o.duration <= 0 || o.duration > time.Hour || o.warmup < 0 || o.warmup > 10*time.Minute:
		return errors.New("soak: -duration must be positive and at most 1h, -warmup at most 10m")
	case o.maxInFlight < 1:
		return errors.New("soak: -max-in-flight must be at least 1")
	}
	if err := loopbackOnly(o.base); err != nil {
		return err
	}
	r, err := soak(context.Background(), &o, out)
	if err != nil {
		return err
	}
	r.print(out, &o)
	if n := r.errors(); n > 0 {
		return fmt.Errorf("soak: %d request(s) got an unexpected status or no answer", n)
	}
	return nil
}

// loopbackOnly refuses a target that is not on this machine: a soak is
// traffic no other host should get.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("soak: -url %q is not a URL", base)
	}
	switch h := u.Hostname(); {
	case h == "localhost", h == "::1", strings.HasPrefix(h, "127."):
		return nil
	}
	return fmt.Errorf("soak: -url %q is not on loopback (127.0.0.0/8, ::1, localhost)", base)
}

// soak runs the warm-up and the measurement.
func soak(ctx context.Context, o *soakOptions, out io.Writer) (*soakReport, error) {
	classes := soakClasses(o)
	cycle := soakSchedule(classes, o.seed)
	client := newClient(64)
	client.Timeout = 10 * time.Second
	if o.sample <= 0 {
		o.sample = 5 * time.Second
	}
	fmt.Fprintf(out, "liaisonload soak: %d req/s for %s (warm-up %s) against %s, %d classes\n", o.rate, o.duration, o.warmup, o.base, len(classes))
	if o.warmup > 0 {
		drive(ctx, client, o, classes, cycle, o.warmup, nil)
	}
	r := &soakReport{classes: classes}
	for range classes {
		r.stats = append(r.stats, &classStats{statuses: map[int]int{}})
	}
	start := time.Now()
	r.memory = append(r.memory, sampleMemory(client, o, 0))
	sctx, stop := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(o.sample)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
				m := sampleMemory(client, o, time.Since(start))
				r.memory = append(r.memory, m)
			}
		}
	}()
	drive(ctx, client, o, classes, cycle, o.duration, r)
	r.elapsed = time.Since(start)
	stop()
	<-sampled
	r.memory = append(r.memory, sampleMemory(client, o, r.elapsed))
	for _, s := range r.stats {
		slices.Sort(s.latencies)
	}
	return r, nil
}

// drive sends requests on schedule for d; r, when not nil, records them.
// It returns once every request sent has been answered or has failed.
func drive(ctx context.Context, c *http.Client, o *soakOptions, classes []soakClass, cycle []int, d time.Duration, r *soakReport) {
	var mu sync.Mutex
	var inflight atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	total := int(d.Seconds() * float64(o.rate))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / float64(o.rate)))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				continue
			case <-timer.C:
			}
		}
		ci := cycle[i%len(cycle)]
		if r != nil {
			r.scheduled++
		}
		if inflight.Load() >= int64(o.maxInFlight) {
			if r != nil {
				mu.Lock()
				r.overload++
				mu.Unlock()
			}
			continue
		}
		n := inflight.Add(1)
		if r != nil && n > r.maxFlight {
			r.maxFlight = n
		}
		wg.Go(func() {
			defer inflight.Add(-1)
			status, err := send(ctx, c, o, classes[ci], i)
			if r == nil {
				return
			}
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			s := r.stats[ci]
			s.sent++
			switch {
			case err != nil:
				s.failed++
				if s.firstError == "" {
					s.firstError = err.Error()
				}
			default:
				s.statuses[status]++
				s.latencies = append(s.latencies, lat)
				if status != classes[ci].want {
					s.unexpected++
				}
			}
		})
	}
	wg.Wait()
}

// send makes one request and reads its whole answer.
func send(ctx context.Context, c *http.Client, o *soakOptions, class soakClass, i int) (int, error) {
	req, err := class.build(context.WithoutCancel(ctx), o, i)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// sampleMemory reads the server's VmRSS (with -pid) and its /metrics.
func sampleMemory(c *http.Client, o *soakOptions, at time.Duration) memSample {
	m := memSample{at: at, rss: -1}
	if o.pid > 0 {
		m.rss = procRSS(o.pid)
	}
	resp, err := c.Get(o.base + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	m.metrics = parseMetrics(resp.Body, soakMetrics...)
	return m
}

// procRSS is VmRSS of a process in bytes, -1 when unreadable.
func procRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// parseMetrics reads the values of unlabelled metrics from Prometheus text
// exposition; -1 for each one absent.
func parseMetrics(r io.Reader, names ...string) []int64 {
	out := make([]int64, len(names))
	for i := range out {
		out[i] = -1
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if i := slices.Index(names, name); i >= 0 {
			if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				out[i] = int64(f)
			}
		}
	}
	return out
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *soakReport) print(out io.Writer, o *soakOptions) {
	fmt.Fprintf(out, "%-30s %7s  %-22s %10s %7s %9s %9s %9s\n", "class", "sent", "statuses", "unexpected", "failed", "p50", "p99", "max")
	var all []time.Duration
	sent, unexpected, failed := 0, 0, 0
	for i, c := range r.classes {
		s := r.stats[i]
		var codes []string
		for _, code := range slices.Sorted(maps.Keys(s.statuses)) {
			codes = append(codes, fmt.Sprintf("%d:%d", code, s.statuses[code]))
		}
		name := fmt.Sprintf("%s (%d)", c.name, c.want)
		fmt.Fprintf(out, "%-30s %7d  %-22s %10d %7d %9s %9s %9s\n", name, s.sent, strings.Join(codes, " "), s.unexpected, s.failed,
			ms(percentile(s.latencies, 50)), ms(percentile(s.latencies, 99)), ms(percentile(s.latencies, 100)))
		if s.firstError != "" {
			fmt.Fprintf(out, "%30s first failure: %s\n", "", s.firstError)
		}
		all = append(all, s.latencies...)
		sent += s.sent
		unexpected += s.unexpected
		failed += s.failed
	}
	slices.Sort(all)
	fmt.Fprintf(out, "%-30s %7d  %-22s %10d %7d %9s %9s %9s\n", "all", sent, "", unexpected, failed,
		ms(percentile(all, 50)), ms(percentile(all, 99)), ms(percentile(all, 100)))
	rate := 0.0
	if r.elapsed > 0 {
		rate = float64(sent) / r.elapsed.Seconds()
	}
	fmt.Fprintf(out, "scheduled %d, sent %d in %s (%.1f req/s), not sent (over %d in flight) %d, most in flight %d; errors %d\n",
		r.scheduled, sent, r.elapsed.Round(time.Millisecond), rate, o.maxInFlight, r.overload, r.maxFlight, r.errors())
	if len(r.memory) < 2 {
		return
	}
	first, last := r.memory[0], r.memory[len(r.memory)-1]
	fmt.Fprintf(out, "server memory, start of measurement → end (max over %d samples, every %s):\n", len(r.memory), o.sample)
	row := func(name string, get func(memSample) int64, unit func(int64) string) {
		a, b := get(first), get(last)
		if a < 0 || b < 0 {
			return
		}
		peak := a
		for _, m := range r.memory {
			peak = max(peak, get(m))
		}
		fmt.Fprintf(out, "  %-44s %10s → %10s  (growth %s, max %s)\n", name, unit(a), unit(b), signed(unit, b-a), unit(peak))
	}
	metric := func(name string) func(memSample) int64 { return func(m memSample) int64 { return m.metric(name) } }
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	row("VmRSS (/proc)", func(m memSample) int64 { return m.rss }, mib)
	row("process_resident_memory_bytes", metric("process_resident_memory_bytes"), mib)
	row("go_memstats_heap_inuse_bytes", metric("go_memstats_heap_inuse_bytes"), mib)
	row("go_memstats_heap_alloc_bytes", metric("go_memstats_heap_alloc_bytes"), mib)
	row("go_memstats_next_gc_bytes", metric("go_memstats_next_gc_bytes"), mib)
	row("go_goroutines", metric("go_goroutines"), count)
	row("collections (go_gc_duration_seconds_count)", metric("go_gc_duration_seconds_count"), count)
	if gogc := last.metric("go_gc_gogc_percent"); gogc > 0 {
		if goal := last.metric("go_memstats_next_gc_bytes"); goal > 0 {
			fmt.Fprintf(out, "  live heap at the last collection ≤ heap goal / (1 + GOGC %d/100) = %s (the goal is at least 4 MiB × GOGC/100)\n", gogc, mib(goal*100/(100+gogc)))
		}
	}
	var series []string
	for _, m := range r.memory {
		if v := m.metric("go_memstats_heap_alloc_bytes"); v >= 0 {
			series = append(series, fmt.Sprintf("%.1f", float64(v)/(1<<20)))
		}
	}
	if len(series) > 0 {
		fmt.Fprintf(out, "  heap allocated at each sample, MiB: %s\n", strings.Join(series, " "))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func signed(unit func(int64) string, n int64) string {
	if n >= 0 {
		return "+" + unit(n)
	}
	return "-" + unit(-n)
}
