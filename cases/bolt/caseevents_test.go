package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/cases"
)

// TestCaseEventRows: a join writes only its new row; every other change to
// a case's events (an event changed, replaced, dropped, a whole event's
// data replaced) is written, whether or not the store keeps the case's
// list; a rolled-back write leaves the list of the committed head; and
// what the kept lists give is what a fresh store reads from the rows.
func TestCaseEventRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exops.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ctx := context.Background()
	cet := time.FixedZone("CET", 3600)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, cet) // a zone the rows do not keep by name
	stored := func(i int) *cases.StoredEvent {
		return &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: fmt.Sprint("e", i), Source: "erp", Type: "order.credit_hold", Time: t0,
			Data: map[string]any{"order": "SO-1", "n": float64(i)}}, Digest: fmt.Sprintf("%064d", i), Received: t0}
	}
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0}
	for i := 0; i < 3; i++ {
		c.Events = append(c.Events, cases.CaseEventOf(stored(i), cases.FamilyCreditHold, t0.Add(time.Duration(i)*time.Second)))
	}
	c.Events = append(c.Events, cases.CaseEvent{ID: "w", Source: "hand", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Time: t0, Received: t0,
		Data: map[string]any{"order": "SO-1", "note": "whole"}})
	put := func(c *cases.Case, evs ...*cases.StoredEvent) {
		t.Helper()
		if err := s.Update(ctx, func(tx cases.Tx) error {
			for _, se := range evs {
				if err := tx.PutEvent(se); err != nil {
					return err
				}
			}
			return tx.PutCase(c)
		}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(s *Store) *cases.Case {
		t.Helper()
		var got *cases.Case
		if err := s.View(ctx, func(tx cases.ReadTx) error {
			var err error
			got, err = tx.Case(c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	rows := func() map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		s.db.View(func(btx *bbolt.Tx) error {
			return btx.Bucket(bucketCaseEvents).ForEach(func(k, v []byte) error {
				out[string(k)] = bytes.Clone(v)
				return nil
			})
		})
		return out
	}
	// fresh is what a store without kept lists reads from the file.
	fresh := func() *cases.Case {
		t.Helper()
		s.Close()
		if s, err = Open(path, Options{}); err != nil {
			t.Fatal(err)
		}
		return read(s)
	}
	// same checks a read against what the caller wrote (but for the zone of
	// times, which the rows keep as an offset) and against a fresh store.
	same := func(what string, want *cases.Case) {
		t.Helper()
		got := read(s)
		if len(got.Events) != len(want.Events) {
			t.Fatalf("%s: %d events read, want %d", what, len(got.Events), len(want.Events))
		}
		for i := range got.Events {
			g, w := got.Events[i], want.Events[i]
			if !g.Received.Equal(w.Received) || !g.Time.Equal(w.Time) {
				t.Fatalf("%s: event %d at %v/%v, want %v/%v", what, i, g.Time, g.Received, w.Time, w.Received)
			}
			g.Time, g.Received, w.Time, w.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: event %d reads as\n%+v\nwant\n%+v", what, i, g, w)
			}
		}
		if f := fresh(); !reflect.DeepEqual(got, f) {
			t.Fatalf("%s: the kept list gives\n%+v\na fresh store reads\n%+v", what, got.Events, f.Events)
		}
	}
	var evs []*cases.StoredEvent
	for i := 0; i < 3; i++ {
		evs = append(evs, stored(i))
	}
	put(c, evs...)
	same("written", c)

	// A join, read from the store: only the new row and the head change.
	before := rows()
	got := read(s)
	se := stored(3)
	got.Events = append(got.Events, cases.CaseEventOf(se, cases.FamilyCreditHold, t0.Add(time.Minute)))
	put(got, se)
	after := rows()
	var changed []string
	for k, v := range after {
		if !bytes.Equal(before[k], v) {
			changed = append(changed, fmt.Sprintf("%q", k))
		}
	}
	if len(after) != len(before)+1 || len(changed) != 2 {
		t.Errorf("a join changed rows %v (%d rows before, %d after), want the new row and the head", changed, len(before), len(after))
	}
	want := got
	same("joined", want)

	// Changes other than an append, each on a case just read (the store
	// keeps its list) and written back.
	changes := []struct {
		what   string
		change func(c *cases.Case)
	}{
		// (A read's events are shared: a change clones them first.)
		{"family of the first event changed", func(c *cases.Case) {
			c.Events = slices.Clone(c.Events)
			c.Events[0].Family = cases.FamilySupplierDelay
		}},
		{"time of receipt changed", func(c *cases.Case) {
			c.Events = slices.Clone(c.Events)
			c.Events[1].Received = c.Events[1].Received.Add(time.Nanosecond)
		}},
		{"event replaced by another stored event", func(c *cases.Case) {
			c.Events = slices.Clone(c.Events)
			c.Events[2] = cases.CaseEventOf(stored(9), cases.FamilyCreditHold, t0)
		}},
		{"whole event's data replaced", func(c *cases.Case) {
			c.Events = slices.Clone(c.Events)
			c.Events[3].Data = map[string]any{"order": "SO-1", "note": "other"}
		}},
		{"whole event's data replaced and one appended", func(c *cases.Case) {
			c.Events = slices.Clone(c.Events)
			c.Events[3].Data = map[string]any{"order": "SO-2"}
			c.Events = append(c.Events, cases.CaseEventOf(stored(10), cases.FamilyCreditHold, t0))
		}},
		{"first event dropped", func(c *cases.Case) { c.Events = c.Events[1:] }},
		{"last event dropped", func(c *cases.Case) { c.Events = c.Events[:len(c.Events)-1] }},
	}
	for _, ch := range changes {
		c := read(s)
		read(s) // and read again: the list is the same
		ch.change(c)
		put(c, stored(9), stored(10))
		same(ch.what, c)
		want = c
	}

	// A rolled-back join leaves the committed events.
	errRollBack := errors.New("roll back")
	if err := s.Update(ctx, func(tx cases.Tx) error {
		c, err := tx.Case(want.ID)
		if err != nil {
			return err
		}
		c.Events = append(c.Events, cases.CaseEventOf(stored(11), cases.FamilyCreditHold, t0))
		if err := tx.PutEvent(stored(11)); err != nil {
			return err
		}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		return errRollBack
	}); !errors.Is(err, errRollBack) {
		t.Fatalf("rolled-back Update: %v", err)
	}
	same("after a rolled-back join", want)

	// A case whose events all leave keeps them inline again (none).
	c = read(s)
	c.Events = []cases.CaseEvent{}
	put(c)
	if got := read(s); got.Events == nil || len(got.Events) != 0 {
		t.Errorf("events after all left: %#v, want an empty list", got.Events)
	}
	if n := len(rows()); n != 0 {
		t.Errorf("%d event rows left after all events left", n)
	}
}

// TestCaseEventHeadOfSchema2: rows whose head is where schema 2 kept it
// (before the rows, hashed by fields) are read, and on the case's next
// write rewritten with the head after them.
func TestCaseEventHeadOfSchema2(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "exops.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	se := &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: "e0", Source: "erp", Type: "order.credit_hold", Time: t0,
		Data: map[string]any{"order": "SO-1"}}, Digest: fmt.Sprintf("%064d", 0), Received: t0}
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0,
		Events: []cases.CaseEvent{cases.CaseEventOf(se, cases.FamilyCreditHold, t0)}}
	if err := s.Update(ctx, func(tx cases.Tx) error {
		if err := tx.PutEvent(se); err != nil {
			return err
		}
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
	// Move the head where schema 2 wrote it, with schema 2's hash.
	s.db.Update(func(btx *bbolt.Tx) error {
		b := btx.Bucket(bucketCaseEvents)
		if err := b.Delete(caseEventsHeadKey(c.ID)); err != nil {
			return err
		}
		return b.Put(caseEventsPrefix(c.ID), []byte(`{"n":1,"hash":"0123456789abcdef0123456789abcdef"}`))
	})
	s.lists = cases.NewEventLists(cases.EventListBytes) // as a store that just opened the file
	var got *cases.Case
	if err := s.Update(ctx, func(tx cases.Tx) error {
		if got, err = tx.Case(c.ID); err != nil {
			return err
		}
		se1 := *se
		se1.Event.ID = "e1"
		if err := tx.PutEvent(&se1); err != nil {
			return err
		}
		got.Events = append(got.Events, cases.CaseEventOf(&se1, cases.FamilyCreditHold, t0))
		return tx.PutCase(got)
	}); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(btx *bbolt.Tx) error {
		b := btx.Bucket(bucketCaseEvents)
		if b.Get(caseEventsPrefix(c.ID)) != nil || b.Get(caseEventsHeadKey(c.ID)) == nil {
			t.Error("the head was not moved after the rows")
		}
		return nil
	})
	s.lists = cases.NewEventLists(cases.EventListBytes)
	if err := s.View(ctx, func(tx cases.ReadTx) error {
		again, err := tx.Case(c.ID)
		if err == nil && !reflect.DeepEqual(again.Events, got.Events) {
			t.Errorf("events read back %+v, want %+v", again.Events, got.Events)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAppendsInPlaceMatchRows: joins that append in place (CaseForAppend)
// leave the store's kept lists saying what the rows say, through a lent
// slot's join, two reads of one head in one transaction both appended to
// and written, a rolled-back join and the one after it. After each step
// the case as the kept list gives it is compared with the case a store
// with no kept lists reads from the rows.
func TestAppendsInPlaceMatchRows(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "exops.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	stored := func(i int) *cases.StoredEvent {
		return &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: fmt.Sprint("e", i), Source: "erp", Type: "order.credit_hold", Time: t0,
			Data: map[string]any{"order": "SO-1", "n": float64(i)}}, Digest: fmt.Sprintf("%064d", i), Received: t0}
	}
	appendTo := func(tx cases.Tx, c *cases.Case, i int) error {
		if err := tx.PutEvent(stored(i)); err != nil {
			return err
		}
		c.Events = append(c.Events, cases.CaseEventOf(stored(i), cases.FamilyCreditHold, t0.Add(time.Duration(i)*time.Second)))
		return tx.PutCase(c)
	}
	forAppend := func(tx cases.Tx) (*cases.Case, error) { return tx.(cases.Appender).CaseForAppend("EX-000001") }
	join := func(i int) {
		t.Helper()
		if err := s.Update(ctx, func(tx cases.Tx) error {
			c, err := forAppend(tx)
			if err != nil {
				return err
			}
			return appendTo(tx, c, i)
		}); err != nil {
			t.Fatal(err)
		}
	}
	idsOf := func(c *cases.Case) []string {
		var out []string
		for _, e := range c.Events {
			out = append(out, fmt.Sprint(e.ID, "/", e.Data["n"], "/", e.Received.Unix()))
		}
		return out
	}
	check := func(step string, want int) {
		t.Helper()
		var kept, rows *cases.Case
		view := func(into **cases.Case) {
			if err := s.View(ctx, func(tx cases.ReadTx) error {
				var err error
				*into, err = tx.Case("EX-000001")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		view(&kept)
		lists := s.lists
		s.lists = cases.NewEventLists(cases.EventListBytes) // as a store that just opened the file
		view(&rows)
		s.lists = lists
		if !slices.Equal(idsOf(kept), idsOf(rows)) || len(rows.Events) != want {
			t.Errorf("%s: the kept list gives %v, the rows %v (want %d events)", step, idsOf(kept), idsOf(rows), want)
		}
	}
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0}
	if err := s.Update(ctx, func(tx cases.Tx) error { return appendTo(tx, c, 0) }); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		join(i)
	}
	check("three joins", 4)
	if err := s.Update(ctx, func(tx cases.Tx) error {
		c1, err := forAppend(tx)
		if err != nil {
			return err
		}
		c2, err := forAppend(tx)
		if err != nil {
			return err
		}
		if err := appendTo(tx, c1, 4); err != nil {
			return err
		}
		return appendTo(tx, c2, 5)
	}); err != nil {
		t.Fatal(err)
	}
	check("two reads of one head, both appended to", 5)
	errRollBack := errors.New("roll back")
	if err := s.Update(ctx, func(tx cases.Tx) error {
		c, err := forAppend(tx)
		if err != nil {
			return err
		}
		if err := appendTo(tx, c, 6); err != nil {
			return err
		}
		return errRollBack
	}); !errors.Is(err, errRollBack) {
		t.Fatal(err)
	}
	check("a rolled-back join", 5)
	join(7)
	join(8)
	check("joins after it", 7)
}
