package documents

import (
	"math/big"
	"strings"
)

// creditNoteSign applies exops's one sign convention for credit notes, on
// every path (embedded or standalone XML, visible text): a credit note's
// amounts are what is credited, so they are positive, and the type says
// that it is a credit. EN 16931 writes a 381 with positive amounts; many
// printed credit notes (and some XML) write them negative. When a credit
// note's total (else its subtotal) is negative, every amount on it changes
// sign: subtotal, tax, total, amount due and line totals (with the line's
// negative quantity or price), so a line that was a charge on the credit
// note stays the opposite of the rest. Invoices are never touched: a negative
// invoice (a correction with type 380) is printed and kept as it is.
func creditNoteSign(d *Document) {
	if d.Type != TypeCreditNote {
		return
	}
	ref := d.Total
	if ref == "" {
		ref = d.Subtotal
	}
	r, ok := rat(ref)
	if !ok || r.Sign() >= 0 {
		return
	}
	for _, p := range []*string{&d.Subtotal, &d.Tax, &d.Total, &d.AmountDue} {
		*p = negate(*p)
	}
	for i := range d.Lines {
		l := &d.Lines[i]
		l.Total = negate(l.Total)
		// Keep quantity × price = total: the factor that carried the minus
		// sign loses it ("-5 × 10.00 = -50.00" → "5 × 10.00 = 50.00").
		if q, ok := rat(l.Quantity); ok && q.Sign() < 0 {
			l.Quantity = negate(l.Quantity)
		} else if p, ok := rat(l.UnitPrice); ok && p.Sign() < 0 {
			l.UnitPrice = negate(l.UnitPrice)
		}
	}
}

// negate changes the sign of a decimal string, keeping its printed places
// ("-20.48" → "20.48", "4.55" → "-4.55"); "" and "0.00" stay as they are.
func negate(s string) string {
	r, ok := rat(s)
	if !ok || r.Sign() == 0 {
		return s
	}
	places := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		places = len(s) - i - 1
	}
	return new(big.Rat).Neg(r).FloatString(places)
}
