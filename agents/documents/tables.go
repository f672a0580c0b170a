package documents

import (
	"math"
	"regexp"
	"strings"
)

// column is one header cell of a line item table.
type column struct {
	kind   string // sku, description, quantity, unit, unit_price, total, or "" (Pos, VAT %, …)
	x1, x2 float64
}

// headerColumns reports whether a line is a table header: at least three
// cells name known columns, one of them a quantity or a description.
func headerColumns(l TextLine) ([]column, bool) {
	var cols []column
	known := 0
	hasCore := false
	for _, c := range l.Cells {
		k := columnOf(c.Text)
		if k != "" {
			known++
			if k == "quantity" || k == "description" {
				hasCore = true
			}
		}
		cols = append(cols, column{kind: k, x1: c.X, x2: c.X2})
	}
	fixColumns(cols)
	return cols, known >= 3 && hasCore
}

// fixColumns settles what header words leave open, by position: a table
// whose header names no line total has it in its rightmost unnamed column
// ("Prix HT", "Price w/o Tax"), and of two "amount" columns with no quantity
// column the left one counts ("Amount | Product | Price | Total").
func fixColumns(cols []column) {
	totals, qty := []int{}, false
	for i, c := range cols {
		switch c.kind {
		case "total":
			totals = append(totals, i)
		case "quantity":
			qty = true
		}
	}
	if len(totals) == 0 {
		right := -1
		for i, c := range cols {
			if c.kind == "" && (right < 0 || c.x2 > cols[right].x2) {
				right = i
			}
		}
		if right >= 0 {
			for _, c := range cols {
				if c.kind != "" && c.x1 > cols[right].x1 {
					right = -1 // a named column lies right of it
					break
				}
			}
		}
		if right >= 0 {
			cols[right].kind = "total"
		}
	}
	if len(totals) == 2 && !qty {
		cols[totals[0]].kind = "quantity"
	}
}

// stackedHeader reads a header whose column names take two or three lines
// ("Prix" / "Description  Quantité  Prix HT" / "unitaire"): the lines from
// i on, as long as they hold no digits and sit close together, are merged
// cell by cell (a cell joins the header cell it overlaps, else becomes a
// column of its own). Merging never turns a named column into an unnamed
// one. n is how many lines the header took.
func stackedHeader(lines []flatLine, i int) (cols []column, n int, ok bool) {
	if c, ok := headerColumns(lines[i].line); ok {
		// Lines under the header that only continue its cells ("Ohne" /
		// "MwSt.", "(EUR)") belong to it: read as rows, a continued
		// "MwSt." would end the table as a tax label.
		n := 1
		for k := i + 1; k < len(lines) && k <= i+2; k++ {
			l, prev := lines[k].line, lines[k-1].line
			if len(l.Cells) == 0 || reHasDigit.MatchString(l.Text()) || lines[k].page != lines[i].page ||
				prev.Y-l.Y > 1.6*math.Max(prev.Cells[0].Size, l.Cells[0].Size) || !underColumns(c, l) {
				break
			}
			n++
		}
		return c, n, true
	}
	type hcell struct {
		x1, x2 float64
		text   string
	}
	var hc []hcell
	for k := i; k < len(lines) && k < i+3; k++ {
		l := lines[k].line
		if reHasDigit.MatchString(l.Text()) || len(l.Cells) == 0 {
			break
		}
		if k > i {
			prev := lines[k-1].line
			if lines[k].page != lines[k-1].page || prev.Y-l.Y > 1.6*math.Max(prev.Cells[0].Size, l.Cells[0].Size) {
				break
			}
		}
		for _, c := range l.Cells {
			joined := false
			for j := range hc {
				if overlap(hc[j].x1, hc[j].x2, c.X, c.X2) > 0 {
					merged := hc[j].text + " " + c.Text
					switch {
					case columnOf(merged) != "" || columnOf(hc[j].text) == "" && columnOf(c.Text) == "":
						hc[j].text = merged
					case columnOf(hc[j].text) == "":
						hc[j].text = c.Text // a line of other text above the header
					}
					hc[j].x1, hc[j].x2 = math.Min(hc[j].x1, c.X), math.Max(hc[j].x2, c.X2)
					joined = true
					break
				}
			}
			if !joined {
				hc = append(hc, hcell{c.X, c.X2, c.Text})
			}
		}
		if k == i {
			continue
		}
		var tl TextLine
		for _, h := range hc {
			tl.Cells = append(tl.Cells, Cell{X: h.x1, X2: h.x2, Text: h.text})
		}
		sortCells(tl.Cells)
		if c, ok := headerColumns(tl); ok {
			cols, n = c, k-i+1
		}
	}
	return cols, n, n > 0
}

// underColumns says whether every cell of a line sits under a named header
// column.
func underColumns(cols []column, l TextLine) bool {
	for _, c := range l.Cells {
		under := false
		for _, col := range cols {
			if col.kind != "" && overlap(col.x1, col.x2, c.X, c.X2) > 0 {
				under = true
				break
			}
		}
		if !under {
			return false
		}
	}
	return true
}

func sortCells(cs []Cell) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].X < cs[j-1].X; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// assign maps each cell of a data row to the header column it sits under:
// the one it overlaps most, else the nearest by centre. Numbers are usually
// right-aligned under left-aligned headers, so overlap alone is not enough.
func assign(cols []column, cells []Cell) map[string]string {
	out := map[string]string{}
	for _, c := range cells {
		best, bestScore := -1, math.Inf(-1)
		for i, col := range cols {
			ov := overlap(col.x1, col.x2, c.X, c.X2)
			score := ov
			if ov <= 0 {
				score = -math.Abs((col.x1+col.x2)/2 - (c.X+c.X2)/2)
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		if best < 0 || cols[best].kind == "" {
			continue
		}
		k := cols[best].kind
		if out[k] != "" {
			out[k] += " " + c.Text
		} else {
			out[k] = c.Text
		}
	}
	return out
}

// maxNonItemRows is how many rows that are neither items nor wrapped
// descriptions a table may hold between two items.
const maxNonItemRows = 6

// tables finds line item tables (on every page: long tables repeat their
// header) and reads their rows. Rows end at a totals line or at a line that
// fits no item.
func (x *extraction) tables() {
	var cols []column
	inTable := false
	var headerY float64
	lastPage, lastY := -1, 0.0 // where the last item was, for wrapped descriptions
	misses := 0                // non-item rows since the last item
	skip := 0
	for i := range x.lines {
		fl := &x.lines[i]
		if skip > 0 {
			skip--
			fl.table = true
			continue
		}
		if c, n, ok := stackedHeader(x.lines, i); ok {
			cols, inTable, headerY, misses = c, true, x.lines[i+n-1].line.Y, 0
			fl.table = true
			skip = n - 1
			continue
		}
		if !inTable {
			continue
		}
		if i > 0 && x.lines[i-1].page != fl.page && fl.line.Y > headerY {
			// A new page without a repeated header: the table may go on
			// with the same columns (checked row by row below).
			headerY = math.Inf(1)
		}
		first := fl.line.Cells[0].Text
		if reSkipLine.MatchString(first) {
			fl.table = true
			continue
		}
		if f, _, ok := matchLabel(first); ok && f != "supplier" && (isAmountField(f) || x.labelHasValue(fl.line, 0)) {
			// "Subtotal", "Total", "VAT", "Invoice No 7": the table is
			// over. A lone word such as "invoice" may be a wrapped
			// description.
			inTable = false
			continue
		}
		if isSectionHeading(cols, fl.line) {
			// "Zahlungsbedingungen:", "Zu- und Abschläge:" at the margin:
			// another section starts.
			inTable = false
			continue
		}
		row := assign(cols, fl.line.Cells)
		if row["quantity"] == "" && x.endsTable(cols, fl.line) {
			// "Taxe  Base  Montant  Total HT  624,90": a totals block
			// beside the tax summary.
			inTable = false
			continue
		}
		item, ok := x.item(row)
		if !ok {
			// A wrapped description continues the previous item.
			if n := len(x.items); n > 0 && len(row) == 1 && row["description"] != "" &&
				fl.page == lastPage && lastY-fl.line.Y < 1.6*fl.line.Cells[0].Size {
				x.items[n-1].Description += " " + row["description"]
				fl.table = true
				lastY = fl.line.Y
				continue
			}
			// Item tables interleave other rows (article numbers, gross
			// prices, notes); a run of them ends the table. Text between
			// pages (footer, letterhead) ends nothing.
			// Rows with no amount in the number columns (item attributes:
			// "Product Description: …", "Origin: Germany") weigh a third
			// of a row with figures.
			// Indented under the items (an item's details block), half that.
			if fl.page == x.lines[max(i-1, 0)].page {
				w := 6
				if !x.hasFigure(row) {
					w = 2
					if fl.line.Cells[0].X >= tableLeft(cols)+10 {
						w = 1
					}
				}
				if misses += w; misses > 6*maxNonItemRows {
					inTable = false
				}
			}
			continue
		}
		misses = 0
		fl.table = true
		x.items = append(x.items, item)
		lastPage, lastY = fl.page, fl.line.Y
	}
}

// item reads one row into a line item; ok is false when the row has neither
// a quantity nor an amount (not an item).
func (x *extraction) item(row map[string]string) (Line, bool) {
	var l Line
	l.SKU = strings.TrimSpace(row["sku"])
	l.Description = normSpace(row["description"])
	l.Unit = strings.TrimSpace(row["unit"])
	if q := strings.TrimSpace(row["quantity"]); q != "" {
		// "12 pcs", "1 250 Stk": a unit glued to the quantity, which may
		// itself contain spaces as thousands separators. A unit may hold
		// digits: UN/ECE Recommendation 20 codes such as "H87" (piece),
		// "C62" (one), "M2" in renderings of e-invoices.
		f := strings.Fields(q)
		n := len(f)
		for n > 1 && (!reHasDigit.MatchString(f[n-1]) || reHasLetter.MatchString(f[n-1])) {
			n--
		}
		a, _, err := ParseAmount(strings.Join(f[:n], " "), x.decimal)
		if err != nil {
			return Line{}, false
		}
		l.Quantity = a
		if n < len(f) && l.Unit == "" {
			l.Unit = strings.Join(f[n:], " ")
		}
	}
	if p := dropRate(row["unit_price"]); p != "" {
		a, _, err := ParseAmount(p, x.decimal)
		if err != nil {
			return Line{}, false
		}
		l.UnitPrice = a
	}
	if t := dropRate(row["total"]); t != "" {
		a, _, err := ParseAmount(t, x.decimal)
		if err != nil {
			return Line{}, false
		}
		l.Total = a
	}
	if l.Quantity == "" && l.Total == "" {
		return Line{}, false
	}
	if l.SKU == "" && l.Description == "" {
		return Line{}, false
	}
	if l.Total == "" && l.UnitPrice == "" && strings.HasSuffix(l.Description, ":") {
		return Line{}, false // an item's attribute: "Gewicht: 1 kg"
	}
	return l, true
}

var reLeadingRate = regexp.MustCompile(`^\d{1,2}([.,]\d+)?\s?%\s+`)

// dropRate removes a VAT rate that a header without its own rate column
// ("BTW Prijs incl. BTW") puts in front of the amount: "21% € 399,00".
func dropRate(s string) string {
	return reLeadingRate.ReplaceAllString(strings.TrimSpace(s), "")
}

// endsTable says whether a row names a subtotal, tax or total in a cell
// followed by its amount ("Taxe  Base  Montant  Total HT  624,90").
func (x *extraction) endsTable(cols []column, l TextLine) bool {
	for i, c := range l.Cells {
		if assign(cols, []Cell{c})["description"] != "" {
			continue // "Subtotal hardware" as an item's description
		}
		if f, _, ok := matchLabel(c.Text); ok && isAmountField(f) && x.labelHasValue(l, i) {
			return true
		}
	}
	return false
}

// labelHasValue says whether the label in cell i has a value for its field
// in the same cell or the cells after it.
func (x *extraction) labelHasValue(l TextLine, i int) bool {
	f, rest, ok := matchLabel(l.Cells[i].Text)
	if !ok {
		return false
	}
	vals := []string{}
	if rest != "" {
		vals = append(vals, rest)
	}
	for _, n := range l.Cells[i+1:] {
		vals = append(vals, n.Text)
	}
	_, ok = x.value(f, vals)
	return ok
}

// isSectionHeading says whether a row is a heading of the next section: one
// cell ending in a colon, no digits, starting at or left of the table's
// first column (an item's "Origin:" attribute is indented under the
// description).
func isSectionHeading(cols []column, l TextLine) bool {
	if len(l.Cells) != 1 || len(cols) == 0 {
		return false
	}
	c := l.Cells[0]
	t := strings.TrimSpace(c.Text)
	left := cols[0].x1
	for _, col := range cols {
		left = math.Min(left, col.x1)
	}
	return strings.HasSuffix(t, ":") && !reHasDigit.MatchString(t) && c.X <= left+5
}

// hasFigure says whether a row holds an amount in a number column (text
// such as "UNSPSC: 27111708" spilling into the quantity column does not
// count).
func (x *extraction) hasFigure(row map[string]string) bool {
	for _, k := range []string{"quantity", "unit_price", "total"} {
		if v := strings.TrimSpace(row[k]); v != "" {
			if _, _, err := ParseAmount(v, x.decimal); err == nil {
				return true
			}
		}
	}
	return false
}

// tableLeft is the left edge of a table's header.
func tableLeft(cols []column) float64 {
	left := math.Inf(1)
	for _, c := range cols {
		left = math.Min(left, c.x1)
	}
	return left
}
