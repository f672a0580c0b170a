package cases

import (
	"context"
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
	return out
}

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
	if q.Family != "" {
		out = append(out, Term{TermFamily, string(q.Family)})
	}
	if q.Status != "" {
		out = append(out, Term{TermStatus, string(q.Status)})
	}
	return out
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
