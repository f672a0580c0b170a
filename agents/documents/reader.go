package documents

import (
	"context"
	"strings"

	"github.com/exops/exops/cases"
)

// Reader is what the application layer's document intake sees of this
// package: a document read in the isolated child, summarised in the
// domain's words, with the three-way match of an invoice ready to run
// against the PO and receipt the intake fetches.
type Reader struct {
	Extractor *Extractor
}

// ReadDocument reads one document.
func (r Reader) ReadDocument(ctx context.Context, name string, data []byte) (cases.DocumentReading, error) {
	doc, err := r.Extractor.Extract(ctx, name, data)
	if err != nil {
		return cases.DocumentReading{}, err
	}
	return Reading(name, doc), nil
}

// Reading is a document as the application layer's document intake sees
// it: its summary and, for an invoice naming a PO, its three-way match. A
// document read elsewhere (an EDI invoice, whose fields are structured like
// an e-invoice's) goes through the same match this way.
func Reading(name string, doc Document) cases.DocumentReading {
	out := cases.DocumentReading{Summary: cases.DocumentSummary{
		Name: name, Type: doc.Type, Number: doc.Number, Supplier: doc.Supplier, PONumber: doc.PONumber,
		Currency: doc.Currency, Total: doc.Total, IssueDate: doc.IssueDate, DueDate: doc.DueDate,
		Lines: len(doc.Lines), Problems: doc.Problems,
	}}
	if doc.Type == TypeInvoice && strings.TrimSpace(doc.PONumber) != "" {
		out.Match = func(po cases.PurchaseOrder, rc cases.Receipt, tol cases.MatchTolerances) ([]cases.Variance, error) {
			return matchInvoice(doc, po, rc, tol)
		}
	}
	return out
}

// matchInvoice runs ThreeWayMatch on the ERP's PO and the WMS's receipt.
func matchInvoice(doc Document, po cases.PurchaseOrder, rc cases.Receipt, tol cases.MatchTolerances) ([]cases.Variance, error) {
	in := MatchInput{Invoice: doc, PO: doc.PONumber, Supplier: po.Supplier,
		PricePct: tol.PricePct, QuantityPct: tol.QuantityPct, TotalPct: tol.TotalPct}
	for _, l := range po.Lines {
		in.POLines = append(in.POLines, POLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	for _, l := range rc.Lines {
		w := l.Warehouse
		if w == "" {
			w = "UNKNOWN"
		}
		in.Receipts = append(in.Receipts, ReceiptLine{SKU: l.SKU, Warehouse: w, Quantity: l.Quantity})
	}
	vars, err := ThreeWayMatch(in)
	if err != nil {
		return nil, err
	}
	out := make([]cases.Variance, len(vars))
	for i, v := range vars {
		out[i] = cases.Variance{Message: v.Message, EventType: v.EventType, Data: v.Data}
	}
	return out, nil
}
