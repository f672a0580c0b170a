package storetest

import (
	"context"
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
