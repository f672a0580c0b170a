package agents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

// askNow is the fixture's business clock: Wednesday 2026-12-02 12:00 UTC,
// so "today" starts 12 hours back and "this week" (since Monday) 60.
var askNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// askTeams are the teams and channels of policies/examples/distributor.yaml.
var askTeams = agents.Vocabulary{Teams: []agents.Team{
	{Name: "customer-service", Channel: "#cs-exceptions"}, {Name: "credit", Channel: "#credit-desk"},
	{Name: "accounts-payable", Channel: "#ap-exceptions"}, {Name: "warehouse", Channel: "#wh-ops"},
	{Name: "procurement", Channel: "#procurement"}, {Name: "ops-leadership", Channel: "#ops-leadership"},
	{Name: "compliance", Channel: "#compliance"},
}}

// fixtureCase describes one case of the fixture: its event, where it
// stands, and the decisions taken on it; times are hours before askNow.
type fixtureCase struct {
	typ        string
	data       map[string]any
	team       string
	sev        cases.Severity
	prio       string
	opened     float64 // hours ago
	took       float64 // hours to resolve; 0: open
	assignee   string
	escalated  bool
	snoozed    bool
	merged     string
	approvers  []string // a pending recommendation waiting for these
	approvals  []string
	decided    []fixtureDecision
	firstTouch bool // a person touched it (else: assignment or a person's decision)
}

type fixtureDecision struct {
	actor, action string
	choice        cases.Choice
	ago           float64
}

var customerNames = map[string]string{"C-ACME": "Acme Retail", "C-BOLT": "Bolt Hardware", "C-CORA": "Cora Home",
	"C-DUNE": "Dune Foods", "C-ELM": "Elm Street Market", "C-FERN": "Fern Outdoor"}

func fixtureCases() []fixtureCase {
	credit := func(order, cust string) map[string]any { return map[string]any{"order": order, "customer": cust} }
	price := func(inv, po, sup, sku string) map[string]any {
		return map[string]any{"invoice": inv, "po": po, "supplier": sup, "sku": sku, "quantity": 100.0, "invoice_unit_price": 4.1, "po_unit_price": 4.0}
	}
	delay := func(asn, po, sup string, orders ...any) map[string]any {
		return map[string]any{"shipment": asn, "po": po, "supplier": sup, "original_eta": "2026-12-01", "new_eta": "2026-12-05", "orders": orders}
	}
	conf := func(po, sup string) map[string]any {
		return map[string]any{"po": po, "supplier": sup, "expected_by": "2026-11-30"}
	}
	hold := func(shp, order, cust string) map[string]any {
		return map[string]any{"shipment": shp, "order": order, "customer": cust}
	}
	receipt := func(po, sup, sku, wh string) map[string]any {
		d := map[string]any{"po": po, "sku": sku, "warehouse": wh, "ordered_quantity": 100.0, "received_quantity": 90.0}
		if sup != "" {
			d["supplier"] = sup
		}
		return d
	}
	inv := func(sku, wh string) map[string]any {
		return map[string]any{"sku": sku, "warehouse": wh, "system_quantity": 100.0, "counted_quantity": 90.0}
	}
	exops := func(action string, ago float64) []fixtureDecision {
		return []fixtureDecision{{cases.ActorExops, action, cases.ChoiceAuto, ago}}
	}
	const (
		low, med, high, crit = cases.SeverityLow, cases.SeverityMedium, cases.SeverityHigh, cases.SeverityCritical
	)
	return []fixtureCase{
		/* 1 */ {typ: "order.credit_hold", data: credit("SO-2001", "C-ACME"), team: "credit", sev: high, opened: 3, approvers: []string{"U0CREDITMGR", "U0CFO"}},
		/* 2 */ {typ: "order.credit_hold", data: credit("SO-2002", "C-BOLT"), team: "credit", sev: med, opened: 50, assignee: "U0ANA", escalated: true},
		/* 3 */ {typ: "order.credit_hold", data: credit("SO-2003", "C-ACME"), team: "credit", sev: med, opened: 30, took: 6,
			decided: []fixtureDecision{{"U0CREDITMGR", "release_credit_hold", cases.ChoiceApprove, 25}}},
		/* 4 */ {typ: "invoice.price_variance", data: price("INV-5001", "PO-7001", "Northwind Fasteners", "SKU-12"), team: "accounts-payable", sev: low, opened: 20, approvers: []string{"U0APLEAD"}},
		/* 5 */ {typ: "invoice.price_variance", data: price("INV-5002", "PO-7002", "Contoso Packaging", "SKU-13"), team: "accounts-payable", sev: low, opened: 2, took: 1, decided: exops("accept_price_variance", 1)},
		/* 6 */ {typ: "invoice.price_variance", data: price("INV-5003", "PO-7003", "Northwind Fasteners", "SKU-14"), team: "accounts-payable", sev: med, opened: 50, took: 8,
			decided: []fixtureDecision{{"U0APLEAD", "dispute_price_variance", cases.ChoiceApprove, 43}}},
		/* 7 */ {typ: "invoice.price_variance", data: price("INV-5004", "PO-7004", "Contoso Packaging", "SKU-15"), team: "accounts-payable", sev: low, opened: 216, took: 24, decided: exops("accept_price_variance", 192)},
		/* 8 */ {typ: "shipment.delayed", data: with(delay("ASN-8001", "PO-7010", "Northwind Fasteners", "SO-2010"), "warehouse", "DAL", "sku", "SKU-88"), team: "procurement", sev: med, opened: 96},
		/* 9 */ {typ: "shipment.delayed", data: delay("ASN-8002", "PO-7011", "Fabrikam Tools"), team: "procurement", sev: crit, prio: "P1", opened: 6, assignee: "U0BUYER2"},
		/* 10 */ {typ: "shipment.delayed", data: delay("ASN-8003", "PO-7012", "Fabrikam Tools"), team: "procurement", sev: med, opened: 36, took: 10, decided: exops("expedite_shipment", 26)},
		/* 11 */ {typ: "supplier.confirmation_missing", data: conf("PO-7020", "Contoso Packaging"), team: "procurement", sev: low, opened: 40},
		/* 12 */ {typ: "supplier.confirmation_missing", data: conf("PO-7021", "Northwind Fasteners"), team: "procurement", sev: low, opened: 240, took: 48,
			decided: []fixtureDecision{{"U0BUYERLEAD", "ask_supplier_confirmation", cases.ChoiceApprove, 193}}},
		/* 13 */ {typ: "shipment.hold", data: hold("SHP-9001", "SO-2020", "C-CORA"), team: "warehouse", sev: med, opened: 5, snoozed: true, assignee: "U0WHSUP"},
		/* 14 */ {typ: "shipment.hold", data: hold("SHP-9002", "SO-2021", "C-BOLT"), team: "warehouse", sev: crit, opened: 1},
		/* 15 */ {typ: "shipment.hold", data: hold("SHP-9003", "SO-2022", "C-DUNE"), team: "warehouse", sev: med, opened: 8, took: 3, decided: exops("contact_carrier", 5)},
		/* 16 */ {typ: "receipt.variance", data: with(receipt("PO-7030", "Contoso Packaging", "SKU-40", "ATL"), "shipment", "ASN-8010"), team: "warehouse", sev: low, opened: 26},
		/* 17 */ {typ: "receipt.variance", data: receipt("PO-7031", "", "SKU-41", "RNO"), team: "warehouse", sev: low, opened: 72, took: 14,
			decided: []fixtureDecision{{"U0WHMGR", "accept_receipt_variance", cases.ChoiceApprove, 58}}},
		/* 18 */ {typ: "inventory.mismatch", data: inv("SKU-88", "ATL"), team: "warehouse", sev: med, opened: 80, assignee: "U0WHMGR"},
		/* 19 */ {typ: "inventory.mismatch", data: inv("SKU-88", "DAL"), team: "warehouse", sev: high, opened: 2.5, escalated: true},
		/* 20 */ {typ: "inventory.mismatch", data: inv("SKU-50", "DAL"), team: "warehouse", sev: med, opened: 55, took: 5, decided: exops("adjust_inventory", 50)},
		/* 21 */ {typ: "order.allocation_conflict", data: map[string]any{"order": "SO-2030", "customer": "C-CORA", "sku": "SKU-88",
			"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 5.0}, map[string]any{"warehouse": "ATL", "quantity": 5.0}}}, team: "customer-service", sev: med, opened: 11},
		/* 22 */ {typ: "order.allocation_conflict", data: map[string]any{"order": "SO-2031", "customer": "C-ACME", "sku": "SKU-20",
			"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 5.0}}}, team: "customer-service", sev: med, opened: 96, took: 20,
			decided: []fixtureDecision{{"U0CSLEAD", "reallocate_order", cases.ChoiceApprove, 77}}},
		/* 23 */ {typ: "order.incomplete_data", data: map[string]any{"order": "SO-2040", "customer": "C-DUNE", "missing": []any{"tax_id"}}, team: "customer-service", sev: low, opened: 0.5},
		/* 24 */ {typ: "order.credit_hold", data: credit("SO-2002", "C-BOLT"), team: "credit", sev: med, opened: 49, merged: "EX-000002"},
		/* 25 */ {typ: "order.credit_hold", data: credit("SO-2050", "C-ELM"), team: "credit", sev: crit, prio: "P1", opened: 216, assignee: "U0CFO"},
		/* 26 */ {typ: "invoice.price_variance", data: price("INV-5010", "PO-7040", "Initech Supply", "SKU-60"), team: "accounts-payable", sev: high, prio: "P2", opened: 70},
		/* 27 */ {typ: "shipment.delayed", data: delay("ASN-8020", "PO-7050", "Initech Supply"), team: "procurement", sev: med, opened: 28,
			decided: []fixtureDecision{{"U0BUYERLEAD", "expedite_shipment", cases.ChoiceReject, 20}}},
		/* 28 */ {typ: "receipt.variance", data: receipt("PO-7060", "Northwind Fasteners", "SKU-12", "DAL"), team: "warehouse", sev: med, opened: 7,
			approvers: []string{"U0WHMGR", "U0WHSUP"}, approvals: []string{"U0WHSUP"}, decided: []fixtureDecision{{"U0WHSUP", "accept_receipt_variance", cases.ChoiceApprove, 6}}},
		/* 29 */ {typ: "order.credit_hold", data: credit("SO-2060", "C-FERN"), team: "credit", sev: low, opened: 4.5, took: 2, decided: exops("release_credit_hold", 2.5)},
		/* 30 */ {typ: "shipment.hold", data: hold("SHP-9004", "SO-2070", "C-ACME"), team: "warehouse", sev: high, opened: 50},
	}
}

func hoursAgo(h float64) time.Time { return askNow.Add(-time.Duration(h * float64(time.Hour))) }

// askFixture builds the fixture's cases from their events, as the engine
// would leave them (SLA due 24 hours and first touch due 2 hours after
// opening), and the audit log's decision records.
func askFixture(t *testing.T) *memStore {
	t.Helper()
	st := &memStore{}
	for i, f := range fixtureCases() {
		ev := caseEvent(t, f.typ, f.data)
		c := newCase(nil, ev)
		c.ID = cases.FormatCaseID(uint64(i + 1))
		c.Team, c.Severity, c.Priority, c.Assignee = f.team, f.sev, f.prio, f.assignee
		c.OpenedAt = hoursAgo(f.opened)
		c.SLADue, c.FirstTouchDue = c.OpenedAt.Add(24*time.Hour), c.OpenedAt.Add(2*time.Hour)
		c.Context = map[string]string{}
		if cu, _ := f.data["customer"].(string); cu != "" {
			c.Context[cases.CtxCustomerName(cu)] = customerNames[cu]
		}
		if f.escalated {
			c.Escalated = []string{"remind"}
		}
		if f.snoozed {
			until := askNow.Add(4 * time.Hour)
			c.SnoozedUntil = &until
		}
		if f.approvers != nil {
			c.Recommendations = append(c.Recommendations, cases.Recommendation{ID: "r-wait", Action: "release_credit_hold", Title: "Pending action",
				State: cases.RecPending, Verdict: cases.VerdictApprove, Approvers: f.approvers, Approvals: f.approvals, ApprovalsNeeded: len(f.approvers)})
		}
		touched := f.firstTouch || f.assignee != ""
		for _, d := range f.decided {
			at := hoursAgo(d.ago)
			c.Decisions = append(c.Decisions, cases.Decision{Time: at, Actor: d.actor, Action: d.action, Choice: d.choice, RecommendationID: "r1"})
			st.audit = append(st.audit, cases.AuditEntry{Time: at, Case: c.ID, Kind: cases.AuditDecision, Action: d.action, Actor: d.actor, Choice: d.choice})
			touched = touched || d.actor != cases.ActorExops
		}
		if touched {
			at := c.OpenedAt.Add(30 * time.Minute)
			c.FirstTouchedAt = &at
		}
		switch {
		case f.merged != "":
			c.Status, c.MergedInto = cases.StatusMerged, f.merged
		case f.took > 0:
			c.Status = cases.StatusResolved
			r := c.OpenedAt.Add(time.Duration(f.took * float64(time.Hour)))
			c.ResolvedAt = &r
		}
		st.cases = append(st.cases, c)
	}
	sort.SliceStable(st.audit, func(i, j int) bool { return st.audit[i].Time.Before(st.audit[j].Time) })
	return st
}

// askCase is one phrasing of agents/testdata/ask_questions.json.
type askCase struct {
	Q     string   `json:"q"`
	As    string   `json:"as,omitempty"`   // the Slack user asking
	IDs   []int    `json:"ids,omitempty"`  // the cases the answer must cite, exactly
	None  bool     `json:"none,omitempty"` // no case matches: the answer says so and cites none
	Text  []string `json:"text,omitempty"` // phrases the answer must hold
	Help  bool     `json:"help,omitempty"` // not understood: help and the closest question
	Issue bool     `json:"issue,omitempty"`
}

// TestAskPhrasings runs the phrasings of agents/testdata/ask_questions.json
// and ask_heldout.json over the fixture and reports the pass rate. The
// held-out file's phrasings were written, with their answers, before the
// parser first saw them (docs/agents.md gives that first-run score).
func TestAskPhrasings(t *testing.T) {
	var table []askCase
	for _, name := range []string{"testdata/ask_questions.json", "testdata/ask_heldout.json", "testdata/ask_heldout2.json", "testdata/ask_heldout3.json"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var part []askCase
		if err := json.Unmarshal(raw, &part); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		table = append(table, part...)
	}
	st := askFixture(t)
	ans := agents.NewAnswerer(st, st, func() time.Time { return askNow }).WithVocabulary(func() agents.Vocabulary { return askTeams })
	passed := 0
	for _, tt := range table {
		ok := t.Run(tt.Q, func(t *testing.T) {
			got, err := ans.AskAs(context.Background(), tt.As, tt.Q)
			if err != nil {
				t.Fatalf("AskAs(%q): %v", tt.Q, err)
			}
			var want []string
			for _, n := range tt.IDs {
				want = append(want, cases.FormatCaseID(uint64(n)))
			}
			t.Logf("%s", got.Text)
			cited := slices.Clone(got.Cases)
			sort.Strings(cited)
			sort.Strings(want)
			switch {
			case tt.Help:
				if !strings.Contains(got.Text, "did not understand") || !strings.Contains(got.Text, "closest question") || len(got.Cases) > 0 {
					t.Errorf("not help: %s", got.Text)
				}
			case tt.None:
				if len(got.Cases) > 0 || !strings.Contains(got.Text, "found no") {
					t.Errorf("want no case; got %v: %s", got.Cases, got.Text)
				}
			case tt.IDs != nil:
				if !slices.Equal(cited, want) {
					t.Errorf("cites %v, want %v: %s", cited, want, got.Text)
				}
			}
			for _, s := range tt.Text {
				if !strings.Contains(got.Text, s) {
					t.Errorf("answer lacks %q: %s", s, got.Text)
				}
			}
			if tt.IDs != nil && strings.Contains(got.Text, "found no") {
				t.Errorf("says no case where %v match: %s", want, got.Text)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("ask phrasings: %d of %d right (%.1f%%)", passed, len(table), 100*float64(passed)/float64(len(table)))
	if len(table) < 80 {
		t.Errorf("the test set has %d phrasings, want at least 80", len(table))
	}
}

// The fixture is what the phrasings' expectations were worked out from;
// this guards it against silent change.
func TestAskFixtureShape(t *testing.T) {
	st := askFixture(t)
	count := map[cases.Status]int{}
	for _, c := range st.cases {
		count[c.Status]++
	}
	if got := fmt.Sprint(count[cases.StatusOpen], count[cases.StatusResolved], count[cases.StatusMerged]); got != "18 11 1" {
		t.Fatalf("open, resolved, merged = %s, want 18 11 1", got)
	}
}
