package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/report"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func at(h float64) time.Time     { return t0.Add(time.Duration(h * float64(time.Hour))) }
func ptr(t time.Time) *time.Time { return &t }

func ev(f cases.Family, h float64, data map[string]any) cases.CaseEvent {
	return cases.CaseEvent{ID: "e", Family: f, Received: at(h), Data: data}
}

// A small hand-built set, times in hours from t0 (now is t0+48h):
//
//	1 credit hold, resolved by the bot after 2h (auto, standard action)
//	2 price discrepancy, touched at 1h, approved by a person, resolved at 4h
//	3 price discrepancy + supplier delay, escalated once, touched 6h, resolved 10h, action failed first then a model suggestion ran
//	4 allocation conflict, open since t0+0 (48h old), approval waiting
//	5 inventory variance, open since t0+46h (2h old)
//	6 merged: ignored
func set() []*cases.Case {
	auto := cases.Decision{Actor: cases.ActorExops, RecommendationID: "r1", Choice: cases.ChoiceAuto}
	return []*cases.Case{
		{ID: "EX-1", Status: cases.StatusResolved, Families: []cases.Family{cases.FamilyCreditHold}, OpenedAt: at(0), ResolvedAt: ptr(at(2)),
			Events:          []cases.CaseEvent{ev(cases.FamilyCreditHold, 0, map[string]any{"customer": "C-ACME"})},
			Recommendations: []cases.Recommendation{{ID: "r1", Action: "release_credit_hold", State: cases.RecExecuted, Verdict: cases.VerdictAuto}},
			Decisions:       []cases.Decision{auto}},
		{ID: "EX-2", Status: cases.StatusResolved, Families: []cases.Family{cases.FamilyPriceDiscrepancy}, OpenedAt: at(0), FirstTouchedAt: ptr(at(1)), ResolvedAt: ptr(at(4)),
			Events:          []cases.CaseEvent{ev(cases.FamilyPriceDiscrepancy, 0, map[string]any{"supplier": "Northwind"})},
			Recommendations: []cases.Recommendation{{ID: "r1", Action: "accept_price_variance", State: cases.RecExecuted, Verdict: cases.VerdictApprove}},
			Decisions:       []cases.Decision{{Actor: "U1", RecommendationID: "r1", Choice: cases.ChoiceApprove}}},
		{ID: "EX-3", Status: cases.StatusResolved, Families: []cases.Family{cases.FamilyPriceDiscrepancy, cases.FamilySupplierDelay}, OpenedAt: at(2),
			FirstTouchedAt: ptr(at(8)), ResolvedAt: ptr(at(12)), Escalated: []string{"remind"},
			Events: []cases.CaseEvent{ev(cases.FamilyPriceDiscrepancy, 2, map[string]any{"supplier": "Northwind"}),
				ev(cases.FamilySupplierDelay, 3, map[string]any{"supplier": "Northwind"})},
			Recommendations: []cases.Recommendation{
				{ID: "r1", Action: "dispute_price_variance", State: cases.RecFailed, Verdict: cases.VerdictApprove},
				{ID: "r2", Action: "model_suggestion", State: cases.RecExecuted, Verdict: cases.VerdictRecommend}},
			Decisions: []cases.Decision{{Actor: "U1", RecommendationID: "r1"}, {Actor: "U2", RecommendationID: "r2"}, {Actor: "U3", RecommendationID: "r2"}}},
		{ID: "EX-4", Status: cases.StatusOpen, Families: []cases.Family{cases.FamilyAllocationConflict}, OpenedAt: at(0),
			Events:          []cases.CaseEvent{ev(cases.FamilyAllocationConflict, 0, nil)},
			Recommendations: []cases.Recommendation{{ID: "r1", State: cases.RecPending, Verdict: cases.VerdictApprove}, {ID: "r2", State: cases.RecPending, Verdict: cases.VerdictRecommend}}},
		{ID: "EX-5", Status: cases.StatusOpen, Families: []cases.Family{cases.FamilyInventoryVariance}, OpenedAt: at(46),
			Events: []cases.CaseEvent{ev(cases.FamilyInventoryVariance, 46, nil)}},
		{ID: "EX-6", Status: cases.StatusMerged, Families: []cases.Family{cases.FamilyCreditHold}, OpenedAt: at(1),
			Events: []cases.CaseEvent{ev(cases.FamilyCreditHold, 1, nil)}},
	}
}

func TestCompute(t *testing.T) {
	r := report.Compute(set(), report.Options{Now: at(48)})
	h := time.Hour
	tests := []struct {
		name      string
		got, want any
	}{
		{"opened", r.Opened, 5},
		{"resolved", r.Resolved, 3},
		{"open", r.Open, 2},
		{"price discrepancy cases", r.ByFamily[cases.FamilyPriceDiscrepancy], 2},
		{"credit hold cases (merged skipped)", r.ByFamily[cases.FamilyCreditHold], 1},
		{"supplier delay events", r.EventsByFam[cases.FamilySupplierDelay], 1},
		{"MTTR: (2+4+10)/3 h", r.Resolution.Mean, 16 * h / 3},
		{"median resolution", r.Resolution.Median, 4 * h},
		{"first touch mean (1h, 6h)", r.FirstTouch.Mean, 3*h + 30*time.Minute},
		{"invoice cycle mean (4h, 10h)", r.InvoiceCycle.Mean, 7 * h},
		{"backlog <4h", r.Backlog["<4h"], 1},
		{"backlog 1d-3d", r.Backlog["1d-3d"], 1},
		{"backlog 4h-1d", r.Backlog["4h-1d"], 0},
		{"oldest open", r.OldestOpen, 48 * h},
		{"by bot", r.ByBot, 1},
		{"handoffs: 0 + 1 + (2 decided + 1 escalation + 1 failed)", r.Handoffs, 5},
		{"first-touch resolutions (≤1 handoff)", r.FirstTouchResolve, 2},
		{"standard workflows (EX-3 ran a model suggestion)", r.Standard, 2},
		{"approvals waiting", r.ApprovalsWaiting, 1},
		{"failed actions", r.ActionsFailed, 1},
		{"patterns (ties by name)", len(r.Patterns), 2},
		{"pattern 1", len(r.Patterns) == 2 && r.Patterns[0].Value == "price discrepancy" && r.Patterns[0].TimeLost == 14*h, true},
		{"pattern 2", len(r.Patterns) == 2 && r.Patterns[1].Dimension == "supplier" && r.Patterns[1].Value == "Northwind" && r.Patterns[1].Count == 2, true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if r.ShareByBot < 0.333 || r.ShareByBot > 0.334 || r.HandoffsPerCase < 1.666 || r.HandoffsPerCase > 1.667 {
		t.Errorf("share by bot %v, handoffs per case %v", r.ShareByBot, r.HandoffsPerCase)
	}
}

func TestComputeSince(t *testing.T) {
	r := report.Compute(set(), report.Options{Now: at(48), Since: at(3)})
	tests := []struct {
		name      string
		got, want any
	}{
		{"opened since 3h: only EX-5", r.Opened, 1},
		{"resolved since 3h: EX-2, EX-3", r.Resolved, 2},
		{"open is now, whatever since", r.Open, 2},
		{"events since 3h", r.EventsByFam[cases.FamilySupplierDelay] + r.EventsByFam[cases.FamilyInventoryVariance], 2},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestEmptyHasNoNaN(t *testing.T) {
	r := report.Compute(nil, report.Options{Now: t0})
	if r.ShareByBot != 0 || r.HandoffsPerCase != 0 || r.Resolution.Mean != 0 {
		t.Errorf("empty report: %+v", r)
	}
	if !strings.Contains(r.Digest(), "*0* new cases") {
		t.Errorf("digest: %s", r.Digest())
	}
}

func TestTextAndDigest(t *testing.T) {
	r := report.Compute(set(), report.Options{Now: at(48)})
	text, digest := r.Text(), r.Digest()
	for _, want := range []string{"MTTR): mean 5.3h, median 4.0h", "price discrepancy", "first-touch resolution                2  67%", "2. supplier Northwind: 2 cases, 14.0h open in all"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"*5* new cases, *3* resolved, *2* open (oldest 2.0d)", "Resolved by exops alone 33%", "Backlog by age: <4h 1, 1d-3d 1", "*1* approvals waiting"} {
		if !strings.Contains(digest, want) {
			t.Errorf("digest lacks %q:\n%s", want, digest)
		}
	}
}

func TestAgeBucket(t *testing.T) {
	for _, tt := range []struct {
		age  time.Duration
		want string
	}{{0, "<4h"}, {4 * time.Hour, "4h-1d"}, {25 * time.Hour, "1d-3d"}, {80 * time.Hour, "3d-7d"}, {8 * 24 * time.Hour, ">7d"}} {
		if got := report.AgeBucket(tt.age); got != tt.want {
			t.Errorf("AgeBucket(%v) = %s, want %s", tt.age, got, tt.want)
		}
	}
}
