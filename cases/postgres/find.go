package postgres

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// The question-answering index: one case_terms row per (kind, value) a case
// is found by, written by PutCase in the case's own transaction. The terms
// are the ones cases/bolt indexes (its index.go), so both stores answer a
// cases.CaseQuery alike; the conformance suite checks both against a scan.

// index kinds
const (
	ixFamily    = "family"
	ixOrder     = "order"
	ixCustomer  = "customer"
	ixSupplier  = "supplier"
	ixSKU       = "sku"
	ixWarehouse = "warehouse"
	ixPO        = "po"
	ixShipment  = "shipment"
	ixInvoice   = "invoice"
)

// maxIndexValue bounds an indexed value; a query value is cut the same way.
const maxIndexValue = 128

// maxNameWords bounds how many words of one name are indexed.
const maxNameWords = 6

// normValue is how values are indexed and looked up: trimmed, lower case,
// without control characters, at most maxIndexValue bytes of valid UTF-8.
func normValue(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
	if len(s) > maxIndexValue {
		s = s[:maxIndexValue]
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

// indexTerms lists the (kind, value) pairs a case is found by.
func indexTerms(c *cases.Case) (kinds, values []string) {
	seen := map[[2]string]bool{}
	add := func(kind, v string) {
		v = normValue(v)
		if v == "" {
			return
		}
		k := [2]string{kind, v}
		if !seen[k] {
			seen[k] = true
			kinds, values = append(kinds, kind), append(values, v)
		}
	}
	name := func(kind, v string) {
		add(kind, v)
		for _, w := range nameWords(v) {
			add(kind, w)
		}
	}
	for _, f := range c.Families {
		add(ixFamily, string(f))
	}
	for _, ce := range c.Events {
		ev := ce.Event()
		add(ixOrder, ev.Str("order"))
		for _, o := range ev.Strs("orders") {
			add(ixOrder, o)
		}
		cust := ev.Str("customer")
		add(ixCustomer, cust)
		name(ixCustomer, ev.Str("customer_name"))
		if cust != "" && c.Context != nil {
			name(ixCustomer, c.Context[cases.CtxCustomerName(cust)])
		}
		name(ixSupplier, ev.Str("supplier"))
		add(ixSKU, ev.Str("sku"))
		add(ixWarehouse, ev.Str("warehouse"))
		for _, al := range ev.Allocations("allocations") {
			add(ixWarehouse, al.Warehouse)
		}
		add(ixPO, ev.Str("po"))
		add(ixShipment, ev.Str("shipment"))
		add(ixInvoice, ev.Str("invoice"))
	}
	return kinds, values
}

const (
	sqlDeleteTerms = "DELETE FROM case_terms WHERE case_id = $1"
	sqlInsertTerms = "INSERT INTO case_terms (kind, value, case_id) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v)"
)

// queueTerms adds the statements that rewrite c's index rows to b.
func queueTerms(b *pgx.Batch, c *cases.Case) {
	kinds, values := indexTerms(c)
	b.Queue(sqlDeleteTerms, c.ID)
	if len(kinds) > 0 {
		b.Queue(sqlInsertTerms, kinds, values, c.ID)
	}
}

func writeTerms(ctx context.Context, tx pgx.Tx, c *cases.Case) error {
	b := &pgx.Batch{}
	queueTerms(b, c)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("index case %s: %w", c.ID, err)
	}
	return nil
}

// FindCases answers a cases.CaseQuery from the index, in one snapshot: the
// cases newest opened first, and how many match in all (up to
// cases.MaxCaseCount).
func (s *Store) FindCases(ctx context.Context, q cases.CaseQuery) (cases.CaseList, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = cases.DefaultCaseLimit
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if id := strings.ToUpper(strings.TrimSpace(q.ID)); id != "" {
		if sqlText("case id", id) != nil {
			return cases.CaseList{}, nil
		}
		where = append(where, "c.id = "+arg(id))
	}
	term := func(kind, v string) {
		if v = normValue(v); v != "" {
			where = append(where, fmt.Sprintf("EXISTS (SELECT 1 FROM case_terms t WHERE t.case_id = c.id AND t.kind = %s AND t.value = %s)", arg(kind), arg(v)))
		}
	}
	term(ixOrder, q.Order)
	term(ixCustomer, q.Customer)
	term(ixSupplier, q.Supplier)
	term(ixSKU, q.SKU)
	term(ixWarehouse, q.Warehouse)
	term(ixPO, q.PO)
	term(ixShipment, q.Shipment)
	term(ixInvoice, q.Invoice)
	term(ixFamily, string(q.Family))
	if q.Status != "" {
		where = append(where, "c.status = "+arg(string(q.Status)))
	}
	if !q.OpenedBefore.IsZero() {
		where = append(where, fmt.Sprintf("(c.opened_s, c.opened_n) < (%s, %s)", arg(q.OpenedBefore.Unix()), arg(q.OpenedBefore.Nanosecond())))
	}
	if !q.OpenedAfter.IsZero() {
		where = append(where, fmt.Sprintf("(c.opened_s, c.opened_n) >= (%s, %s)", arg(q.OpenedAfter.Unix()), arg(q.OpenedAfter.Nanosecond())))
	}
	cond := "true"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var out cases.CaseList
	err := s.View(ctx, func(rtx cases.ReadTx) error {
		t := rtx.(*tx)
		if err := t.ptx.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM cases c WHERE %s LIMIT %d) m", cond, cases.MaxCaseCount), args...).Scan(&out.Total); err != nil {
			return t.fail("count cases", err)
		}
		out.TotalCapped = out.Total >= cases.MaxCaseCount
		if out.Total == 0 {
			return nil
		}
		rows, err := t.ptx.Query(ctx, fmt.Sprintf("SELECT c.id, c.doc FROM cases c WHERE %s ORDER BY c.opened_s DESC, c.opened_n DESC, c.id DESC LIMIT %d", cond, limit), args...)
		if err != nil {
			return t.fail("find cases", err)
		}
		type row struct {
			id  string
			doc []byte
		}
		found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.doc)
			return x, err
		})
		if err != nil {
			return t.fail("find cases", err)
		}
		for _, r := range found {
			c, err := decodeCase(r.id, r.doc)
			if err != nil {
				return err
			}
			out.Cases = append(out.Cases, c)
		}
		return nil
	})
	if err != nil {
		return cases.CaseList{}, fmt.Errorf("find cases: %w", err)
	}
	return out, nil
}
