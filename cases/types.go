package cases

// The event types exops understands. docs/events.md is rendered from this
// table by a test (go test ./cmd/exops -run EventsDoc -update), so the docs
// cannot drift from the code.

var (
	fOrder        = Field{Name: "order", Kind: FieldString, Required: true, Doc: "sales order number"}
	fCustomer     = Field{Name: "customer", Kind: FieldString, Required: true, Doc: "customer account id"}
	fCustomerName = Field{Name: "customer_name", Kind: FieldString, Doc: "customer name as people know it"}
	fTier         = Field{Name: "customer_tier", Kind: FieldString, Doc: "strategic, key, standard or basic"}
	fOrderValue   = Field{Name: "order_value", Kind: FieldNumber, Doc: "order value in currency"}
	fCurrency     = Field{Name: "currency", Kind: FieldString, Doc: "ISO 4217 code, default USD"}
	fChannel      = Field{Name: "sales_channel", Kind: FieldString, Doc: "retail, ecommerce or field"}
	fPromise      = Field{Name: "promise_date", Kind: FieldDate, Doc: "date promised to the customer"}
	fSKU          = Field{Name: "sku", Kind: FieldString, Required: true, Doc: "item number"}
	fSKUOpt       = Field{Name: "sku", Kind: FieldString, Doc: "item number"}
	fWarehouse    = Field{Name: "warehouse", Kind: FieldString, Required: true, Doc: "warehouse code"}
	fWarehouseOpt = Field{Name: "warehouse", Kind: FieldString, Doc: "receiving warehouse code"}
	fPO           = Field{Name: "po", Kind: FieldString, Required: true, Doc: "purchase order number"}
	fPOOpt        = Field{Name: "po", Kind: FieldString, Doc: "purchase order number"}
	fSupplier     = Field{Name: "supplier", Kind: FieldString, Required: true, Doc: "supplier id or name"}
	fSupplierOpt  = Field{Name: "supplier", Kind: FieldString, Doc: "supplier id or name"}
	fShipment     = Field{Name: "shipment", Kind: FieldString, Required: true, Doc: "shipment or ASN number"}
	fShipmentOpt  = Field{Name: "shipment", Kind: FieldString, Doc: "shipment or ASN number"}
	fOrders       = Field{Name: "orders", Kind: FieldStrings, Doc: "sales orders waiting for this shipment"}
	fQuantity     = Field{Name: "quantity", Kind: FieldNumber, Doc: "quantity in the item's unit"}
	fReason       = Field{Name: "reason", Kind: FieldString, Doc: "reason given by the source system"}
)

func init() {
	register(EventType{
		Name: "order.credit_hold", Family: FamilyCreditHold, Severity: SeverityMedium,
		Doc: "An order is blocked because the customer's account is on credit hold.",
		Fields: []Field{fOrder, fCustomer, fCustomerName, fTier, fOrderValue, fCurrency, fChannel,
			{Name: "credit_limit", Kind: FieldNumber, Doc: "customer's credit limit"},
			{Name: "balance", Kind: FieldNumber, Doc: "open receivables balance"},
			{Name: "overdue_amount", Kind: FieldNumber, Doc: "amount past due"},
			fReason},
		Keys: []KeyKind{KeyOrder, KeyCustomer},
		Example: map[string]any{"order": "SO-1042", "customer": "C-ACME", "customer_name": "Acme Retail", "customer_tier": "strategic",
			"order_value": 48250.0, "currency": "USD", "credit_limit": 250000.0, "balance": 238900.0, "overdue_amount": 0.0,
			"reason": "remittance REM-5531 unapplied"},
	})
	register(EventType{
		Name: "order.allocation_conflict", Family: FamilyAllocationConflict, Severity: SeverityMedium,
		Doc: "An order line cannot be filled from one warehouse: the ERP split it across warehouses or left it short.",
		Fields: []Field{fOrder, fCustomer, fCustomerName, fTier, fOrderValue, fCurrency, fChannel, fPromise, fSKU, fQuantity,
			{Name: "allocations", Kind: FieldAllocations, Required: true, Doc: "planned quantity per warehouse"}},
		Keys: []KeyKind{KeyOrder},
		Example: map[string]any{"order": "SO-1042", "customer": "C-ACME", "customer_tier": "strategic", "order_value": 48250.0,
			"sales_channel": "retail", "promise_date": "2026-11-30", "sku": "SKU-88", "quantity": 1200.0,
			"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 700.0}, map[string]any{"warehouse": "ATL", "quantity": 500.0}}},
	})
	register(EventType{
		Name: "order.incomplete_data", Family: FamilyIncompleteOrderData, Severity: SeverityLow,
		Doc: "An order cannot be released because required data is missing.",
		Fields: []Field{fOrder, fCustomer, fCustomerName, fTier, fOrderValue, fCurrency,
			{Name: "missing", Kind: FieldStrings, Required: true, Doc: "names of the missing fields"}},
		Keys:    []KeyKind{KeyOrder},
		Example: map[string]any{"order": "SO-1077", "customer": "C-BOLT", "missing": []any{"ship_to.postal_code", "tax_id"}},
	})
	register(EventType{
		Name: "inventory.mismatch", Family: FamilyInventoryVariance, Severity: SeverityMedium,
		Doc: "A count found a different quantity than the system holds.",
		Fields: []Field{fSKU, fWarehouse,
			{Name: "system_quantity", Kind: FieldNumber, Required: true, Doc: "quantity on hand in the WMS"},
			{Name: "counted_quantity", Kind: FieldNumber, Required: true, Doc: "quantity counted"},
			{Name: "unit_cost", Kind: FieldNumber, Doc: "cost per unit"}, fCurrency},
		Keys:    []KeyKind{KeySKUAt},
		Example: map[string]any{"sku": "SKU-88", "warehouse": "ATL", "system_quantity": 640.0, "counted_quantity": 590.0, "unit_cost": 12.5},
	})
	register(EventType{
		Name: "shipment.delayed", Family: FamilySupplierDelay, Severity: SeverityMedium,
		Doc: "An inbound shipment's ETA slipped.",
		Fields: []Field{fShipment, fPOOpt, fSupplier, fWarehouseOpt, fSKUOpt, fQuantity,
			{Name: "original_eta", Kind: FieldDate, Required: true, Doc: "ETA before the slip"},
			{Name: "new_eta", Kind: FieldDate, Required: true, Doc: "ETA now"}, fOrders, fReason},
		Keys: []KeyKind{KeyShipment, KeyPO, KeyOrder},
		Example: map[string]any{"shipment": "ASN-7781", "po": "PO-3310", "supplier": "Northwind Fasteners", "warehouse": "DAL",
			"sku": "SKU-88", "quantity": 2000.0, "original_eta": "2026-11-27", "new_eta": "2026-12-02", "orders": []any{"SO-1042"},
			"reason": "carrier missed pickup"},
	})
	register(EventType{
		Name: "shipment.hold", Family: FamilyShipmentHold, Severity: SeverityMedium,
		Doc: "An outbound shipment is held by the carrier, customs or the warehouse.",
		Fields: []Field{fShipment, {Name: "order", Kind: FieldString, Doc: "sales order shipped"}, fCustomer, fOrderValue, fCurrency,
			{Name: "carrier", Kind: FieldString, Doc: "carrier name"}, fReason},
		Keys:    []KeyKind{KeyShipment, KeyOrder},
		Example: map[string]any{"shipment": "SHP-2209", "order": "SO-1051", "customer": "C-BOLT", "carrier": "Roadline", "reason": "address validation failed"},
	})
	register(EventType{
		Name: "supplier.confirmation_missing", Family: FamilyMissingConfirmation, Severity: SeverityLow,
		Doc: "A supplier has not confirmed a purchase order by the expected time.",
		Fields: []Field{fPO, fSupplier,
			{Name: "sent_at", Kind: FieldDate, Doc: "when the PO was sent"},
			{Name: "expected_by", Kind: FieldDate, Required: true, Doc: "when confirmation was due"},
			{Name: "po_value", Kind: FieldNumber, Doc: "PO value"}, fCurrency},
		Keys:    []KeyKind{KeyPO},
		Example: map[string]any{"po": "PO-3342", "supplier": "Contoso Packaging", "sent_at": "2026-11-23", "expected_by": "2026-11-25", "po_value": 8400.0},
	})
	register(EventType{
		Name: "invoice.price_variance", Family: FamilyPriceDiscrepancy, Severity: SeverityLow,
		Doc: "A supplier invoice line's unit price differs from the PO price.",
		Fields: []Field{{Name: "invoice", Kind: FieldString, Required: true, Doc: "supplier invoice number"}, fPO, fSupplier, fSKU,
			{Name: "quantity", Kind: FieldNumber, Required: true, Doc: "invoiced quantity"},
			{Name: "invoice_unit_price", Kind: FieldNumber, Required: true, Doc: "unit price on the invoice"},
			{Name: "po_unit_price", Kind: FieldNumber, Required: true, Doc: "unit price on the PO"}, fCurrency},
		Keys: []KeyKind{KeyInvoice, KeyPO},
		Example: map[string]any{"invoice": "INV-90211", "po": "PO-3298", "supplier": "Northwind Fasteners", "sku": "SKU-12",
			"quantity": 500.0, "invoice_unit_price": 4.03, "po_unit_price": 4.0, "currency": "USD"},
	})
	register(EventType{
		Name: "receipt.variance", Family: FamilyReceiptQuantityVaries, Severity: SeverityLow,
		Doc: "Goods received differ in quantity from the PO or the ASN.",
		Fields: []Field{fPO, fShipmentOpt, fSupplierOpt, fSKU, fWarehouse,
			{Name: "ordered_quantity", Kind: FieldNumber, Required: true, Doc: "quantity ordered or announced"},
			{Name: "received_quantity", Kind: FieldNumber, Required: true, Doc: "quantity received"},
			{Name: "unit_cost", Kind: FieldNumber, Doc: "cost per unit"}, fCurrency},
		Keys: []KeyKind{KeyPO, KeyShipment, KeySKUAt},
		Example: map[string]any{"po": "PO-3310", "shipment": "ASN-7700", "supplier": "Northwind Fasteners", "sku": "SKU-88",
			"warehouse": "DAL", "ordered_quantity": 1000.0, "received_quantity": 960.0, "unit_cost": 12.5},
	})
	register(EventType{
		Name: "supplier.order_changed", Family: FamilySupplierDelay, Severity: SeverityLow,
		Doc: "A supplier's order acknowledgment (EDI 855 or ORDRSP) rejects a PO line or changes its quantity, price or date.",
		Fields: []Field{fPO, fSupplier, fSKUOpt,
			{Name: "change", Kind: FieldString, Required: true, Doc: "rejected, or what changed: quantity, price, date, item (comma-separated)"},
			{Name: "ordered_quantity", Kind: FieldNumber, Doc: "quantity on the PO"},
			{Name: "confirmed_quantity", Kind: FieldNumber, Doc: "quantity the supplier confirms"},
			{Name: "po_unit_price", Kind: FieldNumber, Doc: "unit price on the PO"},
			{Name: "confirmed_unit_price", Kind: FieldNumber, Doc: "unit price the supplier confirms"},
			{Name: "requested_date", Kind: FieldDate, Doc: "date the PO asked for"},
			{Name: "confirmed_date", Kind: FieldDate, Doc: "date the supplier confirms"},
			{Name: "po_value", Kind: FieldNumber, Doc: "PO value"}, fCurrency, fReason},
		Keys: []KeyKind{KeyPO},
		Example: map[string]any{"po": "PO-3342", "supplier": "Contoso Packaging", "sku": "SKU-12", "change": "price",
			"ordered_quantity": 500.0, "confirmed_quantity": 500.0, "po_unit_price": 4.0, "confirmed_unit_price": 4.4, "currency": "USD"},
	})
	register(EventType{
		Name: "shipment.shortfall", Family: FamilySupplierDelay, Severity: SeverityLow,
		Doc: "A supplier's ship notice (EDI 856 or DESADV) ships less of a PO line than was ordered.",
		Fields: []Field{fShipment, fPO, fSupplier, fSKU,
			{Name: "ordered_quantity", Kind: FieldNumber, Required: true, Doc: "quantity ordered"},
			{Name: "shipped_quantity", Kind: FieldNumber, Required: true, Doc: "quantity the notice ships"},
			{Name: "unit_price", Kind: FieldNumber, Doc: "PO unit price"}, fCurrency},
		Keys: []KeyKind{KeyShipment, KeyPO},
		Example: map[string]any{"shipment": "ASN-7781", "po": "PO-3310", "supplier": "Northwind Fasteners", "sku": "SKU-88",
			"ordered_quantity": 2000.0, "shipped_quantity": 1500.0},
	})
}

// familyWords are the words people use for each family, beside its label:
// the question parser (agents) reads families by them, so a new family or a
// new way of saying one is added here, next to the event types. Each entry
// is a phrase of whole words; plurals are matched by the parser.
var familyWords = map[Family][]string{
	FamilyCreditHold:            {"credit hold", "credit block", "credit blocked", "blocked for credit", "held for credit", "on credit hold", "credit limit hold", "credit"},
	FamilyAllocationConflict:    {"allocation conflict", "allocation problem", "allocation issue", "allocation", "split order", "split line", "cannot allocate", "can't allocate", "short allocation"},
	FamilyIncompleteOrderData:   {"incomplete order", "incomplete order data", "missing order data", "order data missing", "missing data", "incomplete data", "incomplete"},
	FamilyInventoryVariance:     {"inventory variance", "inventory mismatch", "inventory discrepancy", "inventory problem", "stock count problem", "stock count", "stock mismatch", "stock discrepancy", "count variance", "count discrepancy", "cycle count", "miscount", "stock variance", "inventory"},
	FamilySupplierDelay:         {"supplier delay", "late inbound", "inbound delay", "delayed inbound", "late delivery", "late shipment", "delayed shipment", "shipment delay", "eta slip", "slipped eta", "delayed delivery", "late supplier", "delay", "delayed"},
	FamilyShipmentHold:          {"shipment hold", "shipment on hold", "held shipment", "shipment held", "shipments on hold", "carrier hold", "customs hold", "held by the carrier", "held at customs", "outbound hold"},
	FamilyMissingConfirmation:   {"missing supplier confirmation", "missing confirmation", "no supplier confirmation", "no confirmation", "unconfirmed po", "unconfirmed purchase order", "not confirmed", "unconfirmed", "confirmation missing", "awaiting confirmation", "supplier confirmation"},
	FamilyPriceDiscrepancy:      {"price discrepancy", "price variance", "price difference", "price mismatch", "pricing difference", "pricing mismatch", "pricing error", "wrong price", "invoice price", "pricing"},
	FamilyReceiptQuantityVaries: {"receipt variance", "receipt shortfall", "receiving variance", "quantity variance", "short receipt", "received short", "over receipt", "receipt discrepancy", "receiving discrepancy", "short delivery", "receipt"},
	FamilyInvoiceMismatch:       {"invoice mismatch", "invoice discrepancy", "three way match", "3 way match"},
	FamilyReturnsException:      {"returns exception", "return", "rma"},
	FamilyOrderHold:             {"order hold", "held order", "order on hold", "blocked order"},
}

// FamilyWords lists what people call family f, its label first.
func FamilyWords(f Family) []string {
	return append([]string{f.Label()}, familyWords[f]...)
}
