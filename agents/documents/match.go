package documents

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// POLine is one line of the purchase order, as the ERP has it.
type POLine struct {
	SKU       string
	Quantity  float64
	UnitPrice float64
}

// ReceiptLine is goods received against the PO, as the WMS has it.
type ReceiptLine struct {
	SKU       string
	Warehouse string
	Quantity  float64
	Shipment  string // ASN or shipment number, if known
}

// MatchInput is what a three-way match compares.
type MatchInput struct {
	Invoice  Document // extracted supplier invoice
	PO       string   // PO number (default: the invoice's po_number)
	Supplier string   // default: the invoice's supplier
	POLines  []POLine
	Receipts []ReceiptLine
	// Tolerances in percent, from the policy file: a price within
	// PricePct of the PO price, a quantity within QuantityPct of the PO
	// quantity, an invoice total within TotalPct of the expected total pass.
	PricePct, QuantityPct, TotalPct float64
}

// Variance kinds.
const (
	VariancePrice           = "price"            // invoice unit price vs PO unit price
	VarianceReceipt         = "receipt_quantity" // received vs ordered
	VarianceInvoiceQuantity = "invoice_quantity" // invoiced vs received
	VarianceNotOnPO         = "not_on_po"        // invoiced SKU the PO does not have
	VarianceTotal           = "total"            // invoice total vs received × PO price
)

// Variance is one disagreement between the three documents. EventType and
// Data are set when exops has an event type for it: Data is the CloudEvent
// data object for that type, with the fields cases/types.go defines, ready
// for the intake. Invoiced-versus-received quantities, SKUs missing from the
// PO and total differences have no event type yet: they are evidence on the
// card only.
type Variance struct {
	Kind      string
	SKU       string
	Expected  float64 // PO price or quantity, or expected total
	Actual    float64 // invoiced price or quantity, received quantity, invoice total
	Percent   float64 // (actual − expected) / expected × 100; ±Inf against 0
	Message   string
	EventType string
	Data      map[string]any
	// Uncertain lists the invoice fields this variance rests on whose
	// confidence is below ConfidentAt. A policy must not auto-resolve such
	// a variance: its verdict is at most "approve" (a person decides), and
	// the card names these fields with their Sources.
	Uncertain []string
}

// ConfidentAt is the confidence from which a field read from a document may
// let a match act without a person: an XML field (1), or a labelled value
// that the arithmetic confirmed (0.95). A labelled value alone (0.7), a
// title-line or fallback guess (0.6) and any model answer stay below.
const ConfidentAt = 0.9

// varianceFields are the invoice fields each kind of variance uses.
var varianceFields = map[string][]string{
	VariancePrice:           {"number", "supplier", "po_number", "currency", "lines"},
	VarianceReceipt:         {"number", "po_number", "lines"},
	VarianceInvoiceQuantity: {"number", "po_number", "lines"},
	VarianceNotOnPO:         {"number", "po_number", "lines"},
	VarianceTotal:           {"number", "po_number", "subtotal", "tax", "total"},
}

// ThreeWayMatch compares an invoice with its PO and goods receipt. It is pure:
// the caller fetches PO and receipt lines from the ERP and WMS and turns the
// returned Data into events. Quantities are summed per SKU (a PO or a
// receipt can carry one SKU on several lines); prices compare per invoice line.
func ThreeWayMatch(in MatchInput) ([]Variance, error) {
	inv := in.Invoice
	po := in.PO
	if po == "" {
		po = inv.PONumber
	}
	supplier := in.Supplier
	if supplier == "" {
		supplier = inv.Supplier
	}
	if po == "" {
		return nil, fmt.Errorf("three-way match: no PO number on the invoice or given")
	}
	if inv.Number == "" {
		return nil, fmt.Errorf("three-way match: the invoice has no number")
	}
	poQty, poPrice := map[string]float64{}, map[string]float64{}
	for _, l := range in.POLines {
		k := skuKey(l.SKU)
		poQty[k] += l.Quantity
		poPrice[k] = l.UnitPrice
	}
	recQty := map[string]float64{}
	recWH, recShip := map[string]string{}, map[string]string{}
	for _, r := range in.Receipts {
		k := skuKey(r.SKU)
		recQty[k] += r.Quantity
		if recWH[k] == "" {
			recWH[k] = r.Warehouse
		}
		if recShip[k] == "" {
			recShip[k] = r.Shipment
		}
	}
	var out []Variance
	invQty := map[string]float64{}
	invSKU := map[string]string{}
	for i, l := range inv.Lines {
		if l.SKU == "" {
			continue
		}
		k := skuKey(l.SKU)
		invSKU[k] = l.SKU
		q, qerr := strconv.ParseFloat(l.Quantity, 64)
		p, perr := strconv.ParseFloat(l.UnitPrice, 64)
		if qerr != nil {
			return nil, fmt.Errorf("three-way match: invoice line %d (%s): quantity %q", i+1, l.SKU, l.Quantity)
		}
		invQty[k] += q
		pp, onPO := poPrice[k]
		if !onPO {
			out = append(out, Variance{Kind: VarianceNotOnPO, SKU: l.SKU, Actual: q,
				Message: fmt.Sprintf("invoice %s bills %s, which PO %s does not order", inv.Number, l.SKU, po)})
			continue
		}
		if perr != nil {
			continue
		}
		if pct := percent(p, pp); math.Abs(pct) > in.PricePct {
			out = append(out, Variance{Kind: VariancePrice, SKU: l.SKU, Expected: pp, Actual: p, Percent: pct,
				Message:   fmt.Sprintf("invoice %s bills %s at %s, PO %s says %s (%+.2f%%)", inv.Number, l.SKU, l.UnitPrice, po, fmtFloat(pp), pct),
				EventType: "invoice.price_variance",
				Data: withCurrency(map[string]any{"invoice": inv.Number, "po": po, "supplier": supplier, "sku": l.SKU,
					"quantity": q, "invoice_unit_price": p, "po_unit_price": pp}, inv.Currency)})
		}
	}
	// Received against ordered, per SKU on the PO.
	for _, k := range sortedKeys(poQty) {
		ordered, received := poQty[k], recQty[k]
		if pct := percent(received, ordered); math.Abs(pct) > in.QuantityPct {
			sku := firstSKU(in.POLines, k)
			wh := recWH[k]
			v := Variance{Kind: VarianceReceipt, SKU: sku, Expected: ordered, Actual: received, Percent: pct,
				Message: fmt.Sprintf("PO %s ordered %s of %s, %s received", po, fmtFloat(ordered), sku, fmtFloat(received))}
			if wh != "" {
				// receipt.variance needs the warehouse; without a receipt
				// there is none, and the card shows the variance as evidence only.
				v.EventType = "receipt.variance"
				data := map[string]any{"po": po, "sku": sku, "warehouse": wh, "ordered_quantity": ordered,
					"received_quantity": received, "unit_cost": poPrice[k]}
				if supplier != "" {
					data["supplier"] = supplier
				}
				if s := recShip[k]; s != "" {
					data["shipment"] = s
				}
				v.Data = withCurrency(data, inv.Currency)
			}
			out = append(out, v)
		}
	}
	// Invoiced against received: paying for goods that did not arrive.
	for _, k := range sortedKeys(invQty) {
		if _, onPO := poPrice[k]; !onPO {
			continue
		}
		billed, received := invQty[k], recQty[k]
		if pct := percent(billed, received); math.Abs(pct) > in.QuantityPct {
			out = append(out, Variance{Kind: VarianceInvoiceQuantity, SKU: invSKU[k], Expected: received, Actual: billed, Percent: pct,
				Message: fmt.Sprintf("invoice %s bills %s of %s, %s received", inv.Number, fmtFloat(billed), invSKU[k], fmtFloat(received))})
		}
	}
	// The invoice's net amount against what was received at PO prices.
	net := inv.Subtotal
	if net == "" && inv.Tax == "" {
		net = inv.Total
	}
	if t, err := strconv.ParseFloat(net, 64); err == nil && len(in.Receipts) > 0 {
		var expected float64
		for k, q := range recQty {
			expected += q * poPrice[k]
		}
		expected = math.Round(expected*100) / 100
		if pct := percent(t, expected); math.Abs(pct) > in.TotalPct {
			out = append(out, Variance{Kind: VarianceTotal, Expected: expected, Actual: t, Percent: pct,
				Message: fmt.Sprintf("invoice %s net %s, received goods at PO prices come to %s (%+.2f%%)", inv.Number, net, fmtFloat(expected), pct)})
		}
	}
	for i := range out {
		annotate(&out[i], inv)
	}
	return out, nil
}

// annotate records, on a variance and its event data, the document it came
// from, the fields it used and which of them are uncertain.
func annotate(v *Variance, inv Document) {
	used := varianceFields[v.Kind]
	for _, f := range used {
		if c, ok := inv.Confidence[f]; ok && c < ConfidentAt {
			v.Uncertain = append(v.Uncertain, f)
		}
	}
	if v.Data == nil {
		return
	}
	if inv.File != "" {
		v.Data["document"] = inv.File
	}
	fields := map[string]any{}
	for _, f := range used {
		val := any(inv.Field(f))
		if f == "lines" {
			val = len(inv.Lines)
		}
		entry := map[string]any{"value": val}
		if src := inv.Sources[f]; src != "" {
			entry["source"] = src
		}
		if c, ok := inv.Confidence[f]; ok {
			entry["confidence"] = c
		}
		fields[f] = entry
	}
	v.Data["document_fields"] = fields
	if len(v.Uncertain) > 0 {
		v.Data["uncertain_fields"] = append([]string(nil), v.Uncertain...)
	}
}

func withCurrency(m map[string]any, cur string) map[string]any {
	if cur != "" {
		m["currency"] = cur
	}
	return m
}

// percent is (a−b)/b in percent, rounded like cases.Event.VariancePercent so
// that a tolerance of 1% accepts exactly 1%.
func percent(a, b float64) float64 {
	switch {
	case a == b:
		return 0
	case b == 0:
		return math.Copysign(math.Inf(1), a)
	}
	return math.Round((a-b)/b*100*1e6) / 1e6
}

func skuKey(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func firstSKU(lines []POLine, key string) string {
	for _, l := range lines {
		if skuKey(l.SKU) == key {
			return l.SKU
		}
	}
	return key
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
