package documents

import (
	"math"
	"math/big"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// ExtractFields applies the field rules to a document's text layer: type,
// labelled header fields, the line item table, then the arithmetic checks
// that set each field's confidence. It is pure and safe to run in the
// caller's process.
func ExtractFields(pages []PageText) Document {
	d := Document{Confidence: map[string]float64{}, Problems: []string{}, Lines: []Line{}, Pages: len(pages)}
	x := newExtraction(pages)
	d.Type, d.Confidence["type"] = Classify(pages)
	x.tables()
	x.labelled(&d)
	d.Lines = x.items
	if d.Lines == nil {
		d.Lines = []Line{} // "lines": [] in the JSON, never null
	}
	if d.Total == "" && d.AmountDue != "" {
		d.Total, d.Confidence["total"] = d.AmountDue, 0.6
	}
	if d.PONumber == "" {
		if v, ok := x.orderInSentence(); ok {
			d.PONumber, d.Confidence["po_number"] = v, 0.5
		}
	}
	x.taxFromRows(&d)
	x.taxByDifference(&d)
	x.titleLine(&d)
	if d.DueDate == "" {
		if v, ok := x.payBy(); ok {
			d.DueDate, d.Confidence["due_date"] = v, 0.6
		}
	}
	if d.IssueDate == "" {
		if v, ok := x.dateUnderTitle(d.Number); ok {
			d.IssueDate, d.Confidence["issue_date"] = v, 0.6
		}
	}
	if d.IssueDate == "" {
		if v, ok := x.placeDate(); ok {
			d.IssueDate, d.Confidence["issue_date"] = v, 0.6
		}
	}
	if name, ok := x.partyBlock(); ok {
		d.Supplier, d.Confidence["supplier"] = name, 0.7
	} else if name, ok := x.senderLine(); ok {
		d.Supplier, d.Confidence["supplier"] = name, 0.7
	}
	if d.Supplier == "" {
		if name, ok := x.legalBlock(); ok {
			d.Supplier, d.Confidence["supplier"] = name, 0.6
		}
	}
	if d.Supplier == "" {
		d.Supplier, d.Confidence["supplier"] = x.supplierByFont()
	}
	if d.Currency == "" {
		d.Currency, d.Confidence["currency"] = x.currencyByCount()
	}
	if d.Type == TypeShipNotice || d.Type == TypeBillOfLading {
		// Shipping documents carry no prices; a "Total" there counts
		// packages or weight, not money.
		for _, f := range []string{"subtotal", "tax", "total", "currency", "due_date"} {
			d.SetField(f, "")
			delete(d.Confidence, f)
		}
	}
	creditNoteSign(&d)
	check(&d)
	if x.taxDerived {
		// The tax was found by the very arithmetic check() rewards: its
		// agreement proves nothing, so it stays below ConfidentAt.
		d.Confidence["tax"] = math.Min(d.Confidence["tax"], 0.6)
	}
	return d
}

// flatLine is a line with its page, for lookups across the document.
type flatLine struct {
	page  int
	line  TextLine
	table bool // part of a line item table: no labels read here
}

type extraction struct {
	pages    []PageText
	lines    []flatLine
	decimal  byte
	dayFirst bool
	items    []Line
	itemsOK  bool
	taxRows  []string // tax amounts of rows that are not a tax total ("CGST 9%", "USt 7%")
	// taxDerived: the tax is total − subtotal, found printed unlabelled.
	taxDerived bool
	bodySize   float64 // the median font size of the cells
}

var (
	reCommaDecimal = regexp.MustCompile(`\d,\d{2}(\D|$)`)
	rePointDecimal = regexp.MustCompile(`\d\.\d{2}(\D|$)`)
	reGerman       = regexp.MustCompile(`(?i)\b(rechnung|datum|menge|einzelpreis|gesamtbetrag|mwst|lieferschein|bestellnummer|zahlungsbedingungen)\b`)
	reFrench       = regexp.MustCompile(`(?i)(facture|quantité|qté|montant|désignation|échéance|commande|règlement|tva)`)
	reDayFirstDate = regexp.MustCompile(`\b(1[3-9]|2\d|3[01])/(0?[1-9]|1[0-2])/\d{4}\b`)
	reMonthFirst   = regexp.MustCompile(`\b(0?[1-9]|1[0-2])/(1[3-9]|2\d|3[01])/\d{4}\b`)
)

func newExtraction(pages []PageText) *extraction {
	x := &extraction{pages: pages}
	var all strings.Builder
	for pi, p := range pages {
		for _, l := range p.Lines {
			x.lines = append(x.lines, flatLine{page: pi, line: l})
			all.WriteString(l.Text())
			all.WriteByte('\n')
		}
	}
	text := all.String()
	var sizes []float64
	for _, fl := range x.lines {
		for _, c := range fl.line.Cells {
			sizes = append(sizes, c.Size)
		}
	}
	if len(sizes) > 0 {
		sort.Float64s(sizes)
		x.bodySize = sizes[len(sizes)/2]
	}
	// Locale: which separator is followed by two digits more often.
	comma := len(reCommaDecimal.FindAllStringIndex(text, -1))
	point := len(rePointDecimal.FindAllStringIndex(text, -1))
	switch {
	case comma > point:
		x.decimal = DecimalComma
	case point > comma:
		x.decimal = DecimalPoint
	}
	// Day or month first for 05/11/2026: any unambiguous date decides,
	// else the language and the separator (Europe and India write day first).
	df := len(reDayFirstDate.FindAllString(text, -1))
	mf := len(reMonthFirst.FindAllString(text, -1))
	switch {
	case df > mf:
		x.dayFirst = true
	case mf > df:
		x.dayFirst = false
	default:
		x.dayFirst = x.decimal == DecimalComma || reGerman.MatchString(text) || reFrench.MatchString(text) ||
			strings.Contains(text, "£") || strings.Contains(text, "GBP") || strings.Contains(text, "INR") || strings.Contains(text, "₹")
	}
	return x
}

// candidate is one labelled value found in the document.
type candidate struct {
	value string
	score float64 // label length: more specific labels win
	order int     // position in the document
	sum   bool    // the label says it is a sum ("Total TVA", "Summe USt"), not one rate's row
	// multi: the label's row carries several amounts ("Total | 473.00 |
	// 56.87" closing a VAT breakdown: base and tax, not the invoice total).
	multi bool
	// net: a subtotal label that says it excludes tax ("Exclusief BTW",
	// "Total HT") rather than a bare "Subtotal", which some shops print
	// with the tax in.
	net bool
}

// reNetQualifier turns a total label into the net total: "Gesamtbetrag
// Netto", "Total HT", "Totale imponibile", "Razem netto".
var reNetQualifier = regexp.MustCompile(`(?i)^(netto|net|nett|ht|h\.t\.|hors taxes?|excl\.?|exkl\.?|ohne|sin iva|senza iva|imponibile|bez vat)\b`)

// reOtherDocument is a number label of another document type than an
// invoice: delivery notes, packing lists, order confirmations, bills of lading.
var reOtherDocument = regexp.MustCompile(`(?i)(liefersch|delivery|packing|asn|avis|bordereau|bon de livraison|b/l|bill of lading|bol\b|frachtbrief|konnossement|connaissement|auftragsbest|auftrags|ab-nr|ab nr|confirmation|acknowledgement|sales order|shipment|lettre de voiture)`)

// reTaxID is a tax label that names an identifier: "VAT Reg. No.", "Tax ID",
// "USt-IdNr", "TVA intracommunautaire".
var reTaxID = regexp.MustCompile(`(?i)^(vat|tax|mwst|ust|tva|btw|iva|gst)\.?\s*(reg|id\b|no\b|nr|number|nummer|identification|registration|ident|code|tin|n°|intracom)`)

// reOwnDocument is a number label that names the invoice itself.
var reOwnDocument = regexp.MustCompile(`(?i)(invoice|rechnung|factur|fattura|faktur|factuur|credit|gutschrift|avoir|nota)`)

// reSumWord marks a label as a document total rather than one row of a
// breakdown: "Total taxes" over "TVA 5,5 %", "Summe USt" over "USt 19 %".
var reSumWord = regexp.MustCompile(`(?i)(total|summe|gesamt|totale|totaal|razem|suma|insgesamt|grand|sum\b)`)

// labelled reads "label: value", "label | value" and "label above value".
func (x *extraction) labelled(d *Document) {
	found := map[string][]candidate{}
	order := 0
	for li, fl := range x.lines {
		if fl.table {
			continue
		}
		for ci, c := range fl.line.Cells {
			if c.Size > 0 && c.Size < 0.6*x.bodySize {
				continue // fine print: a printer's job stamp, not the document's fields
			}
			field, rest, ok := matchLabel(c.Text)
			if !ok {
				continue
			}
			if isAmountField(field) && reTaxID.MatchString(c.Text) {
				continue // "VAT Reg. No. GB 123 4567 89" is an identifier, not an amount
			}
			if field == "total" && reNetQualifier.MatchString(rest) {
				field = "subtotal" // "Gesamtbetrag Netto", "Montant total HT"
			}
			labelLen := float64(len(c.Text) - len(rest))
			if field == "number" && (d.Type == TypeInvoice || d.Type == TypeCreditNote) &&
				reOtherDocument.MatchString(labelPart(c.Text, rest)) {
				// An invoice quoting its delivery note's or order
				// confirmation's number: that is not the invoice's.
				labelLen -= 100
			}
			if field == "number" && (d.Type == TypeInvoice || d.Type == TypeCreditNote) &&
				reOwnDocument.MatchString(labelPart(c.Text, rest)) {
				// "Invoice number" over "Booking reference" on an invoice.
				labelLen += 50
			}
			vals := []string{}
			if rest != "" {
				vals = append(vals, rest)
			}
			for _, n := range fl.line.Cells[ci+1:] {
				if _, _, isLabel := matchLabel(n.Text); isLabel {
					break
				}
				if field == "supplier" && reBuyerHeading.MatchString(strings.TrimSpace(n.Text)) {
					break // "Lieferant | Käufer": two party headings side by side
				}
				vals = append(vals, n.Text)
			}
			if v, ok := x.value(field, vals); ok {
				order++
				label := labelPart(c.Text, rest)
				found[field] = append(found[field], candidate{value: v, score: labelLen, order: order, sum: reSumWord.MatchString(label),
					multi: isAmountField(field) && x.amountsIn(vals) >= 2, net: field == "subtotal" && reNetWord.MatchString(label)})
				continue
			}
			if rest == "" {
				// Forms put "PO Number" over "PO-3069"; the cell to the right
				// is then another column's label.
				// A party block ("Seller:" over the name) may put an
				// identifier line first: look a few lines down.
				// A column header ("Fälligkeit") may have its value a line
				// further down when the row beside it wraps.
				// A row of amount labels ("Total HT | Total TVA | Total TTC")
				// heads a totals table whose values may sit a few lines
				// down, under lines of fine print beside it.
				depth := 2
				if field == "supplier" {
					depth = 3
				}
				if isAmountField(field) && amountLabels(fl.line) >= 2 {
					depth = 4
				}
				for k := 0; k < depth; k++ {
					below, ok := x.below(li+k, c)
					if !ok {
						continue
					}
					if _, _, isLabel := matchLabel(below); isLabel {
						break
					}
					if t := strings.TrimSpace(below); reBuyerHeading.MatchString(t) || reSellerHeading.MatchString(t) {
						break // "Factuur" over "Klant": another column's heading
					}
					if v, ok := x.value(field, []string{below}); ok {
						if isAmountField(field) {
							v = x.columnSum(field, li+k+1, c, v)
						}
						order++
						found[field] = append(found[field], candidate{value: v, score: labelLen - 0.5, order: order, sum: reSumWord.MatchString(c.Text),
							net: field == "subtotal" && reNetWord.MatchString(c.Text)})
						break
					}
				}
			}
		}
	}
	for field, cs := range found {
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].score != cs[j].score {
				return cs[i].score > cs[j].score
			}
			if isAmountField(field) {
				// Totals: the last one printed is the final figure (multi-page
				// documents print running totals on each page).
				return cs[i].order > cs[j].order
			}
			return cs[i].order < cs[j].order
		})
		if isAmountField(field) {
			// Among amount labels, the last printed wins regardless of wording.
			sort.SliceStable(cs, func(i, j int) bool {
				if field == "tax" && cs[i].sum != cs[j].sum {
					return cs[i].sum // a tax total over the rows of a breakdown
				}
				if (field == "total" || field == "subtotal") && cs[i].multi != cs[j].multi {
					return !cs[i].multi // a figure of its own over a breakdown's sum row
				}
				if field == "subtotal" && cs[i].net != cs[j].net {
					return cs[i].net // "Exclusief BTW 593,36" over "Subtotaal 717,97"
				}
				return cs[i].order > cs[j].order
			})
		}
		if field == "amount_due" {
			d.AmountDue = cs[0].value
			continue
		}
		if field == "tax" {
			for _, c := range cs {
				if !c.sum {
					x.taxRows = append(x.taxRows, c.value)
				}
			}
		}
		d.SetField(field, cs[0].value)
		d.Confidence[field] = 0.7
	}
}

// amountLabels counts the cells of a line that are subtotal, tax or total
// labels without a value of their own.
func amountLabels(l TextLine) int {
	n := 0
	for _, c := range l.Cells {
		if f, rest, ok := matchLabel(c.Text); ok && isAmountField(f) && rest == "" {
			n++
		}
	}
	return n
}

// columnSum reads down the column of an amount label whose first value,
// first, is on line li: a tax breakdown under "Nettobetrag | MwSt-Betrag |
// Endbetrag" prints one row per rate and then their sum. When the last of
// the column's amounts is the sum of those above it, that sum is the
// document's figure (the column may run on into other text below, which
// the first such sum ends); otherwise the first value stands.
func (x *extraction) columnSum(field string, li int, label Cell, first string) string {
	vals := []string{first}
	for j := li + 1; j < len(x.lines) && j <= li+8; j++ {
		prev, cur := x.lines[j-1], x.lines[j]
		if cur.page != prev.page || prev.line.Y-cur.line.Y > 2.5*label.Size {
			break
		}
		var v string
		for _, c := range cur.line.Cells {
			if overlap(label.X, label.X2, c.X, c.X2) > 0 {
				if _, _, isLabel := matchLabel(c.Text); !isLabel {
					v, _ = x.value(field, []string{c.Text})
				}
				break
			}
		}
		if v == "" {
			break
		}
		vals = append(vals, v)
	}
	var sum big.Rat
	for k, v := range vals {
		r, ok := rat(v)
		if !ok {
			break
		}
		if k > 1 && near(&sum, r, 1) { // two rows or more: one row equal to the next proves nothing
			return v
		}
		sum.Add(&sum, r)
	}
	return first
}

// reNetWord marks a subtotal label that names the amount before tax.
var reNetWord = regexp.MustCompile(`(?i)(excl|exkl|exclusief|exclusive|hors tax|\bht\b|h\.t\.|netto|\bnet\b|\bnett\b|ohne|sans tva|sin iva|senza iva|bez vat|before tax|imponib)`)

// amountsIn counts the values that are amounts (not rates).
func (x *extraction) amountsIn(vals []string) int {
	n := 0
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if rePercent.MatchString(v) {
			continue
		}
		if _, _, err := ParseAmount(v, x.decimal); err == nil {
			n++
		}
	}
	return n
}

func isAmountField(f string) bool {
	return f == "subtotal" || f == "tax" || f == "total" || f == "amount_due"
}

// below finds the text under a label cell on the next line: forms that put
// "Invoice Number" over "INV-1042".
func (x *extraction) below(li int, label Cell) (string, bool) {
	if li+1 >= len(x.lines) {
		return "", false
	}
	cur, next := x.lines[li], x.lines[li+1]
	if next.page != cur.page || cur.line.Y-next.line.Y > 3*label.Size {
		return "", false
	}
	for _, c := range next.line.Cells {
		if overlap(label.X, label.X2, c.X, c.X2) > 0 || math.Abs(c.X-label.X) < 6 {
			return c.Text, true
		}
	}
	// A label column with right-aligned values: "Rechnungsnummer" at the
	// column's left, "471102" flush right under it. The value must start
	// right of the label and before the next cell on the label's line, so
	// another column's text is never taken.
	bound := math.Inf(1)
	for _, c := range cur.line.Cells {
		if c.X > label.X2 {
			bound = math.Min(bound, c.X)
		}
	}
	for _, c := range next.line.Cells {
		if c.X > label.X && c.X2 <= bound+2 {
			return c.Text, true
		}
	}
	return "", false
}

func overlap(a1, a2, b1, b2 float64) float64 {
	return math.Min(a2, b2) - math.Max(a1, b1)
}

var (
	reHasDigit  = regexp.MustCompile(`\d`)
	reHasLetter = regexp.MustCompile(`\pL`)
	reDocNum    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*$|^\d+$`)
	rePercent   = regexp.MustCompile(`^\d+([.,]\d+)?\s*%$`)
)

// value picks the field's value from the text after its label.
func (x *extraction) value(field string, vals []string) (string, bool) {
	switch field {
	case "issue_date", "due_date", "ship_date":
		for _, v := range vals {
			// ": 06.08.2013": labels padded to a column of colons.
			if d, ok := x.findDate(strings.TrimLeft(strings.TrimSpace(v), ":")); ok {
				return d, true
			}
		}
	case "subtotal", "tax", "total", "amount_due":
		// The rightmost amount on the line: "VAT 20 %  |  20,00  |  245,80" has
		// a rate, maybe a base, then the amount.
		for i := len(vals) - 1; i >= 0; i-- {
			v := strings.TrimSpace(vals[i])
			if rePercent.MatchString(v) {
				continue
			}
			if a, ok := x.trailingAmount(v); ok {
				return a, true
			}
		}
	case "currency":
		for _, v := range vals {
			if c, ok := ParseCurrency(strings.Fields(v + " x")[0]); ok {
				return c, true
			}
		}
	case "number", "po_number":
		for _, v := range vals {
			if strings.HasSuffix(strings.TrimSpace(v), ":") {
				// "Bestellung Nr. Kunde: | BT-13": the label went on to the colon.
				continue
			}
			for _, tok := range strings.Fields(v) {
				if strings.HasPrefix(tok, "(") && strings.HasSuffix(tok, ")") {
					continue // "Invoice (380) No. 7": a type code, not the number
				}
				if n := strings.ToLower(strings.Trim(tok, ".:")); n == "nr" || n == "no" || n == "n°" || n == "nº" || n == "#" {
					continue
				}
				tok = strings.Trim(tok, ",;:()")
				if tok == "" || tok == "-" {
					continue // ": 2013-471331"
				}
				if _, err := ParseDate(strings.TrimRight(tok, "."), x.dayFirst); err == nil {
					continue // a date next to the number
				}
				if reDocNum.MatchString(tok) && len(tok) <= 40 {
					return tok, true
				}
				// The number is the first thing after its label: "Rechnung
				// gemäß Bestellung Nr. 2025-471331" is a sentence, and its
				// number is the order's.
				break
			}
			break // the number is the first thing after its label
		}
	case "payment_terms", "supplier":
		if len(vals) > 0 {
			v := normSpace(vals[0])
			if field == "supplier" && (strings.Contains(v, ":") || !strings.ContainsFunc(v, isLetterRune)) {
				return "", false // "Global number: 4000001123452", not a name
			}
			if v != "" && len(v) <= 120 && (field == "supplier" || !isOnlyDate(v, x.dayFirst)) {
				return v, true
			}
		}
	}
	return "", false
}

func isOnlyDate(s string, dayFirst bool) bool {
	_, err := ParseDate(s, dayFirst)
	return err == nil
}

// trailingAmount reads the amount at the end of a cell: "19%: 222.678,36 €",
// "20 % 87 351,46 €". The longest tail that parses wins, so French
// space-grouped thousands stay whole.
func (x *extraction) trailingAmount(v string) (string, bool) {
	f := strings.Fields(v)
	for n := min(len(f), 4); n >= 1; n-- {
		tail := strings.TrimLeft(strings.Join(f[len(f)-n:], " "), ":")
		if a, _, err := ParseAmount(tail, x.decimal); err == nil {
			return a, true
		}
	}
	return "", false
}

// findDate finds a date at the start of s, allowing words after it.
func (x *extraction) findDate(s string) (string, bool) {
	f := strings.Fields(s)
	for n := min(len(f), 6); n >= 1; n-- { // "12 de abril de 2024"
		if d, err := ParseDate(strings.TrimRight(strings.Trim(strings.Join(f[:n], " "), "()"), ",;."), x.dayFirst); err == nil {
			return d, true
		}
	}
	return "", false
}

// supplierByFont guesses the supplier as the largest non-title text at the top
// of the first page: letterheads put the company name there.
func (x *extraction) supplierByFont() (string, float64) {
	if len(x.pages) == 0 || len(x.pages[0].Lines) == 0 {
		return "", 0
	}
	y0 := x.pages[0].Lines[0].Y
	var best Cell
	for li, l := range x.pages[0].Lines {
		if y0-l.Y > 200 {
			break
		}
		if li < len(x.lines) && x.lines[li].table {
			continue // an item row, not a letterhead
		}
		for _, c := range l.Cells {
			t := c.Text
			if name, ok := nameBeforeTitle(t); ok {
				// "Amazon Web Services Invoice": the issuer's name in its
				// own title.
				t = name
			} else if matchType(t) != "" || !strings.ContainsFunc(t, isLetterRune) || reHasDigit.MatchString(t) && !reCompany.MatchString(t) {
				continue
			}
			if strings.HasSuffix(strings.TrimSpace(t), ":") || len(strings.Fields(t)) > 8 || strings.Contains(t, "://") || strings.Contains(t, "www.") || strings.Contains(t, "@") {
				continue // a sentence, a web or mail address: no name
			}
			if _, _, isLabel := matchLabel(t); isLabel {
				continue
			}
			if buyerHeadingText(t) || reSellerHeading.MatchString(strings.TrimSpace(t)) || li < len(x.lines) && x.inBuyerBlock(li, c) {
				continue
			}
			bonus := 0.0
			if reCompany.MatchString(t) {
				bonus = 2 // a legal form is a strong hint
			}
			if c.Size+bonus > best.Size {
				best = c
				best.Text = t
				best.Size = c.Size + bonus
			}
		}
	}
	if best.Text == "" {
		return "", 0
	}
	if reCompany.MatchString(best.Text) {
		return best.Text, 0.6
	}
	return best.Text, 0.4
}

// reNamedTitle is a title that begins with its issuer's name: "Amazon Web
// Services Invoice", "Contoso Rechnung".
var reNamedTitle = regexp.MustCompile(`(?i)^(.+?)\s+(?:invoice|rechnung|facture|factuur|factura|fattura|faktura)$`)

// titleWords are what comes before "invoice" in titles that name no
// issuer: "Tax Invoice", "Commercial Invoice", "Proforma-Rechnung".
var titleWords = map[string]bool{"tax": true, "vat": true, "gst": true, "commercial": true, "sales": true, "proforma": true, "pro": true,
	"forma": true, "pro-forma": true, "final": true, "interim": true, "partial": true, "original": true, "copy": true, "duplicate": true,
	"retail": true, "service": true, "credit": true, "debit": true, "your": true, "our": true, "the": true, "this": true,
	"simplified": true, "summary": true, "monthly": true, "e-invoice": true, "electronic": true, "self-billed": true, "corrected": true,
	"storno": true, "abschlags": true, "schluss": true, "teil": true, "waren": true, "sammel": true, "of": true, "an": true, "a": true}

// nameBeforeTitle returns the name in a named title: two words or more,
// capitalised, none of them a title word of its own.
func nameBeforeTitle(t string) (string, bool) {
	m := reNamedTitle.FindStringSubmatch(strings.TrimSpace(t))
	if m == nil {
		return "", false
	}
	words := strings.Fields(m[1])
	if len(words) < 2 || len(words) > 6 || reHasDigit.MatchString(m[1]) {
		return "", false
	}
	for _, w := range words {
		if titleWords[strings.ToLower(strings.Trim(w, ".,:-"))] || !unicode.IsUpper([]rune(w)[0]) {
			return "", false
		}
	}
	return m[1], true
}

var reCompany = regexp.MustCompile(`(?i)\b(inc|ltd|llc|gmbh|ag|kg|sa|sas|sarl|s\.a\.|s\.a\.r\.l\.|co|corp|corporation|limited|plc|pvt|bv|nv|oy|ab|spa|srl|group|company)\b\.?`)

func isLetterRune(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 0xbf }

// currencyByCount picks the currency named most often in the text.
func (x *extraction) currencyByCount() (string, float64) {
	counts := map[string]int{}
	for _, fl := range x.lines {
		for _, c := range fl.line.Cells {
			for _, tok := range strings.Fields(c.Text) {
				if _, cur := stripCurrency(tok); cur != "" {
					counts[cur]++
				} else if code, ok := ParseCurrency(tok); ok && len(tok) == 3 && strings.ToUpper(tok) == tok {
					counts[code]++
				}
			}
		}
	}
	best, n := "", 0
	for c, k := range counts {
		if k > n || k == n && c < best {
			best, n = c, k
		}
	}
	if best == "" {
		return "", 0
	}
	return best, 0.5
}

// reTitle finds a document title that carries its number and often its date:
// "Handelsrechnung Nr. 471102 vom 05.06.2018", "Invoice No. 123 dated …",
// "Facture n° F-12 du …", "Factuur nr. 7 van …", "Faktura VAT nr 1/2024 z dnia …".
var reTitle = regexp.MustCompile(`(?i)(?:^|\s)\p{L}*(?:rechnung|invoice|facture|factuur|factura|fattura|faktura(?: vat)?|gutschrift|credit note|avoir|creditnota)(?:\s+\p{L}+){0,2}?\s*(?:\(\d{3}\))?\s*(?:nr\.?|no\.?|n°|nº|n\.º|n\.|#|number|nummer|numéro|número|numero)\s*:?\s*([A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*|\d+)(?:(?:\s+\p{L}{1,12}){0,2}?\s+(?:vom|von|du|le|of|dated|issued at|issued on|issued|del|van|z dnia|dnia|from|de|al|datée? du|fechada el)(?:\s+(.+)|\s*$))?`)

var reTitleConnector = regexp.MustCompile(`(?i)\s(vom|von|du|le|of|dated|issued at|issued on|del|van|z dnia|dnia|from|de|al)\s*$`)

// titleLine fills the number and issue date from a title line when no label
// gave them.
func (x *extraction) titleLine(d *Document) {
	if d.Number != "" && d.IssueDate != "" {
		return
	}
	for i, fl := range x.lines {
		if fl.table {
			continue
		}
		m := reTitle.FindStringSubmatch(normSpace(fl.line.Text()))
		if m == nil {
			continue
		}
		if m[2] == "" && i+1 < len(x.lines) && x.lines[i+1].page == fl.page &&
			reTitleConnector.MatchString(fl.line.Text()) {
			// A long title wraps: "Rechnung des Versicherers Nr. 0815 vom" / "06.12.2018".
			m[2] = normSpace(x.lines[i+1].line.Text())
		}
		if d.Number == "" {
			d.Number = strings.TrimRight(m[1], ".,;")
			d.Confidence["number"] = 0.6
		}
		if d.IssueDate == "" && m[2] != "" {
			if v, ok := x.findDate(m[2]); ok {
				d.IssueDate = v
				d.Confidence["issue_date"] = 0.6
			}
		}
		return
	}
}

// Headings of the seller's and the buyer's blocks, alone on their line.
var (
	reSellerHeading = regexp.MustCompile(`(?i)^(rechnungsersteller|rechnungsaussteller|auftragnehmer|verkäufer|lieferant|leistungserbringer|rechnungssteller|seller|supplier|vendor|from|bill from|sold by|issued by|issuer|fournisseur|vendeur|émetteur|leverancier|verkoper|vendedor|proveedor|emisor|fornitore|cedente/prestatore|cedente|sprzedawca|dostawca|wystawca)\s*:?$`)
	reBuyerHeading  = regexp.MustCompile(`(?i)^(käufer.*|auftraggeber|rechnungsadresse|lieferadresse|lieferanschrift|adresse de facturation|adresse de livraison|facturé à|livré à|delivery address|billing address|invoice address|shipping address|deliver to|factuuradres|afleveradres|dirección de facturación|facturar a|indirizzo di fatturazione|fatturare a|adres dostawy|rechnungsempfänger|leistungsempfänger|kunde|buyer|customer|bill to|billed to|sold to|invoice to|ship to|acheteur|client|destinataire|factuur aan|klant|afnemer|cliente|comprador|destinatario|cessionario.*|nabywca|odbiorca)\s*:?$`)
	reNameField     = regexp.MustCompile(`(?i)^(name|firma|company|raison sociale|dénomination|naam|bedrijfsnaam|nombre|razón social|ragione sociale|denominazione|nazwa)\s*:?\s+(.+)$`)
	reIdentifierish = regexp.MustCompile(`^[\d\s/().+\-]+$`)
)

// partyBlock reads the seller's name from a block headed "Seller" /
// "Verkäufer" / "Fournisseur" …: a "Name:" row in it, else its first line
// that is not a "label: value" row or an identifier. It stops at the buyer's
// block, so the buyer is never taken for the seller.
func (x *extraction) partyBlock() (string, bool) {
	for i, fl := range x.lines {
		if fl.table || !reSellerHeading.MatchString(strings.TrimSpace(fl.line.Text())) {
			continue
		}
		for j := i + 1; j < len(x.lines) && j <= i+8; j++ {
			t := normSpace(x.lines[j].line.Text())
			if x.lines[j].page != fl.page || reBuyerHeading.MatchString(t) || reSellerHeading.MatchString(t) {
				break
			}
			if m := reNameField.FindStringSubmatch(t); m != nil {
				return strings.TrimSpace(m[2]), true
			}
			if strings.Contains(t, ":") || reIdentifierish.MatchString(t) || !strings.ContainsFunc(t, isLetterRune) || len(t) > 120 {
				continue
			}
			return t, true
		}
	}
	return "", false
}

// dateUnderTitle reads a date printed alone on the line under the title that
// carries the document's number ("Invoice 103767" / "February 17, 2026"), as
// ERP reports print it when no label names the date.
func (x *extraction) dateUnderTitle(number string) (string, bool) {
	if number == "" {
		return "", false
	}
	for i, fl := range x.lines {
		if fl.page > 0 || i+1 >= len(x.lines) {
			break
		}
		t := normSpace(fl.line.Text())
		if fl.table || matchType(t) == "" || !strings.Contains(t, number) {
			continue
		}
		next := x.lines[i+1]
		size := fl.line.Cells[0].Size
		if next.page != fl.page || next.table || fl.line.Y-next.line.Y > 2.5*size || len(next.line.Cells) != 1 {
			return "", false
		}
		if d, err := ParseDate(normSpace(next.line.Text()), x.dayFirst); err == nil {
			return d, true
		}
		return "", false
	}
	return "", false
}

// rePlaceDate is a letter's place-and-date line: "München, den 01.11.2024",
// "Paris, le 3 mars 2024", "Amsterdam, 3 maart 2024".
var rePlaceDate = regexp.MustCompile(`^\p{L}[\p{L} .'\-]{1,40},\s*(.{6,30})$`)

// placeDate returns the date of the first place-and-date line.
func (x *extraction) placeDate() (string, bool) {
	for _, fl := range x.lines {
		if fl.table {
			continue
		}
		for k := range fl.line.Cells {
			// The place and the date may be cells of their own:
			// "München, den | 01.11.2024".
			run := TextLine{Cells: fl.line.Cells[k:]}
			if m := rePlaceDate.FindStringSubmatch(normSpace(run.Text())); m != nil {
				if d, err := ParseDate(m[1], x.dayFirst); err == nil {
					return d, true
				}
			}
		}
	}
	return "", false
}

// rePayBy is a sentence asking for payment by a date: "Bitte überweisen Sie
// bis zum 09.12.2017", "Payable by 1 March 2024", "à payer avant le …",
// "te betalen voor …", "pagar antes del …", "da pagare entro il …",
// "płatne do dnia …". The date follows (maybe on the next line).
var rePayBy = regexp.MustCompile(`(?i)(?:remit|überweisen|zahlung|zahlbar|zahlen|payable|pay|payment|paid|payer|régler|réglé|betalen|betaald|pagar|pagadero|pagare|pagabile|płatne|zapłacić|zapłaty)\b.{0,60}?\b(?:bis zum|bis|by|until|before|no later than|au plus tard le|avant le|uiterlijk op|uiterlijk|voor|antes del|hasta el|entro il|entro|do dnia|do)\s*$`)

// payBy finds the due date in a payment sentence when no label gave it.
func (x *extraction) payBy() (string, bool) {
	for i, fl := range x.lines {
		if fl.table {
			continue
		}
		t := normSpace(fl.line.Text())
		for cut := len(t); cut > 0; {
			head := strings.TrimSpace(t[:cut])
			if rePayBy.MatchString(head) {
				rest := strings.TrimSpace(t[cut:])
				if rest == "" && i+1 < len(x.lines) {
					rest = normSpace(x.lines[i+1].line.Text())
				}
				if d, ok := x.findDate(strings.TrimRight(rest, ".")); ok {
					return d, true
				}
			}
			cut = strings.LastIndexByte(t[:cut], ' ')
		}
	}
	return "", false
}

var (
	reSenderSep  = regexp.MustCompile(`\s*[●•·|▪◦]\s*|\s+[-–]\s+`)
	rePostcodeIn = regexp.MustCompile(`\b(\d{4,6}|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b`)
)

// senderLine reads the sender's return line over a letter's address window
// ("Bei Spiel GmbH ● Ecke 12 ● 12345 Stadthausen", "Seller Co · 1 Main St ·
// Springfield"): the seller's name is its first part. Only the first page's
// top half is looked at, and the line must carry a postcode.
func (x *extraction) senderLine() (string, bool) {
	if len(x.pages) == 0 || len(x.pages[0].Lines) == 0 {
		return "", false
	}
	top := x.pages[0].Lines[0].Y
	for _, fl := range x.lines {
		if fl.page != 0 || fl.table || top-fl.line.Y > 400 {
			continue
		}
		parts := reSenderSep.Split(normSpace(fl.line.Text()), -1)
		if len(parts) < 3 || !rePostcodeIn.MatchString(fl.line.Text()) {
			continue
		}
		name := strings.TrimSpace(parts[0])
		if name != "" && strings.ContainsFunc(name, isLetterRune) && len(name) <= 80 && !strings.Contains(name, ":") {
			return name, true
		}
	}
	return "", false
}

// taxFromRows sums the tax rows when no tax total is printed: India's CGST
// and SGST, Germany's 7 % and 19 %. The sum is taken only when it is what
// the subtotal and the total say the tax is; one row alone stays otherwise.
func (x *extraction) taxFromRows(d *Document) {
	if len(x.taxRows) < 2 {
		return
	}
	sub, ok1 := rat(d.Subtotal)
	tot, ok2 := rat(d.Total)
	if !ok1 || !ok2 {
		return
	}
	want := new(big.Rat).Sub(tot, sub)
	if t, ok := rat(d.Tax); ok && near(t, want, 2) {
		return
	}
	var sum big.Rat
	for _, v := range x.taxRows {
		r, ok := rat(v)
		if !ok {
			return
		}
		sum.Add(&sum, r)
	}
	if near(&sum, want, 2) {
		d.Tax = sum.FloatString(2)
		d.Confidence["tax"] = 0.7
	}
}

// taxByDifference fills a missing tax when the subtotal and the total are
// known and their difference is printed as an amount somewhere on the
// pages ("Steuerbasisbetrag USt. 19 %  198,00  37,62", a tax summary table
// under "Netto | MwSt. | Brutto"): the arithmetic finds the figure that
// no label in the vocabulary named.
func (x *extraction) taxByDifference(d *Document) {
	if d.Tax != "" {
		return
	}
	sub, ok1 := rat(d.Subtotal)
	tot, ok2 := rat(d.Total)
	if !ok1 || !ok2 {
		return
	}
	want := new(big.Rat).Sub(tot, sub)
	if want.Sign() == 0 {
		return
	}
	// Rows of a tax breakdown ("Steuerbasisbetrag USt. 7 %  275,00  19,25"):
	// their rightmost amounts, summed, for several rates.
	var rates big.Rat
	nRates := 0
	for _, fl := range x.lines {
		for _, c := range fl.line.Cells {
			a, ok := x.trailingAmount(c.Text)
			if !ok || !strings.ContainsAny(a, ".") {
				continue // "19" is a rate, not an amount with cents
			}
			if r, ok := rat(a); ok && r.Cmp(want) == 0 {
				x.setDerivedTax(d, want)
				return
			}
		}
		t := fl.line.Text()
		if fl.table || !reTaxRateRow.MatchString(t) || len(fl.line.Cells) < 2 {
			continue
		}
		if a, ok := x.trailingAmount(fl.line.Cells[len(fl.line.Cells)-1].Text); ok {
			if r, ok := rat(a); ok {
				rates.Add(&rates, r)
				nRates++
			}
		}
	}
	if nRates >= 2 && rates.Cmp(want) == 0 {
		x.setDerivedTax(d, want)
	}
}

// reTaxRateRow is a row of a tax breakdown: a tax word and a rate.
var reTaxRateRow = regexp.MustCompile(`(?i)\b(ust|mwst|vat|tva|btw|iva|gst|cgst|sgst|igst|tax|steuer|umsatzsteuer|vat)\b.{0,30}?\d+([.,]\d+)?\s*%`)

func (x *extraction) setDerivedTax(d *Document, v *big.Rat) {
	d.Tax = v.FloatString(2)
	d.Confidence["tax"] = 0.6
	x.taxDerived = true
}

var (
	reLegalLine  = regexp.MustCompile(`(?i)(ust-?id|ust\.-id|umsatzsteuer-id|steuernr|steuernummer|handelsregister|\bHRB\b|\bHRA\b|geschäftsführ|amtsgericht|sitz der gesellschaft|\bVAT (reg|no|number|id)|\bSIRET\b|\bSIREN\b|\bRCS\b|\bKvK\b|\bGSTIN\b|\bCIF\b|\bNIF\b|partita iva|\bNIP\b|\bREGON\b|registered in|company (no|number))`)
	reBuyerWords = regexp.MustCompile(`(?i)(customer|client|kunde|buyer|käufer|acheteur|klant|cliente|nabywca|empfänger)`)
)

// legalBlock finds the seller as the company named at the head of the
// block that carries its legal particulars (VAT id, register, managing
// directors): "Alphabet Fuhrparkmanagement GmbH" over "Geschäftsführer: …"
// and "USt-IdNr. DE…". The buyer's particulars ("Customer VAT ID") are
// left out. The name must carry a legal form and sit in the same column.
// reAttention opens a line addressed to a person at the buyer: "ATTN:",
// "Attn.", "z. Hd.", "c/o", "À l'attention de", "t.a.v.".
var reAttention = regexp.MustCompile(`(?i)^(attn\b|attention\b|z\.\s*hd\.?|zu händen|c/o\b|à l'attention|a l'attention|t\.a\.v\.|ter attentie|all'attenzione|a la atención)`)

// buyerHeadingText reports whether t heads the buyer's address, also with
// the word "address" after it ("Bill to Address:", "Kunde Anschrift").
func buyerHeadingText(t string) bool {
	t = strings.TrimSpace(t)
	if reBuyerHeading.MatchString(t) {
		return true
	}
	low := strings.ToLower(strings.TrimRight(t, ": "))
	for _, suf := range []string{" address", " adresse", " adres", " anschrift", " indirizzo", " dirección"} {
		if head, ok := strings.CutSuffix(low, suf); ok && reBuyerHeading.MatchString(strings.TrimSpace(head)) {
			return true
		}
	}
	return false
}

// inBuyerBlock reports whether cell c of flat line i stands in the buyer's
// address block: addressed to someone there, or under a buyer heading of its
// column a few lines up (or after one on its own line). The largest name at
// the top, or the company over a tax id, is then the buyer's, not the
// supplier's.
func (x *extraction) inBuyerBlock(i int, c Cell) bool {
	if reAttention.MatchString(strings.TrimSpace(c.Text)) {
		return true
	}
	if i < 0 || i >= len(x.lines) {
		return false
	}
	for j := i; j >= 0 && j >= i-5 && x.lines[j].page == x.lines[i].page; j-- {
		for _, h := range x.lines[j].line.Cells {
			if j == i && h.X >= c.X || j < i && math.Abs(h.X-c.X) > 40 {
				continue
			}
			if buyerHeadingText(h.Text) {
				return true
			}
		}
	}
	return false
}

func (x *extraction) legalBlock() (string, bool) {
	for i, fl := range x.lines {
		for _, c := range fl.line.Cells {
			if !reLegalLine.MatchString(c.Text) || reBuyerWords.MatchString(c.Text) {
				continue
			}
			for j := i - 1; j >= 0 && j >= i-8 && x.lines[j].page == fl.page; j-- {
				for _, up := range x.lines[j].line.Cells {
					if math.Abs(up.X-c.X) > 5 {
						continue
					}
					t := normSpace(up.Text)
					if x.inBuyerBlock(j, up) {
						continue
					}
					if reCompany.MatchString(t) && !strings.Contains(t, ":") && !reLegalLine.MatchString(t) && len(t) <= 80 {
						return t, true
					}
					if j < 3 && fl.page == 0 && !strings.Contains(t, ":") && !reHasDigit.MatchString(t) &&
						strings.ContainsFunc(t, isLetterRune) && len(t) <= 80 && matchType(t) == "" {
						// The letterhead's first lines, over the seller's
						// tax id: "Kaveri Wholesale Distributors" / "GSTIN: …".
						return t, true
					}
				}
			}
		}
	}
	return "", false
}

// labelPart is the text of a cell before the value matchLabel returned: the
// label and its punctuation. Lower-casing can change byte lengths ("İ"), so
// the cut is clamped.
func labelPart(text, rest string) string {
	n := len(text) - len(rest)
	if n < 0 || n > len(text) {
		return text
	}
	return text[:n]
}

// reOrderInSentence is an order number quoted in running text: "Rechnung
// gemäß Bestellung Nr. 2013-471331 vom …", "as per your order no. 4500012345",
// "selon votre commande n° C-12". The number marker is required.
var reOrderInSentence = regexp.MustCompile(`(?i)\b(bestellung|order|purchase order|commande|bestelling|pedido|ordine|zamówienia|zamówienie)\s+(?:nr\.?|no\.?|n°|nº|number|nummer|numéro|número|numero|#)\s*:?\s*([A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*)`)

// orderInSentence finds the buyer's order number in running text when no
// label gave it.
func (x *extraction) orderInSentence() (string, bool) {
	for _, fl := range x.lines {
		if fl.table {
			continue
		}
		if m := reOrderInSentence.FindStringSubmatch(normSpace(fl.line.Text())); m != nil {
			v := strings.TrimRight(m[2], ".,;")
			if _, err := ParseDate(v, x.dayFirst); err == nil {
				continue
			}
			return v, true
		}
	}
	return "", false
}
