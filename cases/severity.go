package cases

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A case's severity starts at the highest default of its event types and is
// raised by the policy's severity rules (policies.DefaultSeverityRules when
// the file has none), which read the measures below. Priority is business
// impact, P1 (first) to P4: critical → P1, high → P2, medium → P3, low → P4,
// one level more urgent for a strategic or key customer or an order worth
// 25,000 or more. docs/cases.md explains both to people.

// Money at stake in one event, in the event's currency.
func (e Event) Amount() float64 {
	switch e.Type {
	case "invoice.price_variance":
		inv, _ := e.Num("invoice_unit_price")
		po, _ := e.Num("po_unit_price")
		q, _ := e.Num("quantity")
		return math.Abs(inv-po) * q
	case "inventory.mismatch":
		s, _ := e.Num("system_quantity")
		c, _ := e.Num("counted_quantity")
		u, _ := e.Num("unit_cost")
		return math.Abs(s-c) * u
	case "receipt.variance":
		o, _ := e.Num("ordered_quantity")
		r, _ := e.Num("received_quantity")
		u, _ := e.Num("unit_cost")
		return math.Abs(o-r) * u
	case "supplier.confirmation_missing":
		v, _ := e.Num("po_value")
		return v
	}
	v, _ := e.Num("order_value")
	return v
}

// DaysLate is how many days an ETA slipped or a confirmation is overdue at now.
func (e Event) DaysLate(now time.Time) float64 {
	switch e.Type {
	case "shipment.delayed":
		o, err1 := ParseDate(e.Str("original_eta"))
		n, err2 := ParseDate(e.Str("new_eta"))
		if err1 == nil && err2 == nil {
			return n.Sub(o).Hours() / 24
		}
	case "supplier.confirmation_missing":
		d, err := ParseDate(e.Str("expected_by"))
		if err == nil && now.After(d) {
			return now.Sub(d).Hours() / 24
		}
	}
	return 0
}

// VariancePercent is the price or quantity variance in percent, or 0.
func (e Event) VariancePercent() float64 {
	var a, b float64
	switch e.Type {
	case "invoice.price_variance":
		a, _ = e.Num("invoice_unit_price")
		b, _ = e.Num("po_unit_price")
	case "receipt.variance":
		a, _ = e.Num("received_quantity")
		b, _ = e.Num("ordered_quantity")
	case "inventory.mismatch":
		a, _ = e.Num("counted_quantity")
		b, _ = e.Num("system_quantity")
	default:
		return 0
	}
	switch {
	case b == 0 && a == 0:
		return 0
	case b == 0:
		// Something against nothing is beyond any tolerance.
		return math.Copysign(math.Inf(1), a)
	}
	// Rounded so that 4.04 against 4.00 is exactly 1%, not 1.0000000000000009%.
	return math.Round((a-b)/b*100*1e6) / 1e6
}

// urgentEvent reports whether an event raises its case's priority by one:
// a strategic or key customer, or an order worth 25,000 or more.
func urgentEvent(e Event) bool {
	tier := strings.ToLower(e.Str("customer_tier"))
	v, _ := e.Num("order_value")
	return tier == "strategic" || tier == "key" || v >= 25000
}

// priority applies the priority rules to a case of severity s: P1 to P4,
// one higher when an event is urgent.
func priority(s Severity, urgent bool) string {
	p := 5 - int(s) // critical → 1, low → 4
	if urgent && p > 1 {
		p--
	}
	return fmt.Sprintf("P%d", p)
}

// DescribeEvent says in one line what an event reports, for thread replies.
func DescribeEvent(e Event) string {
	switch e.Type {
	case "order.credit_hold":
		return fmt.Sprintf("Credit hold on order %s for customer %s%s", e.Str("order"), e.Str("customer"), suffix(e.Str("reason")))
	case "order.allocation_conflict":
		var parts []string
		for _, a := range e.Allocations("allocations") {
			parts = append(parts, fmt.Sprintf("%s %s", fmtNum(a.Quantity), a.Warehouse))
		}
		return fmt.Sprintf("Order %s split across warehouses: %s of %s", e.Str("order"), strings.Join(parts, " + "), e.Str("sku"))
	case "order.incomplete_data":
		return fmt.Sprintf("Order %s is missing %s", e.Str("order"), strings.Join(e.Strs("missing"), ", "))
	case "inventory.mismatch":
		s, _ := e.Num("system_quantity")
		c, _ := e.Num("counted_quantity")
		return fmt.Sprintf("Count of %s at %s found %s, system holds %s", e.Str("sku"), e.Str("warehouse"), fmtNum(c), fmtNum(s))
	case "shipment.delayed":
		return fmt.Sprintf("Inbound shipment %s from %s delayed: ETA %s → %s%s", e.Str("shipment"), e.Str("supplier"),
			dateOnly(e.Str("original_eta")), dateOnly(e.Str("new_eta")), suffix(e.Str("reason")))
	case "shipment.hold":
		return fmt.Sprintf("Shipment %s on hold%s", e.Str("shipment"), suffix(e.Str("reason")))
	case "supplier.confirmation_missing":
		return fmt.Sprintf("%s has not confirmed %s (due %s)", e.Str("supplier"), e.Str("po"), dateOnly(e.Str("expected_by")))
	case "invoice.price_variance":
		inv, _ := e.Num("invoice_unit_price")
		po, _ := e.Num("po_unit_price")
		return fmt.Sprintf("Invoice %s from %s bills %s at %s, PO %s says %s (%+.2f%%)", e.Str("invoice"), e.Str("supplier"),
			e.Str("sku"), fmtNum(inv), e.Str("po"), fmtNum(po), e.VariancePercent())
	case "receipt.variance":
		o, _ := e.Num("ordered_quantity")
		r, _ := e.Num("received_quantity")
		return fmt.Sprintf("Receipt for %s at %s: %s received, %s expected", e.Str("po"), e.Str("warehouse"), fmtNum(r), fmtNum(o))
	}
	return e.Type
}

// Allocations returns an allocations data field in either of its forms
// (parsed, or as decoded back from storage).
func (e Event) Allocations(name string) []Allocation {
	switch v := e.Data[name].(type) {
	case []Allocation:
		return v
	case []any:
		var out []Allocation
		for _, x := range v {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			w, _ := m["warehouse"].(string)
			q, _ := toNumber(m["quantity"])
			out = append(out, Allocation{Warehouse: w, Quantity: q})
		}
		return out
	}
	return nil
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func dateOnly(s string) string {
	if t, err := ParseDate(s); err == nil {
		return t.Format("2006-01-02")
	}
	return s
}

// fmtNum prints 1200 as "1200" and 4.03 as "4.03".
func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

// FormatAmount prints money like 48,250.00 USD (USD when no currency is
// given).
func FormatAmount(v float64, currency string) string {
	if currency == "" {
		currency = "USD"
	}
	return FormatMoney(v) + " " + currency
}

// FormatMoney prints an amount with two decimals and grouped thousands:
// 12480.5 is "12,480.50". It is the one money format of what people read
// (summaries, cards, reports); NaN and infinities print as "".
func FormatMoney(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && s != "0.00" {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}
