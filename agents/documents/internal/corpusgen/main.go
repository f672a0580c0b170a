// Command corpusgen writes the supplier document test corpus: PDFs in many
// layouts, label languages and number and date formats, each with a golden
// JSON file holding what the document says, plus malformed files.
//
//	go run ./agents/documents/internal/corpusgen -out agents/documents/testdata/corpus
//
// The golden files come from the same data the PDF is drawn from, never from
// the extractor, so the eval measures the extractor honestly. Output is
// deterministic (fixed seed and dates) except fpdf's encryption salt.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

func main() {
	out := flag.String("out", "agents/documents/testdata/corpus", "output `dir` for the documents")
	bad := flag.String("malformed", "", "output `dir` for malformed files (default: OUT/../malformed)")
	flag.Parse()
	if *bad == "" {
		*bad = filepath.Join(filepath.Dir(*out), "malformed")
	}
	for _, d := range []string{*out, *bad} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	fpdf.SetDefaultCreationDate(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	fpdf.SetDefaultModificationDate(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	fpdf.SetDefaultCatalogSort(true)
	specs := corpusSpecs()
	var first []byte
	for _, s := range specs {
		doc := makeDoc(s)
		pdfBytes, gold, err := render(s, doc)
		if err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
		if first == nil {
			first = pdfBytes
		}
		write(filepath.Join(*out, s.name+".pdf"), pdfBytes)
		gold.File = s.name + ".pdf"
		g, _ := json.MarshalIndent(gold, "", "  ")
		write(filepath.Join(*out, s.name+".json"), append(g, '\n'))
	}
	if err := writeMalformed(*bad, first); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %d documents to %s and malformed files to %s\n", len(specs), *out, *bad)
}

func write(path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// spec says how one document looks.
type spec struct {
	name     string
	typ      string // invoice, credit_note, order_confirmation, ship_notice, bill_of_lading
	lang     string // en, de, fr
	num      string // us (1,234.56), eu (1.234,56), fr (1 234,56), in (1,23,456.78), ch (1'234.56)
	date     string // iso, dmy, mdy, dot, mon, dmon, long
	cur      string // ISO code
	curStyle string // prefix ($1.00), suffix (1,00 €), code (EUR 1,00), none (code in the header)
	layout   string // classic, stacked, inline, grid
	lines    int
	noSKU    bool
	noUnit   bool // unit glued to the quantity ("12 pcs")
	protect  bool // RC4 with an empty user password: opens without one
	seed     uint64
}

func corpusSpecs() []spec {
	var out []spec
	add := func(s spec) {
		s.seed = uint64(len(out) + 1)
		out = append(out, s)
	}
	layouts := []string{"classic", "stacked", "inline", "grid"}
	// Invoices: 18, across languages, formats and layouts.
	invoices := []struct{ lang, num, date, cur, style string }{
		{"en", "us", "mdy", "USD", "prefix"}, {"en", "us", "mon", "USD", "prefix"}, {"en", "us", "iso", "USD", "code"},
		{"en", "us", "dmon", "GBP", "prefix"}, {"en", "us", "dmy", "GBP", "none"}, {"en", "in", "dmy", "INR", "code"},
		{"en", "in", "dmon", "INR", "none"}, {"en", "eu", "dot", "EUR", "suffix"}, {"en", "ch", "dot", "CHF", "code"},
		{"de", "eu", "dot", "EUR", "suffix"}, {"de", "eu", "long", "EUR", "suffix"}, {"de", "eu", "iso", "EUR", "code"},
		{"de", "eu", "dot", "EUR", "none"}, {"fr", "fr", "dmy", "EUR", "suffix"}, {"fr", "fr", "long", "EUR", "suffix"},
		{"fr", "eu", "dmy", "EUR", "code"}, {"en", "us", "mdy", "USD", "none"}, {"en", "us", "iso", "EUR", "prefix"},
	}
	for i, v := range invoices {
		add(spec{name: fmt.Sprintf("invoice-%02d-%s", i+1, v.lang), typ: "invoice", lang: v.lang, num: v.num, date: v.date,
			cur: v.cur, curStyle: v.style, layout: layouts[i%4], lines: 3 + i%6, noSKU: i%7 == 6, noUnit: i%5 == 4, protect: i == 8})
	}
	// Long invoices: tables over several pages.
	add(spec{name: "invoice-19-en-multipage", typ: "invoice", lang: "en", num: "us", date: "mon", cur: "USD", curStyle: "prefix", layout: "classic", lines: 55})
	add(spec{name: "invoice-20-de-multipage", typ: "invoice", lang: "de", num: "eu", date: "dot", cur: "EUR", curStyle: "suffix", layout: "inline", lines: 70})
	add(spec{name: "invoice-21-fr-multipage", typ: "invoice", lang: "fr", num: "fr", date: "dmy", cur: "EUR", curStyle: "none", layout: "grid", lines: 40})
	credits := []struct{ lang, num, date, cur, style string }{
		{"en", "us", "mdy", "USD", "prefix"}, {"de", "eu", "dot", "EUR", "suffix"}, {"fr", "fr", "dmy", "EUR", "suffix"},
		{"en", "us", "dmon", "GBP", "prefix"}, {"en", "eu", "iso", "EUR", "code"},
	}
	for i, v := range credits {
		add(spec{name: fmt.Sprintf("credit-%02d-%s", i+1, v.lang), typ: "credit_note", lang: v.lang, num: v.num, date: v.date,
			cur: v.cur, curStyle: v.style, layout: layouts[(i+1)%4], lines: 1 + i%3})
	}
	confs := []struct{ lang, num, date, cur, style string }{
		{"en", "us", "mdy", "USD", "prefix"}, {"en", "us", "iso", "USD", "none"}, {"de", "eu", "dot", "EUR", "suffix"},
		{"de", "eu", "long", "EUR", "code"}, {"fr", "fr", "dmy", "EUR", "suffix"}, {"en", "in", "dmy", "INR", "code"},
	}
	for i, v := range confs {
		add(spec{name: fmt.Sprintf("confirmation-%02d-%s", i+1, v.lang), typ: "order_confirmation", lang: v.lang, num: v.num,
			date: v.date, cur: v.cur, curStyle: v.style, layout: layouts[(i+2)%4], lines: 2 + i%5})
	}
	ships := []struct{ lang, date string }{{"en", "mdy"}, {"en", "iso"}, {"de", "dot"}, {"de", "long"}, {"fr", "dmy"}, {"en", "mon"}}
	for i, v := range ships {
		add(spec{name: fmt.Sprintf("shipnotice-%02d-%s", i+1, v.lang), typ: "ship_notice", lang: v.lang, num: "us", date: v.date,
			layout: layouts[(i+3)%4], lines: 3 + i*2, noSKU: false})
	}
	add(spec{name: "shipnotice-07-en-multipage", typ: "ship_notice", lang: "en", num: "us", date: "iso", layout: "classic", lines: 80})
	bols := []struct{ lang, date string }{{"en", "mdy"}, {"en", "dmon"}, {"de", "dot"}, {"fr", "dmy"}}
	for i, v := range bols {
		add(spec{name: fmt.Sprintf("bol-%02d-%s", i+1, v.lang), typ: "bill_of_lading", lang: v.lang, num: "us", date: v.date,
			layout: layouts[i%4], lines: 1 + i, noSKU: true})
	}
	return out
}

// doc is the truth one PDF is drawn from.
type doc struct {
	supplier, number, po, terms, carrier, consignee string
	issue, due, ship                                time.Time
	lines                                           []line
	subtotal, tax, total                            int64 // cents
	taxRate                                         int   // percent
}

type line struct {
	sku, desc, unit string
	qty             int64
	price, total    int64 // cents
}

var suppliers = map[string][]string{
	"en": {"Northwind Fasteners Inc.", "Contoso Packaging Ltd", "Fabrikam Industrial Supply LLC", "Tailspin Components Corp.",
		"Adventure Works Tools Ltd", "Wide World Importers Ltd", "Mumbai Precision Castings Pvt Ltd", "Blue Yonder Logistics LLC"},
	"de": {"Schraubenwerk Köhler GmbH", "Verpackungen Bauer GmbH & Co. KG", "Elektro Weiß AG", "Maschinenbau Lüdtke GmbH"},
	"fr": {"Visserie Dubois SARL", "Emballages Lefèvre SAS", "Quincaillerie Moreau S.A.", "Outillage Girard SARL"},
}

var products = []struct{ sku, en, de, fr, unit string }{
	{"SKU-88", "Hex bolt M8 x 40 zinc", "Sechskantschraube M8 x 40 verzinkt", "Vis hexagonale M8 x 40 zinguée", "EA"},
	{"SKU-12", "Washer DIN 125 M10", "Unterlegscheibe DIN 125 M10", "Rondelle DIN 125 M10", "EA"},
	{"BX-4410", "Shipping carton 40x30x30", "Versandkarton 40x30x30", "Carton d'expédition 40x30x30", "PCS"},
	{"TP-0050", "Packing tape 50 mm clear", "Packband 50 mm transparent", "Ruban adhésif 50 mm", "ROL"},
	{"PAL-EU", "Euro pallet 1200x800", "Europalette 1200x800", "Palette Europe 1200x800", "PCS"},
	{"CBL-2.5", "Cable NYM 3x2.5 mm²", "Kabel NYM 3x2,5 mm²", "Câble NYM 3x2,5 mm²", "M"},
	{"GLV-L", "Nitrile gloves size L", "Nitrilhandschuhe Größe L", "Gants nitrile taille L", "BOX"},
	{"DRL-18V", "Cordless drill 18 V", "Akku-Bohrschrauber 18 V", "Perceuse sans fil 18 V", "EA"},
	{"LUB-5L", "Machine oil 5 l", "Maschinenöl 5 l", "Huile machine 5 l", "CAN"},
	{"SCR-4X30", "Wood screw 4 x 30", "Holzschraube 4 x 30", "Vis à bois 4 x 30", "BOX"},
	{"FLT-220", "Air filter 220 mm", "Luftfilter 220 mm", "Filtre à air 220 mm", "EA"},
	{"STR-13", "Strapping band 13 mm", "Umreifungsband 13 mm", "Feuillard 13 mm", "ROL"},
}

var terms = map[string][]string{
	"en": {"Net 30", "Net 60", "2% 10, Net 30", "Due on receipt"},
	"de": {"30 Tage netto", "14 Tage 2% Skonto, 30 Tage netto", "Sofort ohne Abzug"},
	"fr": {"30 jours net", "45 jours fin de mois", "Paiement à réception"},
}

func makeDoc(s spec) doc {
	r := rand.New(rand.NewPCG(s.seed, 42))
	ss := suppliers[s.lang]
	d := doc{supplier: ss[r.IntN(len(ss))]}
	if s.cur == "INR" {
		d.supplier = "Mumbai Precision Castings Pvt Ltd"
	}
	prefix := map[string]string{"invoice": "INV", "credit_note": "CN", "order_confirmation": "OC", "ship_notice": "ASN", "bill_of_lading": "BL"}[s.typ]
	if s.lang == "de" {
		prefix = map[string]string{"invoice": "RE", "credit_note": "GS", "order_confirmation": "AB", "ship_notice": "LS", "bill_of_lading": "FB"}[s.typ]
	}
	if s.lang == "fr" {
		prefix = map[string]string{"invoice": "FA", "credit_note": "AV", "order_confirmation": "CC", "ship_notice": "BL", "bill_of_lading": "LV"}[s.typ]
	}
	d.number = fmt.Sprintf("%s-%d-%05d", prefix, 2026, 10000+r.IntN(89999))
	d.po = fmt.Sprintf("PO-%d", 3000+r.IntN(999))
	d.issue = time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	d.due = d.issue.AddDate(0, 0, 30)
	d.ship = d.issue.AddDate(0, 0, 2+r.IntN(5))
	d.terms = terms[s.lang][r.IntN(len(terms[s.lang]))]
	d.carrier = []string{"Roadline Freight", "DHL Freight", "Geodis", "Maersk Line"}[r.IntN(4)]
	d.consignee = "Acme Distribution Center DAL"
	rates := map[string][]int{"USD": {0, 8}, "GBP": {20}, "EUR": {19, 20, 7}, "INR": {18}, "CHF": {8}}
	if rs := rates[s.cur]; len(rs) > 0 {
		d.taxRate = rs[r.IntN(len(rs))]
		if s.lang == "de" {
			d.taxRate = 19
		}
		if s.lang == "fr" {
			d.taxRate = 20
		}
	}
	for i := 0; i < s.lines; i++ {
		p := products[(i+int(s.seed))%len(products)]
		l := line{sku: p.sku, unit: p.unit, qty: int64(1 + r.IntN(500))}
		if s.lines > len(products) {
			l.sku = fmt.Sprintf("%s-%02d", p.sku, i)
		}
		switch s.lang {
		case "de":
			l.desc = p.de
		case "fr":
			l.desc = p.fr
		default:
			l.desc = p.en
		}
		if r.IntN(10) == 0 {
			l.qty *= 10 // some four-digit quantities, to exercise grouping
		}
		l.price = int64(5 + r.IntN(150000))
		if r.IntN(3) == 0 {
			l.price = int64(5 + r.IntN(2000))
		}
		l.total = l.qty * l.price
		d.subtotal += l.total
		d.lines = append(d.lines, l)
	}
	d.tax = (d.subtotal*int64(d.taxRate) + 50) / 100
	d.total = d.subtotal + d.tax
	return d
}

func cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// fmtMoney prints cents in a number style.
func fmtMoney(c int64, style string) string {
	neg := c < 0
	if neg {
		c = -c
	}
	intPart := fmt.Sprint(c / 100)
	frac := fmt.Sprintf("%02d", c%100)
	s := group(intPart, style) + map[bool]string{true: ",", false: "."}[style == "eu" || style == "fr"] + frac
	if neg {
		s = "-" + s
	}
	return s
}

func fmtQty(q int64, style string) string { return group(fmt.Sprint(q), style) }

// group inserts thousands separators.
func group(d, style string) string {
	sep := map[string]string{"us": ",", "eu": ".", "fr": " ", "in": ",", "ch": "'"}[style]
	if len(d) <= 3 {
		return d
	}
	head, tail := d[:len(d)-3], d[len(d)-3:]
	size := 3
	if style == "in" {
		size = 2 // lakh grouping: 1,23,456
	}
	var parts []string
	for len(head) > size {
		parts = append([]string{head[len(head)-size:]}, parts...)
		head = head[:len(head)-size]
	}
	parts = append([]string{head}, parts...)
	return strings.Join(parts, sep) + sep + tail
}

func money(c int64, s spec) string {
	v := fmtMoney(c, s.num)
	sym := map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "INR": "Rs.", "CHF": "CHF"}[s.cur]
	switch s.curStyle {
	case "prefix":
		return sym + v
	case "suffix":
		return v + " " + sym
	case "code":
		return s.cur + " " + v
	}
	return v
}

var monthNames = map[string][]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

func fmtDate(t time.Time, s spec) string {
	switch s.date {
	case "iso":
		return t.Format("2006-01-02")
	case "dmy":
		return t.Format("02/01/2006")
	case "mdy":
		return t.Format("01/02/2006")
	case "dot":
		return t.Format("02.01.2006")
	case "mon":
		return t.Format("Jan 2, 2006")
	case "dmon":
		return t.Format("2 Jan 2006")
	case "long":
		m := monthNames[s.lang][t.Month()-1]
		if s.lang == "de" {
			return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
		}
		return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
	}
	return t.Format("2006-01-02")
}

// Labels per language.
type labels struct {
	title, number, date, due, ship, po, terms, currency, supplier       string
	sku, desc, qty, unit, price, amount, subtotal, tax, total, page, of string
	carrier, consignee                                                  string
}

func labelsFor(s spec) labels {
	switch s.lang {
	case "de":
		l := labels{date: "Datum", due: "Fällig am", ship: "Lieferdatum", po: "Ihre Bestellung", terms: "Zahlungsbedingungen",
			currency: "Währung", supplier: "Absender", sku: "Artikel-Nr.", desc: "Bezeichnung", qty: "Menge", unit: "Einheit", price: "Einzelpreis",
			amount: "Gesamt", subtotal: "Zwischensumme", tax: fmt.Sprintf("MwSt. %d%%", 19), total: "Gesamtbetrag", page: "Seite", of: "von",
			carrier: "Spediteur", consignee: "Empfänger"}
		switch s.typ {
		case "invoice":
			l.title, l.number, l.date = "RECHNUNG", "Rechnungsnummer", "Rechnungsdatum"
		case "credit_note":
			l.title, l.number, l.total = "GUTSCHRIFT", "Gutschrift Nr.", "Gutschriftsbetrag"
		case "order_confirmation":
			l.title, l.number, l.po, l.ship = "AUFTRAGSBESTÄTIGUNG", "Auftragsbestätigung Nr.", "Ihre Bestellnummer", "Liefertermin"
		case "ship_notice":
			l.title, l.number, l.po = "LIEFERSCHEIN", "Lieferschein-Nr.", "Bestellnummer"
		case "bill_of_lading":
			l.title, l.number, l.ship, l.po, l.qty, l.unit, l.desc = "FRACHTBRIEF", "Frachtbrief-Nr.", "Versanddatum", "Bestellnummer", "Anzahl", "Einheit", "Warenbezeichnung"
		}
		return l
	case "fr":
		l := labels{date: "Date", due: "Date d'échéance", ship: "Date d'expédition", po: "Votre commande", terms: "Conditions de paiement",
			currency: "Devise", supplier: "Expéditeur", sku: "Référence", desc: "Désignation", qty: "Qté", unit: "Unité", price: "Prix unitaire",
			amount: "Montant HT", subtotal: "Total HT", tax: "TVA 20 %", total: "Total TTC", page: "Page", of: "sur",
			carrier: "Transporteur", consignee: "Destinataire"}
		switch s.typ {
		case "invoice":
			l.title, l.number, l.date = "FACTURE", "N° de facture", "Date de facture"
		case "credit_note":
			l.title, l.number, l.total = "AVOIR", "N° d'avoir", "Montant de l'avoir"
		case "order_confirmation":
			l.title, l.number, l.ship = "CONFIRMATION DE COMMANDE", "N° de confirmation", "Date de livraison"
		case "ship_notice":
			l.title, l.number, l.po = "BON DE LIVRAISON", "Bon de livraison N°", "N° de commande"
		case "bill_of_lading":
			l.title, l.number, l.po, l.desc, l.qty = "LETTRE DE VOITURE", "N° lettre de voiture", "N° de commande", "Désignation", "Colis"
		}
		return l
	}
	l := labels{date: "Date", due: "Due Date", ship: "Ship Date", po: "PO Number", terms: "Payment Terms", currency: "Currency",
		supplier: "Shipper", sku: "SKU", desc: "Description", qty: "Qty", unit: "Unit", price: "Unit Price", amount: "Amount",
		subtotal: "Subtotal", tax: "Tax", total: "Total", page: "Page", of: "of", carrier: "Carrier", consignee: "Consignee"}
	switch s.cur {
	case "GBP":
		l.tax = "VAT 20%"
	case "INR":
		l.tax = "IGST 18%"
	case "EUR":
		l.tax = "VAT"
	}
	switch s.typ {
	case "invoice":
		l.title, l.number, l.date, l.total = "INVOICE", "Invoice No", "Invoice Date", "Total Due"
	case "credit_note":
		l.title, l.number, l.total = "CREDIT NOTE", "Credit Note No", "Total Credit"
	case "order_confirmation":
		l.title, l.number, l.po, l.date, l.ship, l.total = "ORDER CONFIRMATION", "Confirmation No", "Your PO", "Order Date", "Estimated Delivery", "Order Total"
	case "ship_notice":
		l.title, l.number, l.qty = "ADVANCE SHIP NOTICE", "ASN No", "Qty Shipped"
		if s.seed%2 == 0 {
			l.title, l.number = "PACKING LIST", "Packing List No"
		}
	case "bill_of_lading":
		l.title, l.number, l.desc, l.qty, l.unit = "BILL OF LADING", "B/L No", "Description of Goods", "Packages", "Unit"
	}
	return l
}
