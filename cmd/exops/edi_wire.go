package main

import (
	"context"
	"strconv"
	"time"

	"github.com/exops/exops/agents/documents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/desk"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/connectors/edi"
)

// wireEDI builds the EDI reader on the engine, the store and the document
// intake, and serves POST /v1/edi. Orders are remembered in the store; the
// schedules raise overdue confirmations (startSchedules).
func (m *Main) wireEDI(eng *cases.Engine, store cases.Store, docs *desk.Documents) {
	m.edi = &edi.Reader{Ingester: eng, Ledger: edi.StoreLedger{Store: store}, Matcher: ediMatcher{docs},
		Noter: edi.CaseNotes{Store: store, Engine: eng}, Now: m.cfg.Now,
		ConfirmationDue: func() time.Duration { return m.current.Load().ConfirmationDue() }}
	max := m.cfg.MaxBody
	if max < connectors.DefaultMaxEDIBody {
		max = connectors.DefaultMaxEDIBody
	}
	m.mux.Handle("POST /v1/edi", &connectors.EDIIntake{Reader: m.edi, Secrets: m.cfg.SourceSecrets, MaxBody: max, Logger: m.log})
}

// ediMatcher hands an EDI invoice to the same three-way match as a PDF
// invoice: its fields become a documents.Document, read with full
// confidence, since they come from structured data as an e-invoice's do.
type ediMatcher struct{ docs *desk.Documents }

func (em ediMatcher) MatchInvoice(ctx context.Context, inv edi.Document, at time.Time, id func(int) string) (string, []cases.Event) {
	doc := documents.Document{File: inv.Type + " " + inv.DocumentNumber, Type: documents.TypeInvoice,
		Supplier: inv.Sender, Number: inv.DocumentNumber, IssueDate: inv.Date, DueDate: inv.DueDate, PONumber: inv.PONumber,
		Currency: inv.Currency, PaymentTerms: inv.Terms, Source: "edi", Confidence: map[string]float64{}}
	for _, p := range inv.Parties {
		if p.Role == "VN" || p.Role == "SU" || p.Role == "SE" || p.Role == "II" {
			doc.Supplier = firstNonEmptyStr(p.Name, p.ID, doc.Supplier)
			break
		}
	}
	if inv.Total != 0 {
		doc.Total = strconv.FormatFloat(inv.Total, 'f', -1, 64)
	}
	for _, l := range inv.Items {
		line := documents.Line{SKU: l.Item, Description: l.Description, Quantity: strconv.FormatFloat(l.Quantity, 'f', -1, 64), Unit: l.Unit}
		if l.HasPrice {
			line.UnitPrice = strconv.FormatFloat(l.UnitPrice, 'f', -1, 64)
		}
		doc.Lines = append(doc.Lines, line)
	}
	for _, f := range append(append([]string{}, documents.HeaderFields...), "lines") {
		doc.Confidence[f] = 1
	}
	res := em.docs.Match(ctx, documents.Reading(doc.File, doc), at, edi.Source, id)
	return res.Note, res.Raise
}

func firstNonEmptyStr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
