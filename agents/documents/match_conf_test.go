package documents

import (
	"slices"
	"testing"
)

// A variance resting on a field read with low confidence says so, so that
// the policy never lets it auto-resolve; its event data names the document
// and the fields used, with their sources.
func TestThreeWayMatchUncertainFields(t *testing.T) {
	base := Document{File: "inv-90211.pdf", Type: TypeInvoice, Number: "INV-90211", PONumber: "PO-3298", Supplier: "Northwind", Currency: "USD",
		Subtotal: "2015.00", Lines: []Line{{SKU: "SKU-12", Quantity: "500", UnitPrice: "4.03", Total: "2015.00"}}}
	po := []POLine{{SKU: "SKU-12", Quantity: 500, UnitPrice: 4.00}}
	rec := []ReceiptLine{{SKU: "SKU-12", Warehouse: "DAL", Quantity: 500}}
	for _, tc := range []struct {
		name       string
		conf       map[string]float64
		sources    map[string]string
		wantUncert []string
	}{
		{"from XML", map[string]float64{"number": 1, "supplier": 1, "po_number": 1, "currency": 1, "lines": 1},
			map[string]string{"number": SourceXML, "lines": SourceXML}, nil},
		{"PO number guessed", map[string]float64{"number": 0.95, "supplier": 0.95, "po_number": 0.6, "currency": 0.95, "lines": 0.95},
			map[string]string{"po_number": SourceModel}, []string{"po_number"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := base
			inv.Confidence, inv.Sources = tc.conf, tc.sources
			vs, err := ThreeWayMatch(MatchInput{Invoice: inv, POLines: po, Receipts: rec, PricePct: 0.5, QuantityPct: 1, TotalPct: 100})
			if err != nil || len(vs) != 1 || vs[0].Kind != VariancePrice {
				t.Fatalf("%+v %v", vs, err)
			}
			v := vs[0]
			if !slices.Equal(v.Uncertain, tc.wantUncert) {
				t.Errorf("uncertain %v, want %v", v.Uncertain, tc.wantUncert)
			}
			if v.Data["document"] != "inv-90211.pdf" {
				t.Errorf("document %v", v.Data["document"])
			}
			f, _ := v.Data["document_fields"].(map[string]any)
			po, _ := f["po_number"].(map[string]any)
			if po["value"] != "PO-3298" || po["source"] != tc.sources["po_number"] && tc.sources["po_number"] != "" {
				t.Errorf("po_number entry %v", po)
			}
			_, has := v.Data["uncertain_fields"]
			if has != (len(tc.wantUncert) > 0) {
				t.Errorf("uncertain_fields %v", v.Data["uncertain_fields"])
			}
		})
	}
}
