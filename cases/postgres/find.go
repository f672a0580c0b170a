package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// The question-answering index: one case_terms row per (kind, value) a case
// is found by, written by PutCase in the case's own transaction. The terms
// are the domain's (cases.CaseTerms and CaseQuery.Terms, the rule
// CaseQuery.Match checks by), so this store and cases/bolt answer alike;
// status is a column of its own.

// indexTerms lists the terms of c kept as rows.
func indexTerms(c *cases.Case) (kinds, values []string) {
	for _, t := range cases.CaseTerms(c) {
		if t.Kind == cases.TermAll || t.Kind == cases.TermStatus {
			continue
		}
		kinds, values = append(kinds, t.Kind), append(values, t.Value)
	}
	// The times, as terms whose values sort as the times do, so that
	// "resolved this week" and "past its SLA" are range scans.
	for _, t := range cases.TimesOf(c).Terms() {
		kinds, values = append(kinds, t.Kind), append(values, t.Value)
	}
	return kinds, values
}

const (
	sqlDeleteTerms = "DELETE FROM case_terms WHERE case_id = $1"
	sqlInsertTerms = "INSERT INTO case_terms (kind, value, case_id) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v)"
	// sqlInsertTermRows writes the terms of several cases.
	sqlInsertTermRows = "INSERT INTO case_terms (kind, value, case_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
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
	for _, t := range q.Terms() {
		if t.Kind == cases.TermStatus {
			where = append(where, "c.status = "+arg(t.Value)) // a column
			continue
		}
		where = append(where, fmt.Sprintf("EXISTS (SELECT 1 FROM case_terms t WHERE t.case_id = c.id AND t.kind = %s AND t.value = %s)", arg(t.Kind), arg(t.Value)))
	}
	// The time conditions (cases.CaseQuery.MatchTimes), as ranges over the
	// time terms.
	timeRange := func(kind string, from, to time.Time, fromIncl bool) {
		cond := []string{"t.case_id = c.id", "t.kind = " + arg(kind)}
		if !from.IsZero() {
			op := ">"
			if fromIncl {
				op = ">="
			}
			cond = append(cond, "t.value "+op+" "+arg(cases.TimeTermValue(from)))
		}
		if !to.IsZero() {
			cond = append(cond, "t.value < "+arg(cases.TimeTermValue(to)))
		}
		where = append(where, "EXISTS (SELECT 1 FROM case_terms t WHERE "+strings.Join(cond, " AND ")+")")
	}
	if !q.ResolvedAfter.IsZero() || !q.ResolvedBefore.IsZero() {
		timeRange(cases.TermResolvedAt, q.ResolvedAfter, q.ResolvedBefore, true)
	}
	if !q.EscalatedAfter.IsZero() || !q.EscalatedBefore.IsZero() {
		timeRange(cases.TermEscalatedAt, q.EscalatedAfter, q.EscalatedBefore, true)
	}
	if !q.SLADueAfter.IsZero() || !q.SLADueBefore.IsZero() {
		timeRange(cases.TermSLADue, q.SLADueAfter, q.SLADueBefore, true)
	}
	if (q.PastSLA || q.Snoozed || q.FirstTouchOverdue) && q.At.IsZero() {
		where = append(where, "false") // judged at no time: matches nothing, as MatchTimes says
	} else {
		if q.PastSLA {
			timeRange(cases.TermSLADue, time.Time{}, q.At, false)
		}
		if q.FirstTouchOverdue {
			timeRange(cases.TermFirstTouchDue, time.Time{}, q.At, false)
		}
		if q.Snoozed {
			timeRange(cases.TermSnoozedUntil, q.At, time.Time{}, false)
		}
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
		docs := make([]caseDoc, len(found))
		for i, r := range found {
			if docs[i], err = decodeDoc(r.id, r.doc); err != nil {
				return err
			}
		}
		out.Cases, err = t.resolve(docs)
		return err
	})
	if err != nil {
		return cases.CaseList{}, fmt.Errorf("find cases: %w", err)
	}
	return out, nil
}
