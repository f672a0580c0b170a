package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpus = "../../agents/documents/testdata/corpus/"
const malformed = "../../agents/documents/testdata/malformed/"

func TestExtractPrintsOneObjectPerDocument(t *testing.T) {
	code, out, errOut := exops(t, "extract", corpus+"invoice-01-en.pdf", corpus+"shipnotice-03-de.pdf")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %d:\n%s", len(lines), out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"file", "type", "supplier", "number", "issue_date", "due_date", "ship_date", "po_number", "currency",
		"subtotal", "tax", "total", "payment_terms", "lines", "confidence", "problems"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if _, ok := doc["pages"]; ok {
		t.Error("pages is not part of the documented format")
	}
	if doc["file"] != "invoice-01-en.pdf" || doc["type"] != "invoice" || doc["number"] != "INV-2026-56725" || doc["total"] != "1161400.12" {
		t.Errorf("fields: %v", doc)
	}
}

func TestExtractBadFileExitsOne(t *testing.T) {
	tests := []struct{ file, msg string }{
		{"encrypted-rc4.pdf", "encrypted PDF: needs a password"},
		{"scanned.pdf", "scanned PDF: no text layer"},
		{"cyclic-page-tree.pdf", "damaged PDF: could not read the page tree"},
		{"memory-bomb.pdf", "PDF too large: a page's content stream inflates to more than 32 MiB"},
	}
	for _, tt := range tests {
		code, out, errOut := exops(t, "extract", "--memory", "256", malformed+tt.file)
		if code != exitFail || !strings.Contains(errOut, tt.msg) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want 1 and %q", tt.file, code, errOut, out, tt.msg)
		}
	}
	// One bad file does not stop the others.
	code, out, _ := exops(t, "extract", malformed+"truncated.pdf", corpus+"bol-01-en.pdf")
	if code != exitFail || !strings.Contains(out, `"type":"bill_of_lading"`) {
		t.Errorf("exit %d, out %q", code, out)
	}
}

func TestExtractEval(t *testing.T) {
	code, out, errOut := exops(t, "extract", "--eval", corpus)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"43 documents", "field                precision    recall", "lines.unit_price", "invoice-09-en.pdf: encrypted PDF"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := exops(t, "extract", "--eval", t.TempDir()); code != exitFail {
		t.Errorf("empty folder: exit %d", code)
	}
}

func TestExtractUsage(t *testing.T) {
	if code, _, _ := exops(t, "extract"); code != exitUsage {
		t.Errorf("no files: exit %d", code)
	}
	if code, _, _ := exops(t, "extract", "--eval", corpus, "x.pdf"); code != exitUsage {
		t.Errorf("eval with files: exit %d", code)
	}
	if code, _, errOut := exops(t, "extract", "missing.pdf"); code != exitFail || !strings.Contains(errOut, "missing.pdf") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
	_, out, _ := exops(t, "help")
	if !strings.Contains(out, "exops extract FILE...") || strings.Contains(out, "pdf-worker") {
		t.Errorf("usage text: %s", out)
	}
}

const ublInvoice = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>INV-9</cbc:ID><cbc:IssueDate>2024-03-05</cbc:IssueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>Seller BV</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">2.10</cbc:TaxAmount></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:TaxExclusiveAmount currencyID="EUR">10.00</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">12.10</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="EUR">12.10</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="EA">1</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Hosting</cbc:Name></cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">10.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>`

// A standalone XML invoice is read like a PDF, and --eval scores a folder in
// the e-invoice corpus format (NAME.xml + NAME.json naming the seller).
func TestExtractStandaloneXMLAndCorpusEval(t *testing.T) {
	dir := t.TempDir()
	xml := filepath.Join(dir, "ubl.xml")
	truth := `{"number": "INV-9", "issue_date": "2024-03-05", "due_date": null, "currency": "EUR", "subtotal": 10.00, "tax": 2.10,
 "total": 12.10, "amount_due": 12.10, "seller": "Seller BV", "buyer": null, "po_number": null,
 "lines": [{"description": "Hosting", "quantity": 1, "unit_price": 10.00, "amount": 10.00}], "type_code": "380"}`
	if err := os.WriteFile(xml, []byte(ublInvoice), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ubl.json"), []byte(truth), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := exops(t, "extract", xml)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["source"] != "xml" || doc["number"] != "INV-9" || doc["total"] != "12.10" || doc["supplier"] != "Seller BV" {
		t.Errorf("%s", out)
	}
	code, out, errOut = exops(t, "extract", "--eval", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"1 documents", "supplier       1/1", "lines          1/1", "fields right: 100.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
}
