package documents

import "testing"

func TestLabelVariantsPerLanguage(t *testing.T) {
	tests := []struct{ text, field, rest string }{
		{"Invoice No.: INV-1", "number", "INV-1"},
		{"Rechnungsnummer: 4711", "number", "4711"},
		{"N° de facture : F-12", "number", "F-12"},
		{"Factuurnummer: 2024-001", "number", "2024-001"},
		{"Número de factura: A/77", "number", "A/77"},
		{"Numero fattura: 12/2024", "number", "12/2024"},
		{"Numer faktury: FV/1/2024", "number", "FV/1/2024"},
		{"Factuurdatum: 01-11-2024", "issue_date", "01-11-2024"},
		{"Fecha de factura: 01/11/2024", "issue_date", "01/11/2024"},
		{"Data fattura: 01/11/2024", "issue_date", "01/11/2024"},
		{"Data wystawienia: 2024-11-01", "issue_date", "2024-11-01"},
		{"Vervaldatum: 01-12-2024", "due_date", "01-12-2024"},
		{"Fecha de vencimiento: 01/12/2024", "due_date", "01/12/2024"},
		{"Data scadenza: 01/12/2024", "due_date", "01/12/2024"},
		{"Termin płatności: 2024-12-01", "due_date", "2024-12-01"},
		{"Totaal excl. BTW 100,00", "subtotal", "100,00"},
		{"Base imponible 100,00", "subtotal", "100,00"},
		{"Imponibile 100,00", "subtotal", "100,00"},
		{"Razem netto 100,00", "subtotal", "100,00"},
		{"Rechnungssumme ohne USt. 193,77", "subtotal", "193,77"},
		{"BTW 21,00", "tax", "21,00"},
		{"IVA 21,00", "tax", "21,00"},
		{"Kwota VAT 23,00", "tax", "23,00"},
		{"Bruttosumme 215,07", "total", "215,07"},
		{"Totaal incl. BTW 121,00", "total", "121,00"},
		{"Importe total 121,00", "total", "121,00"},
		{"Totale fattura 121,00", "total", "121,00"},
		{"Razem brutto 123,00", "total", "123,00"},
		{"Zahlbetrag 165,07", "amount_due", "165,07"},
		{"Amount due $10.00", "amount_due", "$10.00"},
		{"Te betalen € 10,00", "amount_due", "€ 10,00"},
		{"Do zapłaty 10,00 zł", "amount_due", "10,00 zł"},
		{"Uw bestelling: PO-1", "po_number", "PO-1"},
		{"Número de pedido: 4500012345", "po_number", "4500012345"},
		{"Nr zamówienia: ZAM/7", "po_number", "ZAM/7"},
		{"Valuta: EUR", "currency", "EUR"},
	}
	for _, tt := range tests {
		field, rest, ok := matchLabel(tt.text)
		if !ok || field != tt.field || rest != tt.rest {
			t.Errorf("matchLabel(%q) = %q, %q, %v; want %q, %q", tt.text, field, rest, ok, tt.field, tt.rest)
		}
	}
}

func TestDateFormatsPerLanguage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"den 01.11.2024", "2024-11-01"},
		{"1. November 2024", "2024-11-01"},
		{"3. März 2024", "2024-03-03"},
		{"1er novembre 2024", "2024-11-01"},
		{"le 3 mars 2024", "2024-03-03"},
		{"3 maart 2024", "2024-03-03"},
		{"1 de noviembre de 2024", "2024-11-01"},
		{"3 marzo 2024", "2024-03-03"},
		{"1° novembre 2024", "2024-11-01"},
		{"1 listopada 2024", "2024-11-01"},
		{"November 1, 2024", "2024-11-01"},
		{"01-Nov-2024", "2024-11-01"},
		{"2024-11-01", "2024-11-01"},
	}
	for _, tt := range tests {
		if got, err := ParseDate(tt.in, true); err != nil || got != tt.want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	x := &extraction{dayFirst: true}
	x.lines = []flatLine{{line: TextLine{Cells: []Cell{{Text: "München, den 01.11.2024"}}}}}
	if got, ok := x.placeDate(); !ok || got != "2024-11-01" {
		t.Errorf("placeDate = %q, %v", got, ok)
	}
}

func TestDueDateFromPaymentSentence(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"Bitte überweisen Sie bis zum 09.12.2017."}, "2017-12-09"},
		{[]string{"Den Rechnungsbetrag überweisen Sie bitte bis zum", "21.11.2018 auf unser Konto"}, "2018-11-21"},
		{[]string{"Payable by 1 March 2024 to the account below"}, "2024-03-01"},
		{[]string{"Montant à payer avant le 1 février 2024"}, "2024-02-01"},
		{[]string{"Te betalen uiterlijk op 3 maart 2024"}, "2024-03-03"},
		{[]string{"Gültig ab 20.09.2018 bis 20.09.2018"}, ""},
	} {
		x := &extraction{dayFirst: true}
		for _, l := range tc.lines {
			x.lines = append(x.lines, flatLine{line: TextLine{Cells: []Cell{{Text: l}}}})
		}
		got, _ := x.payBy()
		if got != tc.want {
			t.Errorf("%q: due %q, want %q", tc.lines, got, tc.want)
		}
	}
}

func TestSellerFromBlocksAndSenderLine(t *testing.T) {
	mk := func(lines ...string) *extraction {
		x := &extraction{dayFirst: true}
		var tl []TextLine
		for i, l := range lines {
			line := TextLine{Y: float64(800 - 12*i), Cells: []Cell{{Text: l, Size: 10}}}
			tl = append(tl, line)
			x.lines = append(x.lines, flatLine{line: line})
		}
		x.pages = []PageText{{Lines: tl}}
		return x
	}
	x := mk("Käufer:", "Kunden AG", "Verkäufer:", "Globale Nummer: 4000001123452", "Lieferant GmbH", "Lieferantenstraße 20")
	if got, ok := x.partyBlock(); !ok || got != "Lieferant GmbH" {
		t.Errorf("party block %q %v", got, ok)
	}
	x = mk("Seller", "Name: Seller Company Ltd", "Bill to", "Buyer Inc")
	if got, _ := x.partyBlock(); got != "Seller Company Ltd" {
		t.Errorf("Name: row %q", got)
	}
	x = mk("Bill to", "Buyer Inc", "Seller", "Buyer's ref: 7")
	if got, ok := x.partyBlock(); ok {
		t.Errorf("took %q from an empty seller block", got)
	}
	x = mk("Bei Spiel GmbH ● Ecke 12 ● 12345 Stadthausen", "Theodor Est", "Bahnstr. 42")
	if got, ok := x.senderLine(); !ok || got != "Bei Spiel GmbH" {
		t.Errorf("sender line %q %v", got, ok)
	}
	x = mk("Page 1 · of · 2")
	if got, ok := x.senderLine(); ok {
		t.Errorf("sender line without postcode: %q", got)
	}
}

// The number is the first thing after its label; a sentence that starts
// with a label word gives none, however many numbers it holds.
func TestNumberIsFirstAfterLabel(t *testing.T) {
	tests := []struct {
		name string
		rows []string
		want string
	}{
		{"sentence after the title", []string{"Rechnung | Nr. 4711", "Rechnung gemäß Bestellung Nr. 2025-471331 vom 01.03.2025."}, "4711"},
		{"date ending a sentence", []string{"Invoice No | INV-77", "Invoice according to order of 01.11.2024."}, "INV-77"},
		{"label running to its colon", []string{"Bestellung Nr. Kunde: | : 2013-471331"}, ""},
		{"type code before the number", []string{"Facture (380) | N° F-12"}, "F-12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ExtractFields([]PageText{page(tt.rows...)})
			if d.Number != tt.want {
				t.Errorf("number %q, want %q", d.Number, tt.want)
			}
		})
	}
	d := ExtractFields([]PageText{page("Bestellung Nr. Kunde: | : 2013-471331")})
	if d.PONumber != "2013-471331" {
		t.Errorf("po %q, want 2013-471331", d.PONumber)
	}
}

// A tax no label names is found as the printed amount equal to total −
// subtotal, and stays uncertain: the arithmetic that found it cannot
// confirm it.
func TestTaxByDifference(t *testing.T) {
	d := ExtractFields([]PageText{page(
		"Rechnung | Nr. 4711",
		"Rechnungssumme Netto (excl. USt.) | 198,00",
		"Steuerbasisbetrag USt. 19% | 198,00 | 37,62",
		"Rechnungssumme Brutto (inkl. USt.) | 235,62",
	)})
	if d.Subtotal != "198.00" || d.Tax != "37.62" || d.Total != "235.62" {
		t.Fatalf("subtotal %q tax %q total %q, want 198.00 37.62 235.62", d.Subtotal, d.Tax, d.Total)
	}
	if c := d.Confidence["tax"]; c >= ConfidentAt {
		t.Errorf("tax confidence %v, want below %v", c, ConfidentAt)
	}
	// Nothing printed equals the difference: no tax is made up.
	d = ExtractFields([]PageText{page("Invoice No | 7", "Net total | 100.00", "Total | 119.00")})
	if d.Tax != "" {
		t.Errorf("tax %q, want none", d.Tax)
	}
}

// A total label qualified as net is the subtotal; on an invoice, the number
// of a delivery note it quotes is not the invoice's number, however long
// its label.
func TestQualifiedLabels(t *testing.T) {
	d := ExtractFields([]PageText{page(
		"Rechnung",
		"Rechnungsnummer: | INV-2023-00789",
		"Gesamtbetrag Netto | 121,50 €",
		"Umsatzsteuer 19 % | 23,09 €",
		"Gesamtbetrag Brutto | 144,59 €",
		"Lieferscheinnummer: DS-SPEC-003",
	)})
	if d.Number != "INV-2023-00789" || d.Subtotal != "121.50" || d.Total != "144.59" {
		t.Errorf("number %q subtotal %q total %q, want INV-2023-00789 121.50 144.59", d.Number, d.Subtotal, d.Total)
	}
	// A delivery note keeps its own number.
	d = ExtractFields([]PageText{page("Lieferschein", "Lieferscheinnummer: LS-77", "Auftragsnummer: AB-9")})
	if d.Number != "LS-77" {
		t.Errorf("delivery note number %q, want LS-77", d.Number)
	}
}

// A letter with the buyer's address in the window, the seller only in its
// legal block, the date as "Place, den | date", and a printer's stamp in
// fine print.
func TestLetterLayoutSellerAndDate(t *testing.T) {
	p := page(
		"Rechnungsnummer: | 2015738820",
		"Muster GmbH",
		"Musterweg 1 | München, den | 01.11.2024",
		"60325 Frankfurt am Main",
		"Rechnung",
		"Summe gesamt | 447,88",
		"Alphabet Fuhrparkmanagement GmbH",
		"Lilienthalallee 26, 80786 München",
		"Geschäftsführer: Uwe Beispiel",
		"USt-IdNr. DE238574172",
	)
	p.Lines = append(p.Lines, TextLine{Y: 100, Cells: []Cell{{X: 400, X2: 420, Size: 3.5, Text: "Datum:"}, {X: 425, X2: 450, Size: 3.5, Text: "30.10.2024"}}})
	for i := range p.Lines[1:4] {
		p.Lines[1+i].Cells[0].Size = 12 // the address window's larger type
	}
	d := ExtractFields([]PageText{p})
	if d.Supplier != "Alphabet Fuhrparkmanagement GmbH" {
		t.Errorf("supplier %q, want the company over the legal block", d.Supplier)
	}
	if d.IssueDate != "2024-11-01" {
		t.Errorf("issue date %q, want 2024-11-01 (not the fine-print stamp)", d.IssueDate)
	}
	if d.Lines == nil {
		t.Error("lines nil, want an empty list")
	}
}

// FuzzExtractFields: any text in any cell gives a document, never a panic,
// and amounts that come out are canonical decimals.
func FuzzExtractFields(f *testing.F) {
	for _, s := range []string{"Invoice No: 7", "Total | 1.234,56 €", "İNVOICE İ | 12", "Rechnung gemäß Bestellung Nr. 1 vom", "Prix | | unitaire", "VAT Reg. No. 1 2 3"} {
		f.Add(s, "Subtotal | 10.00")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		d := ExtractFields([]PageText{page(a, b, a+" | "+b)})
		for _, v := range []string{d.Subtotal, d.Tax, d.Total} {
			if v != "" {
				if _, ok := rat(v); !ok {
					t.Fatalf("amount %q is not a decimal", v)
				}
			}
		}
	})
}

// Two tax rates and no tax total: the breakdown rows' amounts add up to
// total − subtotal, and that is the tax.
func TestTaxFromRateRows(t *testing.T) {
	d := ExtractFields([]PageText{page(
		"Rechnung | Nr. 4711",
		"Rechnungssumme Netto (excl. USt.) | 473,00",
		"Steuerbasisbetrag USt. 7% | 275,00 | 19,25",
		"Steuerbasisbetrag USt. 19% | 198,00 | 37,62",
		"Rechnungssumme Brutto (inkl. USt.) | 529,87",
	)})
	if d.Tax != "56.87" {
		t.Errorf("tax %q, want 56.87", d.Tax)
	}
}

// An order number quoted in a sentence is the PO when no label gives one,
// and only with a number marker.
func TestOrderNumberInSentence(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"Rechnung gemäß Bestellung Nr. 2013-471331 vom 01.03.2013.", "2013-471331"},
		{"Delivered as per your order no. 4500012345.", "4500012345"},
		{"Livré selon votre commande n° C-12", "C-12"},
		{"Thank you for your order of 12 boxes", ""},
	} {
		d := ExtractFields([]PageText{page("Invoice No | INV-1", tc.line)})
		if d.PONumber != tc.want {
			t.Errorf("%q: po %q, want %q", tc.line, d.PONumber, tc.want)
		}
	}
}

// Titles carrying number and date, with words between them or wrapped.
func TestTitleNumberAndDate(t *testing.T) {
	for _, tc := range []struct {
		rows       []string
		num, issue string
	}{
		{[]string{"Teilrechnung Bau (875) | Nr. 210111 mit LV | vom | 30.05.2026"}, "210111", "2026-05-30"},
		{[]string{"Rechnung des Versicherers Nr. 01.234.567.8-2018-1 vom", "06.12.2018"}, "01.234.567.8-2018-1", "2018-12-06"},
		{[]string{"Invoice # RE-20190610/507 issued at 2019-06-10"}, "RE-20190610/507", "2019-06-10"},
		{[]string{"Fattura n. 45/2024 del 15/05/2024"}, "45/2024", "2024-05-15"},
	} {
		d := ExtractFields([]PageText{page(tc.rows...)})
		if d.Number != tc.num || d.IssueDate != tc.issue {
			t.Errorf("%q: number %q issue %q, want %q %q", tc.rows, d.Number, d.IssueDate, tc.num, tc.issue)
		}
	}
}
