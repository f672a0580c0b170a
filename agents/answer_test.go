package agents_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

// memStore is a fake case store and audit log: FindCases by scanning, with
// the semantics of cases.CaseQuery (the storage conformance suite holds the
// real store to the same).
type memStore struct {
	cases []*cases.Case
	audit []cases.AuditEntry
}

func (m *memStore) FindCases(_ context.Context, q cases.CaseQuery) (cases.CaseList, error) {
	var out []*cases.Case
	for _, c := range m.cases {
		if q.Match(c) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OpenedAt.After(out[j].OpenedAt) })
	l := cases.CaseList{Total: len(out)}
	limit := q.Limit
	if limit <= 0 {
		limit = cases.DefaultCaseLimit
	}
	l.Cases = out[:min(limit, len(out))]
	return l, nil
}

func (m *memStore) ForEachAuditEntry(_ context.Context, since time.Time, fn func(uint64, cases.AuditEntry) error) error {
	for i, e := range m.audit {
		if !e.Time.Before(since) {
			if err := fn(uint64(i+1), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// qaStore is a small world: the demo's composite order case (open, a
// credit release approved), a resolved price case, a resolved and an open
// supplier delay from Northwind, and an old open delay from Contoso.
func qaStore(t *testing.T) *memStore {
	t.Helper()
	h := time.Hour
	c1 := compositeCase(t)
	c1.ID, c1.OpenedAt = "EX-000001", now.Add(-5*h)
	c1.Summary, c1.SummaryBy = "EX-000001 is a composite case on order SO-1042.", "rules"
	c1.Decisions = []cases.Decision{{Time: now.Add(-2 * h), Actor: "U0CREDITMGR", RecommendationID: "r1", Action: "release_credit_hold",
		Choice: cases.ChoiceApprove, Verdict: cases.VerdictApprove, Confidence: 0.63, PolicyVersion: "2026-11-27.1"}}
	resolved := func(id string, opened, took time.Duration, typ string, data map[string]any) *cases.Case {
		c := newCase(nil, caseEvent(t, typ, data))
		c.ID, c.OpenedAt, c.Status = id, now.Add(-opened), cases.StatusResolved
		r := c.OpenedAt.Add(took)
		c.ResolvedAt = &r
		return c
	}
	c2 := resolved("EX-000002", 30*h, 4*h, "invoice.price_variance", priceINV90211)
	c2.Decisions = []cases.Decision{{Time: now.Add(-26 * h), Actor: cases.ActorExops, Action: "accept_price_variance", Choice: cases.ChoiceAuto,
		Verdict: cases.VerdictAuto, Confidence: 1, PolicyVersion: "2026-11-27.1"}}
	c3 := resolved("EX-000003", 80*h, 10*h, "shipment.delayed", with(delayASN7781, "shipment", "ASN-7000", "orders", []any{"SO-9"}))
	c4 := newCase(nil, caseEvent(t, "shipment.delayed", with(delayASN7781, "shipment", "ASN-7001", "orders", []any{"SO-10"})))
	c4.ID, c4.OpenedAt = "EX-000004", now.Add(-3*h)
	c5 := newCase(nil, caseEvent(t, "supplier.confirmation_missing", confirmationPO3342))
	c5.ID, c5.OpenedAt = "EX-000005", now.Add(-70*h)
	c6 := newCase(nil, caseEvent(t, "shipment.delayed", with(delayASN7781, "shipment", "ASN-7002", "supplier", "Contoso Packaging", "orders", []any{"SO-11"})))
	c6.ID, c6.OpenedAt = "EX-000006", now.Add(-60*h)
	return &memStore{cases: []*cases.Case{c1, c2, c3, c4, c5, c6}, audit: []cases.AuditEntry{
		{Time: now.Add(-26 * h), Case: "EX-000002", Kind: cases.AuditDecision, Action: "accept_price_variance", Actor: cases.ActorExops,
			Verdict: "auto", Confidence: 1, PolicyVersion: "2026-11-27.1", Detail: "auto: within threshold"},
		{Time: now.Add(-2 * h), Case: "EX-000001", Kind: cases.AuditDecision, Action: "release_credit_hold", Actor: "U0CREDITMGR",
			Verdict: "approve", Confidence: 0.63, PolicyVersion: "2026-11-27.1", Detail: "approve: 1 of 1"},
		{Time: now.Add(-1 * h), Case: "EX-000001", Kind: cases.AuditVerdict, Action: "expedite_shipment", Actor: cases.ActorExops},
	}}
}

// TestCommandsAreNotAnswered: a command typed as a question changes
// nothing and is not answered as a question about its case (which would
// read as done); it says where the change is made. Questions that merely
// contain such a word are answered as before.
func TestCommandsAreNotAnswered(t *testing.T) {
	st := qaStore(t)
	ans := agents.NewAnswerer(st, st, func() time.Time { return now })
	tests := []struct {
		question, want string
	}{
		{"approve EX-000001", "buttons on the case's card"},
		{"please reject EX-000001!", "buttons on the case's card"},
		{"<@U0EXOPS> can you release the hold on SO-1042?", "buttons on the case's card"},
		{"assign EX-000001 to <@U123>", "/exops assign"},
		{"snooze ex 1 for 2 days", "/exops snooze"},
		{"close EX-000001", "does not close"},
		{"who approved EX-000001?", "U0CREDITMGR"},
		{"status of order SO-1042?", "I found 1 case for order SO-1042."},
		{"close to breach?", ""},
		{"approve all pending credit holds", "buttons on the case's card"},
		{"resolve time for credit holds", ""},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			a, err := ans.Ask(context.Background(), tt.question)
			if err != nil {
				t.Fatal(err)
			}
			isCommand := strings.HasPrefix(a.Text, "I answer questions and change nothing")
			if wantCommand := strings.Contains(tt.want, "button") || strings.Contains(tt.want, "/exops") || strings.Contains(tt.want, "does not"); isCommand != wantCommand {
				t.Fatalf("answer %q: taken as a command %v, want %v", a.Text, isCommand, wantCommand)
			}
			if !strings.Contains(a.Text, tt.want) {
				t.Errorf("answer %q lacks %q", a.Text, tt.want)
			}
			if isCommand && len(a.Cases) != 0 {
				t.Errorf("a command's answer cites %v", a.Cases)
			}
		})
	}
}

func TestAskRules(t *testing.T) {
	st := qaStore(t)
	ans := agents.NewAnswerer(st, st, func() time.Time { return now })
	tests := []struct {
		question string
		contains []string
		cites    []string
		lacks    []string
	}{
		{"status of order SO-1042?", []string{"I found 1 case for order SO-1042.", "EX-000001 is open: credit hold, allocation conflict and supplier delay",
			"Waiting for a decision", "Last decision: U0CREDITMGR approved release_credit_hold on EX-000001 at 2026-11-26 10:00 UTC"}, []string{"EX-000001"}, nil},
		{"status of order SO-4711?", []string{"I found no case for order SO-4711."}, nil, []string{"EX-"}},
		{"is there an open case for SO-9?", []string{"I found no open case for order SO-9."}, nil, []string{"EX-"}},
		{"any case for po 7777?", []string{"I found no case for PO-7777."}, nil, []string{"PO PO-", "EX-"}},
		{"show EX-000002", []string{"EX-000002 is resolved: price discrepancy", "resolved 2026-11-25 10:00 UTC", "Last decision: exops ran automatically accept_price_variance"}, []string{"EX-000002"}, nil},
		{"show EX-000099", []string{"I found no case EX-000099."}, nil, nil},
		{"which supplier delays are older than 2 days?", []string{"I found 1 open supplier delay case opened before 2026-11-24 12:00 UTC: EX-000006 (open; supplier delay; supplier Contoso Packaging"},
			[]string{"EX-000006"}, []string{"EX-000004", "EX-000003"}},
		{"open supplier delays", []string{"I found 3 open supplier delay cases: EX-000004", "EX-000001", "EX-000006"}, []string{"EX-000004", "EX-000001", "EX-000006"}, nil},
		{"how many open cases?", []string{"I found 4 open cases"}, []string{"EX-000004", "EX-000001", "EX-000006", "EX-000005"}, nil},
		{"open cases for Acme", []string{"I found 1 open case for customer Acme: EX-000001"}, []string{"EX-000001"}, nil},
		{"cases for Globex", []string{"I found no case for Globex."}, nil, []string{"EX-"}},
		{"who approved the credit release for Acme?", []string{"I found 1 approval of release_credit_hold on the credit hold case for customer Acme (EX-000001): U0CREDITMGR approved release_credit_hold on EX-000001 at 2026-11-26 10:00 UTC (confidence 63%, policy 2026-11-27.1)."},
			[]string{"EX-000001"}, nil},
		{"who approved the credit release for Globex?", []string{"I found no credit hold case for Globex, so no decisions on one."}, nil, []string{"U0CREDITMGR"}},
		{"who rejected the reallocation on SO-1042?", []string{"I found no rejection of reallocate_order on the allocation conflict case for order SO-1042 (EX-000001)."}, []string{"EX-000001"}, []string{"U0CREDITMGR"}},
		{"decisions today", []string{"I found 1 decision since 2026-11-26 00:00 UTC in the audit log: U0CREDITMGR approved release_credit_hold on EX-000001"}, []string{"EX-000001"}, []string{"EX-000002"}},
		{"what did U0CREDITMGR approve this week?", []string{"I found 1 approval by U0CREDITMGR"}, []string{"EX-000001"}, []string{"accept_price_variance"}},
		{"what did U0NOBODY approve?", []string{"I found no approval by U0NOBODY since 2026-10-27 12:00 UTC in the audit log."}, nil, nil},
		{"what are the recurring patterns?", []string{"Top recurring patterns among 2 resolved cases opened since 2026-08-28", "supplier Northwind Fasteners: 2 cases, 14.0 hours open in all (EX-000002, EX-000003)"}, []string{"EX-000002", "EX-000003"}, nil},
		{"recurring patterns last month", []string{"I found no recurring pattern among 0 resolved cases opened from 2026-10-01 to before 2026-11-01"}, nil, nil},
		// What the question names narrows the cases looked at.
		{"recurring patterns for Contoso Packaging", []string{"I found no recurring pattern among 0 resolved cases for Contoso Packaging opened since 2026-08-28"}, nil, nil},
		{"recurring patterns for supplier delays", []string{"I found no recurring pattern among 1 resolved supplier delay case opened since 2026-08-28"}, nil, nil},
		{"recurring patterns for Northwind Fasteners", []string{"Top recurring patterns among 2 resolved cases for supplier Northwind Fasteners opened since 2026-08-28"}, []string{"EX-000002", "EX-000003"}, nil},
		{"good morning", []string{"I did not understand the question"}, nil, []string{"I found"}},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			got, err := ans.Ask(context.Background(), tt.question)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.contains {
				if !strings.Contains(got.Text, w) {
					t.Errorf("answer lacks %q:\n%s", w, got.Text)
				}
			}
			for _, w := range tt.lacks {
				if strings.Contains(got.Text, w) {
					t.Errorf("answer contains %q:\n%s", w, got.Text)
				}
			}
			if strings.Join(got.Cases, ",") != strings.Join(tt.cites, ",") {
				t.Errorf("cites %v, want %v\n%s", got.Cases, tt.cites, got.Text)
			}
			for _, id := range got.Cases {
				if !strings.Contains(got.Text, id) {
					t.Errorf("cites %s without naming it", id)
				}
			}
			if got.By != agents.Name {
				t.Errorf("by %q", got.By)
			}
		})
	}
}

func TestAskEmpty(t *testing.T) {
	ans := agents.NewAnswerer(&memStore{}, nil, func() time.Time { return now })
	if _, err := ans.Ask(context.Background(), "  "); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("empty question: %v, want invalid", err)
	}
}

func TestPatterns(t *testing.T) {
	h := time.Hour
	mk := func(id string, took time.Duration, status cases.Status, data map[string]any) *cases.Case {
		c := newCase(nil, caseEvent(t, "shipment.delayed", data))
		c.ID, c.OpenedAt, c.Status = id, now.Add(-100*h), status
		if status == cases.StatusResolved {
			r := c.OpenedAt.Add(took)
			c.ResolvedAt = &r
		}
		return c
	}
	nw := delayASN7781
	cs := []*cases.Case{
		mk("EX-1", 2*h, cases.StatusResolved, nw),
		mk("EX-2", 3*h, cases.StatusResolved, with(nw, "sku", "SKU-9")),
		mk("EX-3", 5*h, cases.StatusResolved, with(nw, "supplier", "Contoso", "sku", "SKU-9", "warehouse", "ATL")),
		mk("EX-4", 50*h, cases.StatusOpen, nw), // open: not counted
		mk("EX-5", 7*h, cases.StatusResolved, with(nw, "supplier", "Fabrikam", "sku", "SKU-1", "warehouse", "RNO")),
	}
	got := cases.Patterns(cs, 4)
	type row struct {
		dim, val string
		n        int
		lost     time.Duration
		ids      string
	}
	var have []row
	for _, p := range got {
		have = append(have, row{p.Dimension, p.Value, p.Count, p.TimeLost, strings.Join(p.Cases, ",")})
	}
	want := []row{
		{"family", "supplier delay", 4, 17 * h, "EX-5,EX-3,EX-2,EX-1"},
		// Same count: more time lost first, then dimension, then value.
		{"sku", "SKU-9", 2, 8 * h, "EX-3,EX-2"},
		{"supplier", "Northwind Fasteners", 2, 5 * h, "EX-2,EX-1"},
		{"warehouse", "DAL", 2, 5 * h, "EX-2,EX-1"},
	}
	if len(have) != len(want) {
		t.Fatalf("Patterns = %+v\nwant %+v", have, want)
	}
	for i := range want {
		if have[i] != want[i] {
			t.Errorf("pattern %d = %+v, want %+v", i, have[i], want[i])
		}
	}
	if n := len(cases.Patterns(cs[:1], 0)); n != 0 {
		t.Errorf("one case makes %d patterns, want none (a pattern recurs)", n)
	}
}
