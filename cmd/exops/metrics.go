package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/report"
)

// Metrics is the Prometheus exposition at /metrics. Case figures (volume,
// backlog, first touch, resolution, share by the bot, approvals waiting)
// are read from the store at scrape time, so they survive restarts and
// agree with "exops report"; connector, Slack and pull errors are counted
// as they happen.
type Metrics struct {
	reg   *prometheus.Registry
	store cases.Store
	now   func() time.Time

	connectorCalls   *prometheus.CounterVec
	connectorLatency *prometheus.HistogramVec
	slackErrors      *prometheus.CounterVec
	pulled           *prometheus.CounterVec
	pullErrors       *prometheus.CounterVec

	// A scrape walks every case; scrapes closer than minScrape reuse the
	// last walk, so a busy Prometheus cannot turn /metrics into load.
	mu        sync.Mutex
	last      time.Time
	lastCases []*cases.Case
}

const minScrape = 10 * time.Second

// NewMetrics registers every exops metric (and the Go runtime's) on a
// registry of its own.
func NewMetrics(store cases.Store, now cases.Clock, replica string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), store: store, now: now,
		connectorCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "exops_connector_calls_total",
			Help: "Tries of calls to systems of record, by system, operation and result (ok or the error kind)."}, []string{"system", "op", "result"}),
		connectorLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "exops_connector_call_seconds",
			Help: "Duration of one try of a call to a system of record.", Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5}}, []string{"system"}),
		slackErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "exops_slack_errors_total",
			Help: "Failed Slack API calls, by operation."}, []string{"op"}),
		pulled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "exops_pulled_events_total",
			Help: "Events read by scheduled pulls, by puller."}, []string{"puller"}),
		pullErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "exops_pull_errors_total",
			Help: "Scheduled pulls that failed, by puller."}, []string{"puller"}),
	}
	// Every series carries the replica it came from, so several replicas
	// behind one Prometheus job stay apart.
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"replica": replica}, m.reg)
	reg.MustRegister(m.connectorCalls, m.connectorLatency, m.slackErrors, m.pulled, m.pullErrors,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), caseCollector{m})
	return m
}

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ConnectorCall implements connectors.Observer.
func (m *Metrics) ConnectorCall(system, op string, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = cases.KindOf(err).String()
	}
	if _, action := actionOps[op]; !action && op != "lookup" {
		op = "other" // bound the label set: unknown action names come from models
	}
	m.connectorCalls.WithLabelValues(system, op, result).Inc()
	if took > 0 {
		m.connectorLatency.WithLabelValues(system).Observe(took.Seconds())
	}
}

// SlackError counts one failed Slack call (op: "post_card", "update_card",
// "post_reply", "post_message", "views_open" …).
func (m *Metrics) SlackError(op string) { m.slackErrors.WithLabelValues(op).Inc() }

// Pulled records one scheduled pull.
func (m *Metrics) Pulled(puller string, events int, err error) {
	m.pulled.WithLabelValues(puller).Add(float64(events))
	if err != nil {
		m.pullErrors.WithLabelValues(puller).Inc()
	}
}

var actionOps = map[string]struct{}{}

func init() {
	for a := range report.StandardActions {
		actionOps[a] = struct{}{}
	}
}

func (m *Metrics) cases(ctx context.Context) ([]*cases.Case, error) {
	if m.store == nil {
		return nil, nil // counters only (tests, tools without a database)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := m.now(); m.lastCases != nil && now.Sub(m.last) < minScrape && !now.Before(m.last) {
		return m.lastCases, nil
	}
	cs, err := loadCases(ctx, m.store)
	if err != nil {
		return nil, err
	}
	m.last, m.lastCases = m.now(), cs
	return cs, nil
}

// loadCases reads every case.
func loadCases(ctx context.Context, store cases.Store) ([]*cases.Case, error) {
	var cs []*cases.Case
	err := store.View(ctx, func(tx cases.ReadTx) error {
		cs = cs[:0]
		return tx.ForEachCase(func(c *cases.Case) error {
			cs = append(cs, c)
			return nil
		})
	})
	return cs, err
}

type caseCollector struct{ m *Metrics }

var (
	descCases      = prometheus.NewDesc("exops_cases_total", "Cases opened, by family (a composite case counts in each of its families).", []string{"family"}, nil)
	descEvents     = prometheus.NewDesc("exops_events_total", "Events received on cases, by family.", []string{"family"}, nil)
	descResolved   = prometheus.NewDesc("exops_cases_resolved_total", "Cases resolved, by who resolved them (exops alone, or people).", []string{"by"}, nil)
	descBacklog    = prometheus.NewDesc("exops_open_cases", "Open cases by age bucket.", []string{"age"}, nil)
	descApprovals  = prometheus.NewDesc("exops_approvals_waiting", "Recommendations on open cases waiting for approvers.", nil, nil)
	descShareBot   = prometheus.NewDesc("exops_resolved_by_bot_ratio", "Share of resolved cases that exops resolved with no person deciding.", nil, nil)
	descFirstTouch = prometheus.NewDesc("exops_time_to_first_touch_seconds", "From case opened to the first person's action.", nil, nil)
	descResolve    = prometheus.NewDesc("exops_time_to_resolve_seconds", "From case opened to resolved.", nil, nil)
	descScrapeErr  = prometheus.NewDesc("exops_metrics_store_error", "1 when the case figures could not be read from the store.", nil, nil)
	descQueueDepth = prometheus.NewDesc("exops_queue_jobs", "Jobs waiting in each durable queue (work, actions, outbox).", []string{"queue"}, nil)
	descQueueAge   = prometheus.NewDesc("exops_queue_oldest_job_seconds", "Age of the oldest job waiting in each queue (0 when empty).", []string{"queue"}, nil)
	timeBuckets    = []float64{60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600}
)

func (c caseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCases, descEvents, descResolved, descBacklog, descApprovals, descShareBot, descFirstTouch, descResolve, descScrapeErr, descQueueDepth, descQueueAge, descKindDepth, descKindAge} {
		ch <- d
	}
}

func (c caseCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.store == nil {
		return // counters only (tests, tools without a database)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := c.m.cases(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 1)
		ch <- prometheus.NewInvalidMetric(descCases, errors.Join(errors.New("read cases"), err))
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 0)
	c.queues(ctx, ch)
	r := report.Compute(cs, report.Options{Now: c.m.now()})
	for _, f := range cases.Families() {
		ch <- prometheus.MustNewConstMetric(descCases, prometheus.CounterValue, float64(r.ByFamily[f]), string(f))
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(r.EventsByFam[f]), string(f))
	}
	ch <- prometheus.MustNewConstMetric(descResolved, prometheus.CounterValue, float64(r.ByBot), "exops")
	ch <- prometheus.MustNewConstMetric(descResolved, prometheus.CounterValue, float64(r.Resolved-r.ByBot), "people")
	for _, b := range report.AgeBuckets {
		ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(r.Backlog[b.Label]), b.Label)
	}
	ch <- prometheus.MustNewConstMetric(descApprovals, prometheus.GaugeValue, float64(r.ApprovalsWaiting))
	ch <- prometheus.MustNewConstMetric(descShareBot, prometheus.GaugeValue, r.ShareByBot)
	var touch, resolve []float64
	for _, k := range cs {
		if k.Status == cases.StatusMerged {
			continue
		}
		if k.FirstTouchedAt != nil {
			touch = append(touch, max(k.FirstTouchedAt.Sub(k.OpenedAt), 0).Seconds())
		}
		if k.Status == cases.StatusResolved && k.ResolvedAt != nil {
			resolve = append(resolve, max(k.ResolvedAt.Sub(k.OpenedAt), 0).Seconds())
		}
	}
	ch <- constHistogram(descFirstTouch, touch)
	ch <- constHistogram(descResolve, resolve)
}

func constHistogram(d *prometheus.Desc, vals []float64) prometheus.Metric {
	counts := make(map[float64]uint64, len(timeBuckets))
	var sum float64
	for _, v := range vals {
		sum += v
		for _, b := range timeBuckets {
			if v <= b {
				counts[b]++
			}
		}
	}
	return prometheus.MustNewConstHistogram(d, uint64(len(vals)), sum, counts)
}

// CountSlackErrors wraps the engine's Notifier so that every failed card,
// reply or message counts in exops_slack_errors_total. Methods the port
// gains later pass through uncounted (the embedded interface).
func (m *Metrics) CountSlackErrors(n cases.Notifier) cases.Notifier { return countingNotifier{n, m} }

type countingNotifier struct {
	cases.Notifier
	m *Metrics
}

func (n countingNotifier) count(op string, err error) error {
	if err != nil {
		n.m.SlackError(op)
	}
	return err
}

func (n countingNotifier) PostCard(ctx context.Context, c *cases.Case) (cases.SlackRef, error) {
	ref, err := n.Notifier.PostCard(ctx, c)
	return ref, n.count("post_card", err)
}

func (n countingNotifier) UpdateCard(ctx context.Context, c *cases.Case) error {
	return n.count("update_card", n.Notifier.UpdateCard(ctx, c))
}

func (n countingNotifier) PostReply(ctx context.Context, c *cases.Case, text, key string) error {
	return n.count("post_reply", n.Notifier.PostReply(ctx, c, text, key))
}

func (n countingNotifier) PostMessage(ctx context.Context, channel string, c *cases.Case, text string) error {
	return n.count("post_message", n.Notifier.PostMessage(ctx, channel, c, text))
}

// queues reports each queue's depth and the age of its oldest job, in
// all and by job kind (process, execute, card, reply, post): a growing
// outbox means Slack is not keeping up, an old one a stuck job, and the
// kind says which messages wait.
func (c caseCollector) queues(ctx context.Context, ch chan<- prometheus.Metric) {
	if c.m.store == nil {
		return // counters only
	}
	now := c.m.now()
	type depth struct {
		n      int
		oldest time.Time
	}
	add := func(d *depth, j cases.Job) {
		d.n++
		if d.oldest.IsZero() || j.Created.Before(d.oldest) {
			d.oldest = j.Created
		}
	}
	age := func(d depth) float64 {
		if d.oldest.IsZero() {
			return 0
		}
		return max(now.Sub(d.oldest), 0).Seconds()
	}
	for _, q := range cases.Queues() {
		var all depth
		byKind := map[cases.JobKind]*depth{}
		for _, k := range queueKinds[q] {
			byKind[k] = &depth{}
		}
		err := c.m.store.View(ctx, func(tx cases.ReadTx) error {
			all = depth{}
			for _, d := range byKind {
				*d = depth{}
			}
			return tx.Jobs(q, func(j cases.Job) error {
				add(&all, j)
				k := j.Kind
				if byKind[k] == nil {
					k = "other" // bound the label set
					if byKind[k] == nil {
						byKind[k] = &depth{}
					}
				}
				add(byKind[k], j)
				return nil
			})
		})
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(all.n), string(q))
		ch <- prometheus.MustNewConstMetric(descQueueAge, prometheus.GaugeValue, age(all), string(q))
		for k, d := range byKind {
			ch <- prometheus.MustNewConstMetric(descKindDepth, prometheus.GaugeValue, float64(d.n), string(q), string(k))
			ch <- prometheus.MustNewConstMetric(descKindAge, prometheus.GaugeValue, age(*d), string(q), string(k))
		}
	}
}

// queueKinds are the job kinds each queue holds, reported even at zero.
var queueKinds = map[cases.Queue][]cases.JobKind{
	cases.QueueWork:    {cases.JobProcess},
	cases.QueueActions: {cases.JobExecute},
	cases.QueueOutbox:  {cases.JobCard, cases.JobReply, cases.JobPost},
}

var (
	descKindDepth = prometheus.NewDesc("exops_queue_jobs_by_kind", "Jobs waiting in each durable queue, by kind (process, execute, card, reply, post).", []string{"queue", "kind"}, nil)
	descKindAge   = prometheus.NewDesc("exops_queue_oldest_job_by_kind_seconds", "Age of the oldest job of each kind waiting in each queue (0 when none).", []string{"queue", "kind"}, nil)
)
