package documents

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// placed is one string drawn at x, y.
type placed struct {
	x, y float64
	s    string
}

// placedPDF draws each string with a Helvetica whose widths are all 556
// units (5.56 pt a glyph at 10 pt), so cell edges are known.
func placedPDF(items []placed) []byte {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "BT /F1 10 Tf %.0f %.0f Td (%s) Tj ET\n", it.x, it.y, it.s)
	}
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 122 /Widths [" + strings.Repeat("556 ", 91) + "] >>"
	return minimalPDF("<< /Font << /F1 4 0 R >> >>", b.String(), font)
}

// rows lays out a block of lines 12 pt apart from y down, one cell a
// column at the given x positions.
func rows(y float64, xs []float64, lines ...[]string) []placed {
	var out []placed
	for i, l := range lines {
		for k, s := range l {
			if s != "" {
				out = append(out, placed{xs[k], y - 12*float64(i), s})
			}
		}
	}
	return out
}

func readingText(t *testing.T, pdf []byte) (positioned, reading []string) {
	t.Helper()
	pages, err := ReadTextUnisolated(pdf, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range pages[0].Lines {
		positioned = append(positioned, l.Text())
	}
	for _, l := range ReadingOrder(pages[0].Lines) {
		reading = append(reading, l.Text())
	}
	return positioned, reading
}

// Running text set in two columns: a letter's body, a terms block.
var (
	leftColumn = []string{
		"Our terms of delivery apply to",
		"every order placed with us and",
		"replace any terms of the buyer",
		"unless we agreed otherwise in",
		"writing before the order date.",
		"Goods remain our property until",
	}
	rightColumn = []string{
		"Claims for damage in transit must",
		"be made within seven days of the",
		"delivery, with the carrier's note",
		"and photographs of the packaging.",
		"Returns need our prior consent",
		"and travel at the buyer's risk.",
	}
)

func zipColumns(a, b []string) [][]string {
	var out [][]string
	for i := range a {
		out = append(out, []string{a[i], b[i]})
	}
	return out
}

func TestReadingOrderColumns(t *testing.T) {
	tests := []struct {
		name  string
		items []placed
		want  []string
	}{
		{
			name:  "two columns of running text: the left column first",
			items: rows(700, []float64{50, 310}, zipColumns(leftColumn, rightColumn)...),
			want:  append(append([]string{}, leftColumn...), rightColumn...),
		},
		{
			name: "a heading across the page and a paragraph below keep their place",
			items: append(append(append(
				rows(740, []float64{50}, []string{"General terms and conditions of sale and delivery for all customers"}),
				rows(720, []float64{50, 310}, zipColumns(leftColumn, rightColumn)...)...),
				rows(630, []float64{50}, []string{"Signed in Hamburg by the managing director of the company"})...),
				rows(600, []float64{50, 310}, []string{"Net 30", "Invoice total"})...),
			want: append(append(append([]string{"General terms and conditions of sale and delivery for all customers"}, leftColumn...), rightColumn...),
				"Signed in Hamburg by the managing director of the company", "Net 30  Invoice total"),
		},
		{
			name: "a table right under the columns stays in rows",
			items: append(rows(700, []float64{50, 310}, zipColumns(leftColumn, rightColumn)...),
				rows(628, []float64{50, 400, 500},
					[]string{"Hex bolts", "10", "4.50"},
					[]string{"Washers", "200", "10.00"},
					[]string{"Cable ties", "50", "160.00"})...),
			want: append(append(append([]string{}, leftColumn...), rightColumn...),
				"Hex bolts  10  4.50", "Washers  200  10.00", "Cable ties  50  160.00"),
		},
		{
			name: "three columns",
			items: rows(700, []float64{40, 220, 400},
				[]string{"Orders are binding once", "Prices are net of value", "Our liability is limited"},
				[]string{"we confirm them in text", "added tax and include the", "to intent and gross fault"},
				[]string{"form, by mail or by fax.", "packaging we deliver in.", "except where the law says"},
				[]string{"Delivery dates are kept", "Invoices are due thirty", "otherwise; the place of"},
				[]string{"where we can, not fixed.", "days after their date.", "jurisdiction is Hamburg."}),
			want: []string{
				"Orders are binding once", "we confirm them in text", "form, by mail or by fax.", "Delivery dates are kept", "where we can, not fixed.",
				"Prices are net of value", "added tax and include the", "packaging we deliver in.", "Invoices are due thirty", "days after their date.",
				"Our liability is limited", "to intent and gross fault", "except where the law says", "otherwise; the place of", "jurisdiction is Hamburg."},
		},
		{
			name: "a column with a shorter last paragraph",
			items: rows(700, []float64{50, 310}, append(zipColumns(leftColumn, rightColumn),
				[]string{"", "Kind regards from the team"})...),
			want: append(append(append([]string{}, leftColumn...), rightColumn...), "Kind regards from the team"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			positioned, got := readingText(t, placedPDF(tt.items))
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("reading order\n got %q\nwant %q", got, tt.want)
			}
			// The positioned lines the field rules read stay one per baseline.
			if positioned[0] != tt.items[0].s && !strings.HasPrefix(positioned[0], tt.items[0].s+"  ") {
				t.Errorf("positioned first line %q, want it to start with %q", positioned[0], tt.items[0].s)
			}
		})
	}
}

// TestReadingOrderKeepsRows: gaps that run down the page between table cells
// or between labels and values are not columns; each row stays one line.
func TestReadingOrderKeepsRows(t *testing.T) {
	tests := []struct {
		name  string
		items []placed
	}{
		{"item table", rows(700, []float64{50, 90, 300, 360, 420, 500},
			[]string{"Pos", "Description", "Qty", "Unit", "Price", "Total"},
			[]string{"1", "Hex bolt M10 zinc plated", "100", "EA", "0.45", "45.00"},
			[]string{"2", "Washer DIN 125 steel", "200", "EA", "0.05", "10.00"},
			[]string{"3", "Cable tie black 200 mm", "50", "PK", "3.20", "160.00"},
			[]string{"4", "Safety gloves size nine", "12", "PR", "4.10", "49.20"},
			[]string{"5", "Packing tape brown roll", "24", "RL", "1.90", "45.60"},
		)},
		{"description and amount only", rows(700, []float64{50, 460},
			[]string{"Consulting services in October", "1,200.00"},
			[]string{"Travel expenses to the customer site", "310.50"},
			[]string{"Hosting of the staging system", "99.00"},
			[]string{"Support hours beyond the contract", "450.00"},
			[]string{"Licence fees for the second seat", "120.00"},
		)},
		{"labels with colons", rows(700, []float64{300, 420},
			[]string{"Invoice number:", "INV-2026-0042"},
			[]string{"Invoice date:", "12 March 2026"},
			[]string{"Customer number:", "C-77810"},
			[]string{"Order number:", "PO-5531"},
			[]string{"Payment terms:", "30 days net"},
		)},
		{"labels without colons", rows(700, []float64{50, 200},
			[]string{"Invoice number", "INV-2026-0042"},
			[]string{"Invoice date", "12 March 2026"},
			[]string{"Customer number", "C-77810"},
			[]string{"Delivery date", "10 March 2026"},
			[]string{"Payment terms", "30 days net"},
		)},
		{"two label columns side by side", rows(700, []float64{50, 150, 320, 420},
			[]string{"Invoice no:", "4711", "Customer:", "C-77"},
			[]string{"Date:", "12.03.2026", "Order:", "PO-9"},
			[]string{"Due:", "11.04.2026", "Terms:", "Net 30"},
			[]string{"Currency:", "EUR", "VAT id:", "DE123456789"},
			[]string{"Page:", "1 of 2", "Contact:", "J. Smith"},
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			positioned, got := readingText(t, placedPDF(tt.items))
			if strings.Join(got, "|") != strings.Join(positioned, "|") {
				t.Errorf("rows were split\n got %q\nwant %q", got, positioned)
			}
		})
	}
}

// TestColumnsThroughTheAPI: the text layer exops serves (extract --text,
// read by the child process) and the text the model is given both read the
// columns one after the other; the fields read from the same page are not
// affected.
func TestColumnsThroughTheAPI(t *testing.T) {
	items := append(rows(740, []float64{50, 310}, []string{"Invoice no: INV-551", "Total: 120.00 EUR"}),
		rows(700, []float64{50, 310}, zipColumns(leftColumn, rightColumn)...)...)
	data := placedPDF(items)
	pages, err := testExtractor().Text(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range pages[0].Lines {
		got = append(got, l.Text())
	}
	want := append(append([]string{"Invoice no: INV-551  Total: 120.00 EUR"}, leftColumn...), rightColumn...)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("text layer\n got %q\nwant %q", got, want)
	}

	positioned, err := ReadTextUnisolated(data, 5)
	if err != nil {
		t.Fatal(err)
	}
	m := &fakeModel{answer: `{}`}
	doc := ExtractFields(positioned)
	if err := applyModel(context.Background(), m, positioned, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.text, strings.Join(leftColumn, "\n")+"\n"+strings.Join(rightColumn, "\n")) {
		t.Errorf("model text does not read the columns in order:\n%s", m.text)
	}
	if doc.Number != "INV-551" || doc.Total != "120.00" {
		t.Errorf("fields number %q total %q, want INV-551 and 120.00", doc.Number, doc.Total)
	}
}

// BenchmarkReadingOrder compares, in one run, laying out a page's glyphs
// (PageLines, the baseline) with putting its lines in reading order, on
// worst cases for the column search: 2000 rows whose gaps all line up, as
// an item table and as two-word text on both sides of a gap (each start
// grows a full region and fails the test). Report reading-order/layout as a
// ratio of the medians:
//
//	go test ./agents/documents -run '^$' -bench ReadingOrder -count 5
func BenchmarkReadingOrder(b *testing.B) {
	for _, page := range []struct {
		name  string
		cells []string
		xs    []float64
	}{
		{"table", []string{"Hex bolt zinc plated", "Cable ties for the rack", "10", "4.50"}, []float64{50, 310, 450, 520}},
		{"pairs", []string{"Hex bolt", "Cable ties"}, []float64{50, 310}},
	} {
		var glyphs []Glyph
		for r := 0; r < 2000; r++ {
			y := 30000 - 12*float64(r)
			for k, s := range page.cells {
				for i, ch := range s {
					glyphs = append(glyphs, Glyph{X: page.xs[k] + 5.56*float64(i), Y: y, W: 5.56, Size: 10, S: string(ch)})
				}
			}
		}
		lines := PageLines(glyphs)
		b.Run(page.name+"/layout", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				PageLines(glyphs)
			}
		})
		b.Run(page.name+"/reading-order", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ReadingOrder(lines)
			}
		})
	}
}
