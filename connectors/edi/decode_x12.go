package edi

import (
	"fmt"
	"strings"
)

// headerDates are the DTM qualifiers that say when goods are wanted, most
// telling first: delivery requested, requested for delivery, requested
// ship, ship no later, do not deliver after, ship not before, deliver not
// before.
var requestedDates = []string{"002", "074", "010", "038", "063", "037", "064"}

func decodeX12(d *Document, s Set) {
	switch s.Type {
	case "850":
		d.Kind = KindPurchaseOrder
	case "855":
		d.Kind = KindOrderResponse
	case "856":
		d.Kind = KindShipNotice
	case "810":
		d.Kind = KindInvoice
	case "997", "999":
		d.Kind = KindFunctionalAck
	default:
		d.Kind = KindNotUsed
		return
	}
	nums := numbers{d: d}
	var (
		line    *Line
		dates   = map[string]string{}
		hls     = map[string]*HL{}
		hl      *HL
		ack     *Ack
		ackGrp  Ack
		ackKeys []string
		hlOrder []string
		// groupSets counts the AK2s of the current AK1 group.
		groupSets int
	)
	flush := func() {
		if line != nil {
			line.Item = chooseItem(line.IDs, ackKeys)
			d.Items = append(d.Items, *line)
			line = nil
		}
	}
	newLine := func(seg Segment, numEl, qtyEl, unitEl, priceEl, pairsFrom int) {
		flush()
		l := Line{Number: seg.El(numEl), Unit: seg.El(unitEl), IDs: map[string]string{}}
		l.Quantity, _ = nums.num(seg.Tag, seg.El(qtyEl))
		if priceEl > 0 {
			l.UnitPrice, l.HasPrice = nums.num(seg.Tag, seg.El(priceEl))
		}
		ackKeys = ackKeys[:0]
		for i := pairsFrom; i+1 <= len(seg.Elems); i += 2 {
			// Fixed-width senders pad ids; the padding is no part of them.
			q, v := strings.TrimSpace(seg.El(i)), strings.TrimSpace(seg.El(i+1))
			if q != "" && v != "" {
				if _, dup := l.IDs[q]; !dup {
					l.IDs[q] = v
					ackKeys = append(ackKeys, q)
				}
			}
		}
		line = &l
	}
	for _, seg := range s.Segments {
		switch seg.Tag {
		case "BEG": // 850
			d.DocumentNumber, d.PONumber, d.Date = seg.El(3), seg.El(3), anyDate(seg.El(5))
		case "BAK": // 855
			d.AckType, d.DocumentNumber, d.PONumber, d.Date = seg.El(2), seg.El(3), seg.El(3), anyDate(seg.El(4))
		case "BSN": // 856
			d.DocumentNumber, d.Date = seg.El(2), anyDate(seg.El(3))
		case "BIG": // 810
			d.Date, d.DocumentNumber, d.PONumber = anyDate(seg.El(1)), seg.El(2), seg.El(4)
		case "CUR":
			if d.Currency == "" {
				d.Currency = seg.El(2)
			}
		case "N1":
			d.Parties = append(d.Parties, Party{Role: seg.El(1), Name: seg.El(2), Qualifier: seg.El(3), ID: seg.El(4)})
		case "DTM":
			if date := x12DTM(seg); date != "" {
				if line != nil && d.Kind != KindShipNotice {
					if line.Requested == "" && contains(requestedDates, seg.El(1)) {
						line.Requested = date
					}
				} else if dates[seg.El(1)] == "" {
					dates[seg.El(1)] = date
				}
			}
		case "TD5":
			if d.Carrier == "" {
				d.Carrier = firstNonEmpty(seg.El(5), seg.El(3))
			}
		case "ITD":
			d.Terms = terms(seg)
			if due := anyDate(seg.El(6)); due != "" {
				d.DueDate = due
			}
		case "PO1":
			newLine(seg, 1, 2, 3, 4, 6)
		case "IT1":
			newLine(seg, 1, 2, 3, 4, 6)
		case "PID":
			if line != nil && line.Description == "" {
				line.Description = seg.El(5)
			}
		case "ACK": // 855 line acknowledgment
			if line == nil {
				continue
			}
			if line.StatusCode == "" {
				line.StatusCode = seg.El(1)
			}
			if q, ok := nums.num(seg.Tag, seg.El(2)); ok {
				line.AckQuantity += q
				line.HasAckQty = true
			}
			if date := anyDate(seg.El(5)); date != "" && line.AckDate == "" {
				line.AckDate = date
			}
		case "CTP": // 855 or 810 price detail
			if line != nil && !line.HasPrice {
				line.UnitPrice, line.HasPrice = nums.num(seg.Tag, seg.El(3))
			}
		case "TDS":
			if t, ok := nums.num(seg.Tag, seg.El(1)); ok {
				// TDS01 is N2: two implied decimals, unless written with a point.
				if !strings.Contains(seg.El(1), ".") {
					t /= 100
				}
				d.Total = round2(t)
			}
		case "HL":
			flush()
			hl = &HL{ID: seg.El(1), Parent: seg.El(2), Level: hlLevel(seg.El(3))}
			if p := hls[hl.Parent]; p != nil {
				hl.PO = p.PO
			}
			if _, dup := hls[hl.ID]; !dup {
				hlOrder = append(hlOrder, hl.ID)
			}
			hls[hl.ID] = hl
		case "PRF":
			if hl != nil {
				hl.PO = seg.El(1)
			}
			if d.PONumber == "" {
				d.PONumber = seg.El(1)
			}
		case "LIN":
			if d.Kind == KindShipNotice {
				newLine(seg, 1, 0, 0, 0, 2)
				if hl != nil {
					line.PO = hl.PO
					hl.Item = chooseItem(line.IDs, ackKeys)
				}
			}
		case "SN1":
			if line == nil {
				newLine(Segment{}, 0, 0, 0, 0, 1)
				if hl != nil {
					line.PO = hl.PO
				}
			}
			line.Number = firstNonEmpty(line.Number, seg.El(1))
			line.Quantity, _ = nums.num(seg.Tag, seg.El(2))
			line.Unit = seg.El(3)
			line.Ordered, _ = nums.num(seg.Tag, seg.El(5))
			if hl != nil {
				hl.Quantity = line.Quantity
			}
		case "AK1":
			ackGrp = Ack{Functional: seg.El(1), Group: seg.El(2)}
			groupSets = 0
		case "AK2":
			d.Acks = append(d.Acks, Ack{Functional: ackGrp.Functional, Group: ackGrp.Group, SetType: seg.El(1), SetControl: seg.El(2)})
			ack = &d.Acks[len(d.Acks)-1]
			groupSets++
		case "AK3", "IK3":
			if ack != nil {
				ack.Errors = append(ack.Errors, fmt.Sprintf("segment %s at %s: error %s", seg.El(1), seg.El(2), seg.El(4)))
			}
		case "AK4", "IK4":
			if ack != nil {
				ack.Errors = append(ack.Errors, fmt.Sprintf("element %s: error %s", seg.Comp(1, 1), seg.El(3)))
			}
		case "AK5", "IK5":
			if ack != nil {
				ack.Code, ack.Status = seg.El(1), ackStatus(seg.El(1))
				for i := 2; i <= len(seg.Elems); i++ {
					if e := seg.El(i); e != "" {
						ack.Errors = append(ack.Errors, "set error "+e)
					}
				}
				ack = nil
			}
		case "AK9":
			// A group acknowledged without set detail, or rejected as a
			// whole while no set says so: one entry for the group.
			st := ackStatus(seg.El(1))
			if groupSets == 0 || st == "rejected" && !anyRejected(d.Acks[len(d.Acks)-groupSets:]) {
				d.Acks = append(d.Acks, Ack{Functional: ackGrp.Functional, Group: ackGrp.Group, Code: seg.El(1), Status: st})
			}
		}
	}
	flush()
	// The hierarchy, with each level's order and item.
	for _, id := range hlOrder {
		d.Hierarchy = append(d.Hierarchy, *hls[id])
	}
	if d.Kind == KindShipNotice {
		// Items inherit their order from the hierarchy, whose PRF may come
		// after the item's HL was opened in some layouts (pick/pack).
		for i := range d.Items {
			if d.Items[i].PO == "" {
				d.Items[i].PO = d.PONumber
			}
		}
		d.ShipDate = firstNonEmpty(dates["011"], d.Date)
		d.DeliveryDate = firstNonEmpty(dates["017"], dates["067"], dates["002"])
	}
	for _, q := range requestedDates {
		if d.RequestedDate = dates[q]; d.RequestedDate != "" {
			break
		}
	}
	if d.Kind == KindFunctionalAck {
		d.Lines = len(d.Acks)
	} else {
		d.Lines = len(d.Items)
	}
	switch d.Kind {
	case KindPurchaseOrder:
		d.Value = lineValue(d.Items)
	case KindOrderResponse:
		d.Status = x12AckStatus(d.AckType)
		for i := range d.Items {
			classifyX12Line(&d.Items[i])
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func hlLevel(code string) string {
	switch code {
	case "S":
		return "shipment"
	case "O":
		return "order"
	case "T":
		return "tare"
	case "P":
		return "pack"
	case "I":
		return "item"
	}
	return code
}

// terms says an ITD in words: "2% 10 days, net 30 days" or its text.
func terms(seg Segment) string {
	if t := seg.El(12); t != "" {
		return t
	}
	var parts []string
	if p := seg.El(3); p != "" && p != "0" {
		parts = append(parts, fmt.Sprintf("%s%% %s days", p, seg.El(5)))
	}
	if n := seg.El(7); n != "" {
		parts = append(parts, "net "+n+" days")
	}
	return strings.Join(parts, ", ")
}

// ackStatus reads AK501 / AK901 / IK501.
func ackStatus(code string) string {
	switch code {
	case "A":
		return "accepted"
	case "E", "W":
		return "accepted_with_errors"
	case "P":
		return "partial"
	case "R", "M", "X":
		return "rejected"
	}
	return "unknown"
}

func anyRejected(acks []Ack) bool {
	for _, a := range acks {
		if a.Rejected() {
			return true
		}
	}
	return false
}

// x12AckStatus reads BAK02.
func x12AckStatus(code string) string {
	switch code {
	case "RD", "RF", "RJ", "RO", "RS":
		return LineRejected
	case "AC", "AE":
		return LineChanged
	case "":
		return ""
	}
	return LineAccepted
}

// classifyX12Line reads ACK01 (the line item status code) and the ACK
// quantity into accepted, rejected or changed, and what changed.
func classifyX12Line(l *Line) {
	code := l.StatusCode
	var changes []string
	switch code {
	case "IR", "ID", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8":
		l.Status = LineRejected
	case "IP":
		changes = append(changes, "price")
	case "IQ":
		changes = append(changes, "quantity")
	case "DR", "SP":
		changes = append(changes, "date")
	case "IB", "BP":
		changes = append(changes, "quantity", "date")
	case "IC", "IS", "IW", "IH":
		changes = append(changes, "item")
	}
	if l.HasAckQty && l.Quantity > 0 && l.AckQuantity != l.Quantity && !contains(changes, "quantity") && l.Status != LineRejected {
		changes = append(changes, "quantity")
	}
	if l.AckDate != "" && l.Requested != "" && l.AckDate != l.Requested && !contains(changes, "date") && l.Status != LineRejected {
		changes = append(changes, "date")
	}
	switch {
	case l.Status == LineRejected:
	case len(changes) > 0:
		l.Status, l.Changes = LineChanged, changes
	case code != "":
		l.Status = LineAccepted
	}
}

// x12DTM reads a DTM's date: DTM02 (CCYYMMDD, or YYMMDD before 004010), or,
// when a sender uses the period form instead, DTM06 in the format DTM05
// names (D8 CCYYMMDD, RD8 a range of them, DT/RDT/DTS/RTS with a time);
// a range gives its first day.
func x12DTM(seg Segment) string {
	if d := anyDate(seg.El(2)); d != "" {
		return d
	}
	v := seg.El(6)
	switch seg.El(5) {
	case "D8", "RD8", "DT", "RDT", "DTS", "RTS":
		if len(v) >= 8 {
			d, _ := ccyymmdd(v[:8])
			return d
		}
	case "D6":
		d, _ := yymmdd(v)
		return d
	}
	return ""
}
