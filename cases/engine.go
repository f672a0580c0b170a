package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Config wires the engine to the rest of exops.
type Config struct {
	Store    Store
	Policy   Policy
	Agents   Agents
	Enricher Enricher // optional
	Executor Executor
	Notifier Notifier
	// Directory resolves approver user groups; optional.
	Directory Directory
	// Documents reads documents attached to events; optional.
	Documents DocumentReader
	// Now is the business clock (required): Main's one Clock.
	Now    Clock
	Logger *slog.Logger
	// Replica names this process among several sharing one store; jobs it
	// claims carry it. Default: host name and process id.
	Replica string
	// JobLease is how long a claimed job stays this replica's before
	// another may take it (a replica that dies holds its jobs that long).
	// Default 2 minutes; used only with a store that is a JobClaimer.
	JobLease time.Duration
	// MaxCaseEvents bounds a case: a case this full takes no more events or
	// merges, so the next related event opens a new case. Default 200.
	MaxCaseEvents int
	// Backoff is the wait before retry n (1-based); default doubles from 1 s
	// to at most 5 min.
	Backoff func(attempt int) time.Duration
	// Pacer knows the chat's rate limits (the bot's Slack limits); the
	// outbox asks it before each call. Nil: calls go as fast as workers
	// allow, and 429s are obeyed after the fact.
	Pacer Pacer
	// OutboxWorkers bounds the outbox calls in flight, one per channel at a
	// time; default DefaultOutboxWorkers. 1 keeps the older delivery: one
	// call at a time in queue order.
	OutboxWorkers int
	// Wall is the transport clock for pacing waits (not business time);
	// nil means time.Now.
	Wall func() time.Time
}

// Engine correlates events into cases, asks agents and policy, runs actions
// and feeds the outbox. Every change it makes commits together with its audit
// records and the jobs it causes.
type Engine struct {
	store     Store
	policy    atomic.Pointer[policyHolder]
	agents    Agents
	enricher  Enricher
	executor  Executor
	notifier  Notifier
	directory Directory
	documents DocumentReader
	now       Clock
	replica   string
	lease     time.Duration
	claimer   JobClaimer // nil: this process is the store's only worker
	log       *slog.Logger
	maxEv     int
	backoff   func(int) time.Duration
	pacer     Pacer
	wall      func() time.Time
	// outboxWorkers bounds outbox calls in flight; 1: the sequential worker.
	outboxWorkers int
	coalesced     atomic.Uint64

	wake map[Queue]chan struct{}
	busy sync.WaitGroup // jobs being handled, for WaitIdle
	// inFlight counts jobs taken by workers and not yet finished, so WaitIdle
	// does not mistake a job in hand for an empty queue.
	inFlight atomic.Int64
}

type policyHolder struct{ p Policy }

// Attempt limits before a job is given up.
const (
	maxActionAttempts = 6
	maxOutboxAttempts = 30
)

// New checks the configuration and builds an engine.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("engine: no store")
	case cfg.Policy == nil:
		return nil, errors.New("engine: no policy")
	case cfg.Agents == nil:
		return nil, errors.New("engine: no agents")
	case cfg.Executor == nil:
		return nil, errors.New("engine: no executor")
	case cfg.Notifier == nil:
		return nil, errors.New("engine: no notifier")
	case cfg.Now == nil:
		return nil, errors.New("engine: no business clock (Config.Now)")
	}
	e := &Engine{
		store: cfg.Store, agents: cfg.Agents, enricher: cfg.Enricher, executor: cfg.Executor,
		notifier: cfg.Notifier, directory: cfg.Directory, documents: cfg.Documents, now: cfg.Now, log: cfg.Logger, maxEv: cfg.MaxCaseEvents, backoff: cfg.Backoff,
		wake: map[Queue]chan struct{}{},
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.pacer, e.wall, e.outboxWorkers = cfg.Pacer, cfg.Wall, cfg.OutboxWorkers
	if e.wall == nil {
		e.wall = time.Now
	}
	if e.outboxWorkers <= 0 {
		e.outboxWorkers = DefaultOutboxWorkers
	}
	e.replica, e.lease = cfg.Replica, cfg.JobLease
	if e.replica == "" {
		host, _ := os.Hostname()
		e.replica = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if e.lease <= 0 {
		e.lease = 2 * time.Minute
	}
	e.claimer, _ = cfg.Store.(JobClaimer)
	if e.maxEv <= 0 {
		e.maxEv = 200
	}
	if e.backoff == nil {
		e.backoff = func(n int) time.Duration {
			d := time.Second << min(n-1, 9)
			return min(d, 5*time.Minute)
		}
	}
	for _, q := range Queues() {
		e.wake[q] = make(chan struct{}, 1)
	}
	e.SetPolicy(cfg.Policy)
	return e, nil
}

// SetPolicy puts a new policy in force for every later verdict.
func (e *Engine) SetPolicy(p Policy) { e.policy.Store(&policyHolder{p}) }

// Policy returns the policy in force.
func (e *Engine) Policy() Policy { return e.policy.Load().p }

// Store returns the engine's store, for read-only queries.
func (e *Engine) Store() Store { return e.store }

func (e *Engine) kick(qs ...Queue) {
	for _, q := range qs {
		select {
		case e.wake[q] <- struct{}{}:
		default:
		}
	}
}

// Run works the queues until ctx ends. Jobs left when it stops stay in the
// store and are picked up by the next Run.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for q, h := range map[Queue]func(context.Context, *Job) error{
		QueueWork:    e.handleWork,
		QueueActions: e.handleAction,
		QueueOutbox:  e.handleOutbox,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if q == QueueOutbox && e.outboxWorkers > 1 {
				e.deliver(ctx) // in parallel across channels
				return
			}
			e.worker(ctx, q, h)
		}()
	}
	wg.Wait()
	// Every worker has returned, so no job of this replica is running: give
	// back any lease still held (a claim committed as the shutdown cut off
	// its answer), so the other replicas take those jobs at once.
	if r, ok := e.claimer.(LeaseReleaser); ok {
		if err := r.ReleaseLeases(context.WithoutCancel(ctx), e.replica); err != nil {
			e.log.Warn("release leases at stop", "err", err)
		}
	}
	return nil
}

// worker handles the jobs of one queue. The outbox is worked in order per
// case, so a thread's messages arrive in the order they were written; the
// other queues take the oldest job that is due.
func (e *Engine) worker(ctx context.Context, q Queue, handle func(context.Context, *Job) error) {
	strict := q == QueueOutbox
	for ctx.Err() == nil {
		job, wait, err := e.nextJob(ctx, q, strict)
		if err != nil {
			e.log.Error("read queue", "queue", q, "err", err)
			wait = time.Second
		}
		if job == nil {
			if wait <= 0 || wait > time.Second {
				wait = time.Second
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-e.wake[q]:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		e.inFlight.Add(1)
		e.runJob(ctx, q, *job, handle)
		e.inFlight.Add(-1)
	}
}

// nextJob returns the job to handle now, or how long to wait for one.
func (e *Engine) nextJob(ctx context.Context, q Queue, strict bool) (*Job, time.Duration, error) {
	now := e.now()
	if e.claimer != nil {
		// Shared with other replicas: take a job under a lease, so no two
		// replicas work it at once; the store keeps each case's order.
		j, found, err := e.claimer.ClaimJob(ctx, q, e.replica, e.lease, now)
		if err != nil || !found {
			return nil, 0, err
		}
		return &j, 0, nil
	}
	var found *Job
	var wait time.Duration
	stop := errors.New("stop")
	// A strict queue keeps each case's messages in order: a case whose
	// oldest message waits for a retry holds its later ones back, while
	// other cases' messages go on.
	held := map[string]bool{}
	err := e.store.View(ctx, func(tx ReadTx) error {
		return tx.Jobs(q, func(j Job) error {
			if strict && held[j.Case] {
				return nil
			}
			if j.NotBefore.After(now) {
				if w := j.NotBefore.Sub(now); wait == 0 || w < wait {
					wait = w
				}
				if strict {
					held[j.Case] = true
				}
				return nil
			}
			found = &j
			return stop
		})
	})
	if err != nil && !errors.Is(err, stop) {
		return nil, 0, err
	}
	return found, wait, nil
}

func (e *Engine) runJob(ctx context.Context, q Queue, job Job, handle func(context.Context, *Job) error) {
	err := handle(ctx, &job)
	if err == nil || ctx.Err() != nil {
		if e.claimer != nil {
			// A job done is deleted; one left for another round (a card
			// changed in flight) is free for any replica at once. On a
			// shutdown the lease is given back too.
			if rerr := e.claimer.ReleaseJob(context.WithoutCancel(ctx), q, job.ID, e.replica); rerr != nil {
				e.log.Warn("release job", "queue", q, "case", job.Case, "err", rerr)
			}
		}
		return
	}
	job.Attempts++
	job.LastError = err.Error()
	wait := e.backoff(job.Attempts)
	if ra := RetryAfterOf(err); ra > wait {
		wait = ra // Slack's 429: Retry-After says how long
	}
	job.NotBefore = e.now().Add(wait)
	e.log.Warn("job failed, will retry", "queue", q, "kind", job.Kind, "case", job.Case, "attempt", job.Attempts, "err", err)
	if uerr := e.store.Update(ctx, func(tx Tx) error { return tx.UpdateJob(q, job) }); uerr != nil {
		e.log.Error("reschedule job", "queue", q, "case", job.Case, "err", uerr)
	}
	if e.claimer != nil {
		// Rescheduled: free for whichever replica is there when it is due.
		if rerr := e.claimer.ReleaseJob(ctx, q, job.ID, e.replica); rerr != nil {
			e.log.Warn("release job", "queue", q, "case", job.Case, "err", rerr)
		}
	}
}

// RunPending handles every job that is due now, in the caller's goroutine,
// until no due job is left. It is for one-shot commands and tests; do not
// call it while Run is working the same store.
func (e *Engine) RunPending(ctx context.Context) error {
	handlers := map[Queue]func(context.Context, *Job) error{
		QueueWork: e.handleWork, QueueActions: e.handleAction, QueueOutbox: e.handleOutbox,
	}
	for rounds := 0; ; rounds++ {
		if rounds > 100000 {
			return errors.New("run pending: queues do not drain")
		}
		did := false
		for _, q := range Queues() {
			job, _, err := e.nextJob(ctx, q, q == QueueOutbox)
			if err != nil {
				return err
			}
			if job != nil {
				e.runJob(ctx, q, *job, handlers[q])
				did = true
			}
		}
		if !did {
			return ctx.Err()
		}
	}
}

// WaitIdle returns when every queue is empty and no job is in hand, or when
// ctx ends. Jobs waiting for a retry count as work.
func (e *Engine) WaitIdle(ctx context.Context) error {
	for {
		n, err := e.queued(ctx)
		if err != nil {
			return err
		}
		if n == 0 && e.inFlight.Load() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for queues (%d jobs left): %w", n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (e *Engine) queued(ctx context.Context) (int, error) {
	n := 0
	err := e.store.View(ctx, func(tx ReadTx) error {
		for _, q := range Queues() {
			if err := tx.Jobs(q, func(Job) error { n++; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// audit appends one record with the engine's clock.
func (e *Engine) audit(tx Tx, en AuditEntry) error {
	if en.Time.IsZero() {
		en.Time = e.now()
	}
	if _, err := tx.Audit(en); err != nil {
		return fmt.Errorf("audit %s %s: %w", en.Kind, en.Case, err)
	}
	return nil
}

func (e *Engine) enqueue(tx Tx, q Queue, j Job) error {
	j.Created = e.now()
	if err := tx.Enqueue(q, &j); err != nil {
		return fmt.Errorf("enqueue %s %s: %w", q, j.Kind, err)
	}
	return nil
}

// Record appends one audit record that belongs to no case change, such as
// an audit export or a refused one.
func (e *Engine) Record(ctx context.Context, en AuditEntry) error {
	if en.PolicyVersion == "" {
		en.PolicyVersion = e.Policy().Version()
	}
	return e.store.Update(ctx, func(tx Tx) error { return e.audit(tx, en) })
}
