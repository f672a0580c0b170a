package desk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// DocumentReader reads a supplier document (PDF or XML invoice) in
// isolation: agents/documents behind it.
type DocumentReader interface {
	ReadDocument(ctx context.Context, name string, data []byte) (cases.DocumentReading, error)
}

// Orders is the ERP's view of a purchase order and what was received
// against it (the simulator, or the REST connectors).
type Orders interface {
	PurchaseOrder(ctx context.Context, po string) (cases.PurchaseOrder, cases.Receipt, error)
}

// Fetcher gets the bytes of the document an event carries in data.document
// (connectors.DocumentFetcher: inline base64, or an allowlisted HTTPS URL,
// bounded by cases.MaxDocumentBytes).
type Fetcher interface {
	FetchDocument(ctx context.Context, doc map[string]any) ([]byte, error)
}

// DocumentSource is the CloudEvents source of the variances documents show.
const DocumentSource = "/exops/documents"

// Documents is document intake: read a document, match an invoice against
// its PO and receipt under the policy's tolerances, and say what to raise.
// It is the engine's cases.DocumentReader for documents attached to events,
// and the desk's for documents people share.
type Documents struct {
	Reader  DocumentReader
	Orders  Orders  // nil: no three-way match
	Fetcher Fetcher // nil: documents attached to events are not fetched
	Events  EventLoader
	Policy  func() Rules
}

// EventLoader loads a stored event, whose data holds the document.
type EventLoader interface {
	View(ctx context.Context, fn func(tx cases.ReadTx) error) error
}

// ReadDocument reads the document attached to an event of case c.
func (d *Documents) ReadDocument(ctx context.Context, c *cases.Case, ev cases.CaseEvent) (cases.DocumentResult, bool) {
	var stored *cases.StoredEvent
	if err := d.Events.View(ctx, func(tx cases.ReadTx) error {
		var err error
		stored, err = tx.Event(ev.Source, ev.ID)
		return err
	}); err != nil {
		return cases.DocumentResult{Note: fmt.Sprintf(":page_facing_up: the document of event %s could not be loaded: %s", ev.ID, plainError(err))}, true
	}
	doc, ok := stored.Event.Data["document"].(map[string]any)
	if !ok {
		return cases.DocumentResult{}, false
	}
	name, _ := doc["name"].(string)
	if name == "" {
		name = ev.ID + ".pdf"
	}
	if d.Fetcher == nil {
		return cases.DocumentResult{Note: fmt.Sprintf(":page_facing_up: %s (event %s): documents attached to events are not fetched here", name, ev.ID)}, true
	}
	data, err := d.Fetcher.FetchDocument(ctx, doc)
	if err != nil {
		return cases.DocumentResult{Note: fmt.Sprintf(":page_facing_up: %s (event %s): %v", name, ev.ID, err)}, true
	}
	return d.Read(ctx, name, data, ev.Time), true
}

// Read reads one document: a note that says what it is and what its checks
// and its three-way match found, and the variance events to raise, stamped
// at (the time of the event that carried the document, or of its sharing).
// The same bytes always give the same event ids, so reading a document again
// raises only duplicates.
func (d *Documents) Read(ctx context.Context, name string, data []byte, at time.Time) cases.DocumentResult {
	if len(data) > cases.MaxDocumentBytes {
		return cases.DocumentResult{Note: fmt.Sprintf(":page_facing_up: %s is over %d MB; nothing was read.", name, cases.MaxDocumentBytes>>20)}
	}
	rd, err := d.Reader.ReadDocument(ctx, name, data)
	if err != nil {
		return cases.DocumentResult{Note: documentFailure(name, err)}
	}
	sum := sha256.Sum256(data)
	return d.Match(ctx, rd, at, DocumentSource, func(i int) string { return fmt.Sprintf("doc-%x-%d", sum[:8], i) })
}

// Match runs the three-way match of a document already read (a PDF or XML
// invoice, or an EDI 810 or INVOIC) against the PO and receipt the ERP and
// WMS give, under the policy's tolerances: a note that says what it found,
// and the variance events to raise from source with the ids id(i) gives.
func (d *Documents) Match(ctx context.Context, rd cases.DocumentReading, at time.Time, source string, id func(i int) string) cases.DocumentResult {
	res := cases.DocumentResult{Note: DocumentNote(rd.Summary)}
	if rd.Match == nil || d.Orders == nil {
		return res
	}
	po, rc, err := d.Orders.PurchaseOrder(ctx, rd.Summary.PONumber)
	if err != nil {
		res.Note += fmt.Sprintf(" No three-way match: %s.", plainError(err))
		return res
	}
	price, qty, total := d.Policy().MatchTolerances()
	vars, err := rd.Match(po, rc, cases.MatchTolerances{PricePct: price, QuantityPct: qty, TotalPct: total})
	if err != nil {
		res.Note += fmt.Sprintf(" No three-way match: %s.", plainError(err))
		return res
	}
	if len(vars) == 0 {
		res.Note += fmt.Sprintf(" Three-way match with %s and its receipt: no variance beyond the tolerances.", rd.Summary.PONumber)
		return res
	}
	var words []string
	for i, v := range vars {
		words = append(words, v.Message)
		if v.EventType == "" {
			continue // evidence only: no event type carries it
		}
		ev, err := cases.NewEvent(cases.Event{Source: source, Type: v.EventType,
			ID: id(i), Time: at, Subject: rd.Summary.Number, Data: v.Data})
		if err != nil {
			words = append(words, fmt.Sprintf("(could not raise it as an event: %s)", plainError(err)))
			continue
		}
		res.Raise = append(res.Raise, ev)
	}
	res.Note += fmt.Sprintf(" Three-way match with %s and its receipt: %s.", rd.Summary.PONumber, strings.Join(words, "; "))
	return res
}

// documentFailure says in one line why a document could not be read.
func documentFailure(name string, err error) string {
	var ce *cases.Error
	if errors.As(err, &ce) && ce.Msg != "" {
		return fmt.Sprintf(":page_facing_up: %s: %s", name, ce.Msg)
	}
	return fmt.Sprintf(":page_facing_up: %s could not be read.", name)
}

// DocumentNote says in one message what a document is and what was wrong
// with it.
func DocumentNote(s cases.DocumentSummary) string {
	var b strings.Builder
	kind := s.Type
	if kind == "" {
		kind = "document"
	}
	fmt.Fprintf(&b, ":page_facing_up: %s: %s", s.Name, strings.ReplaceAll(kind, "_", " "))
	if s.Number != "" {
		fmt.Fprintf(&b, " %s", s.Number)
	}
	if s.Supplier != "" {
		fmt.Fprintf(&b, " from %s", s.Supplier)
	}
	if s.PONumber != "" {
		fmt.Fprintf(&b, ", PO %s", s.PONumber)
	}
	if s.Total != "" {
		fmt.Fprintf(&b, ", total %s %s", s.Total, s.Currency)
	}
	if s.IssueDate != "" {
		fmt.Fprintf(&b, ", issued %s", s.IssueDate)
	}
	if s.DueDate != "" {
		fmt.Fprintf(&b, ", due %s", s.DueDate)
	}
	fmt.Fprintf(&b, ", %d lines.", s.Lines)
	if len(s.Problems) > 0 {
		fmt.Fprintf(&b, " Problems: %s", strings.Join(s.Problems, " "))
	}
	return b.String()
}
