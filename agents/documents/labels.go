package documents

import (
	"regexp"
	"strings"
)

// Labels that introduce header fields, in English, German and French. Each is
// matched at the start of a cell, case-insensitively; when several match, the
// longest wins, so "Total HT" is the subtotal and "Total" the total.
var fieldLabels = map[string][]string{
	"number": {
		"avoir", "avoir no", "nota di credito", "nota di credito n", "nota de crédito", "abono", "faktura korygująca", "creditnota", "credit memo", "invoice num", "document id", "bill id",
		"rechnungsnr", "rechnung", "handelsrechnung", "gutschrift", "factuurnummer", "factuurnr", "factuur nr", "factuur", "creditnota nr", "creditnotanummer", "número de factura", "nº de factura", "n.º de factura", "factura nº", "factura n.º", "factura no", "núm. factura", "factura", "numero fattura", "numero della fattura", "fattura n.", "fattura n", "fattura nr", "n. fattura", "fattura", "numer faktury", "faktura nr", "faktura vat nr", "nr faktury", "faktura", "bill no", "bill number", "invoice id", "receipt no", "receipt number", "booking reference", "booking ref",
		"invoice no", "invoice number", "invoice #", "invoice nr", "inv no", "inv. no", "invoice", "tax invoice no",
		"credit note no", "credit note number", "credit note #", "credit memo no", "credit memo #", "credit note",
		"confirmation no", "confirmation number", "order confirmation no", "acknowledgement no", "sales order no", "sales order",
		"asn no", "asn number", "asn #", "packing list no", "packing slip no", "delivery note no", "shipment no", "shipment id",
		"b/l no", "b/l number", "bill of lading no", "bill of lading number", "bol no", "bol #",
		"document no", "document number", "doc no",
		"rechnungsnummer", "rechnungs-nr", "rechnung nr", "rechnung-nr", "rechnungsnr",
		"gutschriftsnummer", "gutschrift nr", "gutschrift-nr",
		"auftragsbestätigung nr", "auftragsnummer", "auftrags-nr", "ab-nr", "ab nr",
		"lieferschein-nr", "lieferschein nr", "lieferscheinnummer", "avis-nr", "frachtbrief-nr", "frachtbriefnummer", "konnossement nr",
		"belegnummer", "beleg-nr",
		"n° de facture", "no de facture", "numéro de facture", "facture n°", "facture no", "facture",
		"n° d'avoir", "numéro d'avoir", "avoir n°",
		"n° de confirmation", "confirmation n°", "n° de bordereau", "bordereau n°", "bon de livraison n°", "n° de bon de livraison",
		"n° de connaissement", "connaissement n°", "n° lettre de voiture",
	},
	"issue_date": {
		"fecha de expedición", "data emissione", "data di emissione", "date de l'avoir", "date de la facture", "datum der rechnung", "issued on", "issued", "date of supply",
		"rechnungsdatum", "factuurdatum", "datum factuur", "fecha de factura", "fecha de emisión", "fecha factura", "fecha", "data fattura", "data della fattura", "data documento", "data", "data wystawienia", "data faktury", "date of issue", "billing date", "invoice issued",
		"invoice date", "date of invoice", "credit note date", "document date", "issue date", "date issued", "order date",
		"confirmation date", "date", "dated", "tax point",
		"rechnungsdatum", "belegdatum", "datum", "gutschriftsdatum", "ausstellungsdatum", "beleg-datum", "factuur datum",
		"date de facture", "date de facturation", "date d'émission", "date du document", "date de l'avoir",
	},
	"due_date": {
		"échéance le", "zahlbar bis zum", "fällig bis", "payment due on", "due payable by", "termin płatności do", "fecha límite de pago", "data di scadenza", "vervaldatum factuur",
		"vervaldatum", "vervaldag", "uiterste betaaldatum", "te betalen voor", "fecha de vencimiento", "vencimiento", "data scadenza", "scadenza", "termin płatności", "termin zapłaty", "fälligkeit", "payment due date", "due by",
		"due date", "payment due", "due", "pay by", "payable by", "due on",
		"fällig am", "fälligkeitsdatum", "fällig", "zahlbar bis", "zahlungsziel",
		"date d'échéance", "échéance", "date limite de paiement", "à payer avant le",
	},
	"ship_date": {
		"ship date", "shipping date", "shipped", "shipped on", "date shipped", "dispatch date", "despatch date", "delivery date",
		"estimated delivery", "ship by", "pickup date", "date of shipment", "departure date",
		"versanddatum", "lieferdatum", "liefertermin", "versandtag", "abholdatum", "versand am",
		"date d'expédition", "date de livraison", "expédié le", "date d'enlèvement",
	},
	"po_number": {
		"your reference", "your ref", "your order reference", "votre référence", "votre réf", "uw referentie", "uw kenmerk", "su referencia", "vostro riferimento", "vs. riferimento", "ihre referenz", "ihre bestellnummer", "buyer reference", "customer reference", "order id",
		"inkoopordernummer", "inkooporder", "uw bestelling", "uw ordernummer", "bestelnummer", "ordernummer", "número de pedido", "nº de pedido", "pedido", "su pedido", "numero ordine", "ordine n.", "vs. ordine", "ordine", "nr zamówienia", "numer zamówienia", "zamówienie", "order reference", "purchase order reference",
		"buyer's order no", "buyer's order number", "buyers order no", "buyer order no", "buyer's po", "customer order no",
		"po number", "po no", "po #", "p.o. number", "p.o. no", "po", "purchase order", "purchase order no", "purchase order number",
		"your order", "your order no", "your po", "customer po", "customer order", "order no", "order number", "order ref",
		"bestellnummer", "bestell-nr", "ihre bestellung", "ihre bestellnummer", "ihre bestell-nr", "bestellung",
		"n° de commande", "no de commande", "numéro de commande", "votre commande", "votre commande n°", "réf. commande", "bon de commande", "n° bon de commande", "n° de bon de commande", "numéro de bon de commande",
	},
	"currency": {"currency", "währung", "rechnungswährung", "devise", "monnaie", "valuta", "moneda", "divisa", "waluta"},
	// What is left to pay after prepayments: the total only when no grand
	// total is printed.
	"amount_due": {"due payable", "open amount", "amount to pay", "solde à payer", "solde dû", "restbetrag", "importe pendiente", "saldo da pagare", "amount due", "balance due", "total due", "amount payable", "zahlbetrag", "zu zahlen", "zu zahlender betrag", "offener betrag",
		"net à payer", "reste à payer", "te betalen", "openstaand bedrag", "importe a pagar", "a pagar", "netto a pagare", "da pagare", "do zapłaty", "pozostało do zapłaty"},
	"subtotal": {
		"montant total net", "montant net", "total net ht", "gesamtnettobetrag", "nettogesamtbetrag", "summe der nettobeträge", "importe neto", "totale netto documento", "kwota netto", "nettobedrag",
		"taxable value", "taxable amount", "total taxable value", "assessable value",
		"net total amount", "total net amount", "total excl. tax", "subtotal excl. vat", "rechnungssumme netto", "summe positionen", "gesamtsumme positionen", "nettosumme", "total hors taxe", "totale imponibile", "importe neto total", "razem wartość netto", "totaal exclusief", "totaal excl",
		"rechnungssumme ohne ust", "summe ohne ust", "gesamtsumme netto", "nettosumme", "summe netto", "netto gesamt", "nettowert", "total excluding vat", "total excluding tax", "total without vat", "total (excl. vat)", "amount excl. vat", "total hors tva", "montant hors taxes", "total ht net", "subtotaal", "totaal excl. btw", "totaal exclusief btw", "bedrag excl. btw", "netto bedrag", "base imponible", "total sin iva", "importe neto", "subtotal sin iva", "imponibile", "totale imponibile", "totale netto", "razem netto", "wartość netto", "suma netto", "netto razem", "positionssumme",
		"subtotal", "sub-total", "sub total", "net amount", "net total", "total net", "total excl. vat", "total excl vat",
		"total before tax", "goods total", "amount before tax", "merchandise total",
		"zwischensumme", "nettobetrag", "summe netto", "netto", "gesamt netto", "warenwert",
		"total ht", "sous-total", "montant ht", "total hors taxes", "exclusief btw", "excl. btw", "totaal excl. btw",
	},
	"tax": {
		"taxe sur la valeur ajoutée", "montant de tva", "umsatzsteuer gesamt", "gesamtsteuerbetrag", "impuesto", "imposta sul valore aggiunto", "podatek", "btw-totaal",
		"value added tax", "total taxes", "taxes", "tax total", "total tax amount", "total vat amount", "vat total amount", "total gst", "steuer", "ust. gesamt", "mwst. gesamt", "totale imposta", "importe del iva", "suma vat", "btw-bedrag", "total de la tva",
		"steuerbetrag", "ust.-betrag", "mwst.-betrag", "umsatzsteuerbetrag", "summe mwst", "summe ust", "btw", "btw bedrag", "totaal btw", "iva", "total iva", "cuota iva", "importe iva", "totale iva", "imposta", "kwota vat", "podatek vat", "vat total", "total vat", "montant de la tva",
		"tax", "vat", "sales tax", "gst", "igst", "cgst", "sgst", "utgst", "tax amount", "vat amount", "total tax",
		"mwst", "mwst.", "ust", "ust.", "mehrwertsteuer", "umsatzsteuer", "zzgl. mwst", "mwst-betrag", "ust-betrag",
		"tva", "montant tva", "total tva",
	},
	"total": {
		"montant total brut", "montant brut", "total brut", "gesamtbruttobetrag", "bruttogesamtbetrag", "importe bruto", "totale lordo", "kwota do zapłaty", "brutobedrag",
		"gross total", "gross total amount", "gross amount", "total gross", "total amount due", "brutto", "total brutto", "amount incl. vat", "total incl. tax", "total including vat", "total including tax", "totale da pagare", "importe total factura", "suma", "do zapłaty razem", "totaal te betalen", "montant total ttc",
		"bruttosumme", "gesamtbetrag brutto", "rechnungsbetrag brutto", "summe brutto", "brutto gesamt", "rechnungssumme", "totaal", "totaal incl. btw", "totaal inclusief btw", "factuurbedrag", "bedrag incl. btw", "total factura", "importe total", "total a pagar", "total con iva", "totale", "totale fattura", "totale documento", "importo totale", "razem brutto", "wartość brutto", "kwota brutto", "suma brutto", "razem", "total amount incl. vat", "invoice amount",
		"total", "grand total", "invoice total", "total amount", "total payable",
		"total credit", "credit total", "total incl. vat", "total incl vat", "order total",
		"gesamtbetrag", "rechnungsbetrag", "gesamtsumme", "summe", "endbetrag", "gesamt brutto", "bruttobetrag", "gutschriftsbetrag",
		"total ttc", "montant total", "montant ttc", "total à payer", "montant de l'avoir", "factuur totaal", "totaal factuur",
	},
	"payment_terms": {
		"betalingsvoorwaarden", "condiciones de pago", "forma de pago", "condizioni di pagamento", "termini di pagamento", "warunki płatności", "sposób płatności",
		"payment terms", "terms", "terms of payment", "payment",
		"zahlungsbedingungen", "zahlungsbedingung", "zahlungsziel", "zahlungskonditionen",
		"conditions de paiement", "conditions de règlement", "modalités de paiement", "règlement",
	},
	"supplier": {
		"verkäufer", "leistungserbringer", "rechnungssteller", "verkoper", "leverancier", "vendedor", "proveedor", "fornitore", "cedente", "sprzedawca", "dostawca", "billed by", "issued by",
		"supplier", "vendor", "seller", "from", "shipper", "remit to", "sold by",
		"lieferant", "verkäufer", "absender", "versender",
		"fournisseur", "vendeur", "expéditeur",
	},
}

// Headers of line item table columns.
var columnLabels = map[string][]string{
	"sku": {"sku", "item", "item no", "item #", "item code", "part no", "part number", "product code", "article", "art. no", "code",
		"artikel", "artikel-nr", "art.-nr", "artikelnummer", "art.nr", "materialnummer", "réf", "réf.", "référence", "ref", "code article"},
	"description": {"produit", "produits", "prodotto", "producto", "artículo", "articolo", "towar", "usługa", "item & description", "particulars", "description of services", "produkt", "leistung", "leistungsbeschreibung", "artikelbeschreibung", "omschrijving", "product", "descripción", "concepto", "descrizione", "opis", "nazwa towaru", "nazwa towaru lub usługi", "nazwa", "item name", "service", "services", "description", "item description", "product", "details", "goods", "description of goods",
		"beschreibung", "bezeichnung", "artikelbezeichnung", "warenbezeichnung",
		"désignation", "libellé", "description des marchandises"},
	"quantity": {"aantal", "cantidad", "cant.", "uds.", "quantità", "qtà", "q.tà", "ilość", "ilosc", "hours", "stunden", "qty", "quantity", "qty shipped", "qty ordered", "qty confirmed", "quantity shipped", "qty.", "pieces", "packages", "pkgs",
		"menge", "anzahl", "liefermenge", "bestätigte menge", "stück", "colis",
		"qté", "quantité", "qté livrée", "qté confirmée"},
	"unit": {"eenheid", "unidad", "unità", "u.m.", "jm", "j.m.", "unit", "uom", "u/m", "einheit", "me", "unité", "u.", "unite"},
	"unit_price": {"prix unit.", "p.u. ht", "preis pro einheit", "unit price excl. vat", "precio unit.", "prezzo unit.", "nettopreis", "preis netto", "prijs", "eenheidsprijs", "stukprijs", "precio", "precio unitario", "prezzo", "prezzo unitario", "cena", "cena netto", "cena jedn.", "cena jednostkowa", "unit price (net)", "net price", "unit price", "price", "price/unit", "unit cost", "rate", "each",
		"einzelpreis", "preis", "e-preis", "stückpreis", "preis/einheit", "vk-preis", "vk preis", "ek-preis",
		"prix unitaire", "p.u.", "prix u. ht", "prix", "pu ht", "prix unitaire ht", "prijs per stuk", "prijs per eenheid"},
	"total": {"prix total", "prix total ht", "montant total", "importe total", "totale riga", "importo totale", "wartość brutto", "line amount (net)", "amount (inr)", "taxable value", "gesamtbetrag", "positionsbetrag", "betrag netto", "nettobetrag", "bedrag", "totaal", "importe", "importo", "wartość", "wartość netto", "net amount", "line amount", "amount (net)", "total net", "total price", "amount", "total", "line total", "ext. price", "extended", "net", "value",
		"betrag", "gesamt", "gesamtpreis", "summe", "wert", "zeilenbetrag", "zeilensumme",
		"montant", "montant ht", "total ht", "total ligne"},
}

// Lines that sit inside a multi-page table but are not items.
var reSkipLine = regexp.MustCompile(`(?i)^(carried forward|brought forward|continued|page \d+|übertrag|seite \d+|report|à reporter|suite|page \d+ (of|sur|von) \d+)`)

type labelMatcher struct {
	field string
	label string
}

var labelsByLen []labelMatcher

func init() {
	for f, ls := range fieldLabels {
		for _, l := range ls {
			labelsByLen = append(labelsByLen, labelMatcher{f, l})
		}
	}
	// Longest first so "total ht" beats "total", "invoice date" beats "invoice".
	sortLabels(labelsByLen)
}

func sortLabels(ls []labelMatcher) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && less(ls[j], ls[j-1]); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

func less(a, b labelMatcher) bool {
	if len(a.label) != len(b.label) {
		return len(a.label) > len(b.label)
	}
	if a.field != b.field {
		return a.field < b.field
	}
	return a.label < b.label
}

// matchLabel finds the longest field label at the start of text. It returns
// the field, and the rest of the text after the label and its punctuation
// (":", "#", "No.", "N°"). ok is false when the text starts with no label, or
// the label runs into a longer word ("Totals", "Dateline").
func matchLabel(text string) (field, rest string, ok bool) {
	text = strings.ReplaceAll(text, "’", "'") // "Date d’échéance"
	lt := strings.ToLower(text)
	if len(lt) != len(text) {
		text = lt // a case change that altered byte lengths; keep offsets valid
	}
	if m := reCoordinated.FindStringIndex(lt); m != nil {
		// "Liefer- und Rechnungsdatum" names both dates: the last compound
		// is the label ("Rechnungsdatum").
		if f, rest, ok := matchLabel(text[m[1]:]); ok {
			return f, rest, true
		}
	}
	for _, m := range labelsByLen {
		if !strings.HasPrefix(lt, m.label) {
			continue
		}
		after := text[len(m.label):]
		// The label must end there: "PO-1234" is a value, "Totals" another word.
		if after != "" && !strings.ContainsRune(" :#.°(\t", rune(after[0])) && !strings.HasPrefix(after, "°") {
			continue
		}
		return m.field, trimLabelPunct(after), true
	}
	return "", "", false
}

// reCoordinated is the head of a German coordinated compound, whose shared
// part the hyphen leaves out: "Liefer- und ", "Liefer-/".
var reCoordinated = regexp.MustCompile(`^\pL+-\s*(?:und|u\.|&|/|oder)\s+|^\pL+-/\s*`)

var reLabelPunct = regexp.MustCompile(`^(\s|[:#.°\-–]|\((excl|incl|net)[^)]*\)|(?i:no\.?|nr\.?|n°|number)(\s|:|$))*`)

func trimLabelPunct(s string) string {
	return strings.TrimSpace(reLabelPunct.ReplaceAllString(s, ""))
}

var rePositionWord = regexp.MustCompile(`(?i)^(pos\.?|position|nr\.?|no\.?|#|lp\.?|n°|s\.? ?no\.?|sr\.? ?no\.?)$`)

// columnOf says which column a table header cell names, or "".
func columnOf(text string) string {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.TrimRight(t, ":")
	if t2 := strings.TrimRight(t, "."); t2 != t && t2 != "" {
		if c := columnOf(t2); c != "" {
			return c // "Artikel-Nr." as "artikel-nr"
		}
	}
	t = normSpace(t)
	best, bestLen := "", 0
	for col, ls := range columnLabels {
		for _, l := range ls {
			if (t == l || t == strings.TrimSuffix(l, ".")) && len(l) > bestLen {
				best, bestLen = col, len(l)
			}
		}
	}
	// Headers with a currency or unit suffix: "Amount (EUR)", "Price €", "Total USD".
	if best == "" {
		if f := strings.Fields(t); len(f) == 2 {
			if k := columnOf(f[0]); k != "" && columnOf(f[1]) != "" {
				return k // "Menge Einheit": two headers in one cell, the first leads
			}
		}
		if f := strings.Fields(t); len(f) >= 2 && rePositionWord.MatchString(f[0]) {
			return columnOf(strings.Join(f[1:], " ")) // "Pos. Produkt", "Lp. Nazwa towaru"
		}
		if i := strings.IndexAny(t, "(["); i > 0 {
			return columnOf(t[:i])
		}
		if f := strings.Fields(t); len(f) > 1 {
			if _, ok := ParseCurrency(f[len(f)-1]); ok {
				return columnOf(strings.Join(f[:len(f)-1], " "))
			}
		}
	}
	return best
}
