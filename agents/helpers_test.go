package agents_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

// now is the fixed clock of every agents test.
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newRules() *agents.Rules {
	return agents.NewRules(func() time.Time { return now })
}

// caseEvent runs data through cases.ParseEvent, as the webhook does, so the
// agent sees numbers, dates and lists in their production form.
func caseEvent(t *testing.T, typ string, data map[string]any) cases.CaseEvent {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("ev-%s-%d", typ, len(data)), "source": "erp.test",
		"type": typ, "time": "2026-11-26T09:00:00Z", "data": data,
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := cases.ParseEvent(raw)
	if err != nil {
		t.Fatalf("ParseEvent(%s): %v", typ, err)
	}
	et, ok := cases.LookupEventType(typ)
	if !ok {
		t.Fatalf("unknown type %s", typ)
	}
	return cases.CaseEvent{ID: ev.ID, Source: ev.Source, Type: ev.Type, Family: et.Family, Time: ev.Time, Received: ev.Time, Data: ev.Data}
}

// newCase makes an open case of the events, families in event order.
func newCase(ctx map[string]string, evs ...cases.CaseEvent) *cases.Case {
	c := &cases.Case{ID: "EX-000042", Status: cases.StatusOpen, Severity: cases.SeverityMedium, Priority: "P3",
		Team: "customer-service", Context: ctx, Events: evs}
	for _, e := range evs {
		if !c.HasFamily(e.Family) {
			c.Families = append(c.Families, e.Family)
		}
	}
	return c
}

// merge joins context maps, later ones winning.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Context as connectors.Simulator.Enrich fills it for its seeded data.
var (
	ctxAcme = map[string]string{
		cases.CtxCustomerName("C-ACME"): "Acme Retail", cases.CtxCustomerTier("C-ACME"): "strategic",
		cases.CtxCreditLimit("C-ACME"): "250000", cases.CtxCreditBalance("C-ACME"): "238900", cases.CtxDaysBeyondTerms("C-ACME"): "3",
	}
	ctxBolt = map[string]string{
		cases.CtxCustomerName("C-BOLT"): "Bolt Hardware", cases.CtxCustomerTier("C-BOLT"): "standard",
		cases.CtxCreditLimit("C-BOLT"): "60000", cases.CtxCreditBalance("C-BOLT"): "12000", cases.CtxDaysBeyondTerms("C-BOLT"): "11",
	}
	ctxCora = map[string]string{
		cases.CtxCustomerName("C-CORA"): "Cora Home", cases.CtxCustomerTier("C-CORA"): "key",
		cases.CtxCreditLimit("C-CORA"): "120000", cases.CtxCreditBalance("C-CORA"): "40000", cases.CtxDaysBeyondTerms("C-CORA"): "1",
	}
	ctxStock88 = map[string]string{
		cases.CtxStock("SKU-88", "DAL"): "700", cases.CtxStock("SKU-88", "ATL"): "500", cases.CtxStock("SKU-88", "RNO"): "1500",
	}
	ctxPO3298 = map[string]string{
		cases.CtxPOPrice("PO-3298", "SKU-12"): "4", cases.CtxPOQuantity("PO-3298", "SKU-12"): "500",
		cases.CtxReceived("PO-3298", "SKU-12"): "500",
	}
	ctxASN7781 = map[string]string{
		cases.CtxShipmentETA("ASN-7781"): "2026-12-02", cases.CtxPromiseDate("SO-1042"): "2026-11-30",
	}
)

// with returns a copy of m with the extra pairs set (k1, v1, k2, v2, ...);
// a value of "-" deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == "-" {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

// Event data as the demo sends it.
var (
	creditHoldAcme = map[string]any{"order": "SO-1042", "customer": "C-ACME", "customer_name": "Acme Retail", "customer_tier": "strategic",
		"order_value": 48250.0, "currency": "USD", "credit_limit": 250000.0, "balance": 238900.0, "overdue_amount": 0.0,
		"reason": "remittance REM-5531 unapplied"}
	allocationSO1042 = map[string]any{"order": "SO-1042", "customer": "C-ACME", "customer_tier": "strategic", "order_value": 48250.0,
		"sales_channel": "retail", "promise_date": "2026-11-30", "sku": "SKU-88", "quantity": 1200.0,
		"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 700.0}, map[string]any{"warehouse": "ATL", "quantity": 500.0}}}
	delayASN7781 = map[string]any{"shipment": "ASN-7781", "po": "PO-3310", "supplier": "Northwind Fasteners", "warehouse": "DAL",
		"sku": "SKU-88", "quantity": 2000.0, "original_eta": "2026-11-27", "new_eta": "2026-12-02", "orders": []any{"SO-1042"},
		"reason": "carrier missed pickup"}
	priceINV90211 = map[string]any{"invoice": "INV-90211", "po": "PO-3298", "supplier": "Northwind Fasteners", "sku": "SKU-12",
		"quantity": 500.0, "invoice_unit_price": 4.03, "po_unit_price": 4.0, "currency": "USD"}
	receiptPO3310 = map[string]any{"po": "PO-3310", "shipment": "ASN-7700", "supplier": "Northwind Fasteners", "sku": "SKU-88",
		"warehouse": "DAL", "ordered_quantity": 1000.0, "received_quantity": 960.0, "unit_cost": 12.5}
	mismatchSKU88      = map[string]any{"sku": "SKU-88", "warehouse": "ATL", "system_quantity": 640.0, "counted_quantity": 590.0, "unit_cost": 12.5}
	confirmationPO3342 = map[string]any{"po": "PO-3342", "supplier": "Contoso Packaging", "sent_at": "2026-11-23", "expected_by": "2026-11-25", "po_value": 8400.0}
	holdSHP2209        = map[string]any{"shipment": "SHP-2209", "order": "SO-1051", "customer": "C-BOLT", "carrier": "Roadline", "reason": "address validation failed"}
	incompleteSO1077   = map[string]any{"order": "SO-1077", "customer": "C-BOLT", "missing": []any{"ship_to.postal_code", "tax_id"}}
)
