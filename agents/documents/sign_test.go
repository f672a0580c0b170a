package documents

import "testing"

// TestCreditNoteSignSameOnEveryPath: the same credit note read from its
// printed text (amounts printed negative, as many suppliers do) and from its
// XML (positive, as EN 16931 writes a 381) comes out with the same signs.
func TestCreditNoteSignSameOnEveryPath(t *testing.T) {
	printed := ExtractFields([]PageText{page(
		"Credit Note",
		"Credit Note No | CN-2024-7",
		"Date | 2024-03-05",
		"Description | Qty | Unit Price | Amount",
		"Paper A4 | 3 | 10.00 | -30.00",
		"Subtotal | | | -30.00",
		"VAT | | | -7.50",
		"Total | | | -37.50",
	)})
	xml, err := ParseEInvoice([]byte(fill(ublDoc, "%ROOT%", "CreditNote", "%QTYEL%", "CreditedQuantity", "%TYPE%", "381", "%QTY%", "3", "%NET%", "30.00",
		"%TAX%", "7.50", "%GROSS%", "37.50", "%DUE%", "", "%ORDER%", "", "%LEGAL%", "")))
	if err != nil {
		t.Fatal(err)
	}
	xmlNeg, err := ParseEInvoice([]byte(fill(ublDoc, "%ROOT%", "CreditNote", "%QTYEL%", "CreditedQuantity", "%TYPE%", "381", "%QTY%", "-3", "%NET%", "-30.00",
		"%TAX%", "-7.50", "%GROSS%", "-37.50", "%DUE%", "", "%ORDER%", "", "%LEGAL%", "")))
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]Document{"text": printed, "xml": xml, "xml written negative": xmlNeg} {
		if d.Type != TypeCreditNote {
			t.Errorf("%s: type %q, want credit_note", name, d.Type)
		}
		if d.Subtotal != "30.00" || d.Tax != "7.50" || d.Total != "37.50" {
			t.Errorf("%s: subtotal %q tax %q total %q, want 30.00 7.50 37.50", name, d.Subtotal, d.Tax, d.Total)
		}
		if len(d.Lines) != 1 || d.Lines[0].Total != "30.00" || d.Lines[0].Quantity != "3" {
			t.Errorf("%s: lines %+v, want one of 3 for 30.00", name, d.Lines)
		}
	}
	// An invoice printed negative (a correction) is not a credit note: kept.
	inv := ExtractFields([]PageText{page("Invoice", "Invoice No | INV-9", "Total | -37.50")})
	if inv.Type != TypeInvoice || inv.Total != "-37.50" {
		t.Errorf("negative invoice: type %q total %q, want invoice -37.50", inv.Type, inv.Total)
	}
}
