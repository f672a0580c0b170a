package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/policies"
)

// quiet keeps expected retries out of the test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeAgents proposes one action per family, "act_<family>", with the
// confidence set for that family (0.7 if none).
type fakeAgents struct{ conf map[cases.Family]float64 }

func (a fakeAgents) Summarize(_ context.Context, c *cases.Case) (string, string, error) {
	return fmt.Sprintf("%s has %d events", c.ID, len(c.Events)), "fake", nil
}

func (a fakeAgents) Recommend(_ context.Context, c *cases.Case) ([]cases.Recommendation, error) {
	var out []cases.Recommendation
	for _, f := range c.Families {
		conf, ok := a.conf[f]
		if !ok {
			conf = 0.7
		}
		out = append(out, cases.Recommendation{Action: "act_" + string(f), Family: f, Title: "Fix " + f.Label(), Confidence: conf, By: "fake"})
	}
	return out, nil
}

type sent struct {
	kind, caseID, text string
}

// fakeNotifier records what would reach Slack; failN makes the next n calls
// fail with a transient error, as an outage would.
type fakeNotifier struct {
	mu    sync.Mutex
	sent  []sent
	n     int
	failN int
	// loseNext: the next card is posted, but the answer is lost on the way
	// back, as when exops dies between Slack's answer and the commit.
	loseNext bool
	cards    map[string]cases.SlackRef
	// loseAnswers: that many replies are posted, but their answers lost.
	loseAnswers int
	replies     map[string]bool // reply keys posted
	// retryAfter: the next call is refused with this Retry-After (a 429).
	retryAfter time.Duration
}

func (f *fakeNotifier) FindCard(_ context.Context, c *cases.Case) (cases.SlackRef, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref, ok := f.cards[c.ID]
	return ref, ok && ref.Channel == c.Channel, nil // Slack looks in one channel
}

func (f *fakeNotifier) fail() error {
	if f.retryAfter > 0 {
		ra := f.retryAfter
		f.retryAfter = 0
		return &cases.Error{Kind: cases.KindTransient, Msg: "slack: 429", RetryAfter: ra}
	}
	if f.failN > 0 {
		f.failN--
		return &cases.Error{Kind: cases.KindTransient, Msg: "slack: 503"}
	}
	return nil
}

func (f *fakeNotifier) PostCard(_ context.Context, c *cases.Case) (cases.SlackRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return cases.SlackRef{}, err
	}
	f.n++
	f.sent = append(f.sent, sent{"card", c.ID, ""})
	ref := cases.SlackRef{Channel: c.Channel, TS: fmt.Sprintf("1700000000.%06d", f.n)}
	if f.cards == nil {
		f.cards = map[string]cases.SlackRef{}
	}
	f.cards[c.ID] = ref
	if f.loseNext {
		f.loseNext = false
		return cases.SlackRef{}, &cases.Error{Kind: cases.KindTransient, Msg: "connection reset after the post"}
	}
	return ref, nil
}

func (f *fakeNotifier) UpdateCard(_ context.Context, c *cases.Case) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	f.sent = append(f.sent, sent{"update", c.ID, string(c.Status)})
	return nil
}

func (f *fakeNotifier) PostReply(_ context.Context, c *cases.Case, text, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	f.sent = append(f.sent, sent{"reply", c.ID, text})
	if f.replies == nil {
		f.replies = map[string]bool{}
	}
	f.replies[key] = true
	if f.loseAnswers > 0 {
		// Slack took it, but the answer never arrived.
		f.loseAnswers--
		return cases.Errorf(cases.KindTransient, "lost answer")
	}
	return nil
}

func (f *fakeNotifier) FindReply(_ context.Context, c *cases.Case, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replies[key], nil
}

func (f *fakeNotifier) all() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

func (f *fakeNotifier) PostMessage(_ context.Context, channel string, c *cases.Case, text, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	f.sent = append(f.sent, sent{"post:" + channel, c.ID, text})
	if f.replies == nil {
		f.replies = map[string]bool{}
	}
	f.replies[channel+" "+key] = true
	if f.loseAnswers > 0 {
		f.loseAnswers--
		return cases.Errorf(cases.KindTransient, "lost answer")
	}
	return nil
}

func (f *fakeNotifier) FindMessage(_ context.Context, channel string, c *cases.Case, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replies[channel+" "+key], nil
}

type fakeExecutor struct {
	mu   sync.Mutex
	runs []cases.ActionRequest
	err  error
}

func (f *fakeExecutor) Execute(_ context.Context, req cases.ActionRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.runs = append(f.runs, req)
	return "done " + req.Action, nil
}

const testPolicy = `
version: test-1
correlation_window: 72h
default_team: ops
teams:
  ops: {channel: "#ops", approvers: [U1, U2]}
  ap: {channel: "#ap", approvers: [UAP1, UAP2]}
routing:
  - {family: price_discrepancy, team: ap}
actions:
  act_price_discrepancy: {auto_at: 0.9, approve_at: 0.5}
  act_credit_hold: {approve_at: 0.5, approvals: 2}
  act_allocation_conflict: {approve_at: 0.5}
  act_supplier_delay: {approve_at: 0.5}
  act_inventory_variance: {forbidden: true}
`

type harness struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock
	store  *bolt.Store
	eng    *cases.Engine
	notify *fakeNotifier
	exec   *fakeExecutor
	agents fakeAgents
}

func newHarness(t *testing.T) *harness {
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
	h := &harness{t: t, ctx: context.Background(), clock: &clock{t: t0}, store: st, notify: &fakeNotifier{}, exec: &fakeExecutor{},
		agents: fakeAgents{conf: map[cases.Family]float64{}}}
	h.eng, err = cases.New(cases.Config{Store: st, Policy: pol, Agents: h.agents, Executor: h.exec, Notifier: h.notify,
		Now: h.clock.Now, Backoff: func(int) time.Duration { return 0 }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// event builds a validated event of type typ at time at.
func event(t *testing.T, id, typ string, at time.Time, data map[string]any) cases.Event {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/erp", "type": typ, "time": at.Format(time.RFC3339), "data": data})
	ev, err := cases.ParseEvent(b)
	if err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	return ev
}

func creditHold(t *testing.T, id, order, customer string, at time.Time) cases.Event {
	return event(t, id, "order.credit_hold", at, map[string]any{"order": order, "customer": customer, "order_value": 1000})
}

func allocation(t *testing.T, id, order string, at time.Time) cases.Event {
	return event(t, id, "order.allocation_conflict", at, map[string]any{"order": order, "customer": "C1", "sku": "S1",
		"quantity": 10, "allocations": []any{map[string]any{"warehouse": "A", "quantity": 5}, map[string]any{"warehouse": "B", "quantity": 5}}})
}

func delay(t *testing.T, id, shipment string, orders []string, at time.Time) cases.Event {
	return event(t, id, "shipment.delayed", at, map[string]any{"shipment": shipment, "supplier": "Sup", "original_eta": "2026-11-27",
		"new_eta": "2026-11-29", "orders": orders})
}

func priceVariance(t *testing.T, id, invoice, po string, at time.Time) cases.Event {
	return event(t, id, "invoice.price_variance", at, map[string]any{"invoice": invoice, "po": po, "supplier": "Sup", "sku": "S1",
		"quantity": 10, "invoice_unit_price": 10.05, "po_unit_price": 10})
}

func TestFullCaseTakesNoMoreEvents(t *testing.T) {
	h := newHarness(t)
	eng, err := cases.New(cases.Config{Store: h.store, Policy: h.eng.Policy(), Agents: h.agents, Executor: h.exec, Notifier: h.notify,
		Now: h.clock.Now, MaxCaseEvents: 3})
	if err != nil {
		t.Fatal(err)
	}
	var last cases.IngestResult
	for i := 0; i < 4; i++ {
		res, err := eng.Ingest(h.ctx, []cases.Event{creditHold(t, fmt.Sprintf("e%d", i), "SO-1", "C1", t0.Add(time.Duration(i)*time.Minute))})
		if err != nil {
			t.Fatal(err)
		}
		last = res[0]
	}
	if last.Case != "EX-000002" || last.Outcome != "opened" {
		t.Fatalf("fourth event on a case capped at 3: %+v, want a new case", last)
	}
}

func (h *harness) ingest(evs ...cases.Event) []cases.IngestResult {
	h.t.Helper()
	res, err := h.eng.Ingest(h.ctx, evs)
	if err != nil {
		h.t.Fatalf("ingest: %v", err)
	}
	return res
}

func (h *harness) drain() {
	h.t.Helper()
	if err := h.eng.RunPending(h.ctx); err != nil {
		h.t.Fatalf("run pending: %v", err)
	}
}

func (h *harness) caseOf(id string) *cases.Case {
	h.t.Helper()
	var c *cases.Case
	if err := h.store.View(h.ctx, func(tx cases.ReadTx) error {
		var err error
		c, err = tx.Case(id)
		return err
	}); err != nil {
		h.t.Fatalf("case %s: %v", id, err)
	}
	return c
}

func (h *harness) auditKinds(caseID string) []string {
	h.t.Helper()
	var kinds []string
	if err := h.store.ForEachRecord(h.ctx, 1, func(r audit.Record) error {
		if r.Case == caseID {
			kinds = append(kinds, r.Kind)
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return kinds
}

func (h *harness) auditCount() int {
	h.t.Helper()
	res, err := audit.Verify(h.ctx, h.store)
	if err != nil {
		h.t.Fatalf("audit chain: %v", err)
	}
	return res.Checked
}

func TestCorrelation(t *testing.T) {
	type step struct {
		after time.Duration // clock and event time move on by this much first
		make  func(t *testing.T, at time.Time) cases.Event
		want  string // case id the event lands in
		out   string // outcome
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"events on one order join one case", []step{
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e1", "SO-1", at) }, "EX-000001", "opened"},
			{time.Hour, func(t *testing.T, at time.Time) cases.Event { return creditHold(t, "e2", "SO-1", "C1", at) }, "EX-000001", "joined"},
			{time.Hour, func(t *testing.T, at time.Time) cases.Event { return delay(t, "e3", "ASN-1", []string{"SO-1"}, at) }, "EX-000001", "joined"},
		}},
		{"unrelated events open separate cases", []step{
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e1", "SO-1", at) }, "EX-000001", "opened"},
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e2", "SO-2", at) }, "EX-000002", "opened"},
		}},
		{"a key seen again after the window opens a new case", []step{
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e1", "SO-1", at) }, "EX-000001", "opened"},
			{72*time.Hour + time.Second, func(t *testing.T, at time.Time) cases.Event { return creditHold(t, "e2", "SO-1", "C1", at) }, "EX-000002", "opened"},
		}},
		{"a key seen again just inside the window joins", []step{
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e1", "SO-1", at) }, "EX-000001", "opened"},
			{72 * time.Hour, func(t *testing.T, at time.Time) cases.Event { return creditHold(t, "e2", "SO-1", "C1", at) }, "EX-000001", "joined"},
		}},
		{"an event linking two cases merges them into the older", []step{
			{0, func(t *testing.T, at time.Time) cases.Event { return allocation(t, "e1", "SO-1", at) }, "EX-000001", "opened"},
			{0, func(t *testing.T, at time.Time) cases.Event { return delay(t, "e2", "ASN-1", []string{"SO-9"}, at) }, "EX-000002", "opened"},
			{time.Hour, func(t *testing.T, at time.Time) cases.Event { return delay(t, "e3", "ASN-1", []string{"SO-1"}, at) }, "EX-000001", "merged"},
			// the merged case's keys now lead to the survivor
			{time.Hour, func(t *testing.T, at time.Time) cases.Event { return creditHold(t, "e4", "SO-9", "C9", at) }, "EX-000001", "joined"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for i, s := range tt.steps {
				h.clock.Add(s.after)
				res := h.ingest(s.make(t, h.clock.Now()))
				if res[0].Case != s.want || res[0].Outcome != s.out {
					t.Fatalf("step %d: got %s %s, want %s %s", i, res[0].Outcome, res[0].Case, s.out, s.want)
				}
			}
			h.auditCount()
		})
	}
}

func TestMergeMarksLoserAndAuditsBoth(t *testing.T) {
	h := newHarness(t)
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.ingest(delay(t, "e2", "ASN-1", []string{"SO-9"}, t0))
	h.drain()
	res := h.ingest(delay(t, "e3", "ASN-1", []string{"SO-1"}, t0.Add(time.Hour)))
	if res[0].Case != "EX-000001" || len(res[0].Merged) != 1 || res[0].Merged[0] != "EX-000002" {
		t.Fatalf("result %+v: want EX-000002 merged into EX-000001", res[0])
	}
	h.drain()
	loser, winner := h.caseOf("EX-000002"), h.caseOf("EX-000001")
	if loser.Status != cases.StatusMerged || loser.MergedInto != "EX-000001" {
		t.Errorf("loser status %s into %q", loser.Status, loser.MergedInto)
	}
	if len(winner.Events) != 3 || !winner.HasFamily(cases.FamilySupplierDelay) || !winner.HasFamily(cases.FamilyAllocationConflict) {
		t.Errorf("winner has %d events, families %v", len(winner.Events), winner.Families)
	}
	for _, r := range loser.Recommendations {
		if r.State != cases.RecSuperseded {
			t.Errorf("loser recommendation %s is %s, want superseded", r.ID, r.State)
		}
	}
	for _, id := range []string{"EX-000001", "EX-000002"} {
		if !contains(h.auditKinds(id), cases.AuditCaseMerged) {
			t.Errorf("%s has no case_merged audit record: %v", id, h.auditKinds(id))
		}
	}
	// the loser's card says where it went; the survivor's thread says what it absorbed
	var loserUpdated, winnerTold bool
	for _, s := range h.notify.all() {
		if s.kind == "update" && s.caseID == "EX-000002" && s.text == "merged" {
			loserUpdated = true
		}
		if s.kind == "reply" && s.caseID == "EX-000001" && strings.Contains(s.text, "EX-000002") {
			winnerTold = true
		}
	}
	if !loserUpdated || !winnerTold {
		t.Errorf("loser card updated %v, survivor told %v; sent %+v", loserUpdated, winnerTold, h.notify.all())
	}
}

func TestResolvedCaseIsNotJoined(t *testing.T) {
	h := newHarness(t)
	h.agents.conf[cases.FamilyPriceDiscrepancy] = 0.95 // auto
	res := h.ingest(priceVariance(t, "e1", "INV-1", "PO-1", t0))
	h.drain()
	if c := h.caseOf(res[0].Case); c.Status != cases.StatusResolved {
		t.Fatalf("case %s is %s, want resolved by auto action", c.ID, c.Status)
	}
	res2 := h.ingest(priceVariance(t, "e2", "INV-1", "PO-1", t0.Add(time.Hour)))
	if res2[0].Case == res[0].Case || res2[0].Outcome != "opened" {
		t.Fatalf("event after resolution went to %s (%s), want a new case", res2[0].Case, res2[0].Outcome)
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	h := newHarness(t)
	first := h.ingest(allocation(t, "e1", "SO-1", t0))
	h.drain()
	records := h.auditCount()
	again := h.ingest(allocation(t, "e1", "SO-1", t0))
	if again[0].Case != first[0].Case || again[0].Outcome != first[0].Outcome || !again[0].Duplicate {
		t.Fatalf("retry answered %+v, first was %+v", again[0], first[0])
	}
	h.drain()
	if n := h.auditCount(); n != records {
		t.Errorf("retry wrote %d audit records", n-records)
	}
	if c := h.caseOf(first[0].Case); len(c.Events) != 1 {
		t.Errorf("retry added an event: %d", len(c.Events))
	}
	// the same id with other content is refused and writes nothing, even
	// when it travels in a batch with a new event
	changed := allocation(t, "e1", "SO-2", t0)
	_, err := h.eng.Ingest(h.ctx, []cases.Event{allocation(t, "e9", "SO-3", t0), changed})
	if cases.KindOf(err) != cases.KindConflict {
		t.Fatalf("reused id: got %v, want a conflict", err)
	}
	if n := h.auditCount(); n != records {
		t.Errorf("refused batch wrote %d audit records", n-records)
	}
	var n int
	h.store.View(h.ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(*cases.Case) error { n++; return nil })
	})
	if n != 1 {
		t.Errorf("refused batch left %d cases, want 1", n)
	}
}

func TestDuplicateInOneBatch(t *testing.T) {
	h := newHarness(t)
	res := h.ingest(allocation(t, "e1", "SO-1", t0), allocation(t, "e1", "SO-1", t0))
	if res[0].Case != res[1].Case || !res[1].Duplicate {
		t.Fatalf("results %+v", res)
	}
}

func TestVerdictsFollowPolicy(t *testing.T) {
	tests := []struct {
		name   string
		family cases.Family
		conf   float64
		make   func(t *testing.T) cases.Event
		state  cases.RecState
		want   cases.Verdict
	}{
		{"auto at threshold runs alone", cases.FamilyPriceDiscrepancy, 0.9, func(t *testing.T) cases.Event { return priceVariance(t, "e", "I", "P", t0) }, cases.RecExecuted, cases.VerdictAuto},
		{"below auto asks approvers", cases.FamilyPriceDiscrepancy, 0.89, func(t *testing.T) cases.Event { return priceVariance(t, "e", "I", "P", t0) }, cases.RecPending, cases.VerdictApprove},
		{"below approve only shows", cases.FamilyPriceDiscrepancy, 0.49, func(t *testing.T) cases.Event { return priceVariance(t, "e", "I", "P", t0) }, cases.RecPending, cases.VerdictRecommend},
		{"no auto_at never runs alone", cases.FamilyAllocationConflict, 1, func(t *testing.T) cases.Event { return allocation(t, "e", "SO", t0) }, cases.RecPending, cases.VerdictApprove},
		{"forbidden", cases.FamilyInventoryVariance, 1, func(t *testing.T) cases.Event {
			return event(t, "e", "inventory.mismatch", t0, map[string]any{"sku": "S", "warehouse": "W", "system_quantity": 10, "counted_quantity": 9})
		}, cases.RecPending, cases.VerdictDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.agents.conf[tt.family] = tt.conf
			res := h.ingest(tt.make(t))
			h.drain()
			c := h.caseOf(res[0].Case)
			if len(c.Recommendations) != 1 {
				t.Fatalf("%d recommendations", len(c.Recommendations))
			}
			r := c.Recommendations[0]
			if r.Verdict != tt.want || r.State != tt.state {
				t.Errorf("verdict %s state %s, want %s %s (%s)", r.Verdict, r.State, tt.want, tt.state, r.VerdictReason)
			}
			if r.PolicyVersion == "" {
				t.Error("verdict names no policy version")
			}
			ran := len(h.exec.runs) > 0
			if ran != (tt.want == cases.VerdictAuto) {
				t.Errorf("executed %v with verdict %s", ran, r.Verdict)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	setup := func(t *testing.T) (*harness, string) {
		h := newHarness(t)
		h.agents.conf[cases.FamilyPriceDiscrepancy] = 0.7 // approve by ap team
		res := h.ingest(priceVariance(t, "e1", "INV-1", "PO-1", t0))
		h.drain()
		return h, res[0].Case
	}
	t.Run("non-approver is refused, audited, nothing changes", func(t *testing.T) {
		h, id := setup(t)
		_, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "UINTERN", Choice: cases.ChoiceApprove})
		if cases.KindOf(err) != cases.KindDenied || !strings.Contains(err.Error(), "<@UAP1>") {
			t.Fatalf("got %v, want a denial naming the approvers", err)
		}
		h.drain()
		c := h.caseOf(id)
		if c.Recommendations[0].State != cases.RecPending || len(c.Decisions) != 0 || len(h.exec.runs) != 0 {
			t.Errorf("refused click changed the case: %+v", c.Recommendations[0])
		}
		if !contains(h.auditKinds(id), cases.AuditRefused) {
			t.Errorf("refusal not audited: %v", h.auditKinds(id))
		}
	})
	t.Run("approver approves, action runs once, case resolves", func(t *testing.T) {
		h, id := setup(t)
		res, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "UAP1", Choice: cases.ChoiceApprove})
		if err != nil || res.Message == "" {
			t.Fatalf("decide: %v %q", err, res.Message)
		}
		h.drain()
		c := h.caseOf(id)
		if c.Status != cases.StatusResolved || c.Recommendations[0].State != cases.RecExecuted || len(h.exec.runs) != 1 {
			t.Fatalf("status %s, rec %s, runs %d", c.Status, c.Recommendations[0].State, len(h.exec.runs))
		}
		if h.exec.runs[0].Key != id+"/r1" {
			t.Errorf("idempotency key %q", h.exec.runs[0].Key)
		}
		kinds := h.auditKinds(id)
		for _, k := range []string{cases.AuditDecision, cases.AuditActionExecuted, cases.AuditCaseResolved} {
			if !contains(kinds, k) {
				t.Errorf("no %s audit record: %v", k, kinds)
			}
		}
		// a second click on a settled recommendation changes nothing
		if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "UAP2", Choice: cases.ChoiceApprove}); cases.KindOf(err) != cases.KindConflict {
			t.Errorf("late click: %v, want conflict", err)
		}
		h.drain()
		if len(h.exec.runs) != 1 {
			t.Errorf("action ran %d times", len(h.exec.runs))
		}
	})
	t.Run("reject settles without running", func(t *testing.T) {
		h, id := setup(t)
		if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "UAP2", Choice: cases.ChoiceReject, Reason: "supplier agreed new price"}); err != nil {
			t.Fatal(err)
		}
		h.drain()
		c := h.caseOf(id)
		if c.Recommendations[0].State != cases.RecRejected || len(h.exec.runs) != 0 || c.Status != cases.StatusOpen {
			t.Errorf("rec %s, runs %d, status %s", c.Recommendations[0].State, len(h.exec.runs), c.Status)
		}
	})
	t.Run("unknown case and recommendation", func(t *testing.T) {
		h, id := setup(t)
		if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: "EX-999999", Recommendation: "r1", Actor: "UAP1", Choice: cases.ChoiceApprove}); cases.KindOf(err) != cases.KindNotFound {
			t.Errorf("unknown case: %v", err)
		}
		if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r9", Actor: "UAP1", Choice: cases.ChoiceApprove}); cases.KindOf(err) != cases.KindNotFound {
			t.Errorf("unknown recommendation: %v", err)
		}
	})
}

func TestTwoApprovalsCountEachPersonOnce(t *testing.T) {
	h := newHarness(t)
	h.agents.conf[cases.FamilyCreditHold] = 0.8
	res := h.ingest(creditHold(t, "e1", "SO-1", "C1", t0))
	h.drain()
	id := res[0].Case
	if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "U1", Choice: cases.ChoiceApprove}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "U1", Choice: cases.ChoiceApprove}); cases.KindOf(err) != cases.KindConflict {
		t.Fatalf("second click by the same person: %v, want conflict", err)
	}
	h.drain()
	if len(h.exec.runs) != 0 {
		t.Fatal("ran after one of two approvals")
	}
	if _, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: "r1", Actor: "U2", Choice: cases.ChoiceApprove}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if len(h.exec.runs) != 1 {
		t.Fatalf("ran %d times after two approvals", len(h.exec.runs))
	}
}

func TestOutboxSurvivesOutageInOrder(t *testing.T) {
	h := newHarness(t)
	h.notify.failN = 3
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.drain() // the card fails three times, then lands
	h.ingest(creditHold(t, "e2", "SO-1", "C1", t0.Add(time.Minute)))
	h.drain()
	got := h.notify.all()
	cards := 0
	for _, s := range got {
		if s.kind == "card" {
			cards++
		}
	}
	if cards != 1 {
		t.Fatalf("card posted %d times: %+v", cards, got)
	}
	if got[0].kind != "card" {
		t.Errorf("first message is %s, want the card", got[0].kind)
	}
	var reply bool
	for _, s := range got {
		if s.kind == "reply" && strings.Contains(s.text, "Credit hold on order SO-1") {
			reply = true
		}
	}
	if !reply {
		t.Errorf("the second event was not told in the thread: %+v", got)
	}
}

// TestCardIsNotPostedTwice: Slack took the card but its answer was lost;
// the retry finds the card by its metadata instead of posting another.
func TestCardIsNotPostedTwice(t *testing.T) {
	h := newHarness(t)
	h.notify.loseNext = true
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()
	cards, updates := 0, 0
	for _, s := range h.notify.all() {
		switch s.kind {
		case "card":
			cards++
		case "update":
			updates++
		}
	}
	if cards != 1 || updates < 1 {
		t.Fatalf("%d cards posted, %d updates: %+v", cards, updates, h.notify.all())
	}
	if c := h.caseOf(id); c.Slack.TS != "1700000000.000001" {
		t.Errorf("card ts %q not recorded from the found card", c.Slack.TS)
	}
}

// TestCardIsNotPostedTwiceAfterRerouting: Slack took the card in #ops but
// its answer was lost, and before the retry a credit hold joined the case
// and routed it to #ap. The retry looks for the card where it went, finds
// it, and posts no second card in #ap.
func TestCardIsNotPostedTwiceAfterRerouting(t *testing.T) {
	h := newHarness(t)
	pol, err := policies.Parse([]byte(strings.Replace(testPolicy, "{family: price_discrepancy, team: ap}", "{family: credit_hold, team: ap}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	h.eng, err = cases.New(cases.Config{Store: h.store, Policy: pol, Agents: h.agents, Executor: h.exec, Notifier: h.notify,
		Now: h.clock.Now, Backoff: func(int) time.Duration { return time.Minute }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h.notify.loseNext = true
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain() // the card is posted in #ops, its answer lost; the retry waits a minute
	h.ingest(creditHold(t, "e2", "SO-1", "C1", t0.Add(time.Second)))
	h.drain()
	if c := h.caseOf(id); c.Channel != "#ap" || c.Slack.TS != "" {
		t.Fatalf("case routed to %q with card %q, want #ap and no card recorded yet", c.Channel, c.Slack.TS)
	}
	h.clock.Add(2 * time.Minute)
	h.drain()
	cards := 0
	for _, s := range h.notify.all() {
		if s.kind == "card" {
			cards++
		}
	}
	if cards != 1 {
		t.Fatalf("%d cards posted: %+v", cards, h.notify.all())
	}
	if c := h.caseOf(id); c.Slack.Channel != "#ops" || c.Slack.TS != "1700000000.000001" {
		t.Errorf("card recorded at %+v, want the one found in #ops", c.Slack)
	}
}

// TestReplyIsNotPostedTwice: Slack took thread replies but their answers
// were lost; each retry finds its reply by key in the thread instead of
// posting it again.
func TestReplyIsNotPostedTwice(t *testing.T) {
	h := newHarness(t)
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.drain()
	h.notify.loseAnswers = 2
	h.ingest(creditHold(t, "e2", "SO-1", "C1", t0.Add(time.Minute)))
	h.drain()
	replies := map[string]int{}
	for _, s := range h.notify.all() {
		if s.kind == "reply" {
			replies[s.text]++
		}
	}
	if len(replies) == 0 {
		t.Fatal("no reply was posted")
	}
	for text, n := range replies {
		if n != 1 {
			t.Errorf("reply %q posted %d times", text, n)
		}
	}
}

// TestOutboxOrderIsPerCase: one case's thread waiting for a retry does not
// hold back another case's messages, and its own stay in order.
func TestOutboxOrderIsPerCase(t *testing.T) {
	h := newHarness(t)
	eng, err := cases.New(cases.Config{Store: h.store, Policy: h.eng.Policy(), Agents: h.agents, Executor: h.exec, Notifier: h.notify,
		Now: h.clock.Now, Logger: quiet, Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.drain()
	h.notify.failN = 1 // the next Slack call fails: EX-000001's thread reply
	h.ingest(creditHold(t, "e2", "SO-1", "C1", t0.Add(time.Minute)), allocation(t, "e3", "SO-2", t0.Add(time.Minute)))
	h.drain()
	order := func() string {
		var out []string
		for _, s := range h.notify.all() {
			out = append(out, s.kind+":"+s.caseID)
		}
		return strings.Join(out, ",")
	}
	if got := order(); got != "card:EX-000001,card:EX-000002" {
		t.Fatalf("while EX-000001 waits an hour for its retry: %s, want EX-000002's card through and nothing more of EX-000001", got)
	}
	h.clock.Add(time.Hour)
	h.drain()
	if got := order(); got != "card:EX-000001,card:EX-000002,reply:EX-000001,update:EX-000001" {
		t.Errorf("after the retry: %s, want EX-000001's reply before its card update", got)
	}
}

// TestRetryAfterIsObeyed: a 429's Retry-After sets the next try, not the
// (shorter) backoff.
func TestRetryAfterIsObeyed(t *testing.T) {
	h := newHarness(t)
	h.notify.failN = 0
	h.notify.retryAfter = 30 * time.Second
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.drain()
	var next time.Time
	h.store.View(h.ctx, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueOutbox, func(j cases.Job) error { next = j.NotBefore; return nil })
	})
	if want := t0.Add(30 * time.Second); !next.Equal(want) {
		t.Fatalf("card retried at %s, want %s (Retry-After)", next, want)
	}
	h.clock.Add(30 * time.Second)
	h.drain()
	if len(h.notify.all()) != 1 {
		t.Errorf("sent %+v after the wait", h.notify.all())
	}
}

func TestFailedActionGoesBackToPeople(t *testing.T) {
	h := newHarness(t)
	h.agents.conf[cases.FamilyPriceDiscrepancy] = 0.95
	h.exec.err = cases.Errorf(cases.KindConflict, "ERP: invoice already paid")
	res := h.ingest(priceVariance(t, "e1", "INV-1", "PO-1", t0))
	h.drain()
	c := h.caseOf(res[0].Case)
	if c.Status != cases.StatusOpen || c.Recommendations[0].State != cases.RecFailed {
		t.Fatalf("status %s, rec %s", c.Status, c.Recommendations[0].State)
	}
	if !contains(h.auditKinds(c.ID), cases.AuditActionFailed) {
		t.Errorf("failure not audited: %v", h.auditKinds(c.ID))
	}
}

func TestSeverityAndRouting(t *testing.T) {
	h := newHarness(t)
	big := event(t, "e1", "order.credit_hold", t0, map[string]any{"order": "SO-1", "customer": "C1", "order_value": 60000})
	res := h.ingest(big, priceVariance(t, "e2", "INV-1", "PO-1", t0))
	c1, c2 := h.caseOf(res[0].Case), h.caseOf(res[1].Case)
	if c1.Severity != cases.SeverityHigh || c1.Priority != "P1" {
		t.Errorf("60,000 order: severity %s priority %s, want high P1", c1.Severity, c1.Priority)
	}
	if c1.Channel != "#ops" || c2.Channel != "#ap" {
		t.Errorf("channels %s %s", c1.Channel, c2.Channel)
	}
	if want := t0.Add(8 * time.Hour); !c1.SLADue.Equal(want) {
		t.Errorf("SLA due %s, want %s", c1.SLADue, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestReplyOfCaseMergedBeforeItsCardIsDropped: a case merged into another
// before its card was posted never gets a thread, so a reply queued for it
// is dropped instead of waiting for a card forever (and holding the queue).
func TestReplyOfCaseMergedBeforeItsCardIsDropped(t *testing.T) {
	h := newHarness(t)
	h.ingest(allocation(t, "e1", "SO-1", t0))
	h.ingest(delay(t, "e2", "ASN-1", []string{"SO-9"}, t0))
	h.ingest(delay(t, "e3", "ASN-1", []string{"SO-1"}, t0.Add(time.Hour))) // merges EX-000002 into EX-000001
	if err := h.store.Update(h.ctx, func(tx cases.Tx) error {
		return tx.Enqueue(cases.QueueOutbox, &cases.Job{Kind: cases.JobReply, Case: "EX-000002", Text: "Reminder: nobody has acted yet"})
	}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if c := h.caseOf("EX-000002"); c.Status != cases.StatusMerged || c.Slack.TS != "" {
		t.Fatalf("EX-000002: status %s, card %q; want merged without a card", c.Status, c.Slack.TS)
	}
	left := 0
	h.store.View(h.ctx, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueOutbox, func(j cases.Job) error { left++; return nil })
	})
	if left != 0 {
		t.Errorf("%d outbox jobs left; the merged case's reply should be dropped", left)
	}
	for _, s := range h.notify.all() {
		if s.kind == "reply" && s.caseID == "EX-000002" {
			t.Errorf("a reply was posted for the merged case: %+v", s)
		}
	}
}

// TestReplyAheadOfItsCardGoesAfterIt: when a case's reply is queued ahead of
// its card job (the card job was queued again later, say after a crash), the
// reply steps behind the card instead of the two waiting for each other.
func TestReplyAheadOfItsCardGoesAfterIt(t *testing.T) {
	h := newHarness(t)
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	if err := h.store.Update(h.ctx, func(tx cases.Tx) error {
		var cards []uint64
		tx.Jobs(cases.QueueOutbox, func(j cases.Job) error {
			if j.Kind == cases.JobCard {
				cards = append(cards, j.ID)
			}
			return nil
		})
		for _, jid := range cards {
			if err := tx.DeleteJob(cases.QueueOutbox, jid); err != nil {
				return err
			}
		}
		if err := tx.Enqueue(cases.QueueOutbox, &cases.Job{Kind: cases.JobReply, Case: id, Text: "first reply"}); err != nil {
			return err
		}
		return tx.Enqueue(cases.QueueOutbox, &cases.Job{Kind: cases.JobCard, Case: id, Dedupe: "card:" + id})
	}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	var order []string
	for _, s := range h.notify.all() {
		if s.caseID == id && (s.kind == "card" || s.kind == "reply") {
			order = append(order, s.kind+":"+s.text)
		}
	}
	if len(order) < 2 || order[0] != "card:" || !slices.Contains(order, "reply:first reply") {
		t.Errorf("messages of %s: %v; want the card, then the reply", id, order)
	}
}
