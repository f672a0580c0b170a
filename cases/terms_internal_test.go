package cases

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// caseTermsFull is CaseTerms as it was before the events' terms were
// folded: every event read every time. The folded one must equal it, in
// order.
func caseTermsFull(c *Case) []Term {
	seen := map[Term]bool{}
	var out []Term
	add := func(kind, v string) {
		v = TermValue(v)
		if v == "" && kind != TermAll {
			return
		}
		t := Term{kind, v}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	name := func(kind, v string) {
		add(kind, v)
		for _, w := range nameWords(v) {
			add(kind, w)
		}
	}
	add(TermAll, "")
	add(TermStatus, string(c.Status))
	add(TermTeam, c.Team)
	add(TermAssignee, c.Assignee)
	if c.Severity != 0 {
		add(TermSeverity, c.Severity.String())
	}
	add(TermPriority, c.Priority)
	open := c.Status == StatusOpen
	switch {
	case open && c.Assignee == "":
		add(TermState, StateUnassigned)
	case open:
		add(TermState, StateAssigned)
	}
	if len(c.Escalated) > 0 {
		add(TermState, StateEscalated)
	}
	if c.ResolvedByExops() {
		add(TermState, StateByExops)
	}
	if open {
		for _, who := range c.WaitingApprovers() {
			add(TermState, StateAwaitingApproval)
			add(TermApprover, who)
		}
	}
	for _, f := range c.Families {
		add(TermFamily, string(f))
	}
	for _, ce := range c.Events {
		ev := ce.Event()
		add(TermOrder, ev.Str("order"))
		for _, o := range ev.Strs("orders") {
			add(TermOrder, o)
		}
		cust := ev.Str("customer")
		add(TermCustomer, cust)
		name(TermCustomer, ev.Str("customer_name"))
		if cust != "" && c.Context != nil {
			name(TermCustomer, c.Context[CtxCustomerName(cust)])
		}
		name(TermSupplier, ev.Str("supplier"))
		add(TermSKU, ev.Str("sku"))
		add(TermWarehouse, ev.Str("warehouse"))
		for _, al := range ev.Allocations("allocations") {
			add(TermWarehouse, al.Warehouse)
		}
		add(TermPO, ev.Str("po"))
		add(TermShipment, ev.Str("shipment"))
		add(TermInvoice, ev.Str("invoice"))
	}
	for _, t := range pairTerms(out) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// TestCaseTermsFolded: the terms of a case whose events are folded as they
// join (and again when they change), with its context's customer names
// looked up at the time, are those of reading every event, in order.
func TestCaseTermsFolded(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	datas := []map[string]any{
		{"order": "SO-1", "customer": "C-1", "customer_name": "Acme Corp", "sku": "SKU-1", "warehouse": "DAL",
			"allocations": []any{map[string]any{"warehouse": "ATL", "quantity": 1.0}}},
		{"orders": []any{"SO-2", "SO-1"}, "supplier": "Northwind Fasteners", "po": "PO-7"},
		{"customer": "C-2", "shipment": "ASN-1", "invoice": "INV-1", "order": " so-1 "},
		{"customer": "C-1", "customer_name": "Other Name", "warehouse": "dal"},
		nil,
	}
	c := &Case{ID: "EX-000001", Status: StatusOpen, Team: "ops", Severity: SeverityHigh, Priority: "P2", OpenedAt: t0,
		Families: []Family{FamilyCreditHold}, Context: map[string]string{CtxCustomerName("C-2"): "Contoso Packaging"}}
	check := func(what string) {
		t.Helper()
		if got, want := CaseTerms(c), caseTermsFull(c); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: folded terms\n%v\nwant\n%v", what, got, want)
		}
	}
	for i, d := range datas {
		c.Events = append(c.Events, CaseEvent{ID: fmt.Sprint("e", i), Source: "erp", Type: "order.credit_hold", Data: d, Digest: fmt.Sprintf("%064d", i)})
		check(fmt.Sprintf("after event %d", i))
	}
	c.Context[CtxCustomerName("C-1")] = "Acme Holdings"
	check("context changed")
	c.Context = nil
	check("no context")
	c.Events = append([]CaseEvent(nil), c.Events[1:]...)
	check("first event dropped")
	c.Events[0].Data = map[string]any{"order": "SO-9"}
	c.Events[0].Digest = ""
	check("event replaced")
}
