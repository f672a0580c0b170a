// Package documents reads supplier PDFs (invoices, credit notes, order
// confirmations, packing lists and ASNs, bills of lading) into fields that a
// case can use as evidence, and matches invoices against the PO and the goods
// receipt.
//
// It is the only package that imports github.com/ledongthuc/pdf. That parser
// can panic, loop forever or allocate until the process dies on malformed
// files, so it never runs in the caller's process: Extractor re-executes the
// exops binary as a child ("exops pdf-worker") with a wall-time limit, an
// address-space limit, a size limit and a page limit, and turns every failure
// into a cases.Error with a plain message. Everything after the text layer
// (layout, classification, field rules, arithmetic checks, matching) is pure
// Go over data the child returned, and runs in the caller.
package documents

// Document types.
const (
	TypeInvoice      = "invoice"
	TypeCreditNote   = "credit_note"
	TypeConfirmation = "order_confirmation"
	TypeShipNotice   = "ship_notice" // advance ship notice or packing list
	TypeBillOfLading = "bill_of_lading"
	TypeOther        = "other"
)

// Document is what exops reads from one supplier document. Dates are
// YYYY-MM-DD, amounts and quantities decimal strings ("1234.56") so that no
// float rounding creeps into evidence; empty means "not found".
type Document struct {
	File         string `json:"file"`
	Type         string `json:"type"`
	Supplier     string `json:"supplier"`
	Number       string `json:"number"`
	IssueDate    string `json:"issue_date"`
	DueDate      string `json:"due_date"`
	ShipDate     string `json:"ship_date"`
	PONumber     string `json:"po_number"`
	Currency     string `json:"currency"`
	Subtotal     string `json:"subtotal"`
	Tax          string `json:"tax"`
	Total        string `json:"total"`
	PaymentTerms string `json:"payment_terms"`
	Lines        []Line `json:"lines"`
	// Confidence per field (the JSON names above, and "lines"), 0 to 1. It
	// comes from checks that can fail: a labelled value parsed cleanly, the
	// lines add up to the subtotal, subtotal plus tax is the total.
	Confidence map[string]float64 `json:"confidence"`
	// Problems are plain sentences about what did not add up or was missing.
	Problems []string `json:"problems"`
	// Pages is how many pages the text layer had (not part of the issue's
	// format, but the eval and benchmarks count pages).
	Pages int `json:"pages,omitempty"`

	// Added for e-invoices and for confidence that governs (issue 11).
	Buyer       string `json:"buyer,omitempty"`
	SupplierVAT string `json:"supplier_vat,omitempty"`
	AmountDue   string `json:"amount_due,omitempty"`
	TypeCode    string `json:"type_code,omitempty"` // UNTDID 1001 code of an e-invoice (380, 381, ...)
	// Source is where the document as a whole was read from: SourceXML (a
	// standalone or embedded e-invoice) or SourceText.
	Source string `json:"source,omitempty"`
	// Sources says, per field (the JSON names), where it came from:
	// SourceXML, SourceText or SourceModel.
	Sources map[string]string `json:"sources,omitempty"`
}

// Uncertain lists the fields found with a confidence below min, in
// HeaderFields order then "lines": a three-way match on such a document must
// not auto-resolve, and the card names these fields.
func (d *Document) Uncertain(min float64) []string {
	var out []string
	for _, f := range append(append([]string{}, HeaderFields...), "lines") {
		c, ok := d.Confidence[f]
		if ok && c < min {
			out = append(out, f)
		}
	}
	return out
}

// Line is one line item.
type Line struct {
	SKU         string `json:"sku"`
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	Unit        string `json:"unit"`
	UnitPrice   string `json:"unit_price"`
	Total       string `json:"total"`
}

// HeaderFields lists the document-level fields in output order; the eval and
// the confidence map use these names.
var HeaderFields = []string{"type", "supplier", "number", "issue_date", "due_date", "ship_date", "po_number",
	"currency", "subtotal", "tax", "total", "payment_terms"}

// LineFields lists the line item fields; the eval reports them as "lines.sku" etc.
var LineFields = []string{"sku", "description", "quantity", "unit", "unit_price", "total"}

// Field returns a header field by its JSON name.
func (d *Document) Field(name string) string {
	switch name {
	case "type":
		return d.Type
	case "supplier":
		return d.Supplier
	case "number":
		return d.Number
	case "issue_date":
		return d.IssueDate
	case "due_date":
		return d.DueDate
	case "ship_date":
		return d.ShipDate
	case "po_number":
		return d.PONumber
	case "currency":
		return d.Currency
	case "subtotal":
		return d.Subtotal
	case "tax":
		return d.Tax
	case "total":
		return d.Total
	case "payment_terms":
		return d.PaymentTerms
	}
	return ""
}

// SetField sets a header field by its JSON name.
func (d *Document) SetField(name, v string) {
	switch name {
	case "type":
		d.Type = v
	case "supplier":
		d.Supplier = v
	case "number":
		d.Number = v
	case "issue_date":
		d.IssueDate = v
	case "due_date":
		d.DueDate = v
	case "ship_date":
		d.ShipDate = v
	case "po_number":
		d.PONumber = v
	case "currency":
		d.Currency = v
	case "subtotal":
		d.Subtotal = v
	case "tax":
		d.Tax = v
	case "total":
		d.Total = v
	case "payment_terms":
		d.PaymentTerms = v
	}
}

// Field returns a line field by its JSON name.
func (l *Line) Field(name string) string {
	switch name {
	case "sku":
		return l.SKU
	case "description":
		return l.Description
	case "quantity":
		return l.Quantity
	case "unit":
		return l.Unit
	case "unit_price":
		return l.UnitPrice
	case "total":
		return l.Total
	}
	return ""
}
