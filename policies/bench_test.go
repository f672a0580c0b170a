package policies_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/policies"
)

// fiftyRules is a policy with 50 conditions: 10 severity rules, 15 routing
// rules and 25 actions, each with an auto guard and conditional approvals.
func fiftyRules() string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("severity:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "  - {when: \"amount >= %d.0 && days_late >= %d.0\", at_least: %s}\n", (i+1)*5000, i%4, []string{"low", "medium", "high", "critical"}[i%4])
	}
	b.WriteString("routing:\n")
	for i := 0; i < 15; i++ {
		fmt.Fprintf(&b, "  - {when: 'region == \"R%d\" && customer_tier != \"basic\" && amount > %d.0', team: credit}\n", i, i*1000)
	}
	b.WriteString("actions:\n")
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, "  act%d:\n    auto_at: 0.9\n    approve_at: 0.5\n    when: 'amount < %d.0 && variance_pct < 2.0 && evidence[\"PO price confirmed in the ERP\"]'\n    approvals:\n      - {when: \"amount >= 50000.0\", count: 2}\n      - {count: 1}\n    team: ops\n", i, 1000*(i+1))
	}
	return b.String()
}

// BenchmarkJudge measures verdicts per second under a 50-rule policy on
// realistic cases (run with -cpu 1 for one core). Programs are compiled once
// at load; Judge only evaluates.
func BenchmarkJudge(b *testing.B) {
	p, err := policies.Parse([]byte(fiftyRules()))
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	cs := []*cases.Case{
		caseWith(t, "invoice.price_variance", map[string]any{"invoice": "I", "po": "P", "supplier": "S", "sku": "K",
			"quantity": 500, "invoice_unit_price": 4.03, "po_unit_price": 4.0, "region": "R3"}, "ops"),
		caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 60000, "customer_tier": "strategic"}, "ops"),
		caseWith(t, "shipment.delayed", map[string]any{"shipment": "A", "supplier": "S", "original_eta": "2026-11-27", "new_eta": "2026-12-02",
			"orders": []any{"SO-1", "SO-2"}}, "ops"),
	}
	recs := make([]cases.Recommendation, 25)
	for i := range recs {
		recs[i] = cases.Recommendation{Action: fmt.Sprintf("act%d", i), Confidence: 0.5 + float64(i%10)/20,
			Evidence: []cases.Evidence{{Check: "PO price confirmed in the ERP", Passed: i%3 != 0, Weight: 2}, {Check: "variance within tolerance", Passed: true, Weight: 3}}}
	}
	verdicts := map[cases.Verdict]int{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := p.Judge(cs[i%len(cs)], recs[i%len(recs)], testNow)
		verdicts[j.Verdict]++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	if b.N >= 100 && len(verdicts) < 2 {
		b.Fatalf("every verdict was the same (%v): the benchmark exercises nothing", verdicts)
	}
}

// BenchmarkJudgeThresholdsOnly is the baseline: the same cases and actions
// under a policy of thresholds with no conditions.
func BenchmarkJudgeThresholdsOnly(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header + "actions:\n")
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&sb, "  act%d: {auto_at: 0.9, approve_at: 0.5, team: ops}\n", i)
	}
	p, err := policies.Parse([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	c := caseWith(&testing.T{}, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 60000}, "ops")
	r := cases.Recommendation{Action: "act3", Confidence: 0.7}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Judge(c, r, testNow)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
}
