package policies

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// caseFactsFull is caseFacts as it was before the events were folded:
// every event read on every decision. The folded one must equal it.
func caseFactsFull(c *cases.Case, now time.Time) facts {
	f := facts{severity: int64(c.Severity), priority: c.Priority, team: c.Team, currency: "USD"}
	f.families = make([]string, len(c.Families))
	for i, fam := range c.Families {
		f.families[i] = string(fam)
	}
	if len(f.families) > 0 {
		f.family = f.families[0]
	}
	for _, ce := range c.Events {
		ev := ce.Event()
		f.amount = math.Max(f.amount, ev.Amount())
		if v := math.Abs(ev.VariancePercent()); !math.IsInf(v, 0) {
			f.variance = math.Max(f.variance, v)
		} else {
			f.variance = math.Max(f.variance, 1e9)
		}
		f.daysLate = math.Max(f.daysLate, ev.DaysLate(now))
		if m, ok := ev.Num("margin_impact"); ok {
			f.margin = math.Max(f.margin, m)
		}
		set := func(dst *string, field string) {
			if v := ev.Str(field); v != "" {
				*dst = v
			}
		}
		set(&f.currency, "currency")
		set(&f.customer, "customer")
		set(&f.tier, "customer_tier")
		set(&f.warehouse, "warehouse")
		set(&f.supplier, "supplier")
		set(&f.region, "region")
	}
	if t := c.Context[cases.CtxCustomerTier(f.customer)]; t != "" {
		f.tier = t
	}
	if !c.OpenedAt.IsZero() {
		f.ageHours = now.Sub(c.OpenedAt).Hours()
	}
	return f
}

// TestEventFactsFolded: the facts of a case whose events are folded as
// they join (and again from the start when they change) are those of
// reading every event, at several decision times.
func TestEventFactsFolded(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	datas := []struct {
		typ  string
		data map[string]any
	}{
		{"order.allocation_conflict", map[string]any{"order": "SO-1", "customer": "C-1", "customer_tier": "standard", "order_value": 12500.0, "warehouse": "DAL"}},
		{"supplier.confirmation_missing", map[string]any{"po": "PO-1", "supplier": "Northwind", "po_value": 9000.0, "expected_by": "2026-03-01"}},
		{"shipment.delayed", map[string]any{"shipment": "ASN-1", "original_eta": "2026-03-01", "new_eta": "2026-03-04", "region": "south"}},
		{"invoice.price_variance", map[string]any{"invoice": "INV-1", "invoice_unit_price": 4.5, "po_unit_price": 4.0, "quantity": 100.0, "currency": "EUR"}},
		{"inventory.mismatch", map[string]any{"sku": "SKU-1", "system_quantity": 10.0, "counted_quantity": 0.0, "unit_cost": 3.0, "margin_impact": 120.0}},
		{"inventory.mismatch", map[string]any{"sku": "SKU-2", "system_quantity": 0.0, "counted_quantity": 5.0}},
		{"supplier.confirmation_missing", map[string]any{"po": "PO-2", "expected_by": "2026-02-20", "supplier": ""}},
		{"shipment.delayed", map[string]any{"original_eta": "2026-03-05", "new_eta": "2026-03-03"}},
		{"order.credit_hold", map[string]any{"order": "SO-1", "customer": "C-2", "customer_tier": "key", "order_value": 30000.0}},
	}
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, OpenedAt: t0, Context: map[string]string{cases.CtxCustomerTier("C-2"): "strategic"}}
	check := func(what string) {
		t.Helper()
		for _, now := range []time.Time{t0.Add(-30 * 24 * time.Hour), t0, t0.Add(50 * time.Hour)} {
			if got, want := caseFacts(c, now), caseFactsFull(c, now); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, at %s: folded facts\n%+v\nwant\n%+v", what, now, got, want)
			}
		}
	}
	for i, d := range datas {
		c.Events = append(c.Events, cases.CaseEvent{ID: fmt.Sprint("e", i), Source: "erp", Type: d.typ, Data: d.data,
			Digest: fmt.Sprintf("%064d", i)})
		check(fmt.Sprintf("after event %d joined", i))
	}
	// Read again (a copy of the list, the same events): folded on.
	c.Events = append([]cases.CaseEvent(nil), c.Events...)
	check("read again")
	// An event changed in the middle (another stored event), one dropped,
	// and events without a digest whose data is replaced: folded again.
	c.Events[2] = cases.CaseEvent{ID: "e2", Source: "erp", Type: "shipment.delayed", Data: map[string]any{"original_eta": "2026-03-01", "new_eta": "2026-03-20"},
		Digest: "other"}
	check("event changed")
	c.Events = append(c.Events[:1], c.Events[2:]...)
	check("event dropped")
	c.Events = append(c.Events, cases.CaseEvent{ID: "w", Source: "erp", Type: "order.allocation_conflict", Data: map[string]any{"order_value": 99999.0}})
	check("whole event")
	c.Events[len(c.Events)-1].Data = map[string]any{"order_value": 1.0, "customer": "C-9"}
	check("whole event's data replaced")
	// Another case of the same id (another store, a test) is its own.
	c = &cases.Case{ID: "EX-000001", OpenedAt: t0, Events: []cases.CaseEvent{{ID: "e0", Source: "erp", Type: "order.credit_hold",
		Data: map[string]any{"order_value": 5.0}, Digest: "x"}}}
	check("another case of that id")
}
