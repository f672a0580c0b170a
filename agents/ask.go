package agents

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/report"
)

// WithVocabulary gives the parser the teams of the policy in force, read at
// each question (a reloaded policy is seen at once). It returns q.
func (q *Answerer) WithVocabulary(v func() Vocabulary) *Answerer {
	q.vocab = v
	return q
}

func (q *Answerer) vocabulary() Vocabulary {
	if q.vocab == nil {
		return Vocabulary{}
	}
	return q.vocab()
}

// Parse reads a question as the rules answer it, for the Slack user actor
// (empty: unknown), at the business clock's time.
func (q *Answerer) Parse(question, actor string) Intent {
	return ParseQuestionAs(question, actor, q.now(), q.vocabulary())
}

// Run answers a parsed question from the store and the audit log: the one
// entry point for the rules and for the language model's tools, so both
// cite the same cases and figures. Time-dependent states are judged at the
// business clock's time.
func (q *Answerer) Run(ctx context.Context, in Intent) (Answer, error) {
	if in.Query.At.IsZero() {
		in.Query.At = q.now()
	}
	var (
		text string
		ids  []string
		err  error
	)
	switch in.Kind {
	case IntentShowCase:
		text, ids, err = q.showCase(ctx, in.Query.ID)
	case IntentFindCases:
		text, ids, err = q.findCases(ctx, in)
	case IntentDecisions:
		text, ids, err = q.decisions(ctx, in)
	case IntentPatterns:
		text, ids, err = q.patterns(ctx, in)
	case IntentTimeToResolve:
		text, ids, err = q.timeToResolve(ctx, in)
	case IntentBacklog:
		text, ids, err = q.backlog(ctx, in)
	case IntentOldest:
		text, ids, err = q.oldest(ctx, in)
	default:
		text = helpText(in.Closest)
	}
	if err != nil {
		return Answer{}, err
	}
	return Answer{Text: text, Cases: ids, By: Name}, nil
}

func helpText(closest string) string {
	var ex []string
	for _, e := range Examples {
		ex = append(ex, fmt.Sprintf("%q", e))
	}
	s := "I did not understand the question."
	if closest != "" {
		s += fmt.Sprintf(" The closest question I understand is %q.", closest)
	}
	return s + " I answer questions such as: " + strings.Join(ex, ", ") + "."
}

func (q *Answerer) askRules(ctx context.Context, actor, question string) (Answer, error) {
	return q.Run(ctx, q.Parse(question, actor))
}

// describe words a query for "I found no …" and "I found 3 …": every
// condition it holds, so a wrong reading shows at once.
func describe(q cases.CaseQuery, party string) string {
	var b strings.Builder
	status := q.Status
	if status == "" {
		for _, t := range q.Terms() {
			if t.Kind == cases.TermStatus {
				status = cases.Status(t.Value)
			}
		}
	}
	if status != "" {
		b.WriteString(string(status) + " ")
	}
	if q.Severity != 0 {
		b.WriteString(q.Severity.String() + "-severity ")
	}
	if q.Family != "" {
		b.WriteString(q.Family.Label() + " ")
	}
	b.WriteString("case")
	if q.Team != "" {
		b.WriteString(" of team " + q.Team)
	}
	var conds []string
	for _, x := range []struct{ name, v string }{{"order", q.Order}, {"customer", q.Customer}, {"supplier", q.Supplier},
		{"SKU", q.SKU}, {"warehouse", q.Warehouse}, {"PO", q.PO}, {"shipment", q.Shipment}, {"invoice", q.Invoice}} {
		switch {
		case x.v == "":
		case strings.HasPrefix(strings.ToUpper(x.v), strings.ToUpper(x.name)+"-"):
			conds = append(conds, x.v) // "PO-7030", not "PO PO-7030"
		default:
			conds = append(conds, x.name+" "+x.v)
		}
	}
	if party != "" {
		conds = append(conds, party)
	}
	if len(conds) > 0 {
		b.WriteString(" for " + joinAnd(conds))
	}
	var states []string
	if q.Priority != "" {
		states = append(states, "priority "+q.Priority)
	}
	switch {
	case q.Approver != "":
		states = append(states, "waiting for the approval of "+q.Approver)
	case q.AwaitingApproval:
		states = append(states, "waiting for approval")
	}
	if q.Assignee != "" {
		states = append(states, "assigned to "+q.Assignee)
	}
	if q.Assigned && q.Assignee == "" {
		states = append(states, "assigned to someone")
	}
	if q.Unassigned {
		states = append(states, "unassigned")
	}
	if q.Escalated && q.EscalatedAfter.IsZero() && q.EscalatedBefore.IsZero() {
		states = append(states, "escalated") // else said with its times below
	}
	if q.Snoozed {
		states = append(states, "snoozed")
	}
	if q.PastSLA {
		states = append(states, "past its SLA due time")
	}
	switch {
	case !q.SLADueAfter.IsZero() && !q.SLADueBefore.IsZero():
		states = append(states, "SLA due from "+stampText(q.SLADueAfter)+" to before "+stampText(q.SLADueBefore))
	case !q.SLADueBefore.IsZero():
		states = append(states, "SLA due before "+stampText(q.SLADueBefore))
	case !q.SLADueAfter.IsZero():
		states = append(states, "SLA due from "+stampText(q.SLADueAfter))
	}
	if q.FirstTouchOverdue {
		states = append(states, "past its first-touch due time with no one acting")
	}
	if q.ByExops {
		states = append(states, "resolved by exops on its own")
	}
	if len(states) > 0 {
		b.WriteString(", " + strings.Join(states, ", "))
	}
	if !q.OpenedAfter.IsZero() {
		b.WriteString(" opened since " + stampText(q.OpenedAfter))
	}
	if !q.OpenedBefore.IsZero() {
		b.WriteString(" opened before " + stampText(q.OpenedBefore))
	}
	b.WriteString(boundsText("resolved", q.ResolvedAfter, q.ResolvedBefore))
	b.WriteString(boundsText("escalated", q.EscalatedAfter, q.EscalatedBefore))
	return b.String()
}

// boundsText says a period of what happened: " resolved since T",
// " resolved before T", or " resolved from T to before U".
func boundsText(what string, after, before time.Time) string {
	switch {
	case !after.IsZero() && !before.IsZero():
		return " " + what + " from " + stampText(after) + " to before " + stampText(before)
	case !after.IsZero():
		return " " + what + " since " + stampText(after)
	case !before.IsZero():
		return " " + what + " before " + stampText(before)
	}
	return ""
}

// readingsText says the readings the parser and the lookup chose.
func readingsText(in Intent, extra string) string {
	rs := append([]string(nil), in.Readings...)
	if extra != "" {
		rs = append(rs, extra)
	}
	if in.period != "" && in.timeOf != "" {
		rs = append(rs, fmt.Sprintf("%q bounds when cases were %s", in.period, in.timeOf))
	}
	if len(rs) == 0 {
		return ""
	}
	return " (Reading: " + strings.Join(rs, "; ") + ".)"
}

// unresolved is the party or key the lookup could not give a role: the
// answer says "for X" of it.
func unresolved(in Intent, used cases.CaseQuery) string {
	if in.Party != "" && used.Customer == "" && used.Supplier == "" {
		return in.Party
	}
	if in.Key != "" && used.Order == "" && used.PO == "" && used.Invoice == "" && used.Shipment == "" && used.SKU == "" && used.Customer == "" {
		return in.Key + " (as an order, PO, invoice, shipment, SKU or customer id)"
	}
	return ""
}

// aggregateCases bounds how many cases an aggregate reads.
const aggregateCases = cases.MaxCaseCount

// defaultResolvedWindow is the period of a time-to-resolve question that
// names none.
const defaultResolvedWindow = 30 * 24 * time.Hour

// timeToResolve computes the mean and median time to resolve with the
// definitions of `exops report` (report.Resolution: opened to resolved,
// over cases resolved in the period), overall or per family or team.
func (q *Answerer) timeToResolve(ctx context.Context, in Intent) (string, []string, error) {
	now := q.now()
	qq := in.Query
	qq.Status = cases.StatusResolved
	reading := ""
	if qq.ResolvedAfter.IsZero() && qq.OpenedAfter.IsZero() {
		qq.ResolvedAfter = now.Add(-defaultResolvedWindow)
		reading = "no period given: the last 30 days"
	}
	in.Query = qq
	l, used, found, err := q.findReading(ctx, in, aggregateCases)
	if err != nil {
		return "", nil, err
	}
	desc := describe(used, unresolved(in, used))
	if found != "" {
		reading = strings.TrimPrefix(reading+"; "+found, "; ")
	}
	if l.Total == 0 {
		return "I found no " + desc + ", so no time to resolve." + readingsText(in, reading), nil, nil
	}
	since := used.ResolvedAfter
	figure := func(cs []*cases.Case) string {
		r := report.Resolution(cs, since)
		var parts []string
		if in.Mean {
			parts = append(parts, "mean "+report.Hours(r.Mean))
		}
		if in.Median {
			parts = append(parts, "median "+report.Hours(r.Median))
		}
		return fmt.Sprintf("%s over %d %s", strings.Join(parts, ", "), r.N, plural(r.N, "case"))
	}
	var ids []string
	for _, c := range l.Cases {
		ids = append(ids, c.ID)
	}
	scope := ""
	if l.Total > len(l.Cases) || l.TotalCapped {
		scope = fmt.Sprintf(" (the %d most recently opened of %d)", len(l.Cases), l.Total)
	}
	head := fmt.Sprintf("Time to resolve (opened to resolved, as exops report counts it) of %s%s: ", plural(2, desc), scope)
	var body string
	if in.GroupBy == "" {
		body = figure(l.Cases)
	} else {
		groups := map[string][]*cases.Case{}
		for _, c := range l.Cases {
			if in.GroupBy == "team" {
				groups[or(c.Team, "no team")] = append(groups[or(c.Team, "no team")], c)
				continue
			}
			for _, f := range c.Families { // a composite case counts in each family, as in exops report
				groups[f.Label()] = append(groups[f.Label()], c)
			}
		}
		names := make([]string, 0, len(groups))
		for n := range groups {
			names = append(names, n)
		}
		sort.Strings(names)
		var lines []string
		for _, n := range names {
			lines = append(lines, fmt.Sprintf("%s %s", n, figure(groups[n])))
		}
		body = "per " + in.GroupBy + ": " + strings.Join(lines, "; ")
	}
	cite := ""
	if len(ids) <= listLimit {
		cite = " (" + strings.Join(ids, ", ") + ")"
	} else {
		ids = ids[:listLimit]
	}
	return head + body + cite + "." + readingsText(in, reading), ids, nil
}

// backlog counts open cases per age band (cases.AgeBands, the bands of
// exops report), with one counting query per band.
func (q *Answerer) backlog(ctx context.Context, in Intent) (string, []string, error) {
	now := q.now()
	var parts []string
	var ids []string
	total := 0
	// A name or id of unknown role gets its role once, over all ages, so
	// every band counts the same reading.
	_, used, reading, err := q.findReading(ctx, in, 1)
	if err != nil {
		return "", nil, err
	}
	if in.Party != "" || in.Key != "" {
		if unresolved(in, used) == "" {
			in.Query, in.Party, in.Key = used, "", ""
		}
	}
	lower := time.Duration(0)
	for _, b := range cases.AgeBands {
		bin := in
		// Age in [lower, upper): opened in (now-upper, now-lower]; report
		// counts a case opened after now in the youngest band.
		if lower > 0 {
			bin.Query.OpenedBefore = now.Add(-lower + time.Nanosecond)
		}
		if b.Upper > 0 {
			bin.Query.OpenedAfter = now.Add(-b.Upper + time.Nanosecond)
		}
		if !in.Query.OpenedBefore.IsZero() && (bin.Query.OpenedBefore.IsZero() || in.Query.OpenedBefore.Before(bin.Query.OpenedBefore)) {
			bin.Query.OpenedBefore = in.Query.OpenedBefore
		}
		if in.Query.OpenedAfter.After(bin.Query.OpenedAfter) {
			bin.Query.OpenedAfter = in.Query.OpenedAfter
		}
		l, _, _, err := q.findReading(ctx, bin, listLimit)
		if err != nil {
			return "", nil, err
		}
		n := fmt.Sprint(l.Total)
		if l.TotalCapped {
			n = "more than " + n
		}
		part := b.Label + " " + n
		if l.Total > 0 && len(ids) < listLimit {
			var bandIDs []string
			for _, c := range l.Cases {
				if len(ids) < listLimit {
					ids = append(ids, c.ID)
					bandIDs = append(bandIDs, c.ID)
				}
			}
			part += " (" + strings.Join(bandIDs, ", ")
			if l.Total > len(bandIDs) {
				part += ", …"
			}
			part += ")"
		}
		parts = append(parts, part)
		total += l.Total
		lower = b.Upper
	}
	desc := describe(used, unresolved(in, used))
	if total == 0 {
		return "I found no " + desc + ", so the backlog is empty." + readingsText(in, reading), nil, nil
	}
	return fmt.Sprintf("Backlog of %s by age band: %s; %d in all.", plural(2, desc), strings.Join(parts, ", "), total) + readingsText(in, reading), ids, nil
}

// oldest finds the matching case opened first: a binary search over the
// opening time with counting queries, so it reads one case, not all.
func (q *Answerer) oldest(ctx context.Context, in Intent) (string, []string, error) {
	l, used, reading, err := q.findReading(ctx, in, 1)
	if err != nil {
		return "", nil, err
	}
	desc := describe(used, unresolved(in, used))
	if l.Total == 0 {
		return "I found no " + desc + "." + readingsText(in, reading), nil, nil
	}
	probe := used
	probe.Limit = 1
	hi := l.Cases[0].OpenedAt.Add(time.Nanosecond) // some match is before hi
	lo := hi.Add(-time.Hour)
	count := func(before time.Time) (int, error) {
		p := probe
		if p.OpenedBefore.IsZero() || before.Before(p.OpenedBefore) {
			p.OpenedBefore = before
		}
		r, err := q.finder.FindCases(ctx, p)
		return r.Total, err
	}
	// Widen until no match is before lo, then halve [lo, hi).
	for i := 0; i < 64; i++ {
		n, err := count(lo)
		if err != nil {
			return "", nil, err
		}
		if n == 0 {
			break
		}
		width := hi.Sub(lo)
		hi, lo = lo, lo.Add(-2*width)
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		n, err := count(mid)
		if err != nil {
			return "", nil, err
		}
		if n > 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
	p := probe
	p.OpenedBefore = hi
	if !used.OpenedBefore.IsZero() && used.OpenedBefore.Before(hi) {
		p.OpenedBefore = used.OpenedBefore
	}
	// Within the last second, the oldest of at most a few cases.
	p.OpenedAfter = lo
	if used.OpenedAfter.After(lo) {
		p.OpenedAfter = used.OpenedAfter
	}
	p.Limit = 50
	r, err := q.finder.FindCases(ctx, p)
	if err != nil {
		return "", nil, err
	}
	if len(r.Cases) == 0 {
		return "", nil, fmt.Errorf("oldest case: the search lost the case opened before %s", stampText(hi))
	}
	c := r.Cases[len(r.Cases)-1]
	age := q.now().Sub(c.OpenedAt)
	return fmt.Sprintf("The oldest of %d %s is %s, open %s: %s.", l.Total, plural(l.Total, desc), c.ID, report.Hours(age), caseLine(c)) +
		readingsText(in, reading), []string{c.ID}, nil
}
