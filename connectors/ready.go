package connectors

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ReadyCheck says whether one dependency (the store, NATS) can be used now.
type ReadyCheck func(ctx context.Context) error

// Readiness is the handler of GET /readyz: 200 when every check passes, else
// 503 with Retry-After, naming the failing checks. /healthz stays liveness:
// a replica whose store is down is alive but should get no traffic.
type Readiness struct {
	Checks     map[string]ReadyCheck
	Timeout    time.Duration // per check; default 2s
	RetryAfter time.Duration // what a 503 asks for; default 5s
	Logger     *slog.Logger
}

type readyAnswer struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name → "ok" or "unavailable"
}

func (rd *Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	names := make([]string, 0, len(rd.Checks))
	for n := range rd.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = rd.Checks[n](ctx)
		}()
	}
	wg.Wait()
	ans := readyAnswer{Ready: true, Checks: map[string]string{}}
	for i, n := range names {
		ans.Checks[n] = "ok"
		if errs[i] != nil {
			ans.Ready = false
			// The reason goes to the log, not the answer: it may name
			// internal hosts, and /readyz is often reachable by more
			// than the operators.
			ans.Checks[n] = "unavailable"
			logger := rd.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("not ready", "check", n, "err", errs[i])
		}
	}
	if !ans.Ready {
		ra := rd.RetryAfter
		if ra <= 0 {
			ra = 5 * time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, ans)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}
