package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// BenchUpdateParallel is the stores' write benchmark: 8 goroutines per
// core, each Update writing a case, a key, an event and an audit record,
// spread over stores (replicas of one database, or one store). It reports
// updates/s.
func BenchUpdateParallel(b *testing.B, stores ...cases.Store) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var next, worker atomic.Uint64
	b.SetParallelism(8) // intake, workers and Slack handlers write at once
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := stores[int(worker.Add(1))%len(stores)]
		for pb.Next() {
			id := cases.FormatCaseID(next.Add(1))
			err := s.Update(context.Background(), func(tx cases.Tx) error {
				if err := tx.PutCase(&cases.Case{ID: id, Families: []cases.Family{cases.FamilyCreditHold}, Severity: cases.SeverityHigh,
					Status: cases.StatusOpen, OpenedAt: t0, UpdatedAt: t0, SLADue: t0.Add(time.Hour), Keys: []string{"order:SO-" + id}}); err != nil {
					return err
				}
				if err := tx.PutKey("order:SO-"+id, cases.KeyRef{Case: id, LastSeen: t0}); err != nil {
					return err
				}
				if err := tx.PutEvent(&cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: id, Source: "erp", Type: "order.credit_hold",
					Time: t0, Data: map[string]any{"order": "SO-" + id, "amount": 1200.0}}, Received: t0,
					Result: cases.IngestResult{Source: "erp", ID: id, Case: id, Outcome: "opened"}}); err != nil {
					return err
				}
				_, err := tx.Audit(cases.AuditEntry{Time: t0, Case: id, Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: "credit hold"})
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// joinsPerUpdate is how many events one timed Update joins to cases: the
// intake commits a batch's joins together, so the figure is the cost of
// one join inside a commit, not of a commit.
const joinsPerUpdate = 50

// BenchJoin measures what joining one event costs the store when each case
// already holds held events: read the case, add the event, write the case,
// store the event and its audit record. Each timed Update joins one event
// to each of joinsPerUpdate cases, as intake does: through CaseForAppend
// when the store has it (cases.Appender), else tx.Case. The cases grow by
// one event an Update, from held to held+b.N; run it with a small fixed
// -benchtime (20x) so that held=1 stays far from held=200. (Putting the
// cases back to held events between Updates would rewrite their rows and
// take the room a join appends into.) It reports ns/join; the issue's
// promise is that held=1 and held=200 cost the same.
//
// beside gives each case a neighbour of beside events that is not joined
// (its id and its events' ids sort next to the case's): with held=1 and
// beside=199 the store holds as many events, rows and pages as with
// held=200, spread alike, so the two differ only in how many events the
// joined cases hold, not in how big the store is.
func BenchJoin(b *testing.B, s cases.Store, held, beside int) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ids := make([]string, joinsPerUpdate)
	for i := range ids {
		if beside > 0 {
			id := cases.FormatCaseID(uint64(900000+i)) + "-n"
			c := &cases.Case{ID: id, Families: []cases.Family{cases.FamilyAllocationConflict}, Severity: cases.SeverityHigh,
				Status: cases.StatusOpen, OpenedAt: t0, UpdatedAt: t0, SLADue: t0.Add(time.Hour), Keys: []string{"order:SO-" + id}}
			if err := s.Update(ctx, func(tx cases.Tx) error {
				c.Events = nil
				for j := 0; j < beside; j++ {
					se := joinEvent(id, j, t0)
					if err := tx.PutEvent(se); err != nil {
						return err
					}
					c.Events = append(c.Events, joined(se))
				}
				return tx.PutCase(c)
			}); err != nil {
				b.Fatal(err)
			}
		}
		ids[i] = cases.FormatCaseID(uint64(900000 + i))
		c := &cases.Case{ID: ids[i], Families: []cases.Family{cases.FamilyAllocationConflict}, Severity: cases.SeverityHigh,
			Status: cases.StatusOpen, OpenedAt: t0, UpdatedAt: t0, SLADue: t0.Add(time.Hour), Keys: []string{"order:SO-" + ids[i]}}
		var evs []*cases.StoredEvent
		for j := 0; j < held; j++ {
			se := joinEvent(ids[i], j, t0)
			evs = append(evs, se)
			c.Events = append(c.Events, joined(se))
		}
		if err := s.Update(ctx, func(tx cases.Tx) error {
			for _, se := range evs {
				if err := tx.PutEvent(se); err != nil {
					return err
				}
			}
			return tx.PutCase(c)
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := s.Update(ctx, func(tx cases.Tx) error {
			read := tx.Case
			if a, ok := tx.(cases.Appender); ok {
				read = a.CaseForAppend
			}
			for _, id := range ids {
				c, err := read(id)
				if err != nil {
					return err
				}
				se := joinEvent(id, held+n, t0)
				c.Events = append(c.Events, joined(se))
				c.Version++
				// The event first, then the case, in the order intake
				// writes them (the case is written when the batch ends).
				if err := tx.PutEvent(se); err != nil {
					return err
				}
				if err := tx.PutCase(c); err != nil {
					return err
				}
				if _, err := tx.Audit(cases.AuditEntry{Time: t0, Case: id, Kind: cases.AuditEventJoined, Actor: "erp", Detail: se.Event.ID}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*joinsPerUpdate), "ns/join")
}

// joinEvent is event j of a case: an allocation conflict on the case's
// order, with the data such an event carries (the events of one case share
// their keys, as correlated events do).
func joinEvent(caseID string, j int, t0 time.Time) *cases.StoredEvent {
	ev := cases.Event{SpecVersion: "1.0", ID: caseID + "-" + strconv.Itoa(j), Source: "/wms/bench", Type: "order.allocation_conflict",
		Time: t0.Add(time.Duration(j) * time.Second), Subject: "SO-" + caseID,
		Data: map[string]any{"order": "SO-" + caseID, "customer": "C-" + caseID, "customer_tier": "standard", "order_value": 12500.0,
			"sku": "SKU-4711", "quantity": 100.0, "note": strings.Repeat("split allocation after a recount; ", 8),
			"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 60.0}, map[string]any{"warehouse": "ATL", "quantity": 40.0}}}}
	sum := sha256.Sum256([]byte(ev.Source + "\x00" + ev.ID))
	return &cases.StoredEvent{Event: ev, Digest: hex.EncodeToString(sum[:]), Received: t0,
		Result: cases.IngestResult{Source: ev.Source, ID: ev.ID, Case: caseID, Outcome: "joined"}}
}

// joined is the event as the engine adds it to a case (with its digest,
// so the stores keep a reference).
func joined(se *cases.StoredEvent) cases.CaseEvent {
	return cases.CaseEventOf(se, cases.FamilyAllocationConflict, se.Received)
}
