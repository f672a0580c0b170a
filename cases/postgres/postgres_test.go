package postgres

import (
	"context"
	"fmt"
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
	all := make([]cases.Store, len(stores))
	for i, s := range stores {
		all[i] = s
	}
	storetest.BenchUpdateParallel(b, all...)
}

// BenchmarkJoin is cases/bolt's benchmark of the same name on PostgreSQL.
func BenchmarkJoin(b *testing.B) {
	for _, sz := range []struct{ held, beside int }{{1, 0}, {200, 0}, {1, 199}} {
		name := fmt.Sprintf("held=%d", sz.held)
		if sz.beside > 0 {
			name += fmt.Sprintf("/beside=%d", sz.beside)
		}
		b.Run(name, func(b *testing.B) {
			s, _, _ := openTest(b)
			defer s.Close()
			storetest.BenchJoin(b, s, sz.held, sz.beside)
		})
	}
}
