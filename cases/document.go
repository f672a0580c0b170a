package cases

// What the application layer needs to know of a supplier document and of
// the purchase order and receipt it is matched against. The documents
// package reads the document; the ERP and WMS connectors give the PO and the
// receipt; the three-way match compares them and says which variances to
// raise as events.

// MaxDocumentBytes bounds a supplier document (PDF or XML) wherever it comes
// from: a Slack file, an event's inline content or URL, `exops extract`.
const MaxDocumentBytes = 20 << 20

// DocumentSummary is what a person is told a document is.
type DocumentSummary struct {
	Name      string
	Type      string // invoice, credit_note, order_confirmation, …
	Number    string
	Supplier  string
	PONumber  string
	Currency  string
	Total     string
	IssueDate string
	DueDate   string
	Lines     int
	// Problems are plain sentences about what did not add up or was missing.
	Problems []string
}

// PurchaseOrder is the ERP's view of a PO.
type PurchaseOrder struct {
	PO       string   `json:"po"`
	Supplier string   `json:"supplier,omitempty"`
	Status   string   `json:"status,omitempty"`
	Lines    []POLine `json:"lines"`
	// PriceChange names an agreed price change on file for the PO, if any;
	// a disputed invoice price may be explained by it.
	PriceChange string `json:"price_change,omitempty"`
}

// POLine is one purchase order line.
type POLine struct {
	SKU       string  `json:"sku"`
	Quantity  float64 `json:"quantity"`
	UnitPrice float64 `json:"unit_price"`
}

// Receipt is what was received against a PO.
type Receipt struct {
	PO    string        `json:"po"`
	Lines []ReceiptLine `json:"lines"`
}

// ReceiptLine is one goods receipt line.
type ReceiptLine struct {
	SKU       string  `json:"sku"`
	Warehouse string  `json:"warehouse,omitempty"`
	Quantity  float64 `json:"quantity"`
}

// MatchTolerances are the policy's tolerances in percent: a price within
// PricePct of the PO price, a quantity within QuantityPct of the PO
// quantity, an invoice total within TotalPct of the expected total pass.
type MatchTolerances struct {
	PricePct, QuantityPct, TotalPct float64
}

// Variance is one difference the three-way match found. EventType and Data
// say how to raise it as an event; an empty EventType is evidence only.
type Variance struct {
	Message   string
	EventType string
	Data      map[string]any
}

// DocumentReading is one document as read.
type DocumentReading struct {
	Summary DocumentSummary
	// Match compares an invoice with its PO and goods receipt under the
	// tolerances; nil when the document is not an invoice naming a PO.
	Match func(po PurchaseOrder, rc Receipt, tol MatchTolerances) ([]Variance, error)
}
