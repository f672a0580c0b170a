package connectors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/exops/exops/cases"
)

// Simulator is an in-memory ERP, WMS, TMS and CRM with the data of a small
// distributor. It answers enrichment lookups and executes actions, so exops
// runs end to end with no system of record reachable.
type Simulator struct {
	mu         sync.Mutex
	customers  map[string]Customer
	stock      map[string]map[string]float64 // sku → warehouse → available
	pos        map[string]map[string]POLine  // po → sku → line
	receipts   map[string]map[string]float64 // po → sku → received
	shipments  map[string]string             // shipment → ETA (YYYY-MM-DD)
	promises   map[string]string             // order → promise date
	done       map[string]string             // idempotency key → outcome
	doneBy     map[string]string             // idempotency key → action it was used for
	orders     map[string]Order              // order → customer and lines (REST contract)
	suppliers  map[string]string             // po → supplier
	receivedAt map[string]string             // po → receiving warehouse
	feed       []cases.Event                 // events served at GET /v1/events (pull tests, demos)
	seq        int
	// Actions lists what was executed, in order, for transcripts and tests.
	Actions []cases.ActionRequest
}

// The simulator's dates, in days from the day it is made: order SO-1042 is
// promised for SimulatorPromiseOffset, and shipment ASN-7781, which feeds it,
// now arrives on SimulatorETAOffset. The demo's events use the same offsets.
const (
	SimulatorPromiseOffset = 3
	SimulatorETAOffset     = 5
)

// Customer is what the ERP and CRM know of an account.
type Customer struct {
	Name              string
	Tier              string
	CreditLimit       float64
	Balance           float64
	AvgDaysBeyondTerm float64
	OnHold            bool
}

// POLine is one purchase order line.
type POLine struct {
	Quantity  float64
	UnitPrice float64
}

// NewSimulator returns a simulator seeded with the demo distributor's data.
// Its dates (promise dates, ETAs) are days from the business clock's today
// when it is made, the same offsets the demo's events use, so the evidence
// it gives agrees with the events on any day.
func NewSimulator(now cases.Clock) *Simulator {
	today := now().UTC()
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format("2006-01-02") }
	return &Simulator{
		customers: map[string]Customer{
			"C-ACME": {Name: "Acme Retail", Tier: "strategic", CreditLimit: 250000, Balance: 238900, AvgDaysBeyondTerm: 3, OnHold: true},
			"C-BOLT": {Name: "Bolt Hardware", Tier: "standard", CreditLimit: 60000, Balance: 12000, AvgDaysBeyondTerm: 11},
			"C-CORA": {Name: "Cora Home", Tier: "key", CreditLimit: 120000, Balance: 40000, AvgDaysBeyondTerm: 1},
		},
		stock: map[string]map[string]float64{
			"SKU-88": {"DAL": 700, "ATL": 500, "RNO": 1500},
			"SKU-12": {"DAL": 4000, "ATL": 2600},
			"SKU-31": {"DAL": 320, "RNO": 150},
		},
		pos: map[string]map[string]POLine{
			"PO-3298": {"SKU-12": {Quantity: 500, UnitPrice: 4.00}},
			"PO-3305": {"SKU-31": {Quantity: 400, UnitPrice: 12.00}},
			"PO-3310": {"SKU-88": {Quantity: 2000, UnitPrice: 9.50}},
			// The PO behind the sample invoice agents/documents/testdata/corpus/
			// invoice-01-en.pdf: its washer price was agreed lower than invoiced,
			// and fewer cartons arrived than were ordered.
			"PO-3087": {"SKU-12": {Quantity: 1540, UnitPrice: 530.00}, "BX-4410": {Quantity: 406, UnitPrice: 349.58},
				"TP-0050": {Quantity: 243, UnitPrice: 783.08}},
		},
		receipts: map[string]map[string]float64{
			"PO-3298": {"SKU-12": 500},
			"PO-3305": {"SKU-31": 400},
			"PO-3087": {"SKU-12": 1540, "BX-4410": 380, "TP-0050": 243},
		},
		shipments: map[string]string{"ASN-7781": day(SimulatorETAOffset)},
		promises:  map[string]string{"SO-1042": day(SimulatorPromiseOffset)},
		done:      map[string]string{},
		doneBy:    map[string]string{},
		orders: map[string]Order{
			"SO-1042": {ID: "SO-1042", Customer: "C-ACME", Status: "held", PromiseDate: day(SimulatorPromiseOffset),
				Lines: []OrderLine{{SKU: "SKU-88", Quantity: 1200}}},
			"SO-1051": {ID: "SO-1051", Customer: "C-BOLT", Status: "released", Lines: []OrderLine{{SKU: "SKU-12", Quantity: 300, Warehouse: "DAL"}}},
			"SO-1077": {ID: "SO-1077", Customer: "C-BOLT", Status: "open", Lines: []OrderLine{{SKU: "SKU-31", Quantity: 40}}},
		},
		suppliers:  map[string]string{"PO-3298": "Northwind Fasteners", "PO-3305": "Contoso Packaging", "PO-3310": "Northwind Fasteners", "PO-3087": "Adventure Works Tools Ltd"},
		receivedAt: map[string]string{"PO-3298": "DAL", "PO-3305": "RNO", "PO-3310": "DAL", "PO-3087": "ATL"},
	}
}

// Enrich looks up what the systems know about the case's order, customer,
// stock, PO, receipt and shipments. What is not there is named in missing.
func (s *Simulator) Enrich(_ context.Context, c *cases.Case) (map[string]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	facts := map[string]string{}
	var missing []string
	p := planEnrichment(c)
	for _, cu := range p.customers {
		if cust, ok := s.customers[cu]; ok {
			facts[cases.CtxCustomerName(cu)] = cust.Name
			facts[cases.CtxCustomerTier(cu)] = cust.Tier
			facts[cases.CtxCreditLimit(cu)] = num(cust.CreditLimit)
			facts[cases.CtxCreditBalance(cu)] = num(cust.Balance)
			facts[cases.CtxDaysBeyondTerms(cu)] = num(cust.AvgDaysBeyondTerm)
		} else {
			missing = append(missing, "credit status unavailable: ERP has no customer "+cu)
		}
	}
	for _, sku := range p.stock {
		if wh, ok := s.stock[sku]; ok {
			for w, q := range wh {
				facts[cases.CtxStock(sku, w)] = num(q)
			}
		} else {
			missing = append(missing, "stock unavailable: WMS has no item "+sku)
		}
	}
	for _, po := range p.pos {
		for _, sku := range po.skus {
			line, ok := s.pos[po.po][sku]
			switch {
			case ok:
				facts[cases.CtxPOPrice(po.po, sku)] = num(line.UnitPrice)
				facts[cases.CtxPOQuantity(po.po, sku)] = num(line.Quantity)
				if q, ok := s.receipts[po.po][sku]; ok {
					facts[cases.CtxReceived(po.po, sku)] = num(q)
				}
			case po.lines:
				missing = append(missing, fmt.Sprintf("PO line unavailable: ERP has no %s on %s", sku, po.po))
			}
		}
	}
	for _, sh := range p.shipments {
		if eta, ok := s.shipments[sh]; ok {
			facts[cases.CtxShipmentETA(sh)] = eta
		}
	}
	for _, o := range p.orders {
		if d, ok := s.promises[o]; ok {
			facts[cases.CtxPromiseDate(o)] = d
		}
	}
	sort.Strings(missing)
	return facts, missing
}

// Execute performs an action against the simulated systems, once per key.
func (s *Simulator) Execute(_ context.Context, req cases.ActionRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, ok := s.done[req.Key]; ok {
		if s.doneBy[req.Key] != req.Action {
			return "", cases.Errorf(cases.KindConflict, "simulator: key %s was used for %s, not %s", req.Key, s.doneBy[req.Key], req.Action)
		}
		return out, nil
	}
	p := req.Params
	var out string
	switch req.Action {
	case "release_credit_hold":
		cu, ok := s.customers[p["customer"]]
		if !ok {
			return "", cases.Errorf(cases.KindNotFound, "ERP: no customer %s", p["customer"])
		}
		cu.OnHold = false
		s.customers[p["customer"]] = cu
		out = "ERP released the credit hold on " + p["order"]
	case "reallocate_order":
		q, err := strconv.ParseFloat(p["quantity"], 64)
		if err != nil || !(q > 0) {
			return "", cases.Errorf(cases.KindInvalid, "WMS: reallocate needs a positive quantity, got %q", p["quantity"])
		}
		wh := s.stock[p["sku"]]
		if wh == nil || wh[p["warehouse"]] < q {
			return "", cases.Errorf(cases.KindConflict, "WMS: %s no longer has %s of %s", p["warehouse"], p["quantity"], p["sku"])
		}
		wh[p["warehouse"]] -= q
		out = fmt.Sprintf("WMS allocated %s of %s on %s at %s", p["quantity"], p["sku"], p["order"], p["warehouse"])
	case "split_shipment":
		out = "WMS released " + p["order"] + " as planned: " + p["plan"]
	case "expedite_shipment":
		out = "TMS asked " + p["supplier"] + " to expedite " + p["shipment"]
	case "accept_price_variance":
		out = "ERP approved invoice " + p["invoice"] + " for payment at the invoiced price"
	case "dispute_price_variance":
		out = "ERP put invoice " + p["invoice"] + " on hold and sent a price dispute to " + p["supplier"]
	case "hold_invoice":
		out = "ERP put invoice " + p["invoice"] + " on payment hold"
	case "accept_receipt_variance":
		out = "ERP closed the receipt on " + p["po"] + " as counted"
	case "dispute_receipt_variance":
		out = "ERP opened a shortage claim on " + p["po"]
	case "adjust_inventory":
		out = "WMS set " + p["sku"] + " at " + p["warehouse"] + " to " + p["quantity"]
	case "recount_inventory":
		out = "WMS scheduled a recount of " + p["sku"] + " at " + p["warehouse"]
	case "ask_supplier_confirmation":
		out = "ERP sent a confirmation reminder for " + p["po"] + " to " + p["supplier"]
	case "contact_carrier":
		out = "TMS opened a ticket with the carrier for " + p["shipment"]
	case "request_order_data":
		out = "CRM asked the customer for " + p["missing"] + " on " + p["order"]
	default:
		return "", cases.Errorf(cases.KindInvalid, "simulator: unknown action %q", req.Action)
	}
	s.seq++
	out = fmt.Sprintf("%s (ref SIM-%04d)", out, s.seq)
	s.done[req.Key] = out
	s.doneBy[req.Key] = req.Action
	s.Actions = append(s.Actions, req)
	return out, nil
}

// CustomerOnHold reports the simulated credit hold flag (for tests).
func (s *Simulator) CustomerOnHold(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customers[id].OnHold
}

// Executed returns a copy of the actions executed so far.
func (s *Simulator) Executed() []cases.ActionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cases.ActionRequest(nil), s.Actions...)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// PurchaseOrder returns a PO with its lines and what was received against
// it, as the ERP's purchase-orders endpoints do.
func (s *Simulator) PurchaseOrder(_ context.Context, po string) (PurchaseOrder, Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines, ok := s.pos[po]
	if !ok {
		return PurchaseOrder{}, Receipt{}, cases.Errorf(cases.KindNotFound, "ERP: no PO %s", po)
	}
	doc := PurchaseOrder{PO: po, Supplier: s.suppliers[po], Status: "open", Lines: []POLineDoc{}}
	for sku, l := range lines {
		doc.Lines = append(doc.Lines, POLineDoc{SKU: sku, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	rc := Receipt{PO: po, Lines: []ReceiptLine{}}
	for sku, q := range s.receipts[po] {
		rc.Lines = append(rc.Lines, ReceiptLine{SKU: sku, Warehouse: s.receivedAt[po], Quantity: q})
	}
	sort.Slice(doc.Lines, func(i, j int) bool { return doc.Lines[i].SKU < doc.Lines[j].SKU })
	sort.Slice(rc.Lines, func(i, j int) bool { return rc.Lines[i].SKU < rc.Lines[j].SKU })
	return doc, rc, nil
}
