package cases_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/policies"
)

const governancePolicy = `
version: gov-1
default_team: ops
teams:
  ops: {channel: "#ops", approvers: [U1, U2, U3], managers: [UBOSS], manager_channel: "#ops-leads"}
  exec: {channel: "#exec", approvers: [UCEO]}
sla:
  medium: {first_touch: 1h, resolve: 4h}
  low: {first_touch: 1h, resolve: 4h}
escalation:
  - {name: remind, after: first_touch, to: thread, unless_touched: true}
  - {name: managers, after: resolve, to: manager}
  - {name: exec, after: resolve+2h, to: team:exec}
actions:
  act_credit_hold: {approve_at: 0.5, approval_ttl: 1h, approvals: 2, team: ops}
  act_price_discrepancy: {auto_at: 0.9, approve_at: 0.5, approver_groups: [SGROUP]}
  act_allocation_conflict: {approve_at: 0.5}
`

type fakeDirectory map[string][]string

func (d fakeDirectory) GroupMembers(_ context.Context, g string) ([]string, error) {
	m, ok := d[g]
	if !ok {
		return nil, fmt.Errorf("no group %s", g)
	}
	return m, nil
}

// govHarness is a harness on the governance policy; reopen builds a second
// engine on the same store file, as a restart does.
func govHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.eng = h.engineWith(governancePolicy)
	return h
}

func (h *harness) engineWith(doc string) *cases.Engine {
	h.t.Helper()
	pol, err := policies.Parse([]byte(doc))
	if err != nil {
		h.t.Fatal(err)
	}
	eng, err := cases.New(cases.Config{Store: h.store, Policy: pol, Agents: h.agents, Executor: h.exec,
		Notifier: h.notify, Directory: fakeDirectory{"SGROUP": {"UG1"}}, Now: h.clock.Now, Backoff: func(int) time.Duration { return 0 }, Logger: quiet})
	if err != nil {
		h.t.Fatal(err)
	}
	return eng
}

func (h *harness) decide(id, rec, actor string, choice cases.Choice, reason string) error {
	_, err := h.eng.Decide(h.ctx, cases.DecideRequest{Case: id, Recommendation: rec, Actor: actor, Choice: choice, Reason: reason})
	return err
}

func TestGovernanceRefusals(t *testing.T) {
	tests := []struct {
		name    string
		family  cases.Family
		conf    float64
		event   func(t *testing.T) cases.Event
		steps   func(h *harness, id string) error // the click under test
		kind    cases.Kind
		message string
	}{
		{"requester may not approve their own request", cases.FamilyCreditHold, 0.8,
			func(t *testing.T) cases.Event {
				return event(t, "e1", "order.credit_hold", t0, map[string]any{"order": "SO-1", "customer": "C1", "requested_by": "U1"})
			},
			func(h *harness, id string) error { return h.decide(id, "r1", "U1", cases.ChoiceApprove, "") },
			cases.KindDenied, "separation of duties"},
		{"rejection without a reason", cases.FamilyCreditHold, 0.8,
			func(t *testing.T) cases.Event { return creditHold(t, "e1", "SO-1", "C1", t0) },
			func(h *harness, id string) error { return h.decide(id, "r1", "U2", cases.ChoiceReject, "  ") },
			cases.KindInvalid, "needs a reason"},
		{"one person counts once", cases.FamilyCreditHold, 0.8,
			func(t *testing.T) cases.Event { return creditHold(t, "e1", "SO-1", "C1", t0) },
			func(h *harness, id string) error {
				if err := h.decide(id, "r1", "U2", cases.ChoiceApprove, ""); err != nil {
					return err
				}
				return h.decide(id, "r1", "U2", cases.ChoiceApprove, "")
			},
			cases.KindConflict, "counts once"},
		{"not in the group", cases.FamilyPriceDiscrepancy, 0.6,
			func(t *testing.T) cases.Event { return priceVariance(t, "e1", "INV-1", "PO-1", t0) },
			func(h *harness, id string) error { return h.decide(id, "r1", "UOUTSIDER", cases.ChoiceApprove, "") },
			cases.KindDenied, "not an approver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := govHarness(t)
			h.agents.conf[tt.family] = tt.conf
			res := h.ingest(tt.event(t))
			h.drain()
			err := tt.steps(h, res[0].Case)
			if cases.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v (%s), want %s mentioning %q", err, cases.KindOf(err), tt.kind, tt.message)
			}
			h.drain()
			if len(h.exec.runs) != 0 {
				t.Errorf("an action ran: %+v", h.exec.runs)
			}
			if tt.kind != cases.KindConflict && !contains(h.auditKinds(res[0].Case), cases.AuditRefused) {
				t.Errorf("refusal not audited: %v", h.auditKinds(res[0].Case))
			}
		})
	}
}

func TestGroupMemberMayApprove(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyPriceDiscrepancy] = 0.6
	res := h.ingest(priceVariance(t, "e1", "INV-1", "PO-1", t0))
	h.drain()
	if err := h.decide(res[0].Case, "r1", "UG1", cases.ChoiceApprove, ""); err != nil {
		t.Fatalf("group member refused: %v", err)
	}
	h.drain()
	if len(h.exec.runs) != 1 {
		t.Fatalf("runs %d", len(h.exec.runs))
	}
}

func TestApprovalsExpire(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyCreditHold] = 0.8
	id := h.ingest(creditHold(t, "e1", "SO-1", "C1", t0))[0].Case
	h.drain()
	if err := h.decide(id, "r1", "U1", cases.ChoiceApprove, ""); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(61 * time.Minute) // past the 1h TTL
	if err := h.decide(id, "r1", "U2", cases.ChoiceApprove, ""); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if len(h.exec.runs) != 0 {
		t.Fatal("an expired approval counted towards 2 of 3")
	}
	if !contains(h.auditKinds(id), cases.AuditApprovalExpired) {
		t.Errorf("expiry not audited: %v", h.auditKinds(id))
	}
	// U1 may approve again; now two fresh approvals run it.
	if err := h.decide(id, "r1", "U1", cases.ChoiceApprove, ""); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if len(h.exec.runs) != 1 {
		t.Errorf("runs %d after two fresh approvals", len(h.exec.runs))
	}
}

// TestEscalationAcrossRestart moves the clock through a case's reminder,
// manager and executive steps with a restart in the middle: each step is
// taken once, on time, and a first touch cancels the reminder only.
func TestEscalationAcrossRestart(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyAllocationConflict] = 0.7
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()
	fire := func() int {
		t.Helper()
		n, err := h.eng.FireTimers(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.drain()
		return n
	}
	posts := func(prefix string) int {
		n := 0
		for _, s := range h.notify.all() {
			if s.caseID == id && strings.HasPrefix(s.kind+":"+s.text, prefix) {
				n++
			}
		}
		return n
	}
	h.clock.Add(59 * time.Minute)
	if n := fire(); n != 0 {
		t.Fatalf("%d steps before first touch was due", n)
	}
	h.clock.Add(2 * time.Minute) // first touch overdue
	if n := fire(); n != 1 || posts("reply:Reminder") != 1 {
		t.Fatalf("reminder: %d steps, %d reminders", n, posts("reply:Reminder"))
	}
	if n := fire(); n != 0 {
		t.Fatalf("reminder repeated: %d", n)
	}
	// Restart: a new engine on the same store.
	h.eng = h.engineWith(governancePolicy)
	h.clock.Add(3 * time.Hour) // past resolve (4h)
	if n := fire(); n != 1 || posts("post:#ops-leads") != 1 {
		t.Fatalf("managers step: %d steps, %d posts: %+v", n, posts("post:#ops-leads"), h.notify.all())
	}
	h.eng = h.engineWith(governancePolicy)
	if n := fire(); n != 0 {
		t.Fatalf("managers step repeated after restart: %d", n)
	}
	h.clock.Add(2 * time.Hour)
	if n := fire(); n != 1 || posts("post:#exec") != 1 {
		t.Fatalf("exec step: %d steps, %d posts", n, posts("post:#exec"))
	}
	// When the latest step was taken is kept and found by ("escalated
	// in the last hour"); a step not yet taken moves nothing.
	found := func(q cases.CaseQuery) int {
		t.Helper()
		l, err := h.store.FindCases(h.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return l.Total
	}
	now := h.clock.Now()
	if n := found(cases.CaseQuery{EscalatedAfter: now.Add(-time.Minute)}); n != 1 {
		t.Errorf("escalated in the last minute: %d cases, want 1", n)
	}
	if n := found(cases.CaseQuery{EscalatedAfter: now.Add(time.Minute)}); n != 0 {
		t.Errorf("escalated after now: %d cases, want 0", n)
	}
	h.clock.Add(24 * time.Hour)
	fire()
	if n := found(cases.CaseQuery{EscalatedBefore: now.Add(time.Second), EscalatedAfter: now.Add(-time.Second)}); n != 1 {
		t.Errorf("escalation time moved without a step: %d cases at %v", n, now)
	}
	kinds := h.auditKinds(id)
	if c := strings.Count(strings.Join(kinds, ","), cases.AuditEscalated); c != 3 {
		t.Errorf("%d escalated records, want 3: %v", c, kinds)
	}
	for _, s := range h.notify.all() {
		if s.kind == "post:#ops-leads" && !strings.Contains(s.text, "<@UBOSS>") {
			t.Errorf("manager escalation does not mention the manager: %q", s.text)
		}
	}
}

func TestTouchedCaseGetsNoReminder(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyAllocationConflict] = 0.7
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()
	if err := h.decide(id, "r1", "U1", cases.ChoiceReject, "wrong warehouse"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(90 * time.Minute)
	if n, err := h.eng.FireTimers(h.ctx); err != nil || n != 0 {
		t.Fatalf("touched case: %d steps, %v", n, err)
	}
}

func TestResolvedCaseIsNotEscalated(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyPriceDiscrepancy] = 0.95 // auto
	h.ingest(priceVariance(t, "e1", "INV-1", "PO-1", t0))
	h.drain()
	h.clock.Add(10 * time.Hour)
	if n, err := h.eng.FireTimers(h.ctx); err != nil || n != 0 {
		t.Fatalf("resolved case: %d steps, %v", n, err)
	}
}

// TestNoActionWithoutAuthority is a property test: for random policies,
// confidences and clicks by random people, every action that runs had
// either an auto verdict under the policy in force or the approvals its
// verdict required from people allowed to give them.
func TestNoActionWithoutAuthority(t *testing.T) {
	rng := rand.New(rand.NewSource(20261127))
	people := []string{"U1", "U2", "U3", "UCEO", "UG1", "UX", "UY"}
	families := []cases.Family{cases.FamilyCreditHold, cases.FamilyPriceDiscrepancy, cases.FamilyAllocationConflict}
	for iter := 0; iter < 60; iter++ {
		th := func() string { return fmt.Sprintf("%.2f", rng.Float64()) }
		a1, a2 := th(), th()
		if a1 > a2 {
			a1, a2 = a2, a1
		}
		doc := fmt.Sprintf(`
version: prop-%d
default_team: ops
teams:
  ops: {channel: "#ops", approvers: [U1, U2, U3]}
actions:
  act_credit_hold: {approve_at: %s, approvals: %d, human_only: %v}
  act_price_discrepancy: {auto_at: %s, approve_at: %s, when: "amount < %d.0"}
  act_allocation_conflict: {auto_at: %s, approve_at: %s, approver_groups: [SGROUP], approvals: %d}
`, iter, a1, 1+rng.Intn(3), rng.Intn(2) == 0, a2, a1, rng.Intn(100), a2, a1, 1+rng.Intn(2))
		st, err := bolt.Open(t.TempDir()+"/p.db", bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, ctx: context.Background(), clock: &clock{t: t0}, store: st, notify: &fakeNotifier{}, exec: &fakeExecutor{},
			agents: fakeAgents{conf: map[cases.Family]float64{}}}
		for _, f := range families {
			h.agents.conf[f] = rng.Float64()
		}
		h.eng = h.engineWith(doc)
		pol, _ := policies.Parse([]byte(doc))
		h.ingest(
			event(t, "e1", "order.credit_hold", t0, map[string]any{"order": "SO-1", "customer": "C1", "requested_by": people[rng.Intn(len(people))]}),
			priceVariance(t, "e2", "INV-1", "PO-9", t0),
			allocation(t, "e3", "SO-7", t0),
		)
		h.drain()
		for k := 0; k < 12; k++ {
			id := fmt.Sprintf("EX-%06d", 1+rng.Intn(3))
			choice := cases.ChoiceApprove
			if rng.Intn(5) == 0 {
				choice = cases.ChoiceReject
			}
			_ = h.decide(id, "r1", people[rng.Intn(len(people))], choice, "no")
			h.clock.Add(time.Duration(rng.Intn(90)) * time.Minute)
		}
		h.drain()
		for _, run := range h.exec.runs {
			c := h.caseOf(run.Case)
			r := c.Recommendation(strings.TrimPrefix(run.Key, run.Case+"/"))
			j := pol.Judge(c, *r, h.clock.Now())
			var approvers []string
			auto := false
			for _, d := range c.Decisions {
				if d.RecommendationID != r.ID {
					continue
				}
				if d.Choice == cases.ChoiceAuto {
					auto = true
				}
				if d.Choice == cases.ChoiceApprove && !slices.Contains(approvers, d.Actor) {
					allowed := slices.Contains(j.Approvers, d.Actor) || (slices.Contains(j.ApproverGroups, "SGROUP") && d.Actor == "UG1")
					if !allowed || slices.Contains(r.RequestedBy, d.Actor) {
						t.Fatalf("iter %d: %s on %s approved by %s, who may not (approvers %v, requested by %v)", iter, r.Action, c.ID, d.Actor, j.Approvers, r.RequestedBy)
					}
					approvers = append(approvers, d.Actor)
				}
			}
			switch {
			case auto && j.Verdict != cases.VerdictAuto:
				t.Fatalf("iter %d: %s ran alone with verdict %s", iter, r.Action, j.Verdict)
			case !auto && len(approvers) < max(j.ApprovalsNeeded, 1):
				t.Fatalf("iter %d: %s ran with %d of %d approvals", iter, r.Action, len(approvers), j.ApprovalsNeeded)
			case auto && r.Action == "act_credit_hold":
				t.Fatalf("iter %d: a human-only action ran alone", iter)
			}
		}
		st.Close()
	}
}

// TestEscalationPostIsNotPostedTwice: Slack took a manager-channel post but
// its answers were lost twice; each retry finds the message by its key in
// the channel instead of posting it again.
func TestEscalationPostIsNotPostedTwice(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyAllocationConflict] = 0.7
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()
	h.clock.Add(4*time.Hour + time.Minute) // past first touch and resolve
	h.notify.loseAnswers = 2
	if _, err := h.eng.FireTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.drain()
	posts := 0
	for _, s := range h.notify.all() {
		if s.caseID == id && s.kind == "post:#ops-leads" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("the manager escalation was posted %d times, want once: %+v", posts, h.notify.all())
	}
}
