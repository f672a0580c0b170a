package policies_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/policies"
)

// A condition error names FILE:LINE, the key, the expression and the problem.
func TestConditionErrorsNameFileAndLine(t *testing.T) {
	doc := header + `routing:
  - {family: credit_hold, team: credit}
  - when: 'amount > "ten"'
    team: ops
actions:
  x:
    approve_at: 0.5
    when: "familes.size() > 1"
  y:
    approve_at: 0.5
    approvals:
      - {when: "amount", count: 2}
      - {count: 1}
`
	_, err := policies.ParseFile("distributor.yaml", []byte(doc))
	if err == nil {
		t.Fatal("accepted three broken conditions")
	}
	for _, want := range []string{
		"distributor.yaml:8: routing[1].when: condition `amount > \"ten\"`",
		"no matching overload",
		"distributor.yaml:13: actions.x.when: condition `familes.size() > 1`",
		"undeclared reference to 'familes'",
		"distributor.yaml:17: actions.y.approvals[0].when: condition `amount` is a double, not a true/false condition",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestOtherV2Refusals(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"last approval rule has a condition", header + "actions:\n  x:\n    approve_at: 0.5\n    approvals: [{when: \"amount > 1.0\", count: 1}]\n", "the last rule must have no when"},
		{"approval rule count 0", header + "actions:\n  x:\n    approvals: [{count: 0}]\n", "actions.x.approvals[0].count"},
		{"bad approval ttl", header + "actions: {x: {approval_ttl: soon}}\n", "actions.x.approval_ttl"},
		{"escalation without name", header + "escalation: [{after: resolve, to: thread}]\n", "escalation[0].name: required"},
		{"escalation name twice", header + "escalation: [{name: a, after: resolve, to: thread}, {name: a, after: first_touch, to: thread}]\n", "used twice"},
		{"escalation bad after", header + "escalation: [{name: a, after: later, to: thread}]\n", "escalation[0].after"},
		{"escalation unknown team", header + "escalation: [{name: a, after: resolve, to: team:nobody}]\n", `escalation[0].to: "nobody"`},
		{"escalation bad target", header + "escalation: [{name: a, after: resolve, to: email}]\n", "escalation[0].to"},
		{"severity rule both", header + "severity: [{when: \"true\", at_least: high, raise: 1}]\n", "severity[0]: at_least and raise"},
		{"severity rule neither", header + "severity: [{when: \"true\"}]\n", "severity[0]: needs at_least"},
		{"severity unknown level", header + "severity: [{when: \"true\", at_least: dire}]\n", "severity[0].at_least"},
		{"routing without family or when", header + "routing: [{team: ops}]\n", "routing[0]: needs family or when"},
		{"first touch after resolve", header + "sla: {high: {first_touch: 9h, resolve: 8h}}\n", "sla.high.first_touch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policies.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func caseWith(t *testing.T, typ string, data map[string]any, team string) *cases.Case {
	t.Helper()
	ev := parseEvent(t, typ, data)
	tt, _ := cases.LookupEventType(typ)
	return &cases.Case{ID: "EX-000001", Families: []cases.Family{tt.Family}, Team: team, Severity: cases.SeverityMedium,
		OpenedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Events:   []cases.CaseEvent{{ID: "e1", Type: typ, Family: tt.Family, Data: ev.Data}}}
}

func TestConditionsDecide(t *testing.T) {
	doc := header + `severity:
  - {when: "amount >= 50000.0", at_least: high}
  - {when: 'customer_tier == "strategic"', raise: 1}
routing:
  - {when: 'region == "EU" && "credit_hold" in families', team: credit}
  - {family: credit_hold, team: ops}
actions:
  accept_price_variance:
    auto_at: 0.9
    approve_at: 0.5
    when: "amount < 1000.0 && evidence['PO price confirmed in the ERP']"
  release_credit_hold:
    approve_at: 0.0
    team: ops
    approvals:
      - {when: "amount >= 50000.0", count: 2}
      - {count: 1}
`
	p := mustParse(t, doc)
	price := func(qty float64) *cases.Case {
		return caseWith(t, "invoice.price_variance", map[string]any{"invoice": "I", "po": "P", "supplier": "S", "sku": "K",
			"quantity": qty, "invoice_unit_price": 10.05, "po_unit_price": 10}, "ops")
	}
	rec := func(action string, conf float64, confirmed bool) cases.Recommendation {
		return cases.Recommendation{Action: action, Confidence: conf,
			Evidence: []cases.Evidence{{Check: "PO price confirmed in the ERP", Passed: confirmed, Weight: 1}}}
	}
	tests := []struct {
		name string
		c    *cases.Case
		r    cases.Recommendation
		want cases.Verdict
		n    int
	}{
		{"guard holds: auto", price(100), rec("accept_price_variance", 0.95, true), cases.VerdictAuto, 0},
		{"amount too big: approve", price(100000), rec("accept_price_variance", 0.95, true), cases.VerdictApprove, 1},
		{"evidence failed: approve", price(100), rec("accept_price_variance", 0.95, false), cases.VerdictApprove, 1},
		{"small credit: one approval", caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 1000}, "ops"),
			rec("release_credit_hold", 0.9, true), cases.VerdictApprove, 1},
		{"large credit: two approvals", caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 60000}, "ops"),
			rec("release_credit_hold", 0.9, true), cases.VerdictApprove, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := p.Judge(tt.c, tt.r, testNow)
			if j.Verdict != tt.want || (tt.n > 0 && j.ApprovalsNeeded != tt.n) {
				t.Errorf("verdict %s with %d approvals, want %s with %d\n%s", j.Verdict, j.ApprovalsNeeded, tt.want, tt.n, strings.Join(j.Explain, "\n"))
			}
			if len(j.Explain) < 2 {
				t.Errorf("no explanation: %v", j.Explain)
			}
		})
	}

	eu := caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "region": "EU"}, "")
	us := caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "region": "US"}, "")
	if team, _ := p.Route(eu, testNow); team != "credit" {
		t.Errorf("EU credit hold routed to %s, want credit", team)
	}
	if team, _ := p.Route(us, testNow); team != "ops" {
		t.Errorf("US credit hold routed to %s, want ops", team)
	}

	big := caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 60000, "customer_tier": "strategic"}, "")
	if got := p.Severity(big, cases.SeverityMedium, testNow); got != cases.SeverityCritical {
		t.Errorf("strategic 60,000 order: %s, want critical (high, raised one)", got)
	}
	if got := p.Severity(us, cases.SeverityMedium, testNow); got != cases.SeverityMedium {
		t.Errorf("plain credit hold: %s, want medium", got)
	}
}

func TestEscalationSteps(t *testing.T) {
	p := mustParse(t, header+`  mgmt: {channel: "#mgmt", approvers: [UM]}
sla:
  high: {first_touch: 1h, resolve: 8h}
escalation:
  - {name: leadership, after: resolve+4h, to: team:mgmt}
  - {name: remind, after: first_touch, to: thread, unless_touched: true}
  - {name: managers, after: resolve, to: manager}
`)
	opened := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	sla := p.SLA(cases.SeverityHigh)
	c := &cases.Case{ID: "EX-1", Team: "ops", Severity: cases.SeverityHigh, OpenedAt: opened,
		FirstTouchDue: opened.Add(sla.FirstTouch), SLADue: opened.Add(sla.Resolve)}
	steps := p.Escalation(c)
	if len(steps) != 3 {
		t.Fatalf("%d steps", len(steps))
	}
	want := []struct {
		name, channel string
		at            time.Duration
		mention       string
	}{
		{"remind", "", time.Hour, ""},
		{"managers", "#ops", 8 * time.Hour, "U1"}, // no managers: the approvers
		{"leadership", "#mgmt", 12 * time.Hour, "UM"},
	}
	for i, w := range want {
		s := steps[i]
		if s.Name != w.name || s.Channel != w.channel || !s.At.Equal(opened.Add(w.at)) {
			t.Errorf("step %d = %s to %q at %s, want %s to %q at +%s", i, s.Name, s.Channel, s.At, w.name, w.channel, w.at)
		}
		if w.mention != "" && (len(s.Mention) == 0 || s.Mention[0] != w.mention) {
			t.Errorf("step %s mentions %v, want %s first", s.Name, s.Mention, w.mention)
		}
	}
	if !steps[0].UnlessTouched || steps[1].UnlessTouched {
		t.Error("unless_touched not carried")
	}
}

func parseEvent(t *testing.T, typ string, data map[string]any) cases.Event {
	t.Helper()
	b, err := json.Marshal(map[string]any{"specversion": "1.0", "id": "e1", "source": "/erp", "type": typ, "time": "2026-11-27T09:00:00Z", "data": data})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := cases.ParseEvent(b)
	if err != nil {
		t.Fatalf("event: %v", err)
	}
	return ev
}

// testNow is the business time the policy tests judge at: a fixed day, so
// no verdict depends on when the tests run.
var testNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// The policy has no clock of its own: age and lateness come from the time the
// engine hands it, so the same case is judged the same on any day.
func TestAgeFollowsTheGivenTime(t *testing.T) {
	p := mustParse(t, header+`severity:
  - {when: "age_hours >= 48.0", at_least: critical}
`)
	c := caseWith(t, "order.credit_hold", map[string]any{"order": "O", "customer": "C", "order_value": 10}, "ops")
	for _, tt := range []struct {
		after time.Duration
		want  cases.Severity
	}{
		{time.Hour, cases.SeverityMedium},
		{47 * time.Hour, cases.SeverityMedium},
		{48 * time.Hour, cases.SeverityCritical},
		{5 * 365 * 24 * time.Hour, cases.SeverityCritical},
	} {
		if got := p.Severity(c, cases.SeverityMedium, c.OpenedAt.Add(tt.after)); got != tt.want {
			t.Errorf("%s after opening: %s, want %s", tt.after, got, tt.want)
		}
	}
}

// A variance raised from a document whose fields were read with low
// confidence is never resolved alone: at most approve, saying which fields.
func TestUncertainDocumentFieldsCapTheVerdict(t *testing.T) {
	p := mustParse(t, header+`actions:
  accept_price_variance:
    auto_at: 0.9
    approve_at: 0.5
`)
	data := func(uncertain ...any) map[string]any {
		d := map[string]any{"invoice": "I", "po": "P", "supplier": "S", "sku": "K", "quantity": 10.0, "invoice_unit_price": 10.05, "po_unit_price": 10.0}
		if len(uncertain) > 0 {
			d["uncertain_fields"] = uncertain
		}
		return d
	}
	rec := cases.Recommendation{Action: "accept_price_variance", Family: cases.FamilyPriceDiscrepancy, Confidence: 0.97}
	sure := caseWith(t, "invoice.price_variance", data(), "ops")
	if j := p.Judge(sure, rec, testNow); j.Verdict != cases.VerdictAuto {
		t.Fatalf("certain document: %s (%s)", j.Verdict, j.Reason)
	}
	unsure := caseWith(t, "invoice.price_variance", data("total", "lines"), "ops")
	j := p.Judge(unsure, rec, testNow)
	if j.Verdict != cases.VerdictApprove || !strings.Contains(j.Reason, "total, lines were read with low confidence") || len(j.Approvers) == 0 {
		t.Errorf("uncertain document: %s (%s), approvers %v", j.Verdict, j.Reason, j.Approvers)
	}
}
