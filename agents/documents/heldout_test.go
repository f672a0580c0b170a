package documents

import (
	"fmt"
	"strings"
	"testing"
)

// Invoices in layouts and languages the shared corpus does not have (it is
// German and French FeRD/Factur-X renderings): a US hosting invoice, an
// Indian GST invoice with lakh grouping, a French, Spanish, Italian, Polish
// and Dutch invoice. They are built here as minimal PDFs and read through
// the real text layer, so they guard the rules against fitting the corpus.

// laidOut is one text cell of a test page: x and y in points, 10 pt text.
type laidOut struct {
	x, y float64
	text string
}

// rowsAt lays out rows top-down from y=760, 14 points apart: each row is
// "x:text" cells separated by " | ".
func rowsAt(rows ...string) []laidOut {
	var out []laidOut
	for i, r := range rows {
		for _, c := range strings.Split(r, " | ") {
			var x float64
			var text string
			if _, err := fmt.Sscanf(c, "%f:", &x); err != nil {
				panic(c)
			}
			text = c[strings.IndexByte(c, ':')+1:]
			out = append(out, laidOut{x, 760 - 14*float64(i), text})
		}
	}
	return out
}

// cidPDF draws the cells with a Type0 font (Identity-H, 2-byte codes equal
// to the code points, ToUnicode identity up to U+20FF so that "ł" and "₹"
// come through) whose glyphs are all 0.5 em wide.
func cidPDF(cells []laidOut) []byte {
	var cm strings.Builder
	cm.WriteString("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def 1 begincodespacerange <0000> <FFFF> endcodespacerange\n")
	fmt.Fprintf(&cm, "%d beginbfrange\n", 0x21)
	for hb := 0; hb <= 0x20; hb++ {
		fmt.Fprintf(&cm, "<%02X00> <%02XFF> <%02X00>\n", hb, hb, hb)
	}
	cm.WriteString("endbfrange endcmap CMapName currentdict /CMap defineresource pop end end")
	var content strings.Builder
	for _, c := range cells {
		fmt.Fprintf(&content, "BT /F1 10 Tf 1 0 0 1 %.1f %.1f Tm %s Tj ET\n", c.x, c.y, hex2(c.text))
	}
	return minimalPDF("<< /Font << /F1 4 0 R >> >>", content.String(),
		"<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>",
		stream("", cm.String()))
}

func TestHeldOutLayouts(t *testing.T) {
	tests := []struct {
		name  string
		rows  []string
		want  Document
		lines int
	}{
		{"US hosting invoice, month-first dates, dollars", []string{
			"40:Nimbus Cloud Hosting LLC | 400:INVOICE",
			"40:500 Market Street, San Francisco, CA 94105 | 400:Invoice #: NCH-2026-00417",
			"400:Invoice Date: 03/05/2026",
			"40:Bill To | 400:Due Date: 04/04/2026",
			"40:Acme Retail Inc. | 400:PO Number: 4500012345",
			"40:12 Elm Road, Austin, TX 78701",
			"40:Description | 300:Qty | 370:Rate | 470:Amount",
			"40:Dedicated server, 12 months | 300:1 | 370:$1,200.00 | 470:$1,200.00",
			"40:Bandwidth overage (TB) | 300:3 | 370:$45.00 | 470:$135.00",
			"40:Managed backups | 300:2 | 370:$30.50 | 470:$61.00",
			"370:Subtotal | 470:$1,396.00",
			"370:Sales Tax (8.25%) | 470:$115.17",
			"370:Total | 470:$1,511.17",
			"370:Amount Due | 470:$1,511.17",
		}, Document{Number: "NCH-2026-00417", IssueDate: "2026-03-05", DueDate: "2026-04-04", PONumber: "4500012345", Currency: "USD",
			Subtotal: "1396.00", Tax: "115.17", Total: "1511.17", Supplier: "Nimbus Cloud Hosting LLC"}, 3},
		{"Indian GST tax invoice, lakh grouping, CGST and SGST", []string{
			"40:Shree Ganesh Traders Pvt. Ltd. | 400:TAX INVOICE",
			"40:GSTIN: 27AABCS1234F1Z5 | 400:Invoice No.: SGT/24-25/0912",
			"40:Bhiwandi, Maharashtra 421302 | 400:Invoice Date: 14/11/2024",
			"40:Bill To: | 400:Due Date: 14/12/2024",
			"40:Sunrise Retail LLP",
			"40:Description | 230:HSN | 290:Qty | 350:Rate | 470:Amount",
			"40:Basmati rice 25 kg | 230:1006 | 290:40 | 350:₹2,150.00 | 470:₹86,000.00",
			"40:Sunflower oil 15 L | 230:1512 | 290:60 | 350:₹1,950.00 | 470:₹1,17,000.00",
			"350:Taxable Value | 470:₹2,03,000.00",
			"350:CGST 2.5% | 470:₹5,075.00",
			"350:SGST 2.5% | 470:₹5,075.00",
			"350:Grand Total | 470:₹2,13,150.00",
		}, Document{Number: "SGT/24-25/0912", IssueDate: "2024-11-14", DueDate: "2024-12-14", Currency: "INR",
			Subtotal: "203000.00", Tax: "10150.00", Total: "213150.00", Supplier: "Shree Ganesh Traders Pvt. Ltd."}, 2},
		{"French facture, month names, space-grouped thousands", []string{
			"40:Papeterie Lumière SAS · 8 rue des Lilas · 69003 Lyon",
			"40:FACTURE N° F2024-118",
			"40:Date : 3 mars 2024 | 330:Client : Bureau Moderne SARL",
			"40:Échéance : 2 avril 2024",
			"40:Désignation | 280:Quantité | 360:Prix unitaire | 470:Montant HT",
			"40:Ramettes A4 80 g | 280:300 | 360:3,90 € | 470:1 170,00 €",
			"40:Classeurs à levier | 280:45 | 360:1,43 € | 470:64,50 €",
			"360:Total HT | 470:1 234,50 €",
			"360:TVA 20 % | 470:246,90 €",
			"360:Total TTC | 470:1 481,40 €",
		}, Document{Number: "F2024-118", IssueDate: "2024-03-03", DueDate: "2024-04-02", Currency: "EUR",
			Subtotal: "1234.50", Tax: "246.90", Total: "1481.40", Supplier: "Papeterie Lumière SAS"}, 2},
		{"Spanish factura", []string{
			"40:Viajes Sol y Mar S.L.",
			"40:Calle Mayor 14, 28013 Madrid",
			"40:Factura nº: A-2024/311 | 330:Cliente: Hotel Brisa S.A.",
			"40:Fecha: 12 de abril de 2024",
			"40:Vencimiento: 12/05/2024",
			"40:Concepto | 280:Cantidad | 360:Precio | 470:Importe",
			"40:Traslado aeropuerto | 280:4 | 360:85,00 € | 470:340,00 €",
			"40:Excursión Toledo | 280:2 | 360:120,00 € | 470:240,00 €",
			"360:Base imponible | 470:580,00 €",
			"360:IVA 21% | 470:121,80 €",
			"360:Total factura | 470:701,80 €",
		}, Document{Number: "A-2024/311", IssueDate: "2024-04-12", DueDate: "2024-05-12", Currency: "EUR",
			Subtotal: "580.00", Tax: "121.80", Total: "701.80", Supplier: "Viajes Sol y Mar S.L."}, 2},
		{"Italian fattura, number and date in the title", []string{
			"40:Cedente/prestatore",
			"40:Ingrosso Alimentari Rossi S.r.l.",
			"40:Via Roma 10, 20121 Milano",
			"40:Cessionario/committente",
			"40:Bar Centrale di Bianchi",
			"40:Fattura n. 45/2024 del 15/05/2024",
			"40:Scadenza: 14/06/2024",
			"40:Descrizione | 280:Quantità | 360:Prezzo unitario | 470:Importo",
			"40:Caffè in grani 1 kg | 280:20 | 360:18,50 | 470:370,00",
			"40:Zucchero 1 kg | 280:50 | 360:1,20 | 470:60,00",
			"360:Imponibile | 470:430,00",
			"360:IVA 22% | 470:94,60",
			"360:Totale documento | 470:€ 524,60",
		}, Document{Number: "45/2024", IssueDate: "2024-05-15", DueDate: "2024-06-14", Currency: "EUR",
			Subtotal: "430.00", Tax: "94.60", Total: "524.60", Supplier: "Ingrosso Alimentari Rossi S.r.l."}, 2},
		{"Polish faktura, seller and buyer blocks", []string{
			"40:Faktura VAT nr FV/12/2024",
			"40:Data wystawienia: 03.06.2024",
			"40:Termin płatności: 17.06.2024",
			"40:Sprzedawca: | 330:Nabywca:",
			"40:Hurtownia Wisła Sp. z o.o. | 330:Sklep Pod Lipą",
			"40:ul. Długa 5, 00-238 Warszawa | 330:ul. Krótka 2, 30-001 Kraków",
			"40:Nazwa towaru | 280:Ilość | 360:Cena netto | 470:Wartość netto",
			"40:Mąka pszenna 1 kg | 280:100 | 360:3,20 zł | 470:320,00 zł",
			"360:Razem netto | 470:320,00 zł",
			"360:Kwota VAT | 470:73,60 zł",
			"360:Razem brutto | 470:393,60 zł",
		}, Document{Number: "FV/12/2024", IssueDate: "2024-06-03", DueDate: "2024-06-17", Currency: "PLN",
			Subtotal: "320.00", Tax: "73.60", Total: "393.60", Supplier: "Hurtownia Wisła Sp. z o.o."}, 1},
		{"Dutch factuur, labels over values", []string{
			"40:Groothandel De Molen B.V.",
			"40:Factuur",
			"40:Factuurnummer | 200:Factuurdatum | 360:Vervaldatum",
			"40:2025-0031 | 200:3 januari 2025 | 360:2 februari 2025",
			"40:Omschrijving | 280:Aantal | 360:Prijs | 470:Bedrag",
			"40:Tulpenbollen (100 st.) | 280:10 | 360:€ 25,00 | 470:€ 250,00",
			"360:Subtotaal | 470:€ 250,00",
			"360:BTW 21% | 470:€ 52,50",
			"360:Totaal | 470:€ 302,50",
		}, Document{Number: "2025-0031", IssueDate: "2025-01-03", DueDate: "2025-02-02", Currency: "EUR",
			Subtotal: "250.00", Tax: "52.50", Total: "302.50", Supplier: "Groothandel De Molen B.V."}, 1},
		{"UK travel invoice, ordinal dates, VAT in pounds", []string{
			"40:Harbour Lane Travel Ltd",
			"40:Invoice",
			"40:Invoice number: HLT-88213 | 330:Booking reference: QX7P2L",
			"40:Invoice date: 5th March 2026 | 330:Customer: Brightside Retail plc",
			"40:Payment due: 4th April 2026",
			"40:Description | 280:Qty | 360:Unit price | 470:Amount",
			"40:Return rail fare London - Leeds | 280:4 | 360:£112.50 | 470:£450.00",
			"40:Hotel, 2 nights | 280:2 | 360:£135.00 | 470:£270.00",
			"360:Net total | 470:£720.00",
			"360:VAT @ 20% | 470:£144.00",
			"360:Total due | 470:£864.00",
			"40:Registered in England No. 04512345 | 330:VAT Reg. No. GB 123 4567 89",
		}, Document{Number: "HLT-88213", IssueDate: "2026-03-05", DueDate: "2026-04-04", Currency: "GBP",
			Subtotal: "720.00", Tax: "144.00", Total: "864.00", Supplier: "Harbour Lane Travel Ltd"}, 2},
		{"German retail invoice, month name, seller in the legal footer only", []string{
			"330:Rechnung",
			"40:Kaufhaus Beispiel · Hauptstr. 1 · 10115 Berlin",
			"40:Herrn Max Kunde | 330:Rechnungs-Nr.: 2025-1187",
			"40:Lindenweg 4 | 330:Datum: 5. März 2025",
			"40:12345 Musterstadt | 330:Zahlbar bis: 19. März 2025",
			"40:Artikel | 120:Bezeichnung | 280:Menge | 360:Einzelpreis | 470:Gesamt",
			"40:100233 | 120:Kaffeemaschine | 280:1 | 360:89,99 € | 470:89,99 €",
			"40:100871 | 120:Entkalker | 280:3 | 360:4,99 € | 470:14,97 €",
			"360:Summe netto | 470:88,20 €",
			"360:zzgl. 19 % MwSt. | 470:16,76 €",
			"360:Rechnungsbetrag | 470:104,96 €",
		}, Document{Number: "2025-1187", IssueDate: "2025-03-05", DueDate: "2025-03-19", Currency: "EUR",
			Subtotal: "88.20", Tax: "16.76", Total: "104.96", Supplier: "Kaufhaus Beispiel"}, 2},
		{"German hosting invoice, period column, Rechnungsnr. with a dot", []string{
			"40:Serverhaus Nord GmbH · Hafenstr. 3 · 20457 Hamburg",
			"40:Beispiel Shop UG | 400:Rechnungsnr.: R0012345678",
			"40:Am Markt 2 | 400:Rechnungsdatum: 01.02.2026",
			"40:04109 Leipzig | 400:Kundennr.: K-4711",
			"40:Rechnung",
			"40:Produkt | 160:Zeitraum | 290:Menge | 360:Einzelpreis | 470:Gesamt",
			"40:Cloud Server CX22 | 160:01.01.2026 - 31.01.2026 | 290:2 | 360:4,35 € | 470:8,70 €",
			"40:Backup | 160:01.01.2026 - 31.01.2026 | 290:2 | 360:0,87 € | 470:1,74 €",
			"360:Summe netto | 470:10,44 €",
			"360:USt. 19 % | 470:1,98 €",
			"360:Summe brutto | 470:12,42 €",
			"40:Der Betrag wird am 15.02.2026 per Lastschrift eingezogen.",
		}, Document{Number: "R0012345678", IssueDate: "2026-02-01", Currency: "EUR",
			Subtotal: "10.44", Tax: "1.98", Total: "12.42", Supplier: "Serverhaus Nord GmbH"}, 2},
		{"Indian tally-style invoice, Dated and IGST", []string{
			"40:Kaveri Wholesale Distributors",
			"40:GSTIN/UIN: 29ABCDE1234F1Z5",
			"40:Tax Invoice",
			"40:Invoice No. | 200:Dated",
			"40:KWD/1187/24-25 | 200:14-Nov-24",
			"40:Buyer (Bill to) | 330:Buyer's Order No. | 460:Dated",
			"40:Metro Cash Stores | 330:MCS-PO-5521 | 460:10-Nov-24",
			"40:Description of Goods | 230:HSN/SAC | 290:Quantity | 360:Rate | 470:Amount",
			"40:Tea Dust 1 kg | 230:0902 | 290:100 | 360:250.00 | 470:25,000.00",
			"360:IGST 5% | 470:1,250.00",
			"360:Total | 470:₹ 26,250.00",
		}, Document{Number: "KWD/1187/24-25", IssueDate: "2024-11-14", PONumber: "MCS-PO-5521", Currency: "INR",
			Tax: "1250.00", Total: "26250.00", Supplier: "Kaveri Wholesale Distributors"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLaidOutInvoice(t, tt.rows, tt.want, tt.lines) })
	}
}

// checkLaidOutInvoice draws rows as a PDF, reads it through the real text
// layer and checks the fields want sets, the type and the line count.
func checkLaidOutInvoice(t *testing.T, rows []string, want Document, lines int) {
	t.Helper()
	pages, err := ReadTextUnisolated(cidPDF(rowsAt(rows...)), 5)
	if err != nil {
		t.Fatal(err)
	}
	got := ExtractFields(pages)
	for _, f := range []string{"number", "issue_date", "due_date", "po_number", "currency", "subtotal", "tax", "total", "supplier"} {
		if w := want.Field(f); w != "" && got.Field(f) != w {
			t.Errorf("%s = %q, want %q", f, got.Field(f), w)
		}
	}
	if got.Type != TypeInvoice {
		t.Errorf("type %q, want invoice", got.Type)
	}
	if len(got.Lines) != lines {
		t.Errorf("%d lines %+v, want %d", len(got.Lines), got.Lines, lines)
	}
}
