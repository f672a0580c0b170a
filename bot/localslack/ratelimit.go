package localslack

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// RateLimits make the local Slack refuse calls beyond Slack's rate limits as
// Slack does: 429 Too Many Requests with a Retry-After in whole seconds
// (https://docs.slack.dev/apis/web-api/rate-limits). A refused call posts
// nothing.
type RateLimits struct {
	// PostInterval spaces chat.postMessage calls to one channel (Slack:
	// about one message a second per channel).
	PostInterval time.Duration
	// PerMinute limits other methods for the whole workspace, such as
	// chat.update (Tier 3: 50 a minute).
	PerMinute map[string]int
	// Burst is how many calls a limit lets through at once before it
	// spaces them (Slack tolerates short bursts); default 1.
	Burst int
	// Now is the transport clock; nil means time.Now. Rate limits run on
	// real time, not on the business clock of the demo.
	Now func() time.Time
}

// SlackRateLimits are Slack's published limits for the methods exops's
// outbox calls: chat.postMessage one a second per channel; chat.update,
// conversations.history and conversations.replies Tier 3 (50 a minute).
func SlackRateLimits() RateLimits {
	return RateLimits{PostInterval: time.Second, Burst: 1, PerMinute: map[string]int{
		"chat.update": 50, "conversations.history": 50, "conversations.replies": 50,
	}}
}

// Scaled allows f times the calls in the same time (f > 1: faster), for
// benchmarks that cannot wait for Slack's real pace.
func (r RateLimits) Scaled(f float64) RateLimits {
	out := r
	out.PostInterval = time.Duration(float64(r.PostInterval) / f)
	out.PerMinute = map[string]int{}
	for m, n := range r.PerMinute {
		out.PerMinute[m] = int(math.Round(float64(n) * f))
	}
	return out
}

// limiter is the state of the enforced limits.
type limiter struct {
	limits RateLimits
	tat    map[string]time.Time // key → theoretical arrival time of the next call
	denied map[string]int       // method → calls refused
}

// EnforceRateLimits turns rate limits on (or, with a zero RateLimits, off)
// for the calls from now on.
func (l *Slack) EnforceRateLimits(r RateLimits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.PostInterval == 0 && len(r.PerMinute) == 0 {
		l.limits = nil
		return
	}
	if r.Burst < 1 {
		r.Burst = 1
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	l.limits = &limiter{limits: r, tat: map[string]time.Time{}, denied: map[string]int{}}
}

// RateLimited returns how many calls of each method were refused with 429.
func (l *Slack) RateLimited() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	if l.limits != nil {
		for m, n := range l.limits.denied {
			out[m] = n
		}
	}
	return out
}

// overLimit answers 429 and reports true when the call would exceed its
// limit; otherwise it counts the call against the limit.
func (l *Slack) overLimit(w http.ResponseWriter, r *http.Request, method string) bool {
	l.mu.Lock()
	lim := l.limits
	l.mu.Unlock()
	if lim == nil {
		return false
	}
	var key string
	var interval time.Duration
	switch {
	case method == "chat.postMessage" && lim.limits.PostInterval > 0:
		_ = r.ParseForm()
		key, interval = method+" "+r.Form.Get("channel"), lim.limits.PostInterval
	case lim.limits.PerMinute[method] > 0:
		key, interval = method, time.Minute/time.Duration(lim.limits.PerMinute[method])
	default:
		return false
	}
	l.mu.Lock()
	now := lim.limits.Now()
	tat := lim.tat[key]
	if tat.Before(now) {
		tat = now
	}
	// A generic cell rate: a call may go when it is no more than Burst-1
	// intervals ahead of the pace.
	allowAt := tat.Add(-time.Duration(lim.limits.Burst-1) * interval)
	if now.Before(allowAt) {
		lim.denied[method]++
		l.mu.Unlock()
		secs := int(math.Ceil(allowAt.Sub(now).Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	lim.tat[key] = tat.Add(interval)
	l.mu.Unlock()
	return false
}
