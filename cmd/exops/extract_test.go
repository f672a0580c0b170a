package main

import (
	"encoding/json"
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
		{"memory-bomb.pdf", "PDF too large: reading it needed more than 256 MiB of memory"},
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
