package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// testAppends: a join appends to a case's events, in place where the store
// lends room for it (cases.Appender), which shares the events' array with
// the store and with other readers. What a reader got before a join stays
// as it was; a rolled-back join leaves the committed events; two reads of
// one head in one transaction, each appended to and written, leave the
// last write; and readers beside a writer always see a whole list of
// events, in order.
func testAppends(t *testing.T, s cases.Store) {
	ctx := context.Background()
	const id = "EX-000001"
	stored := func(i int) *cases.StoredEvent {
		se := sampleEvent("wms", fmt.Sprintf("ev-%03d", i))
		se.Digest = fmt.Sprintf("d%03d-%s", i, strings.Repeat("b", 60))
		return se
	}
	read := func(tx cases.Tx) (*cases.Case, error) {
		if a, ok := tx.(cases.Appender); ok {
			return a.CaseForAppend(id)
		}
		return tx.Case(id)
	}
	appendTo := func(tx cases.Tx, c *cases.Case, i int) error {
		se := stored(i)
		if err := tx.PutEvent(se); err != nil {
			return err
		}
		c.Events = append(c.Events, cases.CaseEventOf(se, cases.FamilyAllocationConflict, base.Add(time.Duration(i)*time.Second)))
		c.Version++
		return tx.PutCase(c)
	}
	join := func(i int) error {
		return s.Update(ctx, func(tx cases.Tx) error {
			c, err := read(tx)
			if err != nil {
				return err
			}
			return appendTo(tx, c, i)
		})
	}
	// want is the ids of the committed events, in order.
	want := []string{"evt-1"}
	idsOf := func(evs []cases.CaseEvent) []string {
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.ID
		}
		return out
	}
	readIDs := func() []string {
		var got []string
		view(t, s, func(tx cases.ReadTx) error {
			c, err := tx.Case(id)
			if err != nil {
				return err
			}
			got = idsOf(c.Events)
			return nil
		})
		return got
	}

	update(t, s, func(tx cases.Tx) error { return tx.PutCase(sampleCase(id)) })
	for i := 1; i <= 3; i++ {
		if err := join(i); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		want = append(want, stored(i).Event.ID)
	}
	same(t, "events after three joins", readIDs(), want)

	// What a reader holds does not change when a join appends after it.
	var held []cases.CaseEvent
	view(t, s, func(tx cases.ReadTx) error {
		c, err := tx.Case(id)
		held = c.Events
		return err
	})
	heldIDs := idsOf(held)
	if err := join(4); err != nil {
		t.Fatal(err)
	}
	want = append(want, stored(4).Event.ID)
	same(t, "events a reader held across a join", idsOf(held), heldIDs)
	same(t, "events after the fourth join", readIDs(), want)

	// A rolled-back join leaves the committed events, and the next join
	// appends after them.
	errRollBack := errors.New("roll back")
	if err := s.Update(ctx, func(tx cases.Tx) error {
		c, err := read(tx)
		if err != nil {
			return err
		}
		if err := appendTo(tx, c, 5); err != nil {
			return err
		}
		return errRollBack
	}); !errors.Is(err, errRollBack) {
		t.Fatalf("rolled-back join: %v", err)
	}
	same(t, "events after a rolled-back join", readIDs(), want)
	if err := join(6); err != nil {
		t.Fatal(err)
	}
	want = append(want, stored(6).Event.ID)
	same(t, "events after a join that followed a rolled-back one", readIDs(), want)

	// Two reads of one head in one transaction, both appended to: the
	// last write is the case.
	update(t, s, func(tx cases.Tx) error {
		c1, err := read(tx)
		if err != nil {
			return err
		}
		c2, err := read(tx)
		if err != nil {
			return err
		}
		if err := appendTo(tx, c1, 7); err != nil {
			return err
		}
		return appendTo(tx, c2, 8)
	})
	want = append(want, stored(8).Event.ID)
	same(t, "events after two appends to one head", readIDs(), want)

	// Readers beside a writer see whole lists, each a prefix of the end.
	const joins = 30
	final := append([]string(nil), want...)
	for i := 0; i < joins; i++ {
		final = append(final, stored(100+i).Event.ID)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.View(ctx, func(tx cases.ReadTx) error {
					c, err := tx.Case(id)
					if err != nil {
						return err
					}
					got := idsOf(c.Events)
					if len(got) < len(want) || len(got) > len(final) || strings.Join(got, ",") != strings.Join(final[:len(got)], ",") {
						return fmt.Errorf("a reader beside the writer saw %v", got)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < joins; i++ {
		if err := join(100 + i); err != nil {
			t.Fatalf("join %d beside readers: %v", 100+i, err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	same(t, "events after the joins beside readers", readIDs(), final)
}
