package connectors_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// BenchmarkRemoteEnrich: one enrichment with four lookups, one per system
// (ERP credit, CRM tier, WMS stock, TMS ETA), in parallel against the
// simulator over loopback HTTP. p50 and p99 are of single enrichments.
func BenchmarkRemoteEnrich(b *testing.B) {
	_, srv := simServer(b, nil)
	r := remoteFor(b, srv.URL, nil)
	c := &cases.Case{ID: "EX-000001", Families: []cases.Family{cases.FamilyAllocationConflict, cases.FamilySupplierDelay},
		Events: []cases.CaseEvent{
			{ID: "e1", Family: cases.FamilyAllocationConflict, Data: map[string]any{"customer": "C-ACME", "sku": "SKU-88"}},
			{ID: "e2", Family: cases.FamilySupplierDelay, Data: map[string]any{"shipment": "ASN-7781"}},
		}}
	ctx := context.Background()
	facts, missing := r.Enrich(ctx, c)
	if len(missing) != 0 || len(facts) != 9 {
		b.Fatalf("warm-up: %d facts %v, missing %q", len(facts), facts, missing)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		_, missing := r.Enrich(ctx, c)
		lat = append(lat, time.Since(t0))
		if len(missing) != 0 {
			b.Fatalf("missing %q", missing)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
