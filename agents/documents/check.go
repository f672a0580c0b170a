package documents

import (
	"fmt"
	"math"
	"math/big"
)

// Confidence steps. A labelled value that parsed starts at 0.7 (fields.go);
// agreement with an independent figure raises it, disagreement lowers it
// below what a policy would let the bot act on alone.
const (
	confAgree    = 0.25
	confDisagree = 0.35
)

// rat parses a canonical decimal string; ok is false for "" or garbage.
func rat(s string) (*big.Rat, bool) {
	if s == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// near says whether a and b agree to within half a unit of the last printed
// decimal place of either (rounding), at least 0.01.
func near(a, b *big.Rat, places int) bool {
	d := new(big.Rat).Sub(a, b)
	d.Abs(d)
	tol := big.NewRat(1, 100)
	if places > 2 {
		tol = new(big.Rat).SetFrac64(1, int64(math.Pow10(places)))
	}
	return d.Cmp(tol) <= 0
}

func fmtRat(r *big.Rat) string { return r.FloatString(2) }

// check runs the arithmetic over a document and sets confidences and problems.
func check(d *Document) {
	conf := d.Confidence
	bump := func(f string, by float64) {
		if _, ok := conf[f]; !ok {
			return
		}
		conf[f] = math.Max(0, math.Min(1, conf[f]+by))
	}
	// Line items: quantity × unit price = line total.
	var sum big.Rat
	sumOK := len(d.Lines) > 0
	linesGood, linesBad := 0, 0
	for i, l := range d.Lines {
		q, qok := rat(l.Quantity)
		p, pok := rat(l.UnitPrice)
		t, tok := rat(l.Total)
		if tok {
			sum.Add(&sum, t)
		} else {
			sumOK = false
		}
		if qok && pok && tok {
			if near(new(big.Rat).Mul(q, p), t, 2) {
				linesGood++
			} else {
				linesBad++
				d.Problems = append(d.Problems, fmt.Sprintf("line %d: %s × %s is %s, the line says %s",
					i+1, l.Quantity, l.UnitPrice, fmtRat(new(big.Rat).Mul(q, p)), l.Total))
			}
		}
	}
	if len(d.Lines) > 0 {
		c := 0.6
		switch {
		case linesBad > 0:
			c = 0.6 - confDisagree*float64(linesBad)/float64(len(d.Lines))
		case linesGood == len(d.Lines):
			c = 0.85
		}
		conf["lines"] = c
	}
	sub, subOK := rat(d.Subtotal)
	tax, taxOK := rat(d.Tax)
	tot, totOK := rat(d.Total)
	// Lines against the subtotal (or the total when there is no tax line).
	if sumOK {
		switch {
		case subOK && near(&sum, sub, 2):
			bump("subtotal", confAgree)
			bump("lines", 0.1)
		case subOK:
			bump("subtotal", -confDisagree)
			bump("lines", -0.2)
			d.Problems = append(d.Problems, fmt.Sprintf("the lines add up to %s, the subtotal says %s", fmtRat(&sum), d.Subtotal))
		case !taxOK && totOK && near(&sum, tot, 2):
			bump("total", confAgree)
			bump("lines", 0.1)
		case !taxOK && totOK:
			bump("total", -confDisagree)
			d.Problems = append(d.Problems, fmt.Sprintf("the lines add up to %s, the total says %s", fmtRat(&sum), d.Total))
		}
	}
	// Subtotal + tax = total.
	switch {
	case subOK && taxOK && totOK:
		if near(new(big.Rat).Add(sub, tax), tot, 2) {
			bump("subtotal", confAgree)
			bump("tax", confAgree)
			bump("total", confAgree)
		} else {
			bump("subtotal", -confDisagree)
			bump("tax", -confDisagree)
			bump("total", -confDisagree)
			d.Problems = append(d.Problems, fmt.Sprintf("subtotal %s plus tax %s is %s, the total says %s",
				d.Subtotal, d.Tax, fmtRat(new(big.Rat).Add(sub, tax)), d.Total))
		}
	case subOK && totOK && !taxOK && near(sub, tot, 2):
		bump("total", 0.1)
	}
	// Dates: due after issue.
	if d.IssueDate != "" && d.DueDate != "" {
		if d.DueDate < d.IssueDate {
			bump("due_date", -confDisagree)
			d.Problems = append(d.Problems, fmt.Sprintf("due date %s is before the issue date %s", d.DueDate, d.IssueDate))
		} else {
			bump("due_date", 0.1)
			bump("issue_date", 0.1)
		}
	}
	if d.Type == TypeInvoice || d.Type == TypeCreditNote {
		for _, f := range []string{"number", "issue_date", "total"} {
			if d.Field(f) == "" {
				d.Problems = append(d.Problems, fmt.Sprintf("no %s found", fieldWords[f]))
			}
		}
	}
	for f, c := range conf {
		conf[f] = math.Round(c*100) / 100
	}
}

var fieldWords = map[string]string{
	"type": "document type", "supplier": "supplier", "number": "document number", "issue_date": "issue date",
	"due_date": "due date", "ship_date": "ship date", "po_number": "PO number", "currency": "currency",
	"subtotal": "subtotal", "tax": "tax", "total": "total", "payment_terms": "payment terms", "lines": "line items",
}
