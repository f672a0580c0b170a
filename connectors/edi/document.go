package edi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Document kinds: what a transaction set means to exops.
const (
	KindPurchaseOrder = "purchase_order" // 850, ORDERS
	KindOrderResponse = "order_response" // 855, ORDRSP
	KindShipNotice    = "ship_notice"    // 856, DESADV
	KindInvoice       = "invoice"        // 810, INVOIC
	KindFunctionalAck = "functional_ack" // 997, CONTRL
	KindNotUsed       = "not_used"       // recognised, not read further
)

// Line statuses of an order response.
const (
	LineAccepted = "accepted"
	LineRejected = "rejected"
	LineChanged  = "changed"
)

// Document is one transaction set decoded as far as the business needs.
type Document struct {
	Standard       string   `json:"standard"`
	Version        string   `json:"version"`
	Type           string   `json:"type"`
	Control        string   `json:"control"`
	Sender         string   `json:"sender"`
	Receiver       string   `json:"receiver"`
	Interchange    string   `json:"interchange"`
	Group          string   `json:"group,omitempty"`
	Kind           string   `json:"kind"`
	DocumentNumber string   `json:"document_number,omitempty"`
	PONumber       string   `json:"po_number,omitempty"`
	Date           string   `json:"date,omitempty"`
	Lines          int      `json:"lines"`
	Errors         []string `json:"errors"`
	Warnings       []string `json:"warnings,omitempty"`
	Test           bool     `json:"test,omitempty"`
	// InterchangeDate is the envelope's date (ISA09, UNB S004).
	InterchangeDate string `json:"-"`

	Currency string  `json:"currency,omitempty"`
	Parties  []Party `json:"parties,omitempty"`
	Items    []Line  `json:"items,omitempty"`

	// Purchase order: the requested delivery (or ship) date of the whole
	// order, and its value (quantity × price over the lines).
	RequestedDate string  `json:"requested_date,omitempty"`
	Value         float64 `json:"value,omitempty"`
	// Order response: BAK02 or BGM 1225 as sent, and the PO's own status
	// in words (accepted, rejected, changed).
	AckType string `json:"ack_type,omitempty"`
	Status  string `json:"status,omitempty"`
	// Ship notice.
	ShipDate     string `json:"ship_date,omitempty"`
	DeliveryDate string `json:"delivery_date,omitempty"`
	Carrier      string `json:"carrier,omitempty"`
	Hierarchy    []HL   `json:"hierarchy,omitempty"`
	// Invoice.
	Total   float64 `json:"total,omitempty"`
	Terms   string  `json:"terms,omitempty"`
	DueDate string  `json:"due_date,omitempty"`
	// Functional acknowledgment.
	Acks []Ack `json:"acks,omitempty"`

	// usable: the set and its envelopes passed their checks, so its
	// content may raise events.
	usable bool
}

// Usable reports whether the set and its envelopes passed their checks: only
// a usable document raises events.
func (d Document) Usable() bool { return d.usable }

// Party is one N1 or NAD party.
type Party struct {
	Role      string `json:"role"`
	Name      string `json:"name,omitempty"`
	Qualifier string `json:"qualifier,omitempty"`
	ID        string `json:"id,omitempty"`
}

// Line is one order, response, shipment or invoice line.
type Line struct {
	Number string `json:"number,omitempty"`
	// Item is the id exops matches on: the buyer's item number when the
	// line has one, else the vendor's, else the first id given.
	Item        string            `json:"item"`
	IDs         map[string]string `json:"ids,omitempty"`
	Description string            `json:"description,omitempty"`
	Quantity    float64           `json:"quantity"`
	Unit        string            `json:"unit,omitempty"`
	UnitPrice   float64           `json:"unit_price,omitempty"`
	HasPrice    bool              `json:"-"`
	Requested   string            `json:"requested_date,omitempty"`
	// Ship notice: the order the item ships against, and the quantity
	// ordered when the notice says it.
	PO      string  `json:"po,omitempty"`
	Ordered float64 `json:"ordered,omitempty"`
	// Order response.
	Status      string   `json:"status,omitempty"`
	StatusCode  string   `json:"status_code,omitempty"`
	Changes     []string `json:"changes,omitempty"` // quantity, price, date
	AckQuantity float64  `json:"ack_quantity,omitempty"`
	HasAckQty   bool     `json:"-"`
	AckDate     string   `json:"ack_date,omitempty"`
}

// HL is one level of a ship notice's hierarchy.
type HL struct {
	ID       string  `json:"id"`
	Parent   string  `json:"parent,omitempty"`
	Level    string  `json:"level"` // shipment, order, tare, pack, item, or the code
	PO       string  `json:"po,omitempty"`
	Item     string  `json:"item,omitempty"`
	Quantity float64 `json:"quantity,omitempty"`
}

// Ack is what a functional acknowledgment says of one set or group.
type Ack struct {
	Group      string   `json:"group,omitempty"`    // AK102 control number
	Functional string   `json:"function,omitempty"` // AK101 (PO, IN, SH…)
	SetType    string   `json:"set_type,omitempty"`
	SetControl string   `json:"set_control,omitempty"`
	Status     string   `json:"status"` // accepted, accepted_with_errors, rejected, partial
	Code       string   `json:"code"`
	Errors     []string `json:"errors,omitempty"`
}

// Rejected reports whether the acknowledgment refuses the set or group.
func (a Ack) Rejected() bool { return a.Status == "rejected" || a.Status == "partial" }

// Decode decodes every transaction set of the interchanges.
func Decode(ics []Interchange) []Document {
	var out []Document
	for _, ic := range ics {
		var envErrs, envWarn []string
		for _, p := range ic.Problems {
			if p.Warning {
				envWarn = append(envWarn, p.Error())
			} else {
				envErrs = append(envErrs, p.Error())
			}
		}
		for _, g := range ic.Groups {
			gErrs := append([]string(nil), envErrs...)
			gWarn := append([]string(nil), envWarn...)
			for _, p := range g.Problems {
				if p.Warning {
					gWarn = append(gWarn, p.Error())
				} else {
					gErrs = append(gErrs, p.Error())
				}
			}
			for _, s := range g.Sets {
				d := Document{Standard: ic.Standard, Version: s.Version, Type: s.Type, Control: s.Control,
					Sender: ic.Sender, Receiver: ic.Receiver, Interchange: ic.Control, Group: g.Control, Test: ic.Test, InterchangeDate: ic.Date,
					Errors: append([]string{}, gErrs...), Warnings: append([]string(nil), gWarn...)}
				if ic.Standard == X12 && d.Version == "" {
					d.Version = ic.Version
				}
				for _, p := range s.Problems {
					if p.Warning {
						d.Warnings = append(d.Warnings, p.Error())
					} else {
						d.Errors = append(d.Errors, p.Error())
					}
				}
				d.usable = !s.Bad() && !ic.BadEnvelope
				if ic.Standard == X12 {
					decodeX12(&d, s)
				} else {
					decodeEdifact(&d, s)
				}
				out = append(out, d)
			}
		}
		if len(ic.Groups) == 0 && len(envErrs) > 0 {
			// A refused interchange has no sets; its error still shows.
			out = append(out, Document{Standard: ic.Standard, Version: ic.Version, Sender: ic.Sender, Receiver: ic.Receiver,
				Interchange: ic.Control, Kind: KindNotUsed, Errors: envErrs, Warnings: envWarn})
		}
	}
	return out
}

// itemPriority is which product id a line is matched on: the buyer's own
// numbers first (the ERP's SKUs), then the vendor's, then trade item codes.
var itemPriority = []string{"BP", "IN", "SK", "PI", "VP", "VN", "VA", "SA", "MF", "UP", "UK", "EN", "UA", "UI", "EAN", "SRV"}

func chooseItem(ids map[string]string, order []string) string {
	for _, q := range itemPriority {
		if v := ids[q]; v != "" {
			return v
		}
	}
	for _, q := range order {
		if v := ids[q]; v != "" {
			return v
		}
	}
	return ""
}

// numbers reads the numeric elements of one set. A value that is there but
// is no number makes the set unusable, as the sender's own 997 or CONTRL
// would reject it (invalid character in a data element): a guess, such as
// reading X12 "1,000" as one, would raise a false shortage.
type numbers struct {
	d *Document
	// comma is whether a comma is a decimal mark: EDIFACT allows either
	// mark (ISO 9735), X12 only the point; neither has a thousands separator.
	comma bool
}

func (n numbers) num(tag, v string) (float64, bool) {
	s := strings.TrimSpace(v)
	if s == "" {
		return 0, false
	}
	if n.comma || decimalComma(s) {
		s = strings.ReplaceAll(s, ",", ".")
	}
	f, ok := num(s)
	if !ok {
		msg := fmt.Sprintf("segment %s: %q is not a number", tag, s)
		if !n.comma && strings.Contains(s, ",") {
			msg += " (an X12 number has a point for its decimal mark and no thousands separator)"
		}
		n.d.Errors = append(n.d.Errors, msg)
		n.d.usable = false
	}
	return f, ok
}

// decimalComma reports whether an X12 value's comma can only be a decimal
// mark, as some European senders write it ("2,50"): one comma, no point, and
// not three digits after it, which would be a thousands group ("1,000").
func decimalComma(s string) bool {
	i := strings.IndexByte(s, ',')
	if i < 0 || strings.Count(s, ",") > 1 || strings.Contains(s, ".") {
		return false
	}
	frac := s[i+1:]
	if j := strings.IndexAny(frac, "Ee"); j >= 0 {
		frac = frac[:j]
	}
	return len(frac) != 3
}

// num reads a decimal written with a point; ok is false for an empty or
// malformed value.
func num(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	// Digits, a sign, the decimal mark and an exponent (X12 R) are all a
	// number holds; ParseFloat would also take "0x1p4", "Inf" and "1_0".
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'E' || c == 'e') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func lineValue(lines []Line) float64 {
	var v float64
	for _, l := range lines {
		v += l.Quantity * l.UnitPrice
	}
	return round2(v)
}
