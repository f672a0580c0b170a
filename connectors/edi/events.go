package edi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// Source is the CloudEvents source of the events exops raises from EDI.
const Source = "/exops/edi"

// Ingester takes validated events and answers after they are committed
// (the engine).
type Ingester interface {
	Ingest(ctx context.Context, events []cases.Event) ([]cases.IngestResult, error)
}

// InvoiceMatcher runs the three-way match of an invoice against its PO and
// goods receipt under the policy's tolerances, the same match a PDF invoice
// goes through (the application layer's document intake), and returns the
// variance events to raise, with the ids id(i) gives.
type InvoiceMatcher interface {
	MatchInvoice(ctx context.Context, inv Document, at time.Time, id func(i int) string) (note string, raise []cases.Event)
}

// CaseNoter notes a text on the case a correlation key ("po:4500012")
// belongs to; found is false when no case carries the key.
type CaseNoter interface {
	NoteOnCase(ctx context.Context, key, text string) (caseID string, found bool, err error)
}

// Reader turns interchanges into events: it decodes them, compares them with
// the orders it remembers, and hands the events to the intake.
type Reader struct {
	Ingester Ingester
	Ledger   Ledger
	Matcher  InvoiceMatcher // nil: invoices are decoded, not matched
	Noter    CaseNoter      // nil: rejections are reported, not noted
	// ConfirmationDue is the policy's confirmation_due (default 48h).
	ConfirmationDue func() time.Duration
	Now             cases.Clock
	Limits          Limits
}

// SetResult is one transaction set as read, with the ids of the events it
// raises.
type SetResult struct {
	Document
	Events []cases.Event `json:"events"`
	Notes  []string      `json:"notes,omitempty"`
}

// Result is what reading one interchange file did.
type Result struct {
	Sets   []SetResult          `json:"sets"`
	Events []cases.Event        `json:"-"`
	Raised []cases.IngestResult `json:"events"`
	Errors []string             `json:"errors"`
}

// plan is what a file will change, worked out before anything is written.
type plan struct {
	events   []cases.Event
	remember []Order
	confirm  []string
	notes    []note
}

type note struct {
	set       int
	key, text string
}

// Read reads one file of interchanges: it decodes every set, raises the
// events of the usable ones through the Ingester and, once they are
// committed, updates the ledger. err is set when nothing could be read, or
// when the events could not be stored (nothing changed then).
func (r *Reader) Read(ctx context.Context, data []byte) (Result, error) {
	res, p, err := r.Plan(ctx, data)
	if err != nil {
		return res, err
	}
	if len(p.events) > 0 && r.Ingester != nil {
		raised, err := r.Ingester.Ingest(ctx, p.events)
		if err != nil {
			return res, err
		}
		res.Raised = raised
	}
	if r.Ledger != nil {
		if err := r.Ledger.Remember(ctx, p.remember); err != nil {
			return res, fmt.Errorf("remember orders: %w", err)
		}
		if err := r.Ledger.Confirm(ctx, p.confirm); err != nil {
			return res, fmt.Errorf("confirm orders: %w", err)
		}
	}
	for _, n := range p.notes {
		if r.Noter == nil {
			res.Sets[n.set].Notes = append(res.Sets[n.set].Notes, n.text+" (not noted: no case store)")
			continue
		}
		id, found, err := r.Noter.NoteOnCase(ctx, n.key, n.text)
		switch {
		case err != nil:
			res.Errors = append(res.Errors, fmt.Sprintf("note on %s: %v", n.key, err))
		case found:
			res.Sets[n.set].Notes = append(res.Sets[n.set].Notes, n.text+" (noted on "+id+")")
		default:
			res.Sets[n.set].Notes = append(res.Sets[n.set].Notes, n.text+" (no case carries "+n.key+" yet)")
		}
	}
	return res, nil
}

// Plan decodes data and works out the events and ledger changes without
// writing anything.
func (r *Reader) Plan(ctx context.Context, data []byte) (Result, plan, error) {
	var res Result
	res.Errors = []string{}
	ics, err := Parse(data, r.Limits)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res, plan{}, err
	}
	docs := Decode(ics)
	var p plan
	// Orders in this file count for the sets after them (an 850 and its
	// 855 in one mailbag).
	local := map[string]Order{}
	for i, d := range docs {
		sr := SetResult{Document: d, Events: []cases.Event{}}
		res.Errors = append(res.Errors, d.Errors...)
		if d.usable {
			evs, notes, remember, confirm := r.mapDocument(ctx, d, local, &sr)
			sr.Events = append(sr.Events, evs...)
			p.events = append(p.events, evs...)
			for _, n := range notes {
				p.notes = append(p.notes, note{set: i, key: n[0], text: n[1]})
			}
			for _, o := range remember {
				local[o.Key] = o
			}
			p.remember = append(p.remember, remember...)
			p.confirm = append(p.confirm, confirm...)
		} else if d.Kind != KindNotUsed || len(d.Errors) > 0 {
			sr.Notes = append(sr.Notes, "no events: the set or its envelope failed a check")
		}
		res.Sets = append(res.Sets, sr)
	}
	res.Events = p.events
	if len(res.Sets) == 0 {
		return res, p, fmt.Errorf("no transaction set could be read")
	}
	return res, p, nil
}

// Preview reads data as Read does but only remembers and confirms orders in
// the ledger: nothing is ingested and no case is noted. exops edi parse uses
// it with a MemoryLedger so that the files it is given are read in order,
// an 850 in one and its 855 in the next.
func (r *Reader) Preview(ctx context.Context, data []byte) (Result, error) {
	res, p, err := r.Plan(ctx, data)
	if err != nil {
		return res, err
	}
	if r.Ledger != nil {
		if err := r.Ledger.Remember(ctx, p.remember); err != nil {
			return res, err
		}
		if err := r.Ledger.Confirm(ctx, p.confirm); err != nil {
			return res, err
		}
	}
	for _, n := range p.notes {
		res.Sets[n.set].Notes = append(res.Sets[n.set].Notes, n.text+" (would be noted on the case of "+n.key+")")
	}
	return res, nil
}

// Overdue lists the supplier.confirmation_missing events due by now
// without raising them.
func (r *Reader) Overdue(ctx context.Context) ([]cases.Event, error) {
	if r.Ledger == nil {
		return nil, nil
	}
	orders, err := r.Ledger.Overdue(ctx, r.now(), MaxOpenOrders)
	if err != nil {
		return nil, err
	}
	var out []cases.Event
	for _, o := range orders {
		if ev, err := missingEvent(o); err == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}

func missingEvent(o Order) (cases.Event, error) {
	data := map[string]any{"po": o.PO, "supplier": o.Supplier, "sent_at": o.Sent.Format(time.RFC3339), "expected_by": o.Due.Format(time.RFC3339)}
	if o.Value > 0 {
		data["po_value"] = o.Value
	}
	if o.Currency != "" {
		data["currency"] = o.Currency
	}
	return cases.NewEvent(cases.Event{Source: Source, ID: "edi:" + o.Key + ":" + o.Control + ":confirmation_missing",
		Type: "supplier.confirmation_missing", Time: o.Due, Subject: o.PO, Data: data})
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return cases.WallClock()
}

func (r *Reader) due() time.Duration {
	if r.ConfirmationDue != nil {
		if d := r.ConfirmationDue(); d > 0 {
			return d
		}
	}
	return 48 * time.Hour
}

// eventID derives an event's id from the sender and the control numbers of
// the set it comes from, so that a resent interchange raises duplicates.
func eventID(d Document, suffix string) string {
	id := fmt.Sprintf("edi:%s:%s:%s:%s:%s", d.Sender, d.Interchange, d.Group, d.Control, suffix)
	if len(id) > 200 {
		sum := sha256.Sum256([]byte(id))
		id = "edi:" + hex.EncodeToString(sum[:16])
	}
	return id
}

// eventTime is the interchange's own date: a resend carries the same one,
// so its events are the same events.
func (r *Reader) eventTime(d Document) time.Time {
	if t, err := time.Parse(time.DateOnly, d.Date); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, d.InterchangeDate); err == nil {
		return t
	}
	return r.now().UTC().Truncate(24 * time.Hour)
}

func partyName(d Document, roles ...string) string {
	for _, role := range roles {
		for _, p := range d.Parties {
			if p.Role == role && (p.Name != "" || p.ID != "") {
				return firstNonEmpty(p.Name, p.ID)
			}
		}
	}
	return ""
}

// supplierRoles name the seller in N1 and NAD.
var supplierRoles = []string{"SU", "VN", "SE", "SF", "SH", "II", "RI"}

func idOf(partner string) string {
	if i := strings.LastIndexByte(partner, ':'); i >= 0 {
		return partner[i+1:]
	}
	return partner
}

func (r *Reader) mapDocument(ctx context.Context, d Document, local map[string]Order, sr *SetResult) (evs []cases.Event, notes [][2]string, remember []Order, confirm []string) {
	mk := func(typ, suffix string, data map[string]any) {
		ev, err := cases.NewEvent(cases.Event{Source: Source, ID: eventID(d, suffix), Type: typ, Time: r.eventTime(d),
			Subject: d.DocumentNumber, Data: data})
		if err != nil {
			sr.Errors = append(sr.Errors, fmt.Sprintf("%s not raised: %v", typ, err))
			return
		}
		evs = append(evs, ev)
	}
	lookup := func(po string) (Order, bool) {
		key := orderKey(d.Sender, po)
		if o, ok := local[key]; ok {
			return o, true
		}
		if r.Ledger == nil {
			return Order{}, false
		}
		o, ok, err := r.Ledger.Order(ctx, key)
		if err != nil {
			sr.Errors = append(sr.Errors, fmt.Sprintf("look up PO %s: %v", po, err))
		}
		return o, ok
	}
	switch d.Kind {
	case KindPurchaseOrder:
		if d.PONumber == "" {
			sr.Notes = append(sr.Notes, "not remembered: the order has no PO number")
			return
		}
		sent := r.eventTime(d)
		o := Order{Key: orderKey(d.Receiver, d.PONumber), PO: d.PONumber, Partner: d.Receiver,
			Supplier: firstNonEmpty(partyName(d, supplierRoles...), idOf(d.Receiver)),
			Sent:     sent, Due: sent.Add(r.due()), Value: d.Value, Currency: d.Currency, Requested: d.RequestedDate,
			Control: d.Group + "/" + d.Control}
		for _, l := range d.Items {
			o.Lines = append(o.Lines, OrderLine{Item: l.Item, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Requested: firstNonEmpty(l.Requested, d.RequestedDate)})
		}
		sr.Notes = append(sr.Notes, fmt.Sprintf("PO %s remembered: an acknowledgment is due by %s", d.PONumber, o.Due.Format(time.RFC3339)))
		remember = append(remember, o)
	case KindOrderResponse:
		if d.PONumber == "" {
			sr.Notes = append(sr.Notes, "no events: the acknowledgment names no PO")
			return
		}
		o, known := lookup(d.PONumber)
		if known {
			confirm = append(confirm, o.Key)
		}
		supplier := firstNonEmpty(o.Supplier, partyName(d, supplierRoles...), idOf(d.Sender))
		base := func() map[string]any {
			m := map[string]any{"po": d.PONumber, "supplier": supplier}
			if o.Value > 0 {
				m["po_value"] = o.Value
			}
			if cur := firstNonEmpty(d.Currency, o.Currency); cur != "" {
				m["currency"] = cur
			}
			return m
		}
		if d.Status == LineRejected && !anyLineStatus(d.Items) {
			m := base()
			m["change"] = "rejected"
			m["reason"] = fmt.Sprintf("acknowledgment %s rejects the whole order", firstNonEmpty(d.AckType, "code"))
			mk("supplier.order_changed", "po", m)
			return
		}
		for i, l := range d.Items {
			change, m := lineChange(l, o, base())
			if change == "" {
				continue
			}
			m["change"] = change
			if l.Item != "" {
				m["sku"] = l.Item
			}
			mk("supplier.order_changed", fmt.Sprintf("line%d", i+1), m)
		}
	case KindShipNotice:
		r.shipEvents(d, lookup, mk, sr)
	case KindInvoice:
		if r.Matcher == nil {
			sr.Notes = append(sr.Notes, "no three-way match: no ERP or WMS here")
			return
		}
		if d.PONumber == "" {
			sr.Notes = append(sr.Notes, "no three-way match: the invoice names no PO")
			return
		}
		text, raise := r.Matcher.MatchInvoice(ctx, d, r.eventTime(d), func(i int) string { return eventID(d, fmt.Sprintf("match%d", i)) })
		if text != "" {
			sr.Notes = append(sr.Notes, text)
		}
		evs = append(evs, raise...)
	case KindFunctionalAck:
		for _, a := range d.Acks {
			if !a.Rejected() {
				continue
			}
			what := fmt.Sprintf("%s %s", firstNonEmpty(a.SetType, "group"), firstNonEmpty(a.SetControl, a.Group))
			text := fmt.Sprintf(":warning: %s %s from %s rejected %s (code %s)", d.Standard, d.Type, idOf(d.Sender), what, a.Code)
			if len(a.Errors) > 0 {
				text += ": " + strings.Join(a.Errors, "; ")
			}
			var o Order
			var ok bool
			if r.Ledger != nil && a.SetControl != "" {
				var err error
				o, ok, err = r.Ledger.ByControl(ctx, d.Sender, a.Group+"/"+a.SetControl)
				if err != nil {
					sr.Errors = append(sr.Errors, err.Error())
				}
			}
			if !ok {
				sr.Notes = append(sr.Notes, text+" (no remembered document has these control numbers)")
				continue
			}
			notes = append(notes, [2]string{"po:" + o.PO, text + ", that is PO " + o.PO})
		}
	}
	return evs, notes, remember, confirm
}

func anyLineStatus(lines []Line) bool {
	for _, l := range lines {
		if l.Status != "" {
			return true
		}
	}
	return false
}

// lineChange compares one acknowledged line with the PO line it answers
// (the remembered order when there is one, else what the 855 repeats of it).
func lineChange(l Line, o Order, m map[string]any) (string, map[string]any) {
	pl, onPO := o.line(l.Item)
	ordered := l.Quantity
	if onPO {
		ordered = pl.Quantity
	}
	if ordered > 0 {
		m["ordered_quantity"] = ordered
	}
	if l.Status == LineRejected {
		return "rejected", m
	}
	var changes []string
	confirmed := l.Quantity
	if l.HasAckQty {
		confirmed = l.AckQuantity
	}
	if confirmed != ordered && (l.HasAckQty || onPO) {
		changes = append(changes, "quantity")
	}
	m["confirmed_quantity"] = confirmed
	if l.HasPrice {
		m["confirmed_unit_price"] = l.UnitPrice
		if onPO && pl.UnitPrice > 0 {
			m["po_unit_price"] = pl.UnitPrice
			if math.Abs(l.UnitPrice-pl.UnitPrice) > 1e-9 {
				changes = append(changes, "price")
			}
		}
	}
	requested := l.Requested
	if onPO && pl.Requested != "" {
		requested = pl.Requested
	}
	if requested != "" {
		m["requested_date"] = requested
	}
	if l.AckDate != "" {
		m["confirmed_date"] = l.AckDate
		if requested != "" && l.AckDate != requested {
			changes = append(changes, "date")
		}
	}
	// What the status code says changed counts even when the PO is not
	// remembered to compare with.
	for _, c := range l.Changes {
		if !contains(changes, c) && (c != "quantity" && c != "date" || !onPO) {
			changes = append(changes, c)
		}
	}
	sort.Strings(changes)
	return strings.Join(changes, ","), m
}

// shipEvents raises shipment.delayed when the notice ships after the PO's
// requested date, and shipment.shortfall per item it ships less of than
// was ordered.
func (r *Reader) shipEvents(d Document, lookup func(string) (Order, bool), mk func(typ, suffix string, data map[string]any), sr *SetResult) {
	shipment := d.DocumentNumber
	if shipment == "" {
		sr.Notes = append(sr.Notes, "no events: the ship notice has no shipment id")
		return
	}
	supplierOf := func(o Order) string {
		return firstNonEmpty(o.Supplier, partyName(d, supplierRoles...), idOf(d.Sender))
	}
	// Items per PO, in the order they appear.
	var pos []string
	byPO := map[string][]Line{}
	for _, l := range d.Items {
		po := firstNonEmpty(l.PO, d.PONumber)
		if po == "" {
			continue
		}
		if _, ok := byPO[po]; !ok {
			pos = append(pos, po)
		}
		byPO[po] = append(byPO[po], l)
	}
	if len(pos) == 0 && d.PONumber != "" {
		pos = []string{d.PONumber}
	}
	shipped := firstNonEmpty(d.ShipDate, d.Date)
	eta := firstNonEmpty(d.DeliveryDate, shipped)
	for pi, po := range pos {
		o, known := lookup(po)
		// The date the PO wants the goods shipped in this notice by: the
		// earliest of their lines' requested dates, else the order's.
		requested := ""
		for _, l := range byPO[po] {
			if pl, ok := o.line(l.Item); ok && pl.Requested != "" && (requested == "" || pl.Requested < requested) {
				requested = pl.Requested
			}
		}
		requested = firstNonEmpty(requested, o.Requested)
		if known && requested != "" && shipped != "" && shipped > requested {
			m := map[string]any{"shipment": shipment, "po": po, "supplier": supplierOf(o), "original_eta": requested, "new_eta": eta,
				"reason": fmt.Sprintf("ship notice %s ships %s; PO %s asked for %s", shipment, shipped, po, requested)}
			mk("shipment.delayed", fmt.Sprintf("late%d", pi+1), m)
		}
		shippedQty := map[string]float64{}
		ordered := map[string]float64{}
		var items []string
		for _, l := range byPO[po] {
			if l.Item == "" {
				continue
			}
			if _, ok := shippedQty[l.Item]; !ok {
				items = append(items, l.Item)
			}
			shippedQty[l.Item] += l.Quantity
			if l.Ordered > 0 {
				ordered[l.Item] = l.Ordered
			}
		}
		for ii, item := range items {
			want, price := ordered[item], 0.0
			if pl, ok := o.line(item); known && ok {
				want, price = pl.Quantity, pl.UnitPrice
			}
			if want <= 0 || shippedQty[item] >= want {
				continue
			}
			m := map[string]any{"shipment": shipment, "po": po, "supplier": supplierOf(o), "sku": item,
				"ordered_quantity": want, "shipped_quantity": shippedQty[item]}
			if price > 0 {
				m["unit_price"] = price
			}
			if o.Currency != "" {
				m["currency"] = o.Currency
			}
			mk("shipment.shortfall", fmt.Sprintf("short%d.%d", pi+1, ii+1), m)
		}
	}
}

// RaiseOverdue raises supplier.confirmation_missing for every remembered
// order whose acknowledgment was due by now and has not come, then takes
// those orders off the overdue list. A crash between the two raises the
// same events again: their ids derive from the order, so they are
// duplicates.
func (r *Reader) RaiseOverdue(ctx context.Context) (int, error) {
	if r.Ledger == nil {
		return 0, nil
	}
	total := 0
	var bad []error
	for {
		orders, err := r.Ledger.Overdue(ctx, r.now(), 500)
		if err != nil || len(orders) == 0 {
			return total, errors.Join(append(bad, err)...)
		}
		evs := make([]cases.Event, 0, len(orders))
		keys := make([]string, 0, len(orders))
		for _, o := range orders {
			ev, err := missingEvent(o)
			keys = append(keys, o.Key)
			if err != nil {
				// The order cannot be an event (an over-long id): it is
				// settled all the same, so it does not block the others,
				// and named in the error.
				bad = append(bad, fmt.Errorf("PO %s: %w", o.PO, err))
				continue
			}
			evs = append(evs, ev)
		}
		if len(evs) > 0 {
			if _, err := r.Ingester.Ingest(ctx, evs); err != nil {
				return total, err
			}
		}
		if err := r.Ledger.Settle(ctx, keys); err != nil {
			return total, err
		}
		total += len(evs)
	}
}

// CaseNotes notes a text on the case a correlation key points to, through
// the engine (so the note is audited and posted in the case's thread).
type CaseNotes struct {
	Store  cases.Store
	Engine interface {
		NoteDocument(ctx context.Context, id, actor, text string) (*cases.Case, error)
	}
}

// NoteOnCase implements CaseNoter.
func (n CaseNotes) NoteOnCase(ctx context.Context, key, text string) (string, bool, error) {
	var ref cases.KeyRef
	found := false
	err := n.Store.View(ctx, func(tx cases.ReadTx) error {
		r, err := tx.Key(key)
		if cases.KindOf(err) == cases.KindNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		ref, found = r, true
		return nil
	})
	if err != nil || !found {
		return "", false, err
	}
	c, err := n.Engine.NoteDocument(ctx, ref.Case, cases.ActorExops, text)
	if err != nil {
		return "", false, err
	}
	return c.ID, true, nil
}
