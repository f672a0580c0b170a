package documents

import "testing"

// Layout kinds first seen in real invoices outside the shared corpus
// (ERP prints, web shops, hosting and telecom bills in EN/DE/FR/NL). Each
// case is made up here and states the general rule it guards, never one
// file's content.
func TestHeldOutShapes(t *testing.T) {
	tests := []struct {
		name  string
		rows  []string
		want  Document
		lines int
	}{
		{"German ERP print: letter-spaced title, labels padded to a colon column, a totals table whose last row sums the rates", []string{
			"40:Lieferant | 210:Käufer | 366:R E C H N U N G",
			"40:Muster Handel GmbH | 210:Kunde AG | 366:Beleg-Nr | 457:: R-4711",
			"40:Hauptstr. 1 | 210:Weg 2 | 366:Beleg-Datum | 457:: 06.08.2025",
			"40:12345 Musterstadt | 210:54321 Kundenstadt | 366:Lieferschein-Nr | 457:: L-0815",
			"40:Menge | 120:Bezeichnung | 300:Einzelpreis | 470:Gesamt",
			"40:10 H87 | 120:Schrauben | 300:1,00 | 470:10,00",
			"40:5 C62 | 120:Kaffee | 300:2,00 | 470:10,00",
			"40:Warenwert | 150:Nettobetrag | 260:MwSt-Betrag | 330:MwSt-% | 400:Endbetrag",
			"40:10,00 | 150:10,00 | 260:1,90 | 330:19,0 | 400:11,90",
			"40:10,00 | 150:10,00 | 260:0,70 | 330:7,0 | 400:10,70",
			"40:20,00 | 150:20,00 | 260:2,60 | 330:EUR | 400:22,60",
			"40:Muster Handel GmbH | 260:HRB 372876 | 400:Amtsgericht Musterstadt",
		}, Document{Number: "R-4711", IssueDate: "2025-08-06", Currency: "EUR",
			Subtotal: "20.00", Tax: "2.60", Total: "22.60", Supplier: "Muster Handel GmbH"}, 2},
		{"French facture: a row of total labels over their values, fine print between; N° BON DE COMMANDE", []string{
			"40:Société Exemple SARL",
			"40:FACTURE N° : F-2025-9",
			"40:Date : 31/12/2025",
			"40:N° BON DE COMMANDE : PO-778",
			"40:Désignation | 280:Qté | 360:P.U. HT | 470:Montant HT",
			"40:Prestation de service | 280:1,00 | 360:100,00 | 470:100,00",
			"300:TOTAL HT | 380:TOTAL TVA | 470:TOTAL TTC",
			"40:Tout retard de paiement engendre une pénalité.",
			"40:Indemnité forfaitaire : 40 €",
			"300:100,00 | 380:20,00 | 470:120,00",
		}, Document{Number: "F-2025-9", IssueDate: "2025-12-31", PONumber: "PO-778", Currency: "EUR",
			Subtotal: "100.00", Tax: "20.00", Total: "120.00", Supplier: "Société Exemple SARL"}, 1},
		{"German hosting bill: VK-Preis and Zeilenbetrag columns over a two-line header continuation (a lone MwSt. there ends nothing), a coordinated date label", []string{
			"40:Hosting Beispiel AG - Weg 4 - 63571 Gelnhausen",
			"40:Rechnung",
			"40:Rechnungsnr. | 150:30064443",
			"40:Liefer- und Rechnungsdatum: 7. Mai 2014",
			"40:Pos. | 100:Menge | 150:Beschreibung | 380:VK-Preis | 470:Zeilenbetrag",
			"380:Ohne | 470:Ohne MwSt.",
			"380:MwSt.",
			"40:1 | 100:1 | 150:Exchange Postfach | 380:3,89 | 470:3,89",
			"40:2 | 100:2 | 150:Exchange Postfach groß | 380:5,39 | 470:10,78",
			"380:Total EUR | 470:14,67",
		}, Document{Number: "30064443", IssueDate: "2014-05-07", Currency: "EUR", Total: "14.67"}, 2},
		{"ERP print in English: the date alone under the numbered title, a VAT breakdown's Total row after the grand total, UN/ECE unit codes", []string{
			"40:Invoice R-2024/00001",
			"40:February 17, 2026",
			"40:Page 1 / 1",
			"40:Pos. | 100:Description | 280:Qty | 360:Price | 440:Amount | 520:VAT %",
			"40:1 | 100:Paper A4 | 270:20 H87 | 350:9.90 EUR | 425:198.00 EUR | 520:19.00 %",
			"40:2 | 100:Yoghurt | 270:50 H87 | 350:5.50 EUR | 425:275.00 EUR | 520:7.00 %",
			"300:Net Total | 500:473.00 EUR",
			"300:Tax | 500:56.87 EUR",
			"300:Gross Total | 500:529.87 EUR",
			"300:VAT Breakdown",
			"300:19.00% | 425:198.00 EUR | 500:37.62 EUR",
			"300:7.00% | 425:275.00 EUR | 500:19.25 EUR",
			"300:Total | 425:473.00 EUR | 500:56.87 EUR",
		}, Document{Number: "R-2024/00001", IssueDate: "2026-02-17", Currency: "EUR",
			Subtotal: "473.00", Tax: "56.87", Total: "529.87"}, 2},
		{"Dutch web shop: labels over values, Exclusief BTW beside a Subtotaal that includes the tax, the VAT rate printed in the amount column", []string{
			"40:Webwinkel Voorbeeld B.V.",
			"40:FACTUUR",
			"40:Klant | 150:Factuur datum | 300:Factuur | 420:Vervaldatum",
			"40:K-100 | 150:8-9-2022 | 300:VF-1005 | 420:22-9-2022",
			"40:Artikel | 280:Aantal | 340:Prijs per stuk | 430:BTW Prijs incl. BTW",
			"40:Koffiebonen 1 kg | 280:1 | 360:€ 24,20 | 430:21% | 470:€ 24,20",
			"60:Exclusief BTW | 150:€ 20,00 | 400:Subtotaal | 470:€ 24,20",
			"60:BTW 21% | 150:€ 4,20",
			"400:Totaal | 470:€ 24,20",
		}, Document{Number: "VF-1005", IssueDate: "2022-09-08", DueDate: "2022-09-22", Currency: "EUR",
			Subtotal: "20.00", Tax: "4.20", Total: "24.20", Supplier: "Webwinkel Voorbeeld B.V."}, 1},
		{"Cloud bill: the issuer named in its own title, the buyer's block under 'Bill to Address:' and addressed ATTN, a sentence and a bare label at the top", []string{
			"250:Northwind Cloud Services Invoice",
			"250:Email or talk to us about your account or bill, visit www.example.com/contact-us/",
			"40:Account number:",
			"40:123456789012 | 250:Invoice Number: | 500:INV-555",
			"250:Invoice Date: | 480:March 3, 2026",
			"40:Bill to Address: | 250:TOTAL AMOUNT DUE ON March 3, 2026 | 500:$12.50",
			"40:ATTN: Fabrikam Traders Limited",
			"40:1 Harbour Road",
		}, Document{Number: "INV-555", IssueDate: "2026-03-03", Total: "12.50", Supplier: "Northwind Cloud Services"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLaidOutInvoice(t, tt.rows, tt.want, tt.lines) })
	}
}

// A title names its issuer only with two capitalised words or more, none a
// word titles carry on their own.
func TestNameBeforeTitle(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"Northwind Cloud Services Invoice", "Northwind Cloud Services"},
		{"Contoso Handel Rechnung", "Contoso Handel"},
		{"Tax Invoice", ""}, {"Commercial Invoice", ""}, {"Proforma Invoice", ""}, {"Final Tax Invoice", ""},
		{"Invoice", ""}, {"Your Invoice", ""}, {"Contoso Invoice", ""}, {"invoice 2024 Invoice", ""}, {"Northwind Invoice No. 5", ""},
	} {
		if got, _ := nameBeforeTitle(tt.in); got != tt.want {
			t.Errorf("nameBeforeTitle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
