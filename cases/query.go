package cases

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What answering operators' questions needs from storage: finding cases by
// what they are about without reading every case. A store answers these
// from secondary indexes; the conformance suite (cases/storetest) checks
// that the answers match the cases.

// CaseQuery selects cases. Every field set must match (AND); an empty field
// matches anything. Text matches are case-insensitive and whole-value, with
// one allowance for names: a customer or supplier matches its id, its full
// name, or any one word of its name ("acme" finds "Acme Retail").
type CaseQuery struct {
	ID        string // a case id such as EX-000042
	Order     string // sales order, also orders waiting for a delayed shipment
	Customer  string // customer id or name
	Supplier  string // supplier id or name
	SKU       string
	Warehouse string
	PO        string
	Shipment  string
	Invoice   string
	Family    Family
	Status    Status
	Team      string   // the owning team, as the policy names it
	Assignee  string   // the person working the case (a Slack user id)
	Severity  Severity // 0: any
	Priority  string
	// Approver selects open cases with a recommendation waiting for this
	// approver's approval: a named approver (user id) or approver group
	// (group id) who has not approved it yet.
	Approver string
	// States, each true one must hold; see the State* terms for what each
	// means. PastSLA, FirstTouchOverdue and Snoozed depend on the time and
	// are judged at At, which the caller sets from the business clock; with
	// At zero they match no case.
	Unassigned        bool // open, nobody assigned
	Assigned          bool // open, someone assigned
	Escalated         bool // an escalation step was taken
	AwaitingApproval  bool // open, a recommendation waits for approvers
	ByExops           bool // resolved with no decision but exops's own
	Snoozed           bool // open and snoozed until after At
	PastSLA           bool // open and its SLA due time is before At
	FirstTouchOverdue bool // open, untouched by a person, first-touch due before At
	At                time.Time
	// ResolvedAfter (inclusive) and ResolvedBefore (exclusive) bound when
	// the case was resolved; either set selects resolved cases only.
	ResolvedAfter  time.Time
	ResolvedBefore time.Time
	// EscalatedAfter (inclusive) and EscalatedBefore (exclusive) bound when
	// the case's latest escalation step was taken; either set selects
	// escalated cases only.
	EscalatedAfter  time.Time
	EscalatedBefore time.Time
	// SLADueAfter (inclusive) and SLADueBefore (exclusive) bound an open
	// case's SLA due time ("about to breach": due in the next hours);
	// either set selects open cases only.
	SLADueAfter  time.Time
	SLADueBefore time.Time
	// OpenedBefore and OpenedAfter bound when the case was opened (before
	// is exclusive, after inclusive); zero means unbounded. Age questions
	// ("older than 2 days") become OpenedBefore = now - 2 days.
	OpenedBefore time.Time
	OpenedAfter  time.Time
	// Limit caps the cases returned, newest opened first; 0 means
	// DefaultCaseLimit. The count in CaseList covers every match.
	Limit int
}

// DefaultCaseLimit is how many cases a query returns when it sets no Limit.
const DefaultCaseLimit = 20

// MaxCaseCount is where a store may stop counting matches: beyond it
// CaseList.Total is a lower bound and TotalCapped is set. Counting is a walk
// over index entries, and no answer needs to say more than "over 10,000".
const MaxCaseCount = 10000

// CaseList is the answer to a CaseQuery.
type CaseList struct {
	Cases       []*Case // newest opened first, at most the query's limit
	Total       int     // how many cases match in all
	TotalCapped bool    // Total stopped at MaxCaseCount: there may be more
}

// CaseFinder finds cases by what they are about. A store that implements it
// answers as CaseQuery.Match would over its committed cases. Its indexes may
// be caught up after the commit (the bolt store indexes in batches through
// its group commit), but a FindCases call first catches up with every case
// committed before it began, so an answer never misses a committed case.
type CaseFinder interface {
	FindCases(ctx context.Context, q CaseQuery) (CaseList, error)
}

// ThreadKey is the key under which a case's Slack thread (the channel and
// ts of its card) points to the case, so that a message in the thread finds
// its case with one read. It never joins events: no event carries it.
func ThreadKey(channel, ts string) string { return "slack-thread:" + channel + "/" + ts }

// What a case is found by. CaseTerms and CaseQuery.Terms are the one rule:
// the store's indexes hold a case's terms, a query's terms must all be among
// them, and CaseQuery.Match checks a case by the same rule, so stores and
// fakes are tested against it.

// Term kinds; their names are part of the bolt index layout.
const (
	TermAll       = "all" // every case has it, with an empty value
	TermStatus    = "status"
	TermFamily    = "family"
	TermOrder     = "order"
	TermCustomer  = "customer"
	TermSupplier  = "supplier"
	TermSKU       = "sku"
	TermWarehouse = "warehouse"
	TermPO        = "po"
	TermShipment  = "shipment"
	TermInvoice   = "invoice"
	TermTeam      = "team"
	TermAssignee  = "assignee"
	TermApprover  = "approver" // an approver a pending recommendation still waits for
	TermSeverity  = "severity"
	TermPriority  = "priority"
	TermState     = "state" // one of the State* values
)

// State terms: what a case is, beyond its status, that a question can ask.
const (
	StateUnassigned       = "unassigned"        // open, no assignee
	StateAssigned         = "assigned"          // open, an assignee
	StateEscalated        = "escalated"         // at least one escalation step taken
	StateAwaitingApproval = "awaiting_approval" // open, a pending recommendation with verdict approve
	StateByExops          = "by_exops"          // resolved, every decision by exops (ResolvedByExops)
)

// Term is one (kind, value) a case can be found by.
type Term struct{ Kind, Value string }

// MaxTermValue bounds a term's value; longer values are cut, and a query's
// value is cut the same way, so they still meet.
const MaxTermValue = 128

// maxNameWords bounds how many words of one name are terms.
const maxNameWords = 6

// TermValue is how values are compared: trimmed, lower case, without
// control characters, at most MaxTermValue bytes of valid UTF-8.
func TermValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
	if len(s) > MaxTermValue {
		s = s[:MaxTermValue]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// nameWords splits a name into the words it can be asked by.
func nameWords(s string) []string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var out []string
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 2 {
			out = append(out, w)
		}
		if len(out) == maxNameWords {
			break
		}
	}
	return out
}

// CaseTerms lists the terms a case is found by, each once.
func CaseTerms(c *Case) []Term {
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
	// The events' terms, folded as the events join (see EventFolds); a
	// customer's name from the case's context is looked up here, where the
	// event named the customer.
	for _, it := range eventTermFolds.Fold(c).items {
		if it.ctxCustomer == "" {
			if !seen[it.term] {
				seen[it.term] = true
				out = append(out, it.term)
			}
		} else if c.Context != nil {
			name(TermCustomer, c.Context[CtxCustomerName(it.ctxCustomer)])
		}
	}
	for _, t := range pairTerms(out) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// eventTerms is the terms of a case's events, each once, in the order
// CaseTerms met them: a term, or where a customer's name from the case's
// context goes (ctxCustomer, the customer's id).
type eventTerms struct {
	items []termItem
	seen  map[termItem]bool // only the fold reads it
}

type termItem struct {
	term        Term
	ctxCustomer string
}

// eventTermFolds folds eventTerms. Its items are only appended to, so a
// result keeps its own view of them while the fold goes on.
var eventTermFolds = NewEventFolds(eventTerms{}, func(f *eventTerms, ce *CaseEvent) {
	if f.seen == nil {
		f.seen = map[termItem]bool{}
	}
	item := func(it termItem) {
		if !f.seen[it] {
			f.seen[it] = true
			f.items = append(f.items, it)
		}
	}
	add := func(kind, v string) {
		if v = TermValue(v); v != "" {
			item(termItem{term: Term{kind, v}})
		}
	}
	name := func(kind, v string) {
		add(kind, v)
		for _, w := range nameWords(v) {
			add(kind, w)
		}
	}
	ev := Event{Type: ce.Type, Data: ce.Data}
	add(TermOrder, ev.Str("order"))
	for _, o := range ev.Strs("orders") {
		add(TermOrder, o)
	}
	cust := ev.Str("customer")
	add(TermCustomer, cust)
	name(TermCustomer, ev.Str("customer_name"))
	if cust != "" {
		item(termItem{ctxCustomer: cust})
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
})

// Terms lists the terms a case must have to match q (not the id and the
// opening-time bounds, which Match checks apart).
func (q CaseQuery) Terms() []Term {
	var out []Term
	add := func(kind, v string) {
		if v = TermValue(v); v != "" {
			out = append(out, Term{kind, v})
		}
	}
	add(TermOrder, q.Order)
	add(TermCustomer, q.Customer)
	add(TermSupplier, q.Supplier)
	add(TermSKU, q.SKU)
	add(TermWarehouse, q.Warehouse)
	add(TermPO, q.PO)
	add(TermShipment, q.Shipment)
	add(TermInvoice, q.Invoice)
	add(TermTeam, q.Team)
	add(TermAssignee, q.Assignee)
	add(TermApprover, q.Approver)
	if q.Severity != 0 {
		out = append(out, Term{TermSeverity, q.Severity.String()})
	}
	add(TermPriority, q.Priority)
	if q.Family != "" {
		out = append(out, Term{TermFamily, string(q.Family)})
	}
	status := q.Status
	if status == "" && (q.PastSLA || q.FirstTouchOverdue || q.Snoozed || q.AwaitingApproval || q.Unassigned || q.Assigned ||
		!q.SLADueAfter.IsZero() || !q.SLADueBefore.IsZero()) {
		status = StatusOpen // these states are states of open cases
	}
	if status == "" && (q.ByExops || !q.ResolvedAfter.IsZero() || !q.ResolvedBefore.IsZero()) {
		status = StatusResolved
	}
	if status != "" {
		out = append(out, Term{TermStatus, string(status)})
	}
	for _, st := range []struct {
		on bool
		v  string
	}{{q.Unassigned, StateUnassigned}, {q.Assigned, StateAssigned},
		{q.Escalated || !q.EscalatedAfter.IsZero() || !q.EscalatedBefore.IsZero(), StateEscalated},
		{q.AwaitingApproval, StateAwaitingApproval}, {q.ByExops, StateByExops}} {
		if st.on {
			out = append(out, Term{TermState, st.v})
		}
	}
	// Pairs asked together become their pair term, which a case has
	// exactly when it has both; a term in a pair is not asked again.
	pairs := pairTerms(out)
	if len(pairs) == 0 {
		return out
	}
	inPair := map[Term]bool{}
	for _, p := range pairs {
		a, b := pairParts(p)
		inPair[a], inPair[b] = true, true
	}
	var kept []Term
	for _, t := range out {
		if !inPair[t] {
			kept = append(kept, t)
		}
	}
	return append(kept, pairs...)
}

// pairKinds are the pairs of conditions questions ask together ("open
// cases of team credit", "critical open cases", "unassigned cases of
// accounts payable"), kept as one term each so that a store's index walks
// only the cases that have both instead of probing one for each case of
// the other.
var pairKinds = [][2]string{
	{TermTeam, TermStatus}, {TermFamily, TermStatus}, {TermSeverity, TermStatus}, {TermState, TermTeam}, {TermFamily, TermTeam},
}

// pairSep joins the two values of a pair term; TermValue never leaves it in
// a value.
const pairSep = "\x1f"

// pairTerms lists the pair terms of a list of terms.
func pairTerms(ts []Term) []Term {
	var out []Term
	for _, pk := range pairKinds {
		for _, a := range ts {
			if a.Kind != pk[0] {
				continue
			}
			for _, b := range ts {
				if b.Kind == pk[1] {
					out = append(out, Term{pk[0] + "+" + pk[1], a.Value + pairSep + b.Value})
				}
			}
		}
	}
	return out
}

// pairParts recovers the two terms of a pair term.
func pairParts(p Term) (Term, Term) {
	ka, kb, _ := strings.Cut(p.Kind, "+")
	va, vb, _ := strings.Cut(p.Value, pairSep)
	return Term{ka, va}, Term{kb, vb}
}

// Match reports whether c is one of the cases q selects: the reference that
// every CaseFinder (the bolt index, the PostgreSQL store, the test fakes) is
// checked against.
func (q CaseQuery) Match(c *Case) bool {
	if id := strings.ToUpper(strings.TrimSpace(q.ID)); id != "" && c.ID != id {
		return false
	}
	if !q.OpenedBefore.IsZero() && !c.OpenedAt.Before(q.OpenedBefore) {
		return false
	}
	if !q.OpenedAfter.IsZero() && c.OpenedAt.Before(q.OpenedAfter) {
		return false
	}
	if !q.MatchTimes(TimesOf(c)) {
		return false
	}
	want := q.Terms()
	if len(want) == 0 {
		return true
	}
	have := map[Term]bool{}
	for _, t := range CaseTerms(c) {
		have[t] = true
	}
	for _, t := range want {
		if !have[t] {
			return false
		}
	}
	return true
}

// ResolvedByExops reports whether a resolved case needed no person: no
// decision but exops's own. It is the one definition: `exops report`
// counts "resolved by the bot" by it, and questions ask by it.
func (c *Case) ResolvedByExops() bool {
	if c.Status != StatusResolved {
		return false
	}
	for _, d := range c.Decisions {
		if d.Actor != ActorExops {
			return false
		}
	}
	return true
}

// WaitingApprovers lists, each once, the approvers (user ids) and approver
// groups (group ids) that pending recommendations with the approve verdict
// still wait for: those who have not approved yet.
func (c *Case) WaitingApprovers() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.Recommendations {
		if r.State != RecPending || r.Verdict != VerdictApprove {
			continue
		}
		for _, who := range append(append([]string(nil), r.Approvers...), r.ApproverGroups...) {
			if who == "" || seen[who] || slices.Contains(r.Approvals, who) {
				continue
			}
			seen[who] = true
			out = append(out, who)
		}
		if len(r.Approvers) == 0 && len(r.ApproverGroups) == 0 && !seen[""] {
			// Waiting, for approvers the policy does not name here.
			seen[""] = true
			out = append(out, "")
		}
	}
	return out
}

// CaseTimes are the times a case is found by ranges of: when it was
// resolved, and, while it is open, its SLA due time, when its snooze ends,
// and its first-touch due time while no person has touched it; and when it
// was last escalated, open or not. Zero: none.
type CaseTimes struct {
	Resolved, SLADue, SnoozedUntil, FirstTouchDue, Escalated time.Time
}

// TimesOf works out a case's CaseTimes.
func TimesOf(c *Case) CaseTimes {
	var t CaseTimes
	if c.ResolvedAt != nil && c.Status == StatusResolved {
		t.Resolved = *c.ResolvedAt
	}
	if c.EscalatedAt != nil {
		t.Escalated = *c.EscalatedAt
	}
	if c.Status == StatusOpen {
		t.SLADue = c.SLADue
		if c.SnoozedUntil != nil {
			t.SnoozedUntil = *c.SnoozedUntil
		}
		if c.FirstTouchedAt == nil {
			t.FirstTouchDue = c.FirstTouchDue
		}
	}
	return t
}

// MatchTimes reports whether times meet q's time conditions: the resolution
// bounds and the time-dependent states judged at q.At. Stores that keep a
// case's times apart from the case check them with it.
func (q CaseQuery) MatchTimes(t CaseTimes) bool {
	if !q.ResolvedAfter.IsZero() && (t.Resolved.IsZero() || t.Resolved.Before(q.ResolvedAfter)) {
		return false
	}
	if !q.ResolvedBefore.IsZero() && (t.Resolved.IsZero() || !t.Resolved.Before(q.ResolvedBefore)) {
		return false
	}
	if !q.EscalatedAfter.IsZero() && (t.Escalated.IsZero() || t.Escalated.Before(q.EscalatedAfter)) {
		return false
	}
	if !q.EscalatedBefore.IsZero() && (t.Escalated.IsZero() || !t.Escalated.Before(q.EscalatedBefore)) {
		return false
	}
	if !q.SLADueAfter.IsZero() && (t.SLADue.IsZero() || t.SLADue.Before(q.SLADueAfter)) {
		return false
	}
	if !q.SLADueBefore.IsZero() && (t.SLADue.IsZero() || !t.SLADue.Before(q.SLADueBefore)) {
		return false
	}
	timed := q.PastSLA || q.Snoozed || q.FirstTouchOverdue
	if timed && q.At.IsZero() {
		return false
	}
	if q.PastSLA && (t.SLADue.IsZero() || !t.SLADue.Before(q.At)) {
		return false
	}
	if q.Snoozed && (t.SnoozedUntil.IsZero() || !t.SnoozedUntil.After(q.At)) {
		return false
	}
	if q.FirstTouchOverdue && (t.FirstTouchDue.IsZero() || !t.FirstTouchDue.Before(q.At)) {
		return false
	}
	return true
}

// Time-term kinds: a store that indexes times as terms (cases/postgres)
// keeps a case's CaseTimes under these, valued by TimeTermValue.
const (
	TermResolvedAt    = "t:resolved"
	TermSLADue        = "t:sla_due"
	TermSnoozedUntil  = "t:snoozed_until"
	TermFirstTouchDue = "t:first_touch_due"
	TermEscalatedAt   = "t:escalated"
)

// Terms lists the times that are set as terms whose values sort as the
// times do.
func (t CaseTimes) Terms() []Term {
	var out []Term
	for _, x := range []struct {
		kind string
		at   time.Time
	}{{TermResolvedAt, t.Resolved}, {TermSLADue, t.SLADue}, {TermSnoozedUntil, t.SnoozedUntil}, {TermFirstTouchDue, t.FirstTouchDue},
		{TermEscalatedAt, t.Escalated}} {
		if !x.at.IsZero() {
			out = append(out, Term{x.kind, TimeTermValue(x.at)})
		}
	}
	return out
}

// TimeTermValue writes a time as 20 decimal digits that sort as the times
// do, to the nanosecond (times are clamped to the years 1678-2262, the range
// of Unix nanoseconds).
func TimeTermValue(t time.Time) string {
	return fmt.Sprintf("%020d", TimeKey(t))
}

// TimeKey is a time as an unsigned number that orders as the times do,
// never 0 for a time in range (0 is left for "none").
func TimeKey(t time.Time) uint64 {
	lo, hi := time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64)
	switch {
	case t.Before(lo):
		t = lo
	case t.After(hi):
		t = hi
	}
	return uint64(t.UnixNano()) ^ (1 << 63)
}

// TimeOfKey reverses TimeKey; 0 gives the zero time.
func TimeOfKey(k uint64) time.Time {
	if k == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(k^(1<<63))).UTC()
}
