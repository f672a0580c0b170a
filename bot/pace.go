package bot

import (
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exops/exops/cases"
)

// Limits are the Slack Web API rate limits the outbox is paced by. Slack
// applies them per method, per workspace, per app
// (https://docs.slack.dev/apis/web-api/rate-limits):
//   - chat.postMessage: about one message a second per channel, short
//     bursts tolerated ("special" tier);
//   - chat.update: Tier 3, 50+ a minute
//     (https://api.slack.com/methods/chat.update);
//   - conversations.history and conversations.replies: Tier 3, 50+ a
//     minute for internal and Marketplace apps (commercially distributed
//     non-Marketplace apps get far less since 2025: set those lower).
//
// A zero field means Slack's figure; a negative one, no pacing of that call.
type Limits struct {
	PostInterval    time.Duration // between two messages to one channel
	UpdatePerMinute int           // chat.update, the whole workspace
	HistoryPerMin   int           // conversations.history (looking for a card)
	RepliesPerMin   int           // conversations.replies (looking for a reply)
}

// SlackLimits are Slack's published limits.
func SlackLimits() Limits {
	return Limits{PostInterval: time.Second, UpdatePerMinute: 50, HistoryPerMin: 50, RepliesPerMin: 50}
}

func (l Limits) orSlack() Limits {
	s := SlackLimits()
	if l.PostInterval == 0 {
		l.PostInterval = s.PostInterval
	}
	if l.UpdatePerMinute == 0 {
		l.UpdatePerMinute = s.UpdatePerMinute
	}
	if l.HistoryPerMin == 0 {
		l.HistoryPerMin = s.HistoryPerMin
	}
	if l.RepliesPerMin == 0 {
		l.RepliesPerMin = s.RepliesPerMin
	}
	return l
}

// Scaled divides every interval by f (f > 1 allows more calls): for tests
// and benchmarks against a local Slack whose limits are scaled the same way.
func (l Limits) Scaled(f float64) Limits {
	l = l.orSlack()
	l.PostInterval = time.Duration(float64(l.PostInterval) / f)
	scale := func(n int) int {
		if n < 0 {
			return n
		}
		return int(math.Round(float64(n) * f))
	}
	l.UpdatePerMinute, l.HistoryPerMin, l.RepliesPerMin = scale(l.UpdatePerMinute), scale(l.HistoryPerMin), scale(l.RepliesPerMin)
	return l
}

// pacer spaces the outbox's calls by Limits, per method and, for
// chat.postMessage, per channel; a 429 answer to any call blocks that
// method (and channel) for its Retry-After. It runs on transport time.
type pacer struct {
	now      func() time.Time
	interval map[string]time.Duration // method → spacing; absent: not paced

	mu    sync.Mutex
	next  map[string]time.Time // method + " " + channel → earliest next call
	alias map[string]string    // channel as configured (#name) → as Slack answers (C…)
}

func newPacer(l Limits, now func() time.Time) *pacer {
	l = l.orSlack()
	p := &pacer{now: now, interval: map[string]time.Duration{}, next: map[string]time.Time{}, alias: map[string]string{}}
	if l.PostInterval > 0 {
		p.interval[methodPost] = l.PostInterval
	}
	perMin := func(method string, n int) {
		if n > 0 {
			p.interval[method] = time.Minute / time.Duration(n)
		}
	}
	perMin(methodUpdate, l.UpdatePerMinute)
	perMin(methodHistory, l.HistoryPerMin)
	perMin(methodReplies, l.RepliesPerMin)
	return p
}

const (
	methodPost    = "chat.postMessage"
	methodUpdate  = "chat.update"
	methodHistory = "conversations.history"
	methodReplies = "conversations.replies"
)

// perChannel: the methods Slack limits per channel; the others are limited
// for the whole workspace.
var perChannel = map[string]bool{methodPost: true}

var callMethod = map[cases.ChatCall]string{
	cases.CallPost: methodPost, cases.CallUpdate: methodUpdate,
	cases.CallFindCard: methodHistory, cases.CallFindReply: methodReplies,
}

func (p *pacer) key(method, channel string) string {
	if !perChannel[method] {
		return method
	}
	if id, ok := p.alias[channel]; ok {
		channel = id
	}
	return method + " " + channel
}

// Reserve implements cases.Pacer.
func (p *pacer) Reserve(channel string, calls ...cases.ChatCall) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var wait time.Duration
	for _, c := range calls {
		m, ok := callMethod[c]
		if !ok {
			continue
		}
		if next := p.next[p.key(m, channel)]; next.After(now) {
			wait = max(wait, next.Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, c := range calls {
		m := callMethod[c]
		if iv, ok := p.interval[m]; ok {
			p.next[p.key(m, channel)] = now.Add(iv)
		}
	}
	return 0
}

// learn records that Slack answers channel name as id, so that the pacing
// of the card (posted to the name) and of its thread (posted to the id)
// is one.
func (p *pacer) learn(name, id string) {
	if name == "" || id == "" || name == id {
		return
	}
	p.mu.Lock()
	p.alias[name] = id
	p.mu.Unlock()
}

// block holds method (on channel, when Slack limits it per channel) for d.
func (p *pacer) block(method, channel string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.key(method, channel)
	if until := p.now().Add(d); until.After(p.next[k]) {
		p.next[k] = until
	}
}

// watch is the HTTP transport that tells the pacer of every 429 Slack
// answers, whichever call made it (the outbox, the digest, an answer to a
// person), so the outbox holds that method and channel for the Retry-After.
type watch struct {
	next  http.RoundTripper
	pacer *pacer
}

func (w watch) RoundTrip(r *http.Request) (*http.Response, error) {
	var channel string
	if r.GetBody != nil && perChannel[path.Base(r.URL.Path)] {
		if body, err := r.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(body, 1<<20))
			body.Close()
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				if v, err := url.ParseQuery(string(data)); err == nil {
					channel = v.Get("channel")
				}
			}
		}
	}
	resp, err := w.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		wait := time.Second // Slack always sends Retry-After; a second if not
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		w.pacer.block(path.Base(r.URL.Path), channel, wait)
	}
	return resp, err
}

// Reserve implements cases.Pacer with Slack's limits (Config.Limits).
func (n *Notifier) Reserve(channel string, calls ...cases.ChatCall) time.Duration {
	return n.pace.Reserve(channel, calls...)
}

var _ cases.Pacer = (*Notifier)(nil)
