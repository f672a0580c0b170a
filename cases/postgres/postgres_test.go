package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/storetest"
)

func TestConformance(t *testing.T) {
	for _, noBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBatch=%v", noBatch), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) cases.Store {
				s, _, _ := openTestOpts(t, Options{NoBatch: noBatch})
				return s
			})
		})
	}
}

func TestReplicas(t *testing.T) {
	for _, noBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBatch=%v", noBatch), func(t *testing.T) {
			storetest.RunReplicas(t, func(t *testing.T, n int) []cases.Store {
				first, url, schema := openTestOpts(t, Options{NoBatch: noBatch})
				rs := []cases.Store{first}
				for len(rs) < n {
					s, err := Open(context.Background(), url, Options{Schema: schema, MaxConns: 16, NoBatch: noBatch})
					if err != nil {
						t.Fatal(err)
					}
					rs = append(rs, s)
				}
				return rs
			})
		})
	}
}

var t0 = time.Date(2025, 6, 2, 8, 30, 0, 0, time.UTC)

// BenchmarkUpdateParallel is cases/bolt's benchmark of the same name on
// PostgreSQL: one case, key, event and audit record per Update, eight
// writers per CPU at once. Every Update appends to the one audit chain, so
// the appends queue on its head row: this measures that cost.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, noBatch := range []bool{false, true} {
		name := "batch"
		if noBatch {
			name = "nobatch"
		}
		b.Run(name, func(b *testing.B) { benchUpdate(b, noBatch, 1) })
	}
	// Three replicas (three pools, three group committers) on one schema.
	b.Run("batch-3replicas", func(b *testing.B) { benchUpdate(b, false, 3) })
}

func benchUpdate(b *testing.B, noBatch bool, replicas int) {
	first, url, schema := openTestOpts(b, Options{NoBatch: noBatch})
	defer first.Close()
	stores := []*Store{first}
	for len(stores) < replicas {
		s, err := Open(context.Background(), url, Options{Schema: schema, NoBatch: noBatch, MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var next, worker atomic.Uint64
	b.SetParallelism(8) // intake, workers and Slack handlers write at once
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := stores[int(worker.Add(1))%len(stores)]
		for pb.Next() {
			n := next.Add(1)
			id := cases.FormatCaseID(n)
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
