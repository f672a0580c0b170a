package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// TestRewritesInOneUpdate: the case rows, event rows, index terms and
// timers of one function go out as one multi-row statement per table, so
// a function that writes the same case or timer twice must leave what its
// last write says, as statements sent one by one did: a shrunk event list
// leaves no row of the longer one, a changed supplier no term of the old
// one, a cleared timer no timer. Read back by another replica (an empty
// cache), so what is checked is what the tables hold.
func TestRewritesInOneUpdate(t *testing.T) {
	s, url, schema := openTest(t)
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := map[string][]*cases.StoredEvent{}
	for _, supplier := range []string{"Northwind", "Contoso"} {
		for i := 0; i < 6; i++ {
			evs[supplier] = append(evs[supplier], &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: fmt.Sprint(supplier, i),
				Source: "erp", Type: "shipment.delayed", Time: t0, Data: map[string]any{"shipment": fmt.Sprint("ASN-", i), "supplier": supplier}},
				Digest: fmt.Sprintf("%064d", len(evs)*10+i), Received: t0})
		}
	}
	caseOf := func(id, supplier string, n int) *cases.Case {
		c := &cases.Case{ID: id, Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0}
		for _, se := range evs[supplier][:n] {
			c.Events = append(c.Events, cases.CaseEventOf(se, cases.FamilySupplierDelay, t0))
		}
		return c
	}
	shrunk, grown, bare := caseOf("EX-000001", "Contoso", 1), caseOf("EX-000002", "Northwind", 5), caseOf("EX-000003", "Northwind", 0)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	err := s.Update(ctx, func(tx cases.Tx) error {
		for _, se := range append(evs["Northwind"], evs["Contoso"]...) {
			if err := tx.PutEvent(se); err != nil {
				return err
			}
		}
		for _, c := range []*cases.Case{caseOf("EX-000001", "Northwind", 4), shrunk, caseOf("EX-000002", "Northwind", 2), grown,
			caseOf("EX-000003", "Northwind", 3), bare} {
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		for _, step := range []func() error{
			func() error { return tx.SetTimer("EX-000001", t1) },
			func() error { return tx.ClearTimer("EX-000001") },
			func() error { return tx.SetTimer("EX-000001", t2) },
			func() error { return tx.SetTimer("EX-000002", t1) },
			func() error { return tx.ClearTimer("EX-000002") },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = other.View(ctx, func(tx cases.ReadTx) error {
		for _, want := range []*cases.Case{shrunk, grown, bare} {
			got, err := tx.Case(want.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got.Events, want.Events) {
				t.Errorf("case %s: %d events read back, want the last write's %d", want.ID, len(got.Events), len(want.Events))
			}
		}
		timers := map[string]time.Time{}
		if err := tx.DueTimers(t0.Add(24*time.Hour), func(id string, at time.Time) error { timers[id] = at; return nil }); err != nil {
			return err
		}
		if want := map[string]time.Time{"EX-000001": t2}; !reflect.DeepEqual(timers, want) {
			t.Errorf("timers = %v, want %v (the last call per case)", timers, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url, schema)
	var rows int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM case_events WHERE case_id = 'EX-000003'").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("case EX-000003 rewritten without events keeps %d event rows", rows)
	}
	for _, tt := range []struct {
		supplier string
		want     []string
	}{
		{"Contoso", []string{"EX-000001"}},
		{"Northwind", []string{"EX-000002"}}, // EX-000003 lost its events, and so its supplier
	} {
		got, err := other.FindCases(ctx, cases.CaseQuery{Supplier: tt.supplier})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got.Cases {
			ids = append(ids, c.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("cases of supplier %s = %v, want %v", tt.supplier, ids, tt.want)
		}
	}
}

// TestTermsFollowReadAndWrite: a function that read a case writes only the
// index rows that differ from the ones it read; the case is then found by
// its new terms, and no longer by the ones it lost, on another replica.
func TestTermsFollowReadAndWrite(t *testing.T) {
	s, url, _ := openTest(t)
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	event := func(id string, data map[string]any) *cases.StoredEvent {
		return &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: id, Source: "erp", Type: "shipment.delayed", Time: t0, Data: data},
			Digest: fmt.Sprintf("%064s", id), Received: t0}
	}
	first := event("e1", map[string]any{"shipment": "ASN-1", "supplier": "Northwind", "warehouse": "DAL"})
	second := event("e2", map[string]any{"shipment": "ASN-1", "supplier": "Northwind", "warehouse": "RNO"})
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0, Team: "logistics",
		Events: []cases.CaseEvent{cases.CaseEventOf(first, cases.FamilySupplierDelay, t0)}}
	if err := s.Update(ctx, func(tx cases.Tx) error {
		if err := tx.PutEvent(first); err != nil {
			return err
		}
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
	// A join that adds a warehouse, and a move to another team.
	if err := s.Update(ctx, func(tx cases.Tx) error {
		got, err := tx.Case(c.ID)
		if err != nil {
			return err
		}
		if err := tx.PutEvent(second); err != nil {
			return err
		}
		got.Events = append(got.Events, cases.CaseEventOf(second, cases.FamilySupplierDelay, t0))
		got.Team = "procurement"
		return tx.PutCase(got)
	}); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, url, Options{Schema: s.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, tt := range []struct {
		name string
		q    cases.CaseQuery
		want int
	}{
		{"kept term", cases.CaseQuery{Supplier: "Northwind"}, 1},
		{"term it had", cases.CaseQuery{Warehouse: "DAL"}, 1},
		{"term the join added", cases.CaseQuery{Warehouse: "RNO"}, 1},
		{"new team", cases.CaseQuery{Team: "procurement"}, 1},
		{"team it left", cases.CaseQuery{Team: "logistics"}, 0},
	} {
		got, err := other.FindCases(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Cases) != tt.want {
			t.Errorf("%s: %d cases, want %d", tt.name, len(got.Cases), tt.want)
		}
	}
}

// TestNewCaseDeletesNothing: a case opened under a number this transaction
// took has no event or index rows yet, so writing it sends no DELETE; its
// rows are still the ones a reader finds.
func TestNewCaseDeletesNothing(t *testing.T) {
	s, url, _ := openTest(t)
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: "e1", Source: "erp", Type: "shipment.delayed", Time: t0,
		Data: map[string]any{"shipment": "ASN-7", "supplier": "Northwind"}}, Digest: fmt.Sprintf("%064s", "e1"), Received: t0}
	var mu sync.Mutex
	var deletes []string
	seen := func(sql string) {
		if strings.Contains(sql, "DELETE FROM case_events") || strings.Contains(sql, "DELETE FROM case_terms") {
			mu.Lock()
			deletes = append(deletes, sql)
			mu.Unlock()
		}
	}
	s.trips.seen.Store(&seen)
	var id string
	if err := s.Update(ctx, func(tx cases.Tx) error {
		n, err := tx.NextCaseNumber()
		if err != nil {
			return err
		}
		id = cases.FormatCaseID(n)
		if err := tx.PutEvent(ev); err != nil {
			return err
		}
		return tx.PutCase(&cases.Case{ID: id, Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0, Team: "logistics",
			Events: []cases.CaseEvent{cases.CaseEventOf(ev, cases.FamilySupplierDelay, t0)}})
	}); err != nil {
		t.Fatal(err)
	}
	s.trips.seen.Store(nil)
	if len(deletes) > 0 {
		t.Errorf("opening a case sent %d deletes: %q", len(deletes), deletes)
	}
	other, err := Open(ctx, url, Options{Schema: s.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got, err := other.FindCases(ctx, cases.CaseQuery{Shipment: "ASN-7", Team: "logistics"})
	if err != nil || len(got.Cases) != 1 || got.Cases[0].ID != id || len(got.Cases[0].Events) != 1 {
		t.Fatalf("FindCases of the new case = %+v, %v; want %s with its event", got, err, id)
	}
}
