package documents

import (
	"math"
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
	return cols, known >= 3 && hasCore
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
	for i := range x.lines {
		fl := &x.lines[i]
		if c, ok := headerColumns(fl.line); ok {
			cols, inTable, headerY, misses = c, true, fl.line.Y, 0
			fl.table = true
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
		if f, _, ok := matchLabel(first); ok && f != "supplier" {
			// "Subtotal", "Total", "VAT": the table is over.
			inTable = false
			continue
		}
		row := assign(cols, fl.line.Cells)
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
			if fl.page == x.lines[max(i-1, 0)].page {
				if misses++; misses > maxNonItemRows {
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
		// itself contain spaces as thousands separators.
		f := strings.Fields(q)
		n := len(f)
		for n > 1 && !reHasDigit.MatchString(f[n-1]) {
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
	if p := strings.TrimSpace(row["unit_price"]); p != "" {
		a, _, err := ParseAmount(p, x.decimal)
		if err != nil {
			return Line{}, false
		}
		l.UnitPrice = a
	}
	if t := strings.TrimSpace(row["total"]); t != "" {
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
	return l, true
}
