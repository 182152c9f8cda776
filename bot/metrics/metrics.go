// Package metrics defines liaisonbot's Prometheus metrics on a registry of
// its own and serves them. Nothing else imports Prometheus: the packages
// that count expose hooks (a Mux middleware, the outbox's OnAttempt, the
// adapters' OnRateLimit, handoff's digest hooks) and the program connects
// them to the methods here; what is cheaper to read than to track (outbox
// depth, open incidents, platform connections, store size) is read from
// Sources on each scrape.
package metrics

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"liaisonbot/bot"
)

const namespace = "liaisonbot"

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// Sources are read on each scrape; any may be nil.
type Sources struct {
	// Outbox counts the posts waiting and those failing.
	Outbox func(ctx context.Context) (pending, failing int, err error)
	// OpenIncidents counts the open incidents.
	OpenIncidents func(ctx context.Context) (int, error)
	// Platforms are the adapters that hold a connection, by platform:
	// Ready returns nil when connected.
	Platforms map[string]bot.Readiness
	// StoreSize is the size of the store's file in bytes.
	StoreSize func() (int64, error)
	// Leading, set when replicas share an etcd store, says whether this
	// replica is the elected leader.
	Leading func() bool
	// Held, optional, says whether this replica holds a platform's
	// connection now; when false the platform's platform_connected series
	// is left out (a follower does not hold the Mattermost websocket: a 0
	// would page someone).
	Held func(platform string) bool
	// StoreRetries, set with etcd, counts transactions run again because
	// another (replica) committed first.
	StoreRetries func() int64
}

// Metrics holds every metric of the bot.
type Metrics struct {
	reg *prometheus.Registry

	commands         *prometheus.CounterVec
	commandDuration  *prometheus.HistogramVec
	outboxSent       *prometheus.CounterVec
	outboxFailures   *prometheus.CounterVec
	outboxRetries    *prometheus.CounterVec
	rateLimitWaits   *prometheus.CounterVec
	rateLimitTime    *prometheus.CounterVec
	digestsPosted    *prometheus.CounterVec
	digestsAcked     *prometheus.CounterVec
	digestsEscalated *prometheus.CounterVec

	// series caches each command's counter and histogram by their labels,
	// read without a lock: WithLabelValues checks and hashes the label
	// values on every call, a good part of what metrics cost a command.
	// The map is replaced, never changed, under seriesMu.
	series   atomic.Pointer[map[seriesKey]commandSeries]
	seriesMu sync.Mutex
}

// seriesKey is the labels of a command's series.
type seriesKey struct{ command, platform, outcome string }

type commandSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// maxSeries bounds the cache. Commands are the registered ones and
// "unknown", outcomes and platforms a handful, so it is never reached in
// practice; past it the series are looked up as before.
const maxSeries = 1024

// New returns the metrics on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		commands: counter("commands_total", "Commands served, by command, platform and outcome (ok, rejected, usage, unknown, denied, failed).", "command", "platform", "outcome"),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "command_duration_seconds",
			Help:    "Time to answer a command, by command.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"command"}),
		outboxSent:       counter("outbox_sent_total", "Posts the outbox sent, by platform.", "platform"),
		outboxFailures:   counter("outbox_send_failures_total", "Failed send attempts of the outbox, by platform; each is retried later.", "platform"),
		outboxRetries:    counter("outbox_retries_total", "Send attempts of posts that had failed before, by platform.", "platform"),
		rateLimitWaits:   counter("rate_limit_waits_total", "Times a platform answered 429 and the bot waited before trying again, by platform.", "platform"),
		rateLimitTime:    counter("rate_limit_wait_seconds_total", "Time spent waiting out platforms' rate limits, by platform.", "platform"),
		digestsPosted:    counter("handoff_digests_posted_total", "Handoff digests posted, by team and trigger (schedule, command).", "team", "trigger"),
		digestsAcked:     counter("handoff_digests_acknowledged_total", "Handoff digests acknowledged, by team.", "team"),
		digestsEscalated: counter("handoff_digests_escalated_total", "Scheduled handoff digests escalated for want of an acknowledgement, by team.", "team"),
	}
	m.series.Store(&map[seriesKey]commandSeries{})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commands, m.commandDuration,
		m.outboxSent, m.outboxFailures, m.outboxRetries,
		m.rateLimitWaits, m.rateLimitTime,
		m.digestsPosted, m.digestsAcked, m.digestsEscalated,
	)
	return m
}

// Observe adds the gauges read from src on each scrape. Call it once,
// when the platforms are started.
func (m *Metrics) Observe(src Sources) { m.reg.MustRegister(newSourceCollector(src)) }

// Handler serves the registry in the Prometheus exposition format. A
// source that fails is logged and left out; the rest is served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	if log != nil {
		opts.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return promhttp.HandlerFor(m.reg, opts)
}

// Init makes the per-platform and per-team series exist at zero, so that
// rate() and increase() see their first event.
func (m *Metrics) Init(platforms, teams []string) {
	for _, p := range platforms {
		m.outboxSent.WithLabelValues(p)
		m.outboxFailures.WithLabelValues(p)
		m.outboxRetries.WithLabelValues(p)
		m.rateLimitWaits.WithLabelValues(p)
		m.rateLimitTime.WithLabelValues(p)
	}
	for _, t := range teams {
		m.digestsPosted.WithLabelValues(t, "schedule")
		m.digestsPosted.WithLabelValues(t, "command")
		m.digestsAcked.WithLabelValues(t)
		m.digestsEscalated.WithLabelValues(t)
	}
}

// Middleware counts and times every command, refusals and failures
// included. Use it first, outside the middleware that resolves the
// command (Authorize), so that it sees every outcome.
func (m *Metrics) Middleware() bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			start := req.Time // received by its adapter: one clock read less
			if start.IsZero() {
				start = time.Now()
			}
			msg, err := next.ServeCommand(ctx, req)
			name := "unknown" // never the typed word: it would make a series per typo
			if req.Command != nil {
				name = req.Command.Name()
			}
			s := m.commandSeries(seriesKey{name, req.Platform, bot.Outcome(msg, err)})
			s.count.Inc()
			s.duration.Observe(time.Since(start).Seconds())
			return msg, err
		})
	}
}

// commandSeries returns the series of a command with labels k, from the
// cache when they were seen before.
func (m *Metrics) commandSeries(k seriesKey) commandSeries {
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	s := commandSeries{
		count:    m.commands.WithLabelValues(k.command, k.platform, k.outcome),
		duration: m.commandDuration.WithLabelValues(k.command),
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	if old := *m.series.Load(); len(old) < maxSeries {
		cache := maps.Clone(old)
		cache[k] = s
		m.series.Store(&cache)
	}
	return s
}

// OutboxAttempt is the outbox's OnAttempt hook: attempt counts from 1.
func (m *Metrics) OutboxAttempt(platform string, attempt int, err error) {
	if attempt > 1 {
		m.outboxRetries.WithLabelValues(platform).Inc()
	}
	if err != nil {
		m.outboxFailures.WithLabelValues(platform).Inc()
		return
	}
	m.outboxSent.WithLabelValues(platform).Inc()
}

// RateLimited returns an adapter's OnRateLimit hook for platform.
func (m *Metrics) RateLimited(platform string) func(wait time.Duration) {
	waits, secs := m.rateLimitWaits.WithLabelValues(platform), m.rateLimitTime.WithLabelValues(platform)
	return func(wait time.Duration) {
		waits.Inc()
		secs.Add(wait.Seconds())
	}
}

// DigestPosted is handoff's OnDigestPosted hook.
func (m *Metrics) DigestPosted(team string, scheduled bool) {
	trigger := "command"
	if scheduled {
		trigger = "schedule"
	}
	m.digestsPosted.WithLabelValues(team, trigger).Inc()
}

// DigestAcknowledged is handoff's OnDigestAcknowledged hook.
func (m *Metrics) DigestAcknowledged(team string) { m.digestsAcked.WithLabelValues(team).Inc() }

// DigestEscalated is handoff's OnDigestEscalated hook.
func (m *Metrics) DigestEscalated(team string) { m.digestsEscalated.WithLabelValues(team).Inc() }

// sourceCollector reads Sources on each scrape.
type sourceCollector struct {
	src                                Sources
	outbox, incidents, connected, size *prometheus.Desc
	leader, retries                    *prometheus.Desc
}

func newSourceCollector(src Sources) *sourceCollector {
	name := func(n string) string { return prometheus.BuildFQName(namespace, "", n) }
	return &sourceCollector{
		src:       src,
		outbox:    prometheus.NewDesc(name("outbox_entries"), "Posts in the outbox not sent yet, by status (pending, failing: failed 5 times or more, still retried).", []string{"status"}, nil),
		incidents: prometheus.NewDesc(name("incidents_open"), "Incidents open.", nil, nil),
		connected: prometheus.NewDesc(name("platform_connected"), "1 when the platform's connection is up (Socket Mode, the Mattermost websocket), else 0.", []string{"platform"}, nil),
		size:      prometheus.NewDesc(name("store_size_bytes"), "Size of the store's file.", nil, nil),
		retries:   prometheus.NewDesc(name("store_retries_total"), "Store transactions run again because another one (on any replica) committed first; only with store: etcd.", nil, nil),
		leader:    prometheus.NewDesc(name("leader"), "1 when this replica is the elected leader (runs the scheduler, nudges, Mattermost websocket and outbox), else 0; only with store: etcd.", nil, nil),
	}
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.outbox
	ch <- c.incidents
	ch <- c.connected
	ch <- c.size
	ch <- c.leader
	ch <- c.retries
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if f := c.src.Outbox; f != nil {
		if pending, failing, err := f(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(c.outbox, err)
		} else {
			ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(pending), "pending")
			ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(failing), "failing")
		}
	}
	if f := c.src.OpenIncidents; f != nil {
		if n, err := f(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(c.incidents, err)
		} else {
			ch <- prometheus.MustNewConstMetric(c.incidents, prometheus.GaugeValue, float64(n))
		}
	}
	for p, r := range c.src.Platforms {
		if c.src.Held != nil && !c.src.Held(p) {
			continue
		}
		up := 0.0
		if r.Ready() == nil {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, up, p)
	}
	if f := c.src.StoreRetries; f != nil {
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(f()))
	}
	if f := c.src.Leading; f != nil {
		v := 0.0
		if f() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, v)
	}
	if f := c.src.StoreSize; f != nil {
		if n, err := f(); err != nil {
			ch <- prometheus.NewInvalidMetric(c.size, err)
		} else {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n))
		}
	}
}
