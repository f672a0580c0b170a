package agents_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var sentenceEnd = regexp.MustCompile(`[.!?](\s|$)`)

func sentences(s string) int { return len(sentenceEnd.FindAllString(s, -1)) }

func summarize(t *testing.T, c *cases.Case) string {
	t.Helper()
	text, by, err := newRules().Summarize(context.Background(), c)
	if err != nil {
		t.Fatalf("Summarize: %v", err)
	}
	if by != agents.Name {
		t.Errorf("by %q, want %q", by, agents.Name)
	}
	if n := sentences(text); n < 2 || n > 4 {
		t.Errorf("%d sentences, want 2 to 4: %q", n, text)
	}
	if !strings.Contains(text, c.ID) {
		t.Errorf("summary does not name the case %s: %q", c.ID, text)
	}
	return text
}

// compositeCase is the demo's order problem: a credit hold, a split
// allocation and a late inbound shipment on SO-1042, enriched as the
// simulator does, with the rules agent's recommendations pending.
func compositeCase(t *testing.T) *cases.Case {
	t.Helper()
	c := newCase(merge(ctxAcme, ctxStock88, ctxASN7781),
		caseEvent(t, "order.credit_hold", creditHoldAcme),
		caseEvent(t, "order.allocation_conflict", allocationSO1042),
		caseEvent(t, "shipment.delayed", delayASN7781))
	c.Severity, c.Priority = cases.SeverityHigh, "P1"
	recs, err := newRules().Recommend(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].State = cases.RecPending
	}
	c.Recommendations = recs
	return c
}

func TestSummarizeCompositeGolden(t *testing.T) {
	got := summarize(t, compositeCase(t)) + "\n"
	path := filepath.Join("testdata", "composite_summary.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agents -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("summary differs from %s:\ngot  %q\nwant %q", path, got, want)
	}
}

func rec(title string, state cases.RecState) cases.Recommendation {
	return cases.Recommendation{Action: "a", Title: title, State: state}
}

func TestSummarize(t *testing.T) {
	type check struct {
		contains, lacks []string
		bug             string // non-empty: known bug; a failed check skips
	}
	tests := []struct {
		name  string
		c     func(t *testing.T) *cases.Case
		check check
	}{
		{"single family names family and subject", func(t *testing.T) *cases.Case {
			return newCase(nil, caseEvent(t, "invoice.price_variance", priceINV90211))
		}, check{contains: []string{
			"EX-000042: price discrepancy on invoice INV-90211.",
			"Impact: invoice INV-90211 is +0.75% off the PO price (15.00 USD at stake).",
			"Severity medium, priority P3, owned by customer-service.",
		}, lacks: []string{"composite", "Decision needed", "Resolved"}}},
		{"customer name from the ERP beats the event's", func(t *testing.T) *cases.Case {
			return newCase(map[string]string{cases.CtxCustomerName("C-ACME"): "ACME RETAIL LLC"}, caseEvent(t, "order.credit_hold", creditHoldAcme))
		}, check{contains: []string{"EX-000042: credit hold on order SO-1042 for ACME RETAIL LLC (C-ACME)."}}},
		{"order value is part of the impact", func(t *testing.T) *cases.Case {
			return newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
		}, check{contains: []string{"Impact: order value 48,250.00 USD."},
			bug: `c.Fact("order_value") reads only string fields, but ParseEvent stores numbers as float64, so the order value never reaches the summary (agents/rules.go:51)`}},
		{"composite wording", compositeCase, check{contains: []string{
			"EX-000042 is one composite case on order SO-1042 for Acme Retail (C-ACME) with credit hold, allocation conflict and supplier delay.",
			"inbound ASN-7781 slipped 5 days to 2026-12-02", "promised for 2026-11-30",
		}}},
		{"two families joined with and", func(t *testing.T) *cases.Case {
			return newCase(nil, caseEvent(t, "receipt.variance", receiptPO3310), caseEvent(t, "shipment.delayed", with(delayASN7781, "po", "PO-3310")))
		}, check{contains: []string{"is one composite case on po PO-3310 with receipt variance and supplier delay."}}},
		{"decision needed lists only pending recommendations", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
			c.Recommendations = []cases.Recommendation{
				rec("Release credit hold on SO-1042", cases.RecPending),
				rec("Expedite ASN-7781 with Northwind", cases.RecPending),
				rec("Ship SO-1042 in parts", cases.RecExecuted),
				rec("Recount SKU-88", cases.RecRejected),
			}
			return c
		}, check{
			contains: []string{"Decision needed: release credit hold on SO-1042 and expedite ASN-7781 with Northwind."},
			lacks:    []string{"ship SO-1042", "Ship SO-1042", "ecount"},
		}},
		{"no pending: no decision sentence", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
			c.Recommendations = []cases.Recommendation{rec("Release credit hold on SO-1042", cases.RecApproved)}
			return c
		}, check{lacks: []string{"Decision needed", "Resolved"}}},
		{"resolved names what was done", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "invoice.price_variance", priceINV90211))
			c.Status = cases.StatusResolved
			c.Recommendations = []cases.Recommendation{
				rec("Accept the +0.75% price variance on invoice INV-90211", cases.RecExecuted),
				rec("Dispute invoice INV-90211", cases.RecPending),
			}
			return c
		}, check{contains: []string{"Resolved: accept the +0.75% price variance on invoice INV-90211."}, lacks: []string{"Decision needed"}}},
		{"resolved with nothing executed", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
			c.Status = cases.StatusResolved
			c.Recommendations = []cases.Recommendation{rec("Release credit hold on SO-1042", cases.RecRejected)}
			return c
		}, check{contains: []string{"Resolved"}, lacks: []string{"Resolved: ."},
			bug: `a case resolved without an executed action (rejected, or closed by hand) reads "Resolved: ." (agents/rules.go:88)`}},
		{"missing context is told", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", with(creditHoldAcme, "customer", "C-NEW")))
			c.Missing = []string{"credit status unavailable: ERP has no customer C-NEW"}
			return c
		}, check{contains: []string{"missing context: credit status unavailable: ERP has no customer C-NEW."}}},
		{"missing context without impact keeps the decision needed", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", with(creditHoldAcme, "customer", "C-NEW")))
			c.Missing = []string{"credit status unavailable: ERP has no customer C-NEW"}
			c.Recommendations = []cases.Recommendation{rec("Release credit hold on SO-1042", cases.RecPending)}
			return c
		}, check{contains: []string{"Decision needed: release credit hold on SO-1042.", "missing context: credit status unavailable"}}},
		{"missing context does not hide the decision needed", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "invoice.price_variance", priceINV90211))
			c.Missing = []string{"PO line unavailable: ERP has no SKU-12 on PO-3298"}
			c.Recommendations = []cases.Recommendation{rec("Accept the +0.75% price variance on invoice INV-90211", cases.RecPending)}
			return c
		}, check{contains: []string{"Decision needed: accept the +0.75% price variance on invoice INV-90211."},
			bug: `with impact, a pending decision and missing context, s[:3] drops "Decision needed" to make room for "Missing context" (agents/rules.go:93)`}},
		{"non-ASCII title stays valid UTF-8", func(t *testing.T) *cases.Case {
			c := newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
			c.Recommendations = []cases.Recommendation{rec("Überweisung prüfen", cases.RecPending)}
			return c
		}, check{contains: []string{"Decision needed: überweisung prüfen."},
			bug: `strings.ToLower(r.Title[:1]) cuts the first rune of a non-ASCII title in half (agents/rules.go:77, 83)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(t, tt.c(t))
			var problems []string
			if !utf8.ValidString(got) {
				problems = append(problems, "not valid UTF-8")
			}
			for _, w := range tt.check.contains {
				if !strings.Contains(got, w) {
					problems = append(problems, "lacks "+strconv.Quote(w))
				}
			}
			for _, w := range tt.check.lacks {
				if strings.Contains(got, w) {
					problems = append(problems, "contains "+strconv.Quote(w))
				}
			}
			if len(problems) > 0 {
				if tt.check.bug != "" {
					t.Fatalf("regression: %s: %s in %q", tt.check.bug, strings.Join(problems, ", "), got)
				}
				t.Errorf("%s\nsummary: %q", strings.Join(problems, "\n"), got)
			}
		})
	}
}

// A recommendation from another agent may come without a title; the summary
// must still be written, not crash the worker.
func TestSummarizeEmptyTitle(t *testing.T) {
	c := newCase(nil, caseEvent(t, "order.credit_hold", creditHoldAcme))
	c.Recommendations = []cases.Recommendation{rec("", cases.RecPending)}
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("regression: Summarize panics on a pending recommendation with an empty title (agents/rules.go:77 r.Title[:1]): %v", p)
		}
	}()
	_, _, err := newRules().Summarize(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
}
