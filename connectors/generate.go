package connectors

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/exops/exops/cases"
)

// GenerateEvents makes n realistic business events for demos and load
// tests, from the simulator's customers, SKUs, warehouses, POs and
// suppliers: a mix of every event type weighted as exceptions arrive in a
// distributor (allocation and credit issues most, returns least), with about
// one event in four reusing a recent order, PO or shipment so that composite
// cases form. The same seed gives the same events; ids are unique within
// one run (prefix them per run to keep runs apart).
func GenerateEvents(n int, seed uint64, source string, start time.Time, prefix string) []cases.Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	customers := []struct{ id, name, tier string }{
		{"C-ACME", "Acme Retail", "strategic"}, {"C-BOLT", "Bolt Hardware", "standard"}, {"C-CORA", "Cora Home", "key"},
	}
	skus := []string{"SKU-88", "SKU-12", "SKU-31"}
	whs := []string{"DAL", "ATL", "RNO"}
	suppliers := []string{"Northwind Fasteners", "Contoso Packaging", "Fabrikam Tools"}
	pos := []string{"PO-3298", "PO-3305", "PO-3310"}
	type gen struct {
		weight int
		make   func(i int) (string, map[string]any)
	}
	order := func(i int) string {
		if i > 4 && rng.IntN(4) == 0 {
			return fmt.Sprintf("SO-%d", 2000+i-1-rng.IntN(4))
		}
		return fmt.Sprintf("SO-%d", 2000+i)
	}
	day := func(d int) string { return start.AddDate(0, 0, d).Format("2006-01-02") }
	gens := []gen{
		{5, func(i int) (string, map[string]any) {
			c := customers[rng.IntN(len(customers))]
			v := float64(5000 + rng.IntN(60000))
			return "order.credit_hold", map[string]any{"order": order(i), "customer": c.id, "customer_name": c.name, "customer_tier": c.tier,
				"order_value": v, "currency": "USD", "reason": "over credit limit"}
		}},
		{5, func(i int) (string, map[string]any) {
			c := customers[rng.IntN(len(customers))]
			q := float64(200 + 100*rng.IntN(15))
			a := float64(int(q) * (30 + rng.IntN(40)) / 100)
			return "order.allocation_conflict", map[string]any{"order": order(i), "customer": c.id, "customer_tier": c.tier,
				"order_value": q * 40, "sku": skus[rng.IntN(len(skus))], "quantity": q, "promise_date": day(3 + rng.IntN(5)),
				"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": a}, map[string]any{"warehouse": "ATL", "quantity": q - a}}}
		}},
		{3, func(i int) (string, map[string]any) {
			sys := float64(100 + rng.IntN(900))
			return "inventory.mismatch", map[string]any{"sku": skus[rng.IntN(len(skus))], "warehouse": whs[rng.IntN(len(whs))],
				"system_quantity": sys, "counted_quantity": sys - float64(rng.IntN(30)), "unit_cost": 12.5}
		}},
		{3, func(i int) (string, map[string]any) {
			return "shipment.delayed", map[string]any{"shipment": fmt.Sprintf("ASN-%d", 7700+rng.IntN(200)), "po": pos[rng.IntN(len(pos))],
				"supplier": suppliers[rng.IntN(len(suppliers))], "original_eta": day(1), "new_eta": day(2 + rng.IntN(6)),
				"orders": []any{order(i)}, "reason": "carrier missed pickup"}
		}},
		{2, func(i int) (string, map[string]any) {
			return "shipment.hold", map[string]any{"shipment": fmt.Sprintf("SHP-%d", 2200+i), "order": order(i),
				"customer": customers[rng.IntN(len(customers))].id, "carrier": "Roadline", "reason": "address validation failed"}
		}},
		{2, func(i int) (string, map[string]any) {
			return "supplier.confirmation_missing", map[string]any{"po": fmt.Sprintf("PO-%d", 3400+i), "supplier": suppliers[rng.IntN(len(suppliers))],
				"expected_by": day(-1 - rng.IntN(3)), "po_value": float64(2000 + rng.IntN(20000))}
		}},
		{3, func(i int) (string, map[string]any) {
			po := pos[rng.IntN(2)]
			sku, price := map[string]string{"PO-3298": "SKU-12", "PO-3305": "SKU-31"}[po], map[string]float64{"PO-3298": 4, "PO-3305": 12}[po]
			return "invoice.price_variance", map[string]any{"invoice": fmt.Sprintf("INV-%d", 90000+i), "po": po, "supplier": suppliers[0], "sku": sku,
				"quantity": 500.0, "invoice_unit_price": price * (1 + float64(rng.IntN(60))/1000), "po_unit_price": price, "currency": "USD"}
		}},
		{2, func(i int) (string, map[string]any) {
			ordered := float64(100 * (2 + rng.IntN(10)))
			return "receipt.variance", map[string]any{"po": pos[rng.IntN(len(pos))], "sku": skus[rng.IntN(len(skus))], "warehouse": whs[rng.IntN(len(whs))],
				"ordered_quantity": ordered, "received_quantity": ordered - float64(rng.IntN(40))}
		}},
		{1, func(i int) (string, map[string]any) {
			return "order.incomplete_data", map[string]any{"order": order(i), "customer": customers[rng.IntN(len(customers))].id,
				"missing": []any{"ship_to.postal_code"}}
		}},
	}
	total := 0
	for _, g := range gens {
		total += g.weight
	}
	out := make([]cases.Event, 0, n)
	for i := range n {
		pick := rng.IntN(total)
		var g gen
		for _, g = range gens {
			if pick < g.weight {
				break
			}
			pick -= g.weight
		}
		typ, data := g.make(i)
		out = append(out, cases.Event{SpecVersion: "1.0", ID: fmt.Sprintf("%s%06d", prefix, i), Source: source, Type: typ,
			Time: start.Add(time.Duration(i) * time.Second).UTC(), Data: data})
	}
	return out
}
