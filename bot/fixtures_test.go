package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/exops/exops/cases"
)

var t0 = time.Date(2024, 11, 27, 4, 0, 0, 0, time.UTC)

// testClock is the business clock of the bot tests: two years after t0,
// whatever today is, so ages on cards and the Home tab are fixed.
func testClock() time.Time { return t0.AddDate(2, 0, 0) }

// compositeCase is one order with a credit hold, a split allocation and a
// late inbound shipment: three families, approvals pending.
func compositeCase() *cases.Case {
	return &cases.Case{
		ID:       "EX-000001",
		Version:  3,
		Families: []cases.Family{cases.FamilyCreditHold, cases.FamilyAllocationConflict, cases.FamilySupplierDelay},
		Severity: cases.SeverityHigh,
		Priority: "P1 strategic customer",
		Team:     "credit",
		Channel:  "C0CREDIT",
		Status:   cases.StatusOpen,
		OpenedAt: t0,
		SLADue:   t0.Add(4 * time.Hour),
		Keys:     []string{"customer:C-1001", "order:SO-1042"},
		Events: []cases.CaseEvent{
			{ID: "e1", Source: "erp", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Time: t0,
				Data: map[string]any{"order": "SO-1042", "customer": "C-1001", "customer_name": "Acme Foods", "order_value": 48250.0, "currency": "USD"}},
			{ID: "e2", Source: "wms", Type: "order.allocation_conflict", Family: cases.FamilyAllocationConflict, Time: t0.Add(time.Minute),
				Data: map[string]any{"order": "SO-1042", "customer": "C-1001", "sku": "SKU-77"}},
			{ID: "e3", Source: "tms", Type: "shipment.delayed", Family: cases.FamilySupplierDelay, Time: t0.Add(2 * time.Minute),
				Data: map[string]any{"po": "PO-5531", "shipment": "ASN-9001", "supplier": "Nordic Oils"}},
		},
		Missing:   []string{"CRM: customer contact unavailable"},
		Summary:   "Order SO-1042 for Acme Foods (48,250 USD) is on credit hold 10,650 USD under its limit; half of it can ship from DC-East, the rest waits for PO-5531, which slipped 3 days.",
		SummaryBy: "exops rules (no LLM)",
		Recommendations: []cases.Recommendation{
			{ID: "r1", Action: "release_credit_hold", Family: cases.FamilyCreditHold, Title: "Release credit hold",
				Confidence: 0.91, Verdict: cases.VerdictApprove, Approvers: []string{"U0ALICE", "U0BOB"}, ApprovalsNeeded: 2,
				Approvals: []string{"U0ALICE"}, State: cases.RecPending,
				Evidence: []cases.Evidence{{Check: "balance + order under limit", Passed: true}, {Check: "no overdue invoices", Passed: true}, {Check: "payment history 12 months", Passed: false}}},
			{ID: "r2", Action: "split_shipment", Family: cases.FamilyAllocationConflict, Title: "Ship 60 from DC-East now, rest later",
				Confidence: 0.74, Verdict: cases.VerdictRecommend, State: cases.RecPending,
				Evidence: []cases.Evidence{{Check: "stock at DC-East", Passed: true}}},
			{ID: "r3", Action: "notify_customer", Family: cases.FamilySupplierDelay, Title: "Tell the customer the new date",
				Confidence: 0.55, Verdict: cases.VerdictDeny, VerdictReason: "customer messages need CS", State: cases.RecPending},
		},
		Slack: cases.SlackRef{Channel: "C0CREDIT", TS: "1732680000.000100"},
	}
}

// resolvedCase was resolved by exops on its own.
func resolvedCase() *cases.Case {
	// Resolved on the business day the bot tests run on (testClock).
	resolved := testClock().Add(-time.Hour)
	return &cases.Case{
		ID:         "EX-000002",
		Families:   []cases.Family{cases.FamilyPriceDiscrepancy},
		Severity:   cases.SeverityLow,
		Priority:   "P3",
		Team:       "ap",
		Channel:    "C0AP",
		Status:     cases.StatusResolved,
		OpenedAt:   t0,
		ResolvedAt: &resolved,
		SLADue:     t0.Add(72 * time.Hour),
		Events: []cases.CaseEvent{{ID: "e9", Source: "erp", Type: "invoice.price_variance", Family: cases.FamilyPriceDiscrepancy, Time: t0,
			Data: map[string]any{"invoice": "INV-88", "po": "PO-12", "po_value": "1200.00", "currency": "EUR"}}},
		Summary:   "Invoice INV-88 is 0.4% over PO-12, inside tolerance.",
		SummaryBy: "exops rules (no LLM)",
		Recommendations: []cases.Recommendation{{ID: "r1", Action: "accept_variance", Family: cases.FamilyPriceDiscrepancy,
			Title: "Accept the price variance", Confidence: 0.97, Verdict: cases.VerdictAuto, State: cases.RecExecuted,
			Outcome: "variance booked to 5410", Evidence: []cases.Evidence{{Check: "variance under 1%", Passed: true}}}},
		Decisions: []cases.Decision{{Time: resolved, Actor: cases.ActorExops, RecommendationID: "r1", Action: "accept_variance",
			Choice: cases.ChoiceAuto, Verdict: cases.VerdictAuto, Confidence: 0.97}},
		Slack: cases.SlackRef{Channel: "C0AP", TS: "1732680000.000200"},
	}
}

// mergedCase was merged into another; its recommendations settled.
func mergedCase() *cases.Case {
	return &cases.Case{
		ID:         "EX-000003",
		Families:   []cases.Family{cases.FamilyShipmentHold},
		Severity:   cases.SeverityMedium,
		Team:       "warehouse",
		Channel:    "C0WH",
		Status:     cases.StatusMerged,
		MergedInto: "EX-000001",
		OpenedAt:   t0,
		SLADue:     t0.Add(24 * time.Hour),
		Events: []cases.CaseEvent{{ID: "e5", Type: "shipment.hold", Family: cases.FamilyShipmentHold, Time: t0,
			Data: map[string]any{"shipment": "SH-1", "order": "SO-1042"}}},
		Recommendations: []cases.Recommendation{
			{ID: "r1", Title: "Release the shipment", Confidence: 0.6, Verdict: cases.VerdictApprove, Approvers: []string{"U0CAROL"},
				ApprovalsNeeded: 1, State: cases.RecSuperseded, Outcome: "handled in EX-000001"},
			{ID: "r2", Title: "Hold for inspection", Confidence: 0.4, Verdict: cases.VerdictRecommend, State: cases.RecRejected},
		},
		Decisions: []cases.Decision{{Actor: "U0DAVE", RecommendationID: "r2", Choice: cases.ChoiceReject, Reason: "not needed"}},
	}
}

// hugeCase has a summary far over the section limit, long titles and 60
// pending recommendations: more blocks than Slack allows.
func hugeCase() *cases.Case {
	c := compositeCase()
	c.ID = "EX-000004"
	c.Families = nil
	for _, f := range cases.Families() {
		c.Families = append(c.Families, f)
	}
	c.Summary = strings.Repeat("Supplier note <!channel> & more. ", 200)
	c.Missing = []string{strings.Repeat("missing ", 400)}
	c.Recommendations = nil
	for i := range 60 {
		c.Recommendations = append(c.Recommendations, cases.Recommendation{
			ID:    fmt.Sprintf("r%02d", i),
			Title: fmt.Sprintf("Action %d ", i) + strings.Repeat("with a very long title ", 10), Confidence: 0.5,
			Verdict: cases.VerdictApprove, Approvers: []string{"U0ALICE"}, ApprovalsNeeded: 1, State: cases.RecPending,
			Evidence: []cases.Evidence{{Check: strings.Repeat("check ", 700), Passed: true}},
		})
	}
	return c
}

// fakeDecider records requests and answers with what it was given.
type fakeDecider struct {
	mu   sync.Mutex
	reqs []cases.DecideRequest
	res  cases.DecideResult
	err  error
}

func (f *fakeDecider) Decide(_ context.Context, req cases.DecideRequest) (cases.DecideResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	return f.res, f.err
}

func (f *fakeDecider) requests() []cases.DecideRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cases.DecideRequest(nil), f.reqs...)
}

// slackTS is the message ts localslack gives the first message posted at t.
func slackTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

// services offers the bot whatever d implements: a fakeDecider only
// decides, a fakeDesk does everything.
func services(d Decider) Services {
	s := Services{Decider: d}
	s.Cases, _ = d.(CaseReader)
	s.Operator, _ = d.(CaseOperator)
	s.Audit, _ = d.(AuditExporter)
	s.Asker, _ = d.(Asker)
	s.Documents, _ = d.(DocumentTaker)
	return s
}
