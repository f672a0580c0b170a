package connectors

import (
	"fmt"
	"sync"
	"time"

	"github.com/exops/exops/cases"
)

// Breaker stops calling a system that keeps failing, so a dead ERP costs
// each lookup one fast error instead of a timeout and retries, and the
// system gets room to recover. After Failures consecutive transient failures
// it opens for Cooldown; then one trial call is let through (half-open): a
// success closes it, a failure opens it again.
type Breaker struct {
	system   string
	failures int
	cooldown time.Duration
	now      func() time.Time

	mu       sync.Mutex
	state    BreakerState
	count    int // consecutive failures while closed
	openedAt time.Time
	probing  bool // a half-open trial call is in flight
}

// BreakerState is where a breaker stands.
type BreakerState int

const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// NewBreaker makes a closed breaker for a system. failures ≤ 0 means 5,
// cooldown ≤ 0 means 30 s, now nil means time.Now.
func NewBreaker(system string, failures int, cooldown time.Duration, now func() time.Time) *Breaker {
	if failures <= 0 {
		failures = 5
	}
	if cooldown <= 0 {
		cooldown = 30 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Breaker{system: system, failures: failures, cooldown: cooldown, now: now}
}

// Allow says whether a call may go out now; the error, when not, is
// transient and names the system.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		wait := b.openedAt.Add(b.cooldown).Sub(b.now())
		if wait > 0 {
			return cases.Errorf(cases.KindTransient, "%s unavailable (circuit open after repeated failures; next try in %s)", b.system, wait.Round(time.Second))
		}
		b.state, b.probing = BreakerHalfOpen, true
		return nil
	case BreakerHalfOpen:
		if b.probing {
			return cases.Errorf(cases.KindTransient, "%s unavailable (circuit half-open, a trial call is in flight)", b.system)
		}
		b.probing = true
	}
	return nil
}

// Success records a call the system answered (any answer that is not a
// transient failure: a 404 is a healthy system).
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.count, b.probing = BreakerClosed, 0, false
}

// Failure records a transient failure: a timeout, a refused connection, 5xx
// or 429.
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerHalfOpen:
		b.state, b.openedAt, b.probing = BreakerOpen, b.now(), false
	case BreakerClosed:
		b.count++
		if b.count >= b.failures {
			b.state, b.openedAt, b.count = BreakerOpen, b.now(), 0
		}
	}
}

// State returns where the breaker stands now (open turns half-open only
// when a call is allowed through).
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Breaker) String() string { return fmt.Sprintf("%s breaker %s", b.system, b.State()) }

// Abandon records a call that ended for the caller's own reasons (its
// context was cancelled): it says nothing about the system, but frees the
// half-open trial slot so the next call can probe.
func (b *Breaker) Abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}
