// Package report computes the process-intelligence figures of exops from
// its cases: exception volume, time to first touch and to resolution,
// backlog aging, first-touch resolution, handoffs, the share resolved by the
// bot and by standard workflows, invoice cycle time and recurring patterns.
// The same figures feed "exops report", the /metrics endpoint and the daily
// digest. It needs only the standard library and the cases types.
package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/exops/exops/cases"
)

// Options shape a report.
type Options struct {
	Now   time.Time
	Since time.Time // zero: all time. Volume counts cases opened since; times count cases resolved since
	// Standard says whether an action belongs to the standard workflows
	// (the agents' catalogue); nil uses StandardActions.
	Standard    func(action string) bool
	TopPatterns int // default 5
}

// StandardActions are the actions of the agents' catalogue
// (docs/policies.md): a case settled only with these ran a standard workflow.
var StandardActions = map[string]bool{
	"release_credit_hold": true, "reallocate_order": true, "split_shipment": true, "expedite_shipment": true,
	"accept_price_variance": true, "dispute_price_variance": true, "hold_invoice": true, "accept_receipt_variance": true,
	"dispute_receipt_variance": true, "adjust_inventory": true, "recount_inventory": true, "ask_supplier_confirmation": true,
	"contact_carrier": true, "request_order_data": true,
}

// Pattern is something resolved cases share (cases.Patterns).
type Pattern = cases.Pattern

// AgeBuckets are the backlog age bands, in order: the domain's one set
// (cases.AgeBands), shared with the Home tab and the digest.
var AgeBuckets = cases.AgeBands

// AgeBucket names the band of an age.
func AgeBucket(age time.Duration) string { return cases.AgeBandOf(age) }

// Durations summarises a set of durations.
type Durations struct {
	N      int
	Mean   time.Duration
	Median time.Duration
	P90    time.Duration
}

func summarize(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Durations{N: len(ds), Mean: sum / time.Duration(len(ds)), Median: ds[(len(ds)-1)/2], P90: ds[min(len(ds)-1, int(0.9*float64(len(ds))))]}
}

// Report is every figure at once.
type Report struct {
	Now, Since time.Time

	Opened       int                  // cases opened since
	ByFamily     map[cases.Family]int // cases opened since, per family (a composite case counts in each)
	EventsByFam  map[cases.Family]int // events received since, per family
	Resolved     int                  // cases resolved since
	Open         int                  // open now
	Backlog      map[string]int       // open now, per age bucket
	OldestOpen   time.Duration
	FirstTouch   Durations // opened → first touched by a person, cases first touched since
	Resolution   Durations // opened → resolved (MTTR is Resolution.Mean)
	InvoiceCycle Durations // price or invoice cases: opened → resolved

	// Rates over the cases resolved since; NaN-free: 0 when none resolved.
	ByBot             int     // resolved with no decision by a person
	ShareByBot        float64 // ByBot / Resolved
	FirstTouchResolve int     // resolved with at most one handoff
	FirstTouchRate    float64
	Standard          int // resolved with only standard-workflow actions executed
	ShareStandard     float64
	Handoffs          int     // over resolved cases
	HandoffsPerCase   float64 // Handoffs / Resolved

	ApprovalsWaiting int // open recommendations waiting for approvers
	ActionsFailed    int // failed actions on cases opened since
	Patterns         []Pattern
}

// Handoffs counts the times a case had to go to people: each
// recommendation a person decided (approved or rejected), each action that
// failed back into people's hands, and each escalation step taken.
func Handoffs(c *cases.Case) int {
	decided := map[string]bool{}
	for _, d := range c.Decisions {
		if d.Actor != cases.ActorExops && d.RecommendationID != "" {
			decided[d.RecommendationID] = true
		}
	}
	n := len(decided) + len(c.Escalated)
	for _, r := range c.Recommendations {
		if r.State == cases.RecFailed {
			n++
		}
	}
	return n
}

// ResolvedByBot reports whether a resolved case needed no person: no
// decision but the bot's (the domain's one definition, which questions
// ask by too).
func ResolvedByBot(c *cases.Case) bool { return c.ResolvedByExops() }

// Compute works out the report from every case (merged cases are skipped:
// their events live on in the case they were merged into). o.Now is the
// business clock's time and is required: the report has no clock of its own.
func Compute(cs []*cases.Case, o Options) Report {
	if o.Now.IsZero() {
		panic("report: Options.Now is required (the business clock's time)")
	}
	std := o.Standard
	if std == nil {
		std = func(a string) bool { return StandardActions[a] }
	}
	top := o.TopPatterns
	if top <= 0 {
		top = 5
	}
	r := Report{Now: o.Now, Since: o.Since, ByFamily: map[cases.Family]int{}, EventsByFam: map[cases.Family]int{}, Backlog: map[string]int{}}
	for _, b := range AgeBuckets {
		r.Backlog[b.Label] = 0
	}
	since := func(t time.Time) bool { return !t.Before(o.Since) }
	var touch, resolve, invoice []time.Duration
	var resolvedCases []*cases.Case
	for _, c := range cs {
		if c.Status == cases.StatusMerged {
			continue
		}
		for _, ev := range c.Events {
			if since(ev.Received) {
				r.EventsByFam[ev.Family]++
			}
		}
		if since(c.OpenedAt) {
			r.Opened++
			for _, f := range c.Families {
				r.ByFamily[f]++
			}
			for _, rec := range c.Recommendations {
				if rec.State == cases.RecFailed {
					r.ActionsFailed++
				}
			}
		}
		if c.FirstTouchedAt != nil && since(*c.FirstTouchedAt) {
			touch = append(touch, max(c.FirstTouchedAt.Sub(c.OpenedAt), 0))
		}
		switch {
		case c.Status == cases.StatusOpen:
			r.Open++
			age := max(o.Now.Sub(c.OpenedAt), 0)
			r.Backlog[AgeBucket(age)]++
			r.OldestOpen = max(r.OldestOpen, age)
			for _, rec := range c.Recommendations {
				if rec.State == cases.RecPending && rec.Verdict == cases.VerdictApprove {
					r.ApprovalsWaiting++
				}
			}
		case c.Status == cases.StatusResolved && c.ResolvedAt != nil && since(*c.ResolvedAt):
			r.Resolved++
			resolvedCases = append(resolvedCases, c)
			d, _ := TimeToResolve(c, o.Since)
			resolve = append(resolve, d)
			if c.HasFamily(cases.FamilyPriceDiscrepancy) || c.HasFamily(cases.FamilyInvoiceMismatch) {
				invoice = append(invoice, d)
			}
			if ResolvedByBot(c) {
				r.ByBot++
			}
			h := Handoffs(c)
			r.Handoffs += h
			if h <= 1 {
				r.FirstTouchResolve++
			}
			standard, executed := true, false
			for _, rec := range c.Recommendations {
				if rec.State == cases.RecExecuted {
					executed = true
					standard = standard && std(rec.Action)
				}
			}
			if executed && standard {
				r.Standard++
			}
		}
	}
	r.FirstTouch, r.Resolution, r.InvoiceCycle = summarize(touch), summarize(resolve), summarize(invoice)
	if r.Resolved > 0 {
		n := float64(r.Resolved)
		r.ShareByBot, r.FirstTouchRate, r.ShareStandard = float64(r.ByBot)/n, float64(r.FirstTouchResolve)/n, float64(r.Standard)/n
		r.HandoffsPerCase = float64(r.Handoffs) / n
	}
	r.Patterns = cases.Patterns(resolvedCases, top)
	return r
}

// Families returns the families of a count map, most first, then by name.
func Families(m map[cases.Family]int) []cases.Family {
	var out []cases.Family
	for f, n := range m {
		if n > 0 {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if m[out[i]] != m[out[j]] {
			return m[out[i]] > m[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// Hours formats a duration for people: "3.5h", "2.1d", "45m".
func Hours(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	}
	return fmt.Sprintf("%.1fd", d.Hours()/24)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }
