package cases_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/policies"
)

// laneNotifier records each call with its channel, can hold every call to
// one channel until released, and notes how many calls to one channel were
// ever in flight at once.
type laneNotifier struct {
	mu       sync.Mutex
	calls    []string // "post:EX-000001", "reply:EX-000001", "update:…"
	byChan   map[string][]string
	inFlight map[string]int
	maxPer   int
	hold     string        // channel whose calls wait for release
	release  chan struct{} // closed: held calls go on
	n        int
	// refuse answers a 429 to every call to this channel, once per call.
	refuse string
}

func newLaneNotifier() *laneNotifier {
	return &laneNotifier{byChan: map[string][]string{}, inFlight: map[string]int{}, release: make(chan struct{})}
}

func (f *laneNotifier) call(ctx context.Context, channel, what string) error {
	f.mu.Lock()
	f.inFlight[channel]++
	f.maxPer = max(f.maxPer, f.inFlight[channel])
	hold, refuse := f.hold == channel, f.refuse == channel
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[channel]--
		f.mu.Unlock()
	}()
	if refuse {
		return &cases.Error{Kind: cases.KindTransient, Msg: "slack: 429", RetryAfter: time.Hour}
	}
	if hold {
		select {
		case <-f.release:
		case <-ctx.Done():
			return cases.Errorf(cases.KindTransient, "shut down")
		}
	}
	time.Sleep(time.Millisecond) // a call takes a while: calls that overlap show it
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what)
	f.byChan[channel] = append(f.byChan[channel], what)
	return nil
}

func (f *laneNotifier) PostCard(ctx context.Context, c *cases.Case) (cases.SlackRef, error) {
	if err := f.call(ctx, c.Channel, "post:"+c.ID); err != nil {
		return cases.SlackRef{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return cases.SlackRef{Channel: c.Channel, TS: fmt.Sprintf("1700000000.%06d", f.n)}, nil
}

func (f *laneNotifier) UpdateCard(ctx context.Context, c *cases.Case) error {
	return f.call(ctx, c.Slack.Channel, "update:"+c.ID)
}

func (f *laneNotifier) PostReply(ctx context.Context, c *cases.Case, text, _ string) error {
	return f.call(ctx, c.Slack.Channel, "reply:"+c.ID+":"+text)
}

func (f *laneNotifier) PostMessage(ctx context.Context, channel string, c *cases.Case, text string) error {
	return f.call(ctx, channel, "message:"+c.ID)
}

func (f *laneNotifier) FindReply(context.Context, *cases.Case, string) (bool, error) {
	return false, nil
}
func (f *laneNotifier) FindCard(context.Context, *cases.Case) (cases.SlackRef, bool, error) {
	return cases.SlackRef{}, false, nil
}

func (f *laneNotifier) channel(ch string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.byChan[ch]...)
}

func (f *laneNotifier) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// outboxRig is a store seeded with cases and outbox jobs, and an engine on
// it that delivers to a laneNotifier.
type outboxRig struct {
	t      *testing.T
	ctx    context.Context
	store  *bolt.Store
	notify *laneNotifier
	eng    *cases.Engine
}

func newOutboxRig(t *testing.T, pacer cases.Pacer, workers int) *outboxRig {
	t.Helper()
	st, err := bolt.Open(t.TempDir()+"/exops.db", bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pol, err := policies.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	r := &outboxRig{t: t, ctx: context.Background(), store: st, notify: newLaneNotifier()}
	clk := &clock{t: t0}
	r.eng, err = cases.New(cases.Config{Store: st, Policy: pol, Agents: fakeAgents{}, Executor: &fakeExecutor{}, Notifier: r.notify,
		Now: clk.Now, Logger: quiet, Pacer: pacer, OutboxWorkers: workers, Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// seed stores a case in channel ch (already posted when posted is true)
// and queues its jobs, in this order: kinds "card", "reply", "post".
func (r *outboxRig) seed(id, ch string, posted bool, kinds ...cases.JobKind) {
	r.t.Helper()
	err := r.store.Update(r.ctx, func(tx cases.Tx) error {
		c := &cases.Case{ID: id, Channel: ch, Status: cases.StatusOpen, Severity: cases.SeverityMedium, Version: 1, OpenedAt: t0, UpdatedAt: t0}
		if posted {
			c.Slack = cases.SlackRef{Channel: ch, TS: "1600000000.000001"}
		}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		for i, k := range kinds {
			j := &cases.Job{Kind: k, Case: id, Text: fmt.Sprintf("m%d", i), Created: t0}
			if k == cases.JobCard {
				j.Text = ""
			}
			if k == cases.JobPost {
				j.Channel = "#managers"
			}
			if err := tx.Enqueue(cases.QueueOutbox, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// run works the queues until stop is called.
func (r *outboxRig) run() (stop func()) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { r.eng.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func (r *outboxRig) waitIdle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	if err := r.eng.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// waitFor polls until cond holds or fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSlowChannelDoesNotHoldOthers: while every call to one channel hangs,
// the other channels' cards and replies are delivered.
func TestSlowChannelDoesNotHoldOthers(t *testing.T) {
	r := newOutboxRig(t, nil, 0)
	r.notify.hold = "#slow"
	r.seed("EX-000001", "#slow", false, cases.JobCard, cases.JobReply)
	for i := 2; i <= 6; i++ {
		r.seed(fmt.Sprintf("EX-%06d", i), fmt.Sprintf("#fast-%d", i), false, cases.JobCard, cases.JobReply)
	}
	stop := r.run()
	defer stop()
	waitFor(t, "the fast channels", func() bool { return len(r.notify.all()) == 10 })
	if got := r.notify.channel("#slow"); len(got) != 0 {
		t.Fatalf("held channel got %v", got)
	}
	close(r.notify.release)
	r.waitIdle()
	if got := strings.Join(r.notify.channel("#slow"), ","); got != "post:EX-000001,reply:EX-000001:m1" {
		t.Errorf("slow channel after release: %s, want its card, then its reply", got)
	}
}

// TestOutboxOrderPerCaseAndChannel: with many workers, each case's card
// goes before its replies and the replies keep their order; no channel
// ever has two calls in flight at once.
func TestOutboxOrderPerCaseAndChannel(t *testing.T) {
	r := newOutboxRig(t, nil, 8)
	for i := 1; i <= 12; i++ {
		r.seed(fmt.Sprintf("EX-%06d", i), fmt.Sprintf("#ch-%d", i%3), false, cases.JobCard, cases.JobReply, cases.JobReply, cases.JobPost, cases.JobReply)
	}
	stop := r.run()
	r.waitIdle()
	stop()
	perCase := map[string][]string{}
	for _, c := range r.notify.all() {
		parts := strings.SplitN(c, ":", 3)
		perCase[parts[1]] = append(perCase[parts[1]], c)
	}
	for i := 1; i <= 12; i++ {
		id := fmt.Sprintf("EX-%06d", i)
		want := fmt.Sprintf("post:%[1]s,reply:%[1]s:m1,reply:%[1]s:m2,message:%[1]s,reply:%[1]s:m4", id)
		if got := strings.Join(perCase[id], ","); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if r.notify.maxPer != 1 {
		t.Errorf("up to %d calls to one channel at once, want 1", r.notify.maxPer)
	}
}

// TestRateLimitedChannelDoesNotStallOthers: a 429 on one channel holds that
// channel's case for its Retry-After; every other channel goes on.
func TestRateLimitedChannelDoesNotStallOthers(t *testing.T) {
	r := newOutboxRig(t, nil, 0)
	r.notify.refuse = "#busy"
	r.seed("EX-000001", "#busy", false, cases.JobCard, cases.JobReply)
	r.seed("EX-000002", "#quiet", false, cases.JobCard, cases.JobReply)
	stop := r.run()
	defer stop()
	waitFor(t, "the quiet channel", func() bool { return len(r.notify.channel("#quiet")) == 2 })
	var next time.Time
	r.store.View(r.ctx, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueOutbox, func(j cases.Job) error {
			if j.Case == "EX-000001" && j.Kind == cases.JobCard {
				next = j.NotBefore
			}
			return nil
		})
	})
	if want := t0.Add(time.Hour); !next.Equal(want) {
		t.Errorf("the refused card is due at %s, want %s (Retry-After)", next, want)
	}
}

// fakePacer allows what allow says, and counts what it reserved.
type fakePacer struct {
	mu       sync.Mutex
	allow    func(channel string, calls []cases.ChatCall) bool
	reserved int
}

func (p *fakePacer) Reserve(channel string, calls ...cases.ChatCall) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.allow(channel, calls) {
		return 5 * time.Millisecond
	}
	p.reserved++
	return 0
}

// TestPacerHoldsOnlyWhatIsAtItsLimit: card updates at their (workspace-wide)
// limit wait, while new cards and replies in every channel go on; nothing
// is called without the pacer's leave.
func TestPacerHoldsOnlyWhatIsAtItsLimit(t *testing.T) {
	p := &fakePacer{allow: func(_ string, calls []cases.ChatCall) bool { return calls[0] != cases.CallUpdate }}
	r := newOutboxRig(t, p, 0)
	r.seed("EX-000001", "#a", true, cases.JobCard, cases.JobReply) // an update first: held, and its reply behind it
	r.seed("EX-000002", "#a", false, cases.JobCard, cases.JobReply)
	r.seed("EX-000003", "#b", false, cases.JobCard, cases.JobReply)
	stop := r.run()
	defer stop()
	waitFor(t, "the new cards and replies", func() bool { return len(r.notify.all()) == 4 })
	time.Sleep(50 * time.Millisecond)
	for _, c := range r.notify.all() {
		if strings.Contains(c, "EX-000001") {
			t.Errorf("%s went while the pacer held card updates", c)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reserved != 4 {
		t.Errorf("pacer reserved %d calls, want 4 (one per call made)", p.reserved)
	}
}

// TestSupersededCardUpdatesAreCoalesced: of a case's pending card updates
// only the newest is sent; the older ones complete without a call.
func TestSupersededCardUpdatesAreCoalesced(t *testing.T) {
	r := newOutboxRig(t, nil, 0)
	// Card jobs queued without a dedupe key (as a store written by another
	// writer could hold them): update, reply, update, reply, update.
	r.seed("EX-000001", "#a", true, cases.JobCard, cases.JobReply, cases.JobCard, cases.JobReply, cases.JobCard)
	stop := r.run()
	r.waitIdle()
	stop()
	if got, want := strings.Join(r.notify.all(), ","), "reply:EX-000001:m1,reply:EX-000001:m3,update:EX-000001"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
	if n := r.eng.Coalesced(); n != 2 {
		t.Errorf("coalesced %d card updates, want 2", n)
	}
}

// TestCardPostIsNeverCoalesced: a card not yet posted is posted before its
// replies even when a later card job of the case waits.
func TestCardPostIsNeverCoalesced(t *testing.T) {
	r := newOutboxRig(t, nil, 0)
	r.seed("EX-000001", "#a", false, cases.JobCard, cases.JobReply, cases.JobCard)
	stop := r.run()
	r.waitIdle()
	stop()
	if got, want := strings.Join(r.notify.all(), ","), "post:EX-000001,reply:EX-000001:m1,update:EX-000001"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
}

// TestChangesWhileCardWaitsMakeOneUpdate: a case that changes many times
// while its card update waits (here for the pacer) is shown by one update:
// the card job is queued once and renders the case as it is when it goes.
func TestChangesWhileCardWaitsMakeOneUpdate(t *testing.T) {
	var mu sync.Mutex
	open := false
	p := &fakePacer{allow: func(string, []cases.ChatCall) bool { mu.Lock(); defer mu.Unlock(); return open }}
	h := newHarness(t)
	eng, err := cases.New(cases.Config{Store: h.store, Policy: h.eng.Policy(), Agents: h.agents, Executor: h.exec, Notifier: h.notify,
		Now: h.clock.Now, Logger: quiet, Pacer: p, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	h.ingest(allocation(t, "e0", "SO-1", t0))
	h.drain() // card posted
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	for i := 1; i <= 10; i++ {
		h.ingest(creditHold(t, fmt.Sprintf("e%d", i), "SO-1", "C1", t0.Add(time.Duration(i)*time.Minute)))
	}
	waitFor(t, "the changes processed", func() bool {
		n := 0
		h.store.View(h.ctx, func(tx cases.ReadTx) error {
			return tx.Jobs(cases.QueueWork, func(cases.Job) error { n++; return nil })
		})
		return n == 0
	})
	mu.Lock()
	open = true
	mu.Unlock()
	wctx, wcancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer wcancel()
	if err := eng.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	updates, replies := 0, 0
	for _, s := range h.notify.all() {
		switch s.kind {
		case "update":
			updates++
		case "reply":
			replies++
		}
	}
	if updates != 1 || replies != 10 {
		t.Errorf("%d card updates and %d replies for 10 changes, want 1 update and 10 replies", updates, replies)
	}
}
