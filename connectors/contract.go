package connectors

import (
	"encoding/json"

	"github.com/exops/exops/cases"
)

// The canonical contract between exops and the systems of record: what a
// lookup returns and what an action sends, whatever ERP, WMS, TMS or CRM
// sits behind it. docs/connectors-openapi.yaml is the same contract as
// OpenAPI 3; an integration team writes a thin facade that answers these
// paths from its own system. Paths are relative to each system's base URL
// (EXOPS_ERP_URL and so on), so one server may serve all four under
// prefixes, as the simulator does (/erp, /wms, /tms, /crm).

// Names of the systems of record, as errors and metrics name them.
const (
	ERP = "ERP"
	WMS = "WMS"
	TMS = "TMS"
	CRM = "CRM"
)

// SystemNames lists the systems in a stable order.
func SystemNames() []string { return []string{ERP, WMS, TMS, CRM} }

// HeaderIdempotencyKey carries an action's key: the same on every try of one
// action, so a system that honours it does the action once.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderReplayed is set to "true" by a system answering a repeated key with
// the first outcome instead of acting again.
const HeaderReplayed = "Idempotent-Replayed"

// Order is a sales order with its lines (ERP: GET /v1/orders/{order}).
type Order struct {
	ID          string      `json:"id"`
	Customer    string      `json:"customer"`
	Status      string      `json:"status,omitempty"` // open, held, released, shipped
	PromiseDate string      `json:"promise_date,omitempty"`
	Lines       []OrderLine `json:"lines"`
}

// OrderLine is one line of a sales order.
type OrderLine struct {
	SKU       string  `json:"sku"`
	Quantity  float64 `json:"quantity"`
	Warehouse string  `json:"warehouse,omitempty"`
}

// CreditStatus is a customer's credit position
// (ERP: GET /v1/customers/{customer}/credit).
type CreditStatus struct {
	Customer           string  `json:"customer"`
	CreditLimit        float64 `json:"credit_limit"`
	Balance            float64 `json:"balance"`
	AvgDaysBeyondTerms float64 `json:"avg_days_beyond_terms"`
	OnHold             bool    `json:"on_hold"`
	Currency           string  `json:"currency,omitempty"`
}

// CustomerProfile is who the customer is (CRM: GET /v1/customers/{customer}).
type CustomerProfile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Tier string `json:"tier"` // strategic, key, standard or basic
}

// Stock is what each warehouse holds of one SKU (WMS: GET /v1/stock/{sku}).
type Stock struct {
	SKU        string           `json:"sku"`
	Warehouses []WarehouseStock `json:"warehouses"`
}

// WarehouseStock is the available quantity of a SKU at one warehouse.
type WarehouseStock struct {
	Warehouse string  `json:"warehouse"`
	Available float64 `json:"available"`
}

// Shipment is an inbound or outbound shipment (TMS: GET /v1/shipments/{shipment}).
type Shipment struct {
	ID       string `json:"id"`
	ETA      string `json:"eta,omitempty"` // YYYY-MM-DD
	Status   string `json:"status,omitempty"`
	PO       string `json:"po,omitempty"`
	Supplier string `json:"supplier,omitempty"`
}

// The PO and receipt of the REST contract are the application layer's
// types (ERP: GET /v1/purchase-orders/{po} and …/receipts), so a three-way
// match reads what the ERP said without a copy in between.
type (
	PurchaseOrder = cases.PurchaseOrder
	POLineDoc     = cases.POLine
	Receipt       = cases.Receipt
	ReceiptLine   = cases.ReceiptLine
)

// ActionCall is the body of POST /v1/actions/{action}; the key travels in
// the Idempotency-Key header.
type ActionCall struct {
	Case   string            `json:"case"`
	Params map[string]string `json:"params"`
}

// ActionResult is a system's answer to an action.
type ActionResult struct {
	Action  string `json:"action"`
	Outcome string `json:"outcome"` // what was done, in plain words
	Ref     string `json:"ref,omitempty"`
}

// EventPage is one page of GET /v1/events?after=CURSOR&limit=N, for systems
// that cannot push: events after the cursor, oldest first, and the cursor to
// ask from next time (the same cursor when nothing is new).
type EventPage struct {
	Events []json.RawMessage `json:"events"`
	Next   string            `json:"next"`
}

// ErrorBody is every non-2xx answer's body.
type ErrorBody struct {
	Error string `json:"error"`
}

// ActionSystems says which system runs each action the agents propose.
var ActionSystems = map[string]string{
	"release_credit_hold":       ERP,
	"accept_price_variance":     ERP,
	"dispute_price_variance":    ERP,
	"hold_invoice":              ERP,
	"accept_receipt_variance":   ERP,
	"dispute_receipt_variance":  ERP,
	"ask_supplier_confirmation": ERP,
	"reallocate_order":          WMS,
	"split_shipment":            WMS,
	"adjust_inventory":          WMS,
	"recount_inventory":         WMS,
	"expedite_shipment":         TMS,
	"contact_carrier":           TMS,
	"request_order_data":        CRM,
}
