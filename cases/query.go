package cases

import (
	"context"
	"time"
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
// must keep the answer consistent with its committed cases: an index is
// written in the same transaction as the case it indexes.
type CaseFinder interface {
	FindCases(ctx context.Context, q CaseQuery) (CaseList, error)
}
