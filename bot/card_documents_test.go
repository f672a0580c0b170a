package bot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/exops/exops/cases"
)

// A variance raised from a document with fields read at low confidence: the
// card names the document, each uncertain field and where it came from; a
// document read with confidence adds nothing.
func TestCardListsUncertainDocumentFields(t *testing.T) {
	c := resolvedCase()
	c.Events = append(c.Events,
		cases.CaseEvent{ID: "doc-1", Source: "/exops/documents", Type: "invoice.price_variance", Family: cases.FamilyPriceDiscrepancy, Time: t0,
			Data: map[string]any{"po": "PO-3298", "document": "inv-90211.pdf",
				"document_fields": map[string]any{
					"po_number": map[string]any{"value": "PO-3298", "source": "model", "confidence": 0.6},
					"lines":     map[string]any{"value": 1.0, "source": "text", "confidence": 0.55},
					"number":    map[string]any{"value": "INV-90211", "source": "text", "confidence": 0.95},
				},
				// After a store round trip the list is []any.
				"uncertain_fields": []any{"po_number", "lines"}}},
		cases.CaseEvent{ID: "doc-2", Source: "/exops/documents", Type: "invoice.price_variance", Family: cases.FamilyPriceDiscrepancy, Time: t0,
			Data: map[string]any{"po": "PO-3298", "document": "e-invoice.xml",
				"document_fields": map[string]any{"po_number": map[string]any{"value": "PO-3298", "source": "xml", "confidence": 1.0}}}},
	)
	b, err := json.Marshal(CaseCard(c))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want := "Uncertain in inv-90211.pdf: po number (language model, 60%), lines (PDF text, 55%)"
	if !strings.Contains(got, want) {
		t.Errorf("card lacks %q:\n%s", want, got)
	}
	if strings.Contains(got, "e-invoice.xml") || strings.Contains(got, "INV-90211 (") {
		t.Errorf("card names fields read with confidence:\n%s", got)
	}
}
