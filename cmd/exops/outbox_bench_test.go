package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/bot"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// outboxBurst is the backlog a burst leaves: per channel, new cases (a card
// and its thread replies each) and, in some channels, a posted card to
// update.
type outboxBurst struct {
	channels, newCases, replies, updates int
}

func (o outboxBurst) posts() int { return o.channels * o.newCases * (1 + o.replies) }

// allowed is the call rate the local Slack's limits allow for this backlog:
// every call divided by the time the busiest limit needs for its share
// (posts per channel, chat.update for the workspace), when the first burst
// calls of each limit go at once and the rest at its pace. burst 1 is the
// sustained pace alone; the local Slack takes l.Burst.
func (o outboxBurst) allowed(l localslack.RateLimits, burst int) float64 {
	perChan := o.newCases * (1 + o.replies)
	post := time.Duration(max(perChan-burst, 1)) * l.PostInterval
	upd := time.Duration(max(o.updates-burst, 1)) * (time.Minute / time.Duration(l.PerMinute["chat.update"]))
	return float64(o.posts()+o.updates) / max(post, upd).Seconds()
}

// BenchmarkOutboxDrain drains the backlog of a burst over many channels
// against a local Slack that enforces Slack's rate limits (429 with
// Retry-After beyond them), once with the sequential outbox (one call at a
// time, no pacing: the delivery before parallel lanes) and once with the
// parallel, paced one, in the same run. It reports the calls per second
// Slack took from each, the rate the limits allow for this backlog, and
// the ratios. EXOPS_BENCH_SLACK_SCALE=f scales Slack's limits by f
// (default 1: Slack's real pace, about 7 s a drain);
// EXOPS_BENCH_OUTBOX=channels,cases,replies,updates shapes the backlog
// (default 50,2,2,5: 305 calls).
//
//	go test ./cmd/exops -run '^$' -bench OutboxDrain -benchtime 1x
func BenchmarkOutboxDrain(b *testing.B) {
	scale := 1.0
	if v := os.Getenv("EXOPS_BENCH_SLACK_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			b.Fatalf("EXOPS_BENCH_SLACK_SCALE %q: want a positive number", v)
		}
		scale = f
	}
	burst := outboxBurst{channels: 50, newCases: 2, replies: 2, updates: 5}
	if v := os.Getenv("EXOPS_BENCH_OUTBOX"); v != "" {
		// channels,new cases per channel,replies per case,card updates
		if _, err := fmt.Sscanf(v, "%d,%d,%d,%d", &burst.channels, &burst.newCases, &burst.replies, &burst.updates); err != nil ||
			burst.channels < 1 || burst.newCases < 1 || burst.replies < 0 || burst.updates < 0 {
			b.Fatalf("EXOPS_BENCH_OUTBOX %q: want channels,cases,replies,updates such as 50,2,2,5", v)
		}
	}
	limits := localslack.SlackRateLimits().Scaled(scale)
	limits.Burst = 2 // Slack tolerates short bursts
	// exops paces at Slack's sustained rate and leaves the burst Slack
	// tolerates unused, so both figures are reported.
	allowed, allowedBurst := burst.allowed(limits, 1), burst.allowed(limits, limits.Burst)
	for i := 0; i < b.N; i++ {
		seq := drainOutbox(b, burst, limits, scale, false, time.Minute)
		par := drainOutbox(b, burst, limits, scale, true, time.Minute)
		b.ReportMetric(seq.rate, "seq_calls/s")
		b.ReportMetric(par.rate, "par_calls/s")
		b.ReportMetric(allowed, "allowed_calls/s")
		b.ReportMetric(allowedBurst, "allowed_burst_calls/s")
		b.ReportMetric(par.rate/allowedBurst, "par/allowed_burst")
		b.ReportMetric(par.rate/allowed, "par/allowed")
		b.ReportMetric(seq.rate/allowed, "seq/allowed")
		b.ReportMetric(par.rate/seq.rate, "par/seq")
		b.ReportMetric(float64(seq.refused), "seq_429s")
		b.ReportMetric(float64(par.refused), "par_429s")
		b.ReportMetric(float64(seq.left), "seq_jobs_left")
		b.ReportMetric(float64(par.left), "par_jobs_left")
	}
}

type drainResult struct {
	rate    float64 // calls Slack took per second
	refused int     // 429s
	left    int     // jobs still queued at the time limit
}

func drainOutbox(b *testing.B, burst outboxBurst, limits localslack.RateLimits, scale float64, parallel bool, limit time.Duration) drainResult {
	b.Helper()
	ctx := context.Background()
	// The business clock runs with real time here, as retries are due by it.
	start := time.Now()
	now := func() time.Time { return testClock().Add(time.Since(start)) }
	ls := localslack.New(now)
	defer ls.Close()
	n, err := bot.NewNotifier(bot.Config{BotToken: "xoxb-bench", APIURL: ls.APIURL(), Clock: now, Limits: bot.SlackLimits().Scaled(scale)})
	if err != nil {
		b.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(b.TempDir(), "outbox.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	seedBurst(b, store, n, burst, now)
	seeded := len(ls.Transcript())
	ls.EnforceRateLimits(limits)

	pol, err := policies.Parse(policies.Example)
	if err != nil {
		b.Fatal(err)
	}
	sim := connectors.NewSimulator(now)
	cfg := cases.Config{Store: store, Policy: pol, Agents: agents.NewRules(now), Enricher: sim, Executor: sim, Notifier: n, Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OutboxWorkers: 1}
	if parallel {
		cfg.Pacer, cfg.OutboxWorkers = n, 0
	}
	eng, err := cases.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	began := time.Now()
	go func() { eng.Run(runCtx); close(done) }()
	waitCtx, wcancel := context.WithTimeout(ctx, limit)
	_ = eng.WaitIdle(waitCtx) // at the limit, what is left is reported
	took := time.Since(began)
	wcancel()
	cancel()
	<-done
	calls := len(ls.Transcript()) - seeded
	left := 0
	_ = store.View(ctx, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueOutbox, func(cases.Job) error { left++; return nil })
	})
	refused := 0
	for _, k := range ls.RateLimited() {
		refused += k
	}
	if want := burst.posts() + burst.updates; left == 0 && calls != want {
		b.Fatalf("drained with %d calls taken, want %d", calls, want)
	}
	return drainResult{rate: float64(calls) / took.Seconds(), refused: refused, left: left}
}

// seedBurst stores the burst's cases and queues their outbox jobs; the
// cards to update are posted first, before the limits are on.
func seedBurst(b testing.TB, store cases.Store, n *bot.Notifier, o outboxBurst, now func() time.Time) {
	b.Helper()
	ctx := context.Background()
	num := 0
	var all []*cases.Case
	var jobs []cases.Job
	newCase := func(ch string) *cases.Case {
		num++
		c := &cases.Case{ID: fmt.Sprintf("EX-%06d", num), Channel: ch, Team: "ops", Status: cases.StatusOpen, Severity: cases.SeverityMedium,
			Families: []cases.Family{cases.FamilyCreditHold}, OpenedAt: now(), UpdatedAt: now(), Version: 1, Summary: "Credit hold on an order."}
		all = append(all, c)
		return c
	}
	for ch := 0; ch < o.channels; ch++ {
		channel := fmt.Sprintf("C%04d", ch)
		for k := 0; k < o.newCases; k++ {
			c := newCase(channel)
			jobs = append(jobs, cases.Job{Kind: cases.JobCard, Case: c.ID, Dedupe: "card:" + c.ID})
			for r := 0; r < o.replies; r++ {
				jobs = append(jobs, cases.Job{Kind: cases.JobReply, Case: c.ID, Text: fmt.Sprintf("New event %d on %s.", r+1, c.ID)})
			}
		}
	}
	for u := 0; u < o.updates; u++ {
		c := newCase(fmt.Sprintf("C%04d", u*o.channels/max(o.updates, 1)))
		ref, err := n.PostCard(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		c.Slack, c.Version = ref, 2
		jobs = append(jobs, cases.Job{Kind: cases.JobCard, Case: c.ID, Dedupe: "card:" + c.ID})
	}
	err := store.Update(ctx, func(tx cases.Tx) error {
		for _, c := range all {
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		for _, j := range jobs {
			j.Created = now()
			if err := tx.Enqueue(cases.QueueOutbox, &j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
