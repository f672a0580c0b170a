package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// BenchmarkEngineJoin is issue 14's promise seen from the engine: a real
// Engine (the example policy, the rules agents) ingests one batch of 50
// events, each joining its own open case that already holds held events,
// as the event API hands a batch over (one Ingest, one transaction). The
// store's benchmark (storetest.BenchJoin) measures the store alone; this
// adds correlation, severity, priority and routing, the keys, the audit
// record and the queued job of each event. The engine's workers are off,
// as in BenchmarkIntake. Every timed batch adds one event to each case, so
// the cases hold held to held+b.N events while they are measured.
//
// beside gives each case a neighbour (opened next to it, so their ids
// alternate) that holds beside events and is not joined: held=1 with
// beside=199 has a store as big as held=200's, so the two differ only in
// how many events the joined cases hold.
func BenchmarkEngineJoin(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) cases.Store
	}{
		{"bbolt", func(b *testing.B) cases.Store {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(b *testing.B) cases.Store { return replicaStores(b, 1)[0] }},
	}
	for _, st := range stores {
		for _, sz := range []struct{ held, beside int }{{1, 0}, {200, 0}, {1, 199}} {
			name := fmt.Sprintf("%s/held=%d", st.name, sz.held)
			if sz.beside > 0 {
				name += fmt.Sprintf("/beside=%d", sz.beside)
			}
			b.Run(name, func(b *testing.B) {
				benchEngineJoin(b, st.open(b), sz.held, sz.beside)
			})
		}
	}
}

// engineJoinCases is how many cases one timed batch joins, one event each.
const engineJoinCases = 50

func benchEngineJoin(b *testing.B, store cases.Store, held, beside int) {
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		b.Fatal(err)
	}
	sim := connectors.NewSimulator(testClock)
	// The default bound (200 events) would send the 201st event to a new
	// case: the benchmark raises it so that the event joins.
	eng, err := cases.New(cases.Config{Store: store, Policy: pol, Agents: agents.NewRules(testClock), Enricher: sim, Executor: sim,
		Notifier: nopNotifier{}, Now: testClock, MaxCaseEvents: max(held, beside) + b.N + 10})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ingest := func(evs []cases.Event) {
		b.Helper()
		res, err := eng.Ingest(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != "opened" && r.Outcome != "joined" {
				b.Fatalf("event %s: outcome %s, want opened or joined", r.ID, r.Outcome)
			}
		}
	}
	// The cases, held events each, ingested as the intake would (batches
	// of up to 100 events).
	var batch []cases.Event
	add := func(ev cases.Event) {
		batch = append(batch, ev)
		if len(batch) == 100 {
			ingest(batch)
			batch = batch[:0]
		}
	}
	for j := 0; j < max(held, beside); j++ {
		for c := 0; c < engineJoinCases; c++ {
			if j < beside {
				add(engineJoinEvent(engineJoinCases+c, j)) // the neighbour's own order
			}
			if j < held {
				add(engineJoinEvent(c, j))
			}
		}
	}
	if len(batch) > 0 {
		ingest(batch)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		evs := make([]cases.Event, engineJoinCases)
		for c := range evs {
			evs[c] = engineJoinEvent(c, held+n)
		}
		res, err := eng.Ingest(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != "joined" {
				b.Fatalf("event %s: outcome %s, want joined", r.ID, r.Outcome)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*engineJoinCases), "ns/join")
}

// engineJoinEvent is event j of case c: an allocation conflict on the
// case's own order, customer and SKU, so it joins that case and no other.
func engineJoinEvent(c, j int) cases.Event {
	order := fmt.Sprintf("SO-%06d", c)
	return cases.Event{SpecVersion: "1.0", ID: fmt.Sprintf("join-%d-%d", c, j), Source: "/wms/bench", Type: "order.allocation_conflict",
		Time: testClock().Add(-time.Minute), Subject: order,
		Data: map[string]any{"order": order, "customer": fmt.Sprintf("C-%06d", c), "customer_tier": "standard", "order_value": 12500.0,
			"sku": fmt.Sprintf("SKU-%06d", c), "quantity": 100.0, "note": "split allocation after a recount",
			"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 60.0}, map[string]any{"warehouse": "ATL", "quantity": 40.0}}}}
}
