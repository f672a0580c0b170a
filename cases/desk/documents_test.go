package desk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/desk"
)

// fakeReader reads every document as the invoice it was told to be.
type fakeReader struct {
	sum  cases.DocumentSummary
	vars []cases.Variance
	err  error
	seen []cases.MatchTolerances
}

func (f *fakeReader) ReadDocument(_ context.Context, name string, _ []byte) (cases.DocumentReading, error) {
	if f.err != nil {
		return cases.DocumentReading{}, f.err
	}
	s := f.sum
	s.Name = name
	return cases.DocumentReading{Summary: s, Match: func(po cases.PurchaseOrder, _ cases.Receipt, tol cases.MatchTolerances) ([]cases.Variance, error) {
		f.seen = append(f.seen, tol)
		return f.vars, nil
	}}, nil
}

type fakeOrders struct{ err error }

func (f fakeOrders) PurchaseOrder(_ context.Context, po string) (cases.PurchaseOrder, cases.Receipt, error) {
	return cases.PurchaseOrder{PO: po, Supplier: "Northwind Fasteners"}, cases.Receipt{PO: po}, f.err
}

type rules struct{}

func (rules) Compliance() ([]string, []string)             { return []string{"U0AUDIT"}, nil }
func (rules) MatchTolerances() (float64, float64, float64) { return 1, 2, 0.5 }

var at = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func priceVariance() cases.Variance {
	return cases.Variance{Message: "SKU-12 invoiced at 4.03, PO says 4.00", EventType: "invoice.price_variance",
		Data: map[string]any{"invoice": "INV-1", "po": "PO-3298", "supplier": "Northwind Fasteners", "sku": "SKU-12",
			"quantity": 500, "invoice_unit_price": 4.03, "po_unit_price": 4.0}}
}

func TestDocumentsRead(t *testing.T) {
	invoice := cases.DocumentSummary{Type: "invoice", Number: "INV-1", Supplier: "Northwind Fasteners", PONumber: "PO-3298",
		Total: "2015.00", Currency: "USD", Lines: 1}
	tests := []struct {
		name      string
		reader    *fakeReader
		orders    desk.Orders
		data      []byte
		note      []string
		raised    int
		toleranes bool
	}{
		{"a variance becomes a typed event", &fakeReader{sum: invoice, vars: []cases.Variance{priceVariance()}}, fakeOrders{}, []byte("pdf"),
			[]string{"invoice INV-1 from Northwind Fasteners, PO PO-3298", "Three-way match with PO-3298", "4.03"}, 1, true},
		{"evidence only raises nothing", &fakeReader{sum: invoice, vars: []cases.Variance{{Message: "total off by 0.01"}}}, fakeOrders{}, []byte("pdf"),
			[]string{"total off by 0.01"}, 0, true},
		{"no variance", &fakeReader{sum: invoice}, fakeOrders{}, []byte("pdf"), []string{"no variance beyond the tolerances"}, 0, true},
		{"the ERP has no PO", &fakeReader{sum: invoice, vars: []cases.Variance{priceVariance()}},
			fakeOrders{err: cases.Errorf(cases.KindNotFound, "ERP has no PO PO-3298")}, []byte("pdf"), []string{"No three-way match: ERP has no PO PO-3298."}, 0, false},
		{"unreadable document", &fakeReader{err: cases.Errorf(cases.KindInvalid, "the PDF is encrypted")}, fakeOrders{}, []byte("pdf"),
			[]string{"x.pdf: the PDF is encrypted"}, 0, false},
		{"our failure is not shown", &fakeReader{err: errors.New("worker: exec format error")}, fakeOrders{}, []byte("pdf"),
			[]string{"x.pdf could not be read."}, 0, false},
		{"over the one size limit", &fakeReader{sum: invoice}, fakeOrders{}, make([]byte, cases.MaxDocumentBytes+1), []string{"over 20 MB"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &desk.Documents{Reader: tt.reader, Orders: tt.orders, Policy: func() desk.Rules { return rules{} }}
			r := d.Read(context.Background(), "x.pdf", tt.data, at)
			for _, want := range tt.note {
				if !strings.Contains(r.Note, want) {
					t.Errorf("note %q lacks %q", r.Note, want)
				}
			}
			if len(r.Raise) != tt.raised {
				t.Fatalf("raised %d events, want %d: %+v", len(r.Raise), tt.raised, r.Raise)
			}
			if tt.toleranes && (len(tt.reader.seen) != 1 || tt.reader.seen[0] != (cases.MatchTolerances{PricePct: 1, QuantityPct: 2, TotalPct: 0.5})) {
				t.Errorf("match ran with tolerances %+v, want the policy's", tt.reader.seen)
			}
			for _, ev := range r.Raise {
				if ev.Source != desk.DocumentSource || ev.Type != "invoice.price_variance" || !ev.Time.Equal(at) || ev.Subject != "INV-1" {
					t.Errorf("event %+v", ev)
				}
				if q, ok := ev.Data["quantity"].(float64); !ok || q != 500 {
					t.Errorf("quantity not normalised as intake would: %#v", ev.Data["quantity"])
				}
			}
		})
	}
}

// The same bytes raise the same ids, so a retry or a second sharing is a
// duplicate; other bytes raise other ids.
func TestDocumentEventIDsFollowTheBytes(t *testing.T) {
	reader := &fakeReader{sum: cases.DocumentSummary{Type: "invoice", Number: "INV-1", PONumber: "PO-3298"}, vars: []cases.Variance{priceVariance()}}
	d := &desk.Documents{Reader: reader, Orders: fakeOrders{}, Policy: func() desk.Rules { return rules{} }}
	a := d.Read(context.Background(), "a.pdf", []byte("one"), at)
	b := d.Read(context.Background(), "b.pdf", []byte("one"), at.Add(time.Hour))
	c := d.Read(context.Background(), "a.pdf", []byte("two"), at)
	if a.Raise[0].ID != b.Raise[0].ID {
		t.Errorf("same bytes, ids %s and %s", a.Raise[0].ID, b.Raise[0].ID)
	}
	if a.Raise[0].ID == c.Raise[0].ID {
		t.Errorf("other bytes, same id %s", a.Raise[0].ID)
	}
}

// A variance whose data the event type does not accept is reported, not raised.
func TestDocumentVarianceThatIsNotAValidEvent(t *testing.T) {
	bad := priceVariance()
	delete(bad.Data, "po_unit_price")
	reader := &fakeReader{sum: cases.DocumentSummary{Type: "invoice", PONumber: "PO-3298"}, vars: []cases.Variance{bad}}
	d := &desk.Documents{Reader: reader, Orders: fakeOrders{}, Policy: func() desk.Rules { return rules{} }}
	r := d.Read(context.Background(), "x.pdf", []byte("x"), at)
	if len(r.Raise) != 0 || !strings.Contains(r.Note, "could not raise it as an event: data.po_unit_price: required") {
		t.Errorf("raised %+v, note %q", r.Raise, r.Note)
	}
}
