package agents_test

import (
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

func TestParseQuestion(t *testing.T) {
	day := 24 * time.Hour
	// "this week" is since Monday 00:00 of the clock's week.
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	type want struct {
		kind   agents.IntentKind
		q      cases.CaseQuery
		party  string
		actor  string
		action string
		choice cases.Choice
		since  time.Time
		count  bool
	}
	tests := []struct {
		question string
		want     want
	}{
		{"status of order SO-1042?", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Order: "SO-1042"}}},
		{"what's going on with so-1042", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Order: "SO-1042"}}},
		{"Any problem with order 77812?", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Order: "77812"}}},
		{"show EX-000042", want{kind: agents.IntentShowCase, q: cases.CaseQuery{ID: "EX-000042"}}},
		{"what is case 42 about?", want{kind: agents.IntentShowCase, q: cases.CaseQuery{ID: "EX-000042"}}},
		{"details of ex-7", want{kind: agents.IntentShowCase, q: cases.CaseQuery{ID: "EX-000007"}}},
		{"which supplier delays are older than 2 days?", want{kind: agents.IntentFindCases,
			q: cases.CaseQuery{Family: cases.FamilySupplierDelay, Status: cases.StatusOpen, OpenedBefore: now.Add(-2 * day)}}},
		{"open credit holds older than 36 hours", want{kind: agents.IntentFindCases,
			q: cases.CaseQuery{Family: cases.FamilyCreditHold, Status: cases.StatusOpen, OpenedBefore: now.Add(-36 * time.Hour)}}},
		{"how many open cases are there?", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Status: cases.StatusOpen}, count: true}},
		{"open cases for Acme", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Status: cases.StatusOpen}, party: "Acme"}},
		{"list cases for customer C-ACME", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Customer: "C-ACME"}}},
		{"cases for customer Cora Home this week", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Customer: "Cora Home", OpenedAfter: monday}}},
		{"late shipments from Northwind", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Family: cases.FamilySupplierDelay}, party: "Northwind"}},
		{"exceptions for supplier Contoso Packaging in the last 3 days", want{kind: agents.IntentFindCases,
			q: cases.CaseQuery{Supplier: "Contoso Packaging", OpenedAfter: now.Add(-3 * day)}}},
		{"price variances on invoice INV-90211", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Invoice: "INV-90211"}}},
		{"problems with SKU-88 at DAL", want{kind: agents.IntentFindCases, q: cases.CaseQuery{SKU: "SKU-88", Warehouse: "DAL"}}},
		{"anything on PO-3310?", want{kind: agents.IntentFindCases, q: cases.CaseQuery{PO: "PO-3310"}}},
		{"where is shipment ASN-7781", want{kind: agents.IntentFindCases, q: cases.CaseQuery{Shipment: "ASN-7781"}}},
		{"resolved inventory cases since 2026-11-01", want{kind: agents.IntentFindCases,
			q: cases.CaseQuery{Family: cases.FamilyInventoryVariance, Status: cases.StatusResolved, ResolvedAfter: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}},
		{"who approved the credit release for Acme?", want{kind: agents.IntentDecisions, q: cases.CaseQuery{Family: cases.FamilyCreditHold},
			party: "Acme", action: "release_credit_hold", choice: cases.ChoiceApprove}},
		{"who approved EX-000042 and when", want{kind: agents.IntentDecisions, q: cases.CaseQuery{ID: "EX-000042"}, choice: cases.ChoiceApprove}},
		{"what did U0CREDITMGR approve this week?", want{kind: agents.IntentDecisions, actor: "U0CREDITMGR", choice: cases.ChoiceApprove, since: monday}},
		{"decisions today", want{kind: agents.IntentDecisions, since: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}},
		{"list decisions on SO-1042", want{kind: agents.IntentDecisions, q: cases.CaseQuery{Order: "SO-1042"}}},
		{"who rejected the reallocation on SO-1042?", want{kind: agents.IntentDecisions, q: cases.CaseQuery{Order: "SO-1042", Family: cases.FamilyAllocationConflict},
			action: "reallocate_order", choice: cases.ChoiceReject}},
		{"what are the recurring patterns?", want{kind: agents.IntentPatterns}},
		{"which problems keep happening in the last 30 days", want{kind: agents.IntentPatterns, since: now.Add(-30 * day)}},
		{"hello there", want{kind: agents.IntentHelp}},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			in := agents.ParseQuestion(tt.question, now)
			got := want{kind: in.Kind, q: in.Query, party: in.Party, actor: in.Actor, action: in.Action, choice: in.Choice, since: in.Since, count: in.Count}
			if got.kind != agents.IntentDecisions {
				// A choice word matters only to decision questions.
				got.choice = ""
			}
			if got != tt.want {
				t.Errorf("ParseQuestion(%q)\n got %+v\nwant %+v", tt.question, got, tt.want)
			}
		})
	}
}
