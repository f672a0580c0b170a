package cases_test

import (
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// CaseQuery.Match is the reference every store and fake is checked
// against, so its own rule is pinned here.
func TestCaseQueryMatch(t *testing.T) {
	opened := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := &cases.Case{ID: "EX-000007", Status: cases.StatusOpen, OpenedAt: opened,
		Families: []cases.Family{cases.FamilyCreditHold, cases.FamilySupplierDelay},
		Context:  map[string]string{cases.CtxCustomerName("C-ACME"): "Acme Retail Group"},
		Events: []cases.CaseEvent{
			{ID: "e1", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Data: map[string]any{"order": "SO-1042", "customer": "C-ACME"}},
			{ID: "e2", Type: "shipment.delayed", Family: cases.FamilySupplierDelay, Data: map[string]any{"shipment": "ASN-7781",
				"po": "PO-3310", "supplier": "Northwind Fasteners", "sku": "SKU-88", "orders": []any{"SO-1043"}}},
		}}
	tests := []struct {
		name string
		q    cases.CaseQuery
		want bool
	}{
		{"empty query", cases.CaseQuery{}, true},
		{"id, any case", cases.CaseQuery{ID: "ex-000007"}, true},
		{"other id", cases.CaseQuery{ID: "EX-000008"}, false},
		{"order", cases.CaseQuery{Order: "so-1042"}, true},
		{"order waiting for the shipment", cases.CaseQuery{Order: "SO-1043"}, true},
		{"customer id", cases.CaseQuery{Customer: "C-ACME"}, true},
		{"customer name word from the ERP", cases.CaseQuery{Customer: "acme"}, true},
		{"customer full name", cases.CaseQuery{Customer: "Acme Retail Group"}, true},
		{"part of a word is not a word", cases.CaseQuery{Customer: "acm"}, false},
		{"supplier word", cases.CaseQuery{Supplier: "northwind"}, true},
		{"po and sku together", cases.CaseQuery{PO: "PO-3310", SKU: "sku-88"}, true},
		{"po with another sku", cases.CaseQuery{PO: "PO-3310", SKU: "SKU-12"}, false},
		{"family", cases.CaseQuery{Family: cases.FamilySupplierDelay}, true},
		{"absent family", cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy}, false},
		{"status", cases.CaseQuery{Status: cases.StatusOpen}, true},
		{"other status", cases.CaseQuery{Status: cases.StatusResolved}, false},
		{"opened before (exclusive)", cases.CaseQuery{OpenedBefore: opened}, false},
		{"opened before a later time", cases.CaseQuery{OpenedBefore: opened.Add(time.Second)}, true},
		{"opened after (inclusive)", cases.CaseQuery{OpenedAfter: opened}, true},
		{"opened after a later time", cases.CaseQuery{OpenedAfter: opened.Add(time.Second)}, false},
		{"every condition must hold", cases.CaseQuery{Order: "SO-1042", Shipment: "ASN-0000"}, false},
	}
	for _, tt := range tests {
		if got := tt.q.Match(c); got != tt.want {
			t.Errorf("%s: Match(%+v) = %v, want %v", tt.name, tt.q, got, tt.want)
		}
	}
}

// The conditions beyond keys: team, people, severity, states and times,
// each as the reference rule says.
func TestCaseQueryMatchStates(t *testing.T) {
	opened := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	resolvedAt := opened.Add(5 * time.Hour)
	snooze := opened.Add(10 * time.Hour)
	open := &cases.Case{ID: "EX-000001", Status: cases.StatusOpen, OpenedAt: opened, Team: "credit", Severity: cases.SeverityCritical, Priority: "P1",
		Families: []cases.Family{cases.FamilyCreditHold}, SLADue: opened.Add(4 * time.Hour), FirstTouchDue: opened.Add(time.Hour),
		SnoozedUntil: &snooze, Escalated: []string{"remind"},
		Recommendations: []cases.Recommendation{{ID: "r1", State: cases.RecPending, Verdict: cases.VerdictApprove,
			Approvers: []string{"U0A", "U0B"}, ApproverGroups: []string{"S0LEADS"}, Approvals: []string{"U0A"}}}}
	byExops := &cases.Case{ID: "EX-000002", Status: cases.StatusResolved, OpenedAt: opened, ResolvedAt: &resolvedAt, Team: "credit", Assignee: "U0ANA",
		Decisions: []cases.Decision{{Actor: cases.ActorExops, Choice: cases.ChoiceAuto}}}
	byPerson := &cases.Case{ID: "EX-000003", Status: cases.StatusResolved, OpenedAt: opened, ResolvedAt: &resolvedAt,
		Decisions: []cases.Decision{{Actor: cases.ActorExops}, {Actor: "U0B", Choice: cases.ChoiceApprove}}}
	at := opened.Add(6 * time.Hour)
	tests := []struct {
		name string
		q    cases.CaseQuery
		want []bool // open, byExops, byPerson
	}{
		{"team, any case", cases.CaseQuery{Team: "Credit"}, []bool{true, true, false}},
		{"team and status (a pair term)", cases.CaseQuery{Team: "credit", Status: cases.StatusOpen}, []bool{true, false, false}},
		{"severity", cases.CaseQuery{Severity: cases.SeverityCritical}, []bool{true, false, false}},
		{"priority", cases.CaseQuery{Priority: "p1"}, []bool{true, false, false}},
		{"assignee", cases.CaseQuery{Assignee: "U0ANA"}, []bool{false, true, false}},
		{"unassigned is of open cases", cases.CaseQuery{Unassigned: true}, []bool{true, false, false}},
		{"escalated", cases.CaseQuery{Escalated: true}, []bool{true, false, false}},
		{"awaiting approval", cases.CaseQuery{AwaitingApproval: true}, []bool{true, false, false}},
		{"waiting for an approver who has not approved", cases.CaseQuery{Approver: "U0B"}, []bool{true, false, false}},
		{"not waiting for one who approved", cases.CaseQuery{Approver: "U0A"}, []bool{false, false, false}},
		{"waiting for an approver group", cases.CaseQuery{Approver: "S0LEADS"}, []bool{true, false, false}},
		{"resolved by exops alone", cases.CaseQuery{ByExops: true}, []bool{false, true, false}},
		{"past SLA at a time after it", cases.CaseQuery{PastSLA: true, At: at}, []bool{true, false, false}},
		{"not past SLA before it", cases.CaseQuery{PastSLA: true, At: opened.Add(time.Hour)}, []bool{false, false, false}},
		{"a timed state judged at no time matches nothing", cases.CaseQuery{PastSLA: true}, []bool{false, false, false}},
		{"first touch overdue", cases.CaseQuery{FirstTouchOverdue: true, At: at}, []bool{true, false, false}},
		{"snoozed until after At", cases.CaseQuery{Snoozed: true, At: at}, []bool{true, false, false}},
		{"snooze over", cases.CaseQuery{Snoozed: true, At: snooze}, []bool{false, false, false}},
		{"resolved after (inclusive)", cases.CaseQuery{ResolvedAfter: resolvedAt}, []bool{false, true, true}},
		{"resolved before (exclusive)", cases.CaseQuery{ResolvedBefore: resolvedAt}, []bool{false, false, false}},
		{"a state and a status that exclude each other", cases.CaseQuery{Unassigned: true, Status: cases.StatusResolved}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		for i, c := range []*cases.Case{open, byExops, byPerson} {
			if got := tt.q.Match(c); got != tt.want[i] {
				t.Errorf("%s: Match(%s) = %v, want %v", tt.name, c.ID, got, tt.want[i])
			}
		}
	}
}
