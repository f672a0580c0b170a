package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/exops/exops/cases"
)

// TestCaseDocumentRefersToEvents: the case row keeps a reference to each
// stored event, not its data; another replica (an empty cache) reads the
// data from the events table, and a row written whole by an older exops
// still reads.
func TestCaseDocumentRefersToEvents(t *testing.T) {
	s, url, schema := openTest(t)
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	big := strings.Repeat("x", 4000)
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0}
	var evs []*cases.StoredEvent
	for i := 0; i < 20; i++ {
		se := &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: fmt.Sprint("e", i), Source: "erp", Type: "order.credit_hold", Time: t0,
			Data: map[string]any{"order": "SO-1", "note": big}}, Digest: fmt.Sprintf("%064d", i), Received: t0}
		evs = append(evs, se)
		c.Events = append(c.Events, cases.CaseEventOf(se, cases.FamilyCreditHold, t0))
	}
	err := s.Update(ctx, func(tx cases.Tx) error {
		for _, se := range evs {
			if err := tx.PutEvent(se); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url, schema)
	var n int
	if err := conn.QueryRow(ctx, "SELECT length(doc) FROM cases WHERE id = $1", c.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 20*200 {
		t.Errorf("case document of 20 events is %d bytes; want references only", n)
	}
	other, err := Open(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	read := func() *cases.Case {
		var got *cases.Case
		if err := other.View(ctx, func(tx cases.ReadTx) error {
			var err error
			got, err = tx.Case(c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); !reflect.DeepEqual(got, c) {
		t.Errorf("case read back from references on another replica differs:\n got %+v\nwant %+v", got.Events[0], c.Events[0])
	}
	old := *c
	old.Events = []cases.CaseEvent{{ID: "e0", Source: "erp", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Time: t0, Received: t0,
		Data: map[string]any{"order": "SO-1"}}}
	raw, _ := json.Marshal(&old)
	if _, err := conn.Exec(ctx, "UPDATE cases SET doc = $2 WHERE id = $1", c.ID, raw); err != nil {
		t.Fatal(err)
	}
	if got := read(); !reflect.DeepEqual(got, &old) {
		t.Errorf("case row of an older version reads as %+v, want %+v", got, &old)
	}
}
