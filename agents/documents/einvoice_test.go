package documents

import (
	"strings"
	"testing"

	"github.com/exops/exops/cases"
)

const ciiInvoice = `<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>RE-2024-17</ram:ID><ram:TypeCode>%TYPE%</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20241101</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedTradeProduct><ram:SellerAssignedID>A-1</ram:SellerAssignedID><ram:Name>Schrauben  M6</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement><ram:GrossPriceProductTradePrice><ram:ChargeAmount>11.00</ram:ChargeAmount></ram:GrossPriceProductTradePrice>
    <ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">%QTY%</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>%NET%</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:IncludedNote><ram:Content>note only</ram:Content></ram:IncludedNote></ram:AssociatedDocumentLineDocument></ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Kunden AG</ram:Name></ram:BuyerTradeParty>
   %PO%
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   %TERMS%
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>%NET%</ram:LineTotalAmount><ram:TaxBasisTotalAmount>%NET%</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="USD">99.00</ram:TaxTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">%TAX%</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>%GROSS%</ram:GrandTotalAmount><ram:DuePayableAmount>%GROSS%</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>`

const ublDoc = `<?xml version="1.0" encoding="UTF-8"?>
<%ROOT% xmlns="urn:oasis:names:specification:ubl:schema:xsd:%ROOT%-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
 <cbc:ID>INV-9</cbc:ID><cbc:IssueDate>2024-03-05</cbc:IssueDate>
 <!-- <cbc:DueDate>2099-01-01</cbc:DueDate> a comment is not data -->
 %DUE%
 <cbc:%ROOT%TypeCode>%TYPE%</cbc:%ROOT%TypeCode>
 <cbc:DocumentCurrencyCode>SEK</cbc:DocumentCurrencyCode>
 %ORDER%
 <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Trade name</cbc:Name></cac:PartyName>
  <cac:PartyTaxScheme><cbc:CompanyID>SE556677889901</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  %LEGAL%</cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>Buyer AB</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
 <cac:TaxTotal><cbc:TaxAmount currencyID="SEK">%TAX%</cbc:TaxAmount></cac:TaxTotal>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">1.00</cbc:TaxAmount></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="SEK">%NET%</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="SEK">%NET%</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="SEK">%GROSS%</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="SEK">%GROSS%</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:%ROOT%Line><cbc:ID>1</cbc:ID><cbc:%QTYEL% unitCode="EA">%QTY%</cbc:%QTYEL%>
  <cbc:LineExtensionAmount currencyID="SEK">%NET%</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Paper A4</cbc:Name></cac:Item><cac:Price><cbc:PriceAmount currencyID="SEK">10</cbc:PriceAmount></cac:Price></cac:%ROOT%Line>
</%ROOT%>`

func fill(tmpl string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(tmpl)
}

func TestParseEInvoice(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want Document
	}{
		{"CII invoice with PO and due date", fill(ciiInvoice, "%TYPE%", "380", "%QTY%", "5", "%NET%", "50.00", "%TAX%", "9.50", "%GROSS%", "59.50",
			"%PO%", "<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-77</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>",
			"%TERMS%", `<ram:SpecifiedTradePaymentTerms><ram:Description>30 Tage netto</ram:Description><ram:DueDateDateTime><udt:DateTimeString format="102">20241201</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>`),
			Document{Type: TypeInvoice, TypeCode: "380", Number: "RE-2024-17", IssueDate: "2024-11-01", DueDate: "2024-12-01", PONumber: "PO-77", Currency: "EUR",
				Subtotal: "50.00", Tax: "9.50", Total: "59.50", AmountDue: "59.50", Supplier: "Lieferant GmbH", SupplierVAT: "DE123456789", Buyer: "Kunden AG", PaymentTerms: "30 Tage netto",
				Lines: []Line{{SKU: "A-1", Description: "Schrauben M6", Quantity: "5", Unit: "C62", UnitPrice: "10.00", Total: "50.00"}}}},
		// One sign convention for credit notes (sign.go): credited amounts are positive.
		{"CII credit note written negative, no PO, no terms", fill(ciiInvoice, "%TYPE%", "381", "%QTY%", "-5", "%NET%", "-50.00", "%TAX%", "-9.50", "%GROSS%", "-59.50", "%PO%", "", "%TERMS%", ""),
			Document{Type: TypeCreditNote, TypeCode: "381", Number: "RE-2024-17", IssueDate: "2024-11-01", Currency: "EUR",
				Subtotal: "50.00", Tax: "9.50", Total: "59.50", AmountDue: "59.50", Supplier: "Lieferant GmbH", SupplierVAT: "DE123456789", Buyer: "Kunden AG",
				Lines: []Line{{SKU: "A-1", Description: "Schrauben M6", Quantity: "5", Unit: "C62", UnitPrice: "10.00", Total: "50.00"}}}},
		{"CII correction invoice with a negative total keeps its sign", fill(ciiInvoice, "%TYPE%", "380", "%QTY%", "-5", "%NET%", "-50.00", "%TAX%", "-9.50", "%GROSS%", "-59.50", "%PO%", "", "%TERMS%", ""),
			Document{Type: TypeInvoice, TypeCode: "380", Number: "RE-2024-17", IssueDate: "2024-11-01", Currency: "EUR",
				Subtotal: "-50.00", Tax: "-9.50", Total: "-59.50", AmountDue: "-59.50", Supplier: "Lieferant GmbH", SupplierVAT: "DE123456789", Buyer: "Kunden AG",
				Lines: []Line{{SKU: "A-1", Description: "Schrauben M6", Quantity: "-5", Unit: "C62", UnitPrice: "10.00", Total: "-50.00"}}}},
		{"UBL invoice, legal name, order, due date", fill(ublDoc, "%ROOT%", "Invoice", "%QTYEL%", "InvoicedQuantity", "%TYPE%", "380", "%QTY%", "3.", "%NET%", "30.00", "%TAX%", "7.50", "%GROSS%", "37.50",
			"%DUE%", "<cbc:DueDate>2024-04-04</cbc:DueDate>", "%ORDER%", "<cac:OrderReference><cbc:ID>NA</cbc:ID></cac:OrderReference>",
			"%LEGAL%", "<cac:PartyLegalEntity><cbc:RegistrationName>Seller AB</cbc:RegistrationName></cac:PartyLegalEntity>"),
			Document{Type: TypeInvoice, TypeCode: "380", Number: "INV-9", IssueDate: "2024-03-05", DueDate: "2024-04-04", PONumber: "NA", Currency: "SEK",
				Subtotal: "30.00", Tax: "7.50", Total: "37.50", AmountDue: "37.50", Supplier: "Seller AB", SupplierVAT: "SE556677889901", Buyer: "Buyer AB",
				Lines: []Line{{Description: "Paper A4", Quantity: "3", Unit: "EA", UnitPrice: "10", Total: "30.00"}}}},
		{"UBL credit note, due date only in a comment, trade name", fill(ublDoc, "%ROOT%", "CreditNote", "%QTYEL%", "CreditedQuantity", "%TYPE%", "381", "%QTY%", "3", "%NET%", "30.00", "%TAX%", "7.50", "%GROSS%", "37.50",
			"%DUE%", "", "%ORDER%", "", "%LEGAL%", ""),
			Document{Type: TypeCreditNote, TypeCode: "381", Number: "INV-9", IssueDate: "2024-03-05", Currency: "SEK",
				Subtotal: "30.00", Tax: "7.50", Total: "37.50", AmountDue: "37.50", Supplier: "Trade name", SupplierVAT: "SE556677889901", Buyer: "Buyer AB",
				Lines: []Line{{Description: "Paper A4", Quantity: "3", Unit: "EA", UnitPrice: "10", Total: "30.00"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !LooksLikeXML([]byte("\ufeff  " + tt.xml)) {
				t.Fatal("not recognised as XML")
			}
			got, err := ParseEInvoice([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range append(append([]string{}, HeaderFields...), "buyer", "amount_due") {
				if g, w := got.fieldAny(f), tt.want.fieldAny(f); g != w {
					t.Errorf("%s = %q, want %q", f, g, w)
				}
			}
			if got.TypeCode != tt.want.TypeCode || got.SupplierVAT != tt.want.SupplierVAT {
				t.Errorf("type code %q vat %q", got.TypeCode, got.SupplierVAT)
			}
			if len(got.Lines) != len(tt.want.Lines) {
				t.Fatalf("lines %+v, want %+v", got.Lines, tt.want.Lines)
			}
			for i := range got.Lines {
				if got.Lines[i] != tt.want.Lines[i] {
					t.Errorf("line %d = %+v, want %+v", i, got.Lines[i], tt.want.Lines[i])
				}
			}
			if got.Source != SourceXML || got.Sources["total"] != SourceXML || got.Confidence["total"] != 1 {
				t.Errorf("source %q sources %v confidence %v", got.Source, got.Sources, got.Confidence)
			}
			if len(got.Problems) != 0 {
				t.Errorf("problems %v", got.Problems)
			}
		})
	}
}

func TestParseEInvoiceArithmeticProblem(t *testing.T) {
	x := fill(ciiInvoice, "%TYPE%", "380", "%QTY%", "5", "%NET%", "50.00", "%TAX%", "9.50", "%GROSS%", "60.00", "%PO%", "", "%TERMS%", "")
	d, err := ParseEInvoice([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "does not add up") {
		t.Errorf("problems %v", d.Problems)
	}
}

func TestParseEInvoiceRefuses(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	tests := []struct{ name, xml, msg string }{
		{"not an invoice", `<html><body/></html>`, "not a PDF file or an e-invoice"},
		{"malformed", `<Invoice><cbc:ID>1</Invoice>`, "unreadable e-invoice: malformed XML"},
		{"deep", `<Invoice>` + deep + `</Invoice>`, "unreadable e-invoice: XML nested deeper"},
		{"empty invoice", `<Invoice></Invoice>`, "unreadable e-invoice: it has neither"},
		{"entity", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice><ID>&e;</ID></Invoice>`, "unreadable e-invoice: malformed XML"},
		{"charset", `<?xml version="1.0" encoding="EBCDIC"?><Invoice/>`, "unreadable e-invoice: malformed XML"},
		{"too large", `<Invoice>` + strings.Repeat(" ", MaxXMLBytes) + `</Invoice>`, "unreadable e-invoice: XML too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEInvoice([]byte(tt.xml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error %q, want prefix %q", err, tt.msg)
			}
			if cases.KindOf(err) != cases.KindInvalid {
				t.Errorf("kind %v", cases.KindOf(err))
			}
		})
	}
}

func TestAmountForms(t *testing.T) {
	got := amountForms("-1234567.5")
	want := []string{"1234567.50", "1,234,567.50", "1.234.567,50", "1234567,50", "1'234'567.50"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v", got)
	}
}

func FuzzParseEInvoice(f *testing.F) {
	f.Add([]byte(fill(ciiInvoice, "%TYPE%", "380", "%QTY%", "5", "%NET%", "50.00", "%TAX%", "9.50", "%GROSS%", "59.50", "%PO%", "", "%TERMS%", "")))
	f.Add([]byte(fill(ublDoc, "%ROOT%", "Invoice", "%QTYEL%", "InvoicedQuantity", "%TYPE%", "380", "%QTY%", "3.", "%NET%", "30", "%TAX%", "7", "%GROSS%", "37", "%DUE%", "", "%ORDER%", "", "%LEGAL%", "")))
	f.Add([]byte(`<Invoice><ID>1</ID></Invoice>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseEInvoice(data)
		if err != nil {
			if cases.KindOf(err) != cases.KindInvalid {
				t.Fatalf("kind %v for %v", cases.KindOf(err), err)
			}
			return
		}
		if d.Number == "" && d.Total == "" {
			t.Fatal("accepted a document with neither number nor total")
		}
		for _, a := range []string{d.Subtotal, d.Tax, d.Total, d.AmountDue} {
			if _, ok := rat(a); a != "" && !ok {
				t.Fatalf("amount %q is not a decimal", a)
			}
		}
	})
}
