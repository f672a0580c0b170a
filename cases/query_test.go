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
