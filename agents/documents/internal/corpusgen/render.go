package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"
)

// golden mirrors the extractor's output format (documents.Document) without
// confidence and problems: what a careful person would read off the page.
type golden struct {
	File         string       `json:"file"`
	Type         string       `json:"type"`
	Supplier     string       `json:"supplier"`
	Number       string       `json:"number"`
	IssueDate    string       `json:"issue_date"`
	DueDate      string       `json:"due_date"`
	ShipDate     string       `json:"ship_date"`
	PONumber     string       `json:"po_number"`
	Currency     string       `json:"currency"`
	Subtotal     string       `json:"subtotal"`
	Tax          string       `json:"tax"`
	Total        string       `json:"total"`
	PaymentTerms string       `json:"payment_terms"`
	Lines        []goldenLine `json:"lines"`
}

type goldenLine struct {
	SKU         string `json:"sku"`
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	Unit        string `json:"unit"`
	UnitPrice   string `json:"unit_price"`
	Total       string `json:"total"`
}

// page geometry, mm
const (
	left   = 10.0
	width  = 190.0
	bottom = 265.0
)

type renderer struct {
	f  *fpdf.Fpdf
	tr func(string) string
	s  spec
	d  doc
	l  labels
	g  golden
}

// render draws one document and returns it with its golden truth. The
// golden fields are set exactly where the value is drawn, so a field the
// layout does not print stays empty.
func render(s spec, d doc) ([]byte, golden, error) {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetMargins(left, 10, left)
	f.SetAutoPageBreak(false, 0)
	r := &renderer{f: f, tr: f.UnicodeTranslatorFromDescriptor(""), s: s, d: d, l: labelsFor(s)}
	r.g.Type = s.typ
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont("Helvetica", "", 7)
		f.CellFormat(0, 5, r.tr(fmt.Sprintf("%s %d %s {nb}", r.l.page, f.PageNo(), r.l.of)), "", 0, "C", false, 0, "")
	})
	if s.protect {
		// An owner password only: readers open it without asking, and the
		// content is still RC4-encrypted, which the parser must decrypt.
		f.SetProtection(fpdf.CnProtectPrint, "", "owner-secret")
	}
	f.AddPage()
	y := r.header()
	y = r.table(y + 6)
	r.totals(y + 4)
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, golden{}, err
	}
	return buf.Bytes(), r.g, nil
}

func (r *renderer) priced() bool { return r.s.typ != "ship_notice" && r.s.typ != "bill_of_lading" }

func (r *renderer) text(x, y float64, size float64, style, s string) {
	r.f.SetFont("Helvetica", style, size)
	r.f.Text(x, y, r.tr(s))
}

func (r *renderer) cell(x, y, w, h, size float64, style, s, border, align string) {
	r.f.SetFont("Helvetica", style, size)
	r.f.SetXY(x, y)
	r.f.CellFormat(w, h, r.tr(s), border, 0, align, false, 0, "")
}

// headerFields lists the label/value pairs this document prints, and sets
// their golden values.
func (r *renderer) headerFields() [][2]string {
	s, d, l := r.s, r.d, r.l
	iso := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02") }
	var kv [][2]string
	kv = append(kv, [2]string{l.number, d.number})
	r.g.Number = d.number
	switch s.typ {
	case "invoice":
		kv = append(kv, [2]string{l.date, fmtDate(d.issue, s)}, [2]string{l.due, fmtDate(d.due, s)}, [2]string{l.po, d.po})
		r.g.IssueDate, r.g.DueDate, r.g.PONumber = iso(d.issue), iso(d.due), d.po
	case "credit_note":
		kv = append(kv, [2]string{l.date, fmtDate(d.issue, s)}, [2]string{l.po, d.po})
		r.g.IssueDate, r.g.PONumber = iso(d.issue), d.po
	case "order_confirmation":
		kv = append(kv, [2]string{l.date, fmtDate(d.issue, s)}, [2]string{l.po, d.po}, [2]string{l.ship, fmtDate(d.ship, s)})
		r.g.IssueDate, r.g.PONumber, r.g.ShipDate = iso(d.issue), d.po, iso(d.ship)
	case "ship_notice", "bill_of_lading":
		kv = append(kv, [2]string{l.ship, fmtDate(d.ship, s)}, [2]string{l.po, d.po}, [2]string{l.carrier, d.carrier})
		r.g.ShipDate, r.g.PONumber = iso(d.ship), d.po
	}
	if r.priced() && s.curStyle == "none" {
		kv = append(kv, [2]string{l.currency, s.cur})
	}
	if r.priced() {
		r.g.Currency = s.cur
	}
	return kv
}

// header draws the letterhead and the header fields in the spec's layout and
// returns the y below them.
func (r *renderer) header() float64 {
	s, d, l := r.s, r.d, r.l
	kv := r.headerFields()
	r.g.Supplier = d.supplier
	supplierLabel := map[string]string{"en": "Supplier", "de": "Lieferant", "fr": "Fournisseur"}[s.lang]
	if s.typ == "bill_of_lading" {
		supplierLabel = l.supplier
	}
	address := []string{"Industriestraße 12, 70565 Stuttgart", "Tel. +49 711 555 0100"}
	switch s.lang {
	case "en":
		address = []string{"1200 Commerce Way, Dallas TX 75201", "accounts@example.com"}
	case "fr":
		address = []string{"14 rue des Artisans, 69007 Lyon", "SIRET 552 100 554 00025"}
	}
	switch s.layout {
	case "classic":
		r.text(left, 20, 16, "B", d.supplier)
		for i, a := range address {
			r.text(left, 26+float64(i)*4.5, 8, "", a)
		}
		r.text(125, 20, 18, "B", l.title)
		y := 32.0
		for _, p := range kv {
			r.cell(125, y, 35, 5, 9, "B", p[0]+":", "", "L")
			r.cell(160, y, 40, 5, 9, "", p[1], "", "L")
			y += 5.5
		}
		r.text(left, 48, 9, "B", billTo(s.lang))
		r.text(left, 53, 9, "", r.d.consignee)
		return maxf(y, 60)
	case "stacked":
		r.f.SetFont("Helvetica", "B", 14)
		r.cell(left, 12, width, 7, 14, "B", d.supplier, "", "C")
		r.cell(left, 19, width, 5, 8, "", strings.Join(address, " · "), "", "C")
		r.cell(left, 28, width, 8, 15, "B", l.title, "", "C")
		colW := width / float64(len(kv))
		for i, p := range kv {
			x := left + float64(i)*colW
			r.cell(x, 42, colW, 5, 7.5, "B", p[0], "", "L")
			r.cell(x, 47, colW, 5, 9.5, "", p[1], "", "L")
		}
		return 58
	case "inline":
		r.text(left, 18, 13, "", d.supplier)
		r.text(left, 23, 8, "", address[0])
		r.text(140, 18, 16, "B", l.title)
		y := 34.0
		for _, p := range kv {
			r.text(left, y, 10, "", p[0]+": "+p[1])
			y += 5.5
		}
		r.text(120, 34, 9, "", billTo(s.lang)+" "+r.d.consignee)
		return y
	default: // grid
		r.text(left, 18, 17, "B", l.title)
		y := 26.0
		r.cell(left, y, 40, 6, 9, "B", supplierLabel, "1", "L")
		r.cell(left+40, y, 80, 6, 9, "", d.supplier, "1", "L")
		y += 6
		for _, p := range kv {
			r.cell(left, y, 40, 6, 9, "B", p[0], "1", "L")
			r.cell(left+40, y, 80, 6, 9, "", p[1], "1", "L")
			y += 6
		}
		r.text(140, 26, 8, "", address[0])
		return y
	}
}

func billTo(lang string) string {
	return map[string]string{"en": "Bill to:", "de": "Rechnungsempfänger:", "fr": "Facturé à :"}[lang]
}

type col struct {
	name  string
	w     float64
	align string
	value func(line) string
}

func (r *renderer) columns() []col {
	s, l := r.s, r.l
	var cols []col
	if !s.noSKU {
		cols = append(cols, col{l.sku, 28, "L", func(x line) string { return x.sku }})
	}
	cols = append(cols, col{l.desc, 0, "L", func(x line) string { return x.desc }})
	if s.noUnit {
		cols = append(cols, col{l.qty, 24, "R", func(x line) string { return fmtQty(x.qty, s.num) + " " + x.unit }})
	} else {
		cols = append(cols, col{l.qty, 20, "R", func(x line) string { return fmtQty(x.qty, s.num) }},
			col{l.unit, 14, "C", func(x line) string { return x.unit }})
	}
	if r.priced() {
		suffix := ""
		if s.curStyle == "none" {
			suffix = " (" + s.cur + ")"
		}
		cols = append(cols, col{l.price + suffix, 30, "R", func(x line) string { return money(x.price, s) }},
			col{l.amount + suffix, 32, "R", func(x line) string { return money(x.total, s) }})
	}
	used := 0.0
	for _, c := range cols {
		used += c.w
	}
	for i := range cols {
		if cols[i].w == 0 {
			cols[i].w = width - used
		}
	}
	return cols
}

// table draws the line items, breaking pages and repeating the header.
func (r *renderer) table(y float64) float64 {
	cols := r.columns()
	border := "1"
	if r.s.layout == "inline" {
		border = ""
	}
	head := func(y float64) float64 {
		x := left
		for _, c := range cols {
			r.cell(x, y, c.w, 7, 8.5, "B", c.name, border, c.align)
			x += c.w
		}
		return y + 7
	}
	y = head(y)
	for _, ln := range r.d.lines {
		if y > bottom {
			r.f.AddPage()
			r.text(left, 15, 9, "", r.d.supplier+" · "+r.d.number)
			y = head(22)
		}
		x := left
		for _, c := range cols {
			b := border
			if b == "1" {
				b = "LR"
			}
			r.cell(x, y, c.w, 6, 8.5, "", c.value(ln), b, c.align)
			x += c.w
		}
		y += 6
		gl := goldenLine{SKU: ln.sku, Description: ln.desc, Quantity: fmt.Sprint(ln.qty), Unit: ln.unit}
		if r.s.noSKU {
			gl.SKU = ""
		}
		if r.priced() {
			gl.UnitPrice, gl.Total = cents(ln.price), cents(ln.total)
		}
		r.g.Lines = append(r.g.Lines, gl)
	}
	if border == "1" {
		r.f.Line(left, y, left+width, y)
	}
	return y
}

// totals draws subtotal, tax, total and the payment terms.
func (r *renderer) totals(y float64) {
	s, d, l := r.s, r.d, r.l
	if y > bottom-20 {
		r.f.AddPage()
		y = 20
	}
	if r.priced() {
		rows := [][2]string{{l.subtotal, money(d.subtotal, s)}, {l.tax, money(d.tax, s)}, {l.total, money(d.total, s)}}
		r.g.Subtotal, r.g.Tax, r.g.Total = cents(d.subtotal), cents(d.tax), cents(d.total)
		if s.lang == "de" && !strings.Contains(l.tax, "%") {
			rows[1][0] = l.tax
		}
		for i, row := range rows {
			style := ""
			if i == 2 {
				style = "B"
			}
			if s.layout == "inline" {
				r.cell(110, y, 90, 5.5, 9.5, style, row[0]+": "+row[1], "", "R")
			} else {
				r.cell(120, y, 45, 5.5, 9.5, style, row[0], "", "L")
				r.cell(165, y, 35, 5.5, 9.5, style, row[1], "", "R")
			}
			y += 6
		}
	}
	if s.typ == "invoice" || s.typ == "order_confirmation" {
		r.text(left, y+8, 9, "", l.terms+": "+d.terms)
		r.g.PaymentTerms = d.terms
	}
	if s.typ == "ship_notice" || s.typ == "bill_of_lading" {
		r.text(left, y+8, 9, "", l.consignee+": "+d.consignee)
	}
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
