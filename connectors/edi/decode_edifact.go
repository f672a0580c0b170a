package edi

import "strings"

func decodeEdifact(d *Document, s Set) {
	switch s.Type {
	case "ORDERS":
		d.Kind = KindPurchaseOrder
	case "ORDRSP":
		d.Kind = KindOrderResponse
	case "DESADV":
		d.Kind = KindShipNotice
	case "INVOIC":
		d.Kind = KindInvoice
	case "CONTRL":
		d.Kind = KindFunctionalAck
	default:
		d.Kind = KindNotUsed
		return
	}
	nums := numbers{d: d, comma: true}
	var (
		line      *Line
		order     []string
		dates     = map[string]string{}
		totals    = map[string]float64{}
		cps       *HL
		ackQty    bool
		inSummary bool
		ucfGroup  string
	)
	flush := func() {
		if line != nil {
			line.Item = chooseItem(line.IDs, order)
			d.Items = append(d.Items, *line)
			line = nil
		}
	}
	addID := func(id, typ string) {
		id, typ = strings.TrimSpace(id), strings.TrimSpace(typ)
		if line == nil || id == "" {
			return
		}
		if typ == "" {
			typ = "ID"
		}
		if _, dup := line.IDs[typ]; !dup {
			line.IDs[typ] = id
			order = append(order, typ)
		}
	}
	for _, seg := range s.Segments {
		switch seg.Tag {
		case "BGM":
			d.DocumentNumber = seg.Comp(2, 1)
			if d.Kind == KindPurchaseOrder {
				d.PONumber = d.DocumentNumber
			}
			if d.Kind == KindOrderResponse {
				d.AckType = seg.El(3)
				d.Status = edifactResponseStatus(seg.El(3))
			}
		case "DTM":
			date := edifactDate(seg.Comp(1, 2), seg.Comp(1, 3))
			if date == "" {
				continue
			}
			q := seg.Comp(1, 1)
			if line != nil {
				switch q {
				case "2", "10", "63", "64", "69":
					if line.Requested == "" {
						line.Requested = date
					}
					if d.Kind == KindOrderResponse && line.AckDate == "" {
						line.AckDate = date
					}
				}
				continue
			}
			if dates[q] == "" {
				dates[q] = date
			}
		case "RFF":
			if seg.Comp(1, 1) == "ON" && d.PONumber == "" {
				d.PONumber = seg.Comp(1, 2)
			}
			if line != nil && seg.Comp(1, 1) == "ON" {
				line.PO = seg.Comp(1, 2)
			}
		case "NAD":
			name := firstNonEmpty(seg.Comp(4, 1), seg.Comp(3, 1))
			d.Parties = append(d.Parties, Party{Role: seg.El(1), ID: seg.Comp(2, 1), Qualifier: seg.Comp(2, 3), Name: name})
		case "CUX":
			if d.Currency == "" {
				d.Currency = seg.Comp(1, 2)
			}
		case "PAT":
			if d.Terms == "" {
				if n := seg.Comp(3, 4); n != "" {
					d.Terms = "net " + n + " " + periodWord(seg.Comp(3, 3))
				}
			}
		case "TDT":
			if d.Carrier == "" {
				d.Carrier = firstNonEmpty(seg.Comp(5, 4), seg.Comp(5, 1), seg.Comp(3, 1))
			}
		case "CPS":
			flush()
			cps = &HL{ID: seg.El(1), Parent: seg.El(2), Level: "pack"}
			if cps.Parent == "" {
				cps.Level = "shipment"
			}
			d.Hierarchy = append(d.Hierarchy, *cps)
		case "LIN":
			flush()
			order = order[:0]
			line = &Line{Number: seg.El(1), IDs: map[string]string{}}
			ackQty = false
			if d.Kind == KindOrderResponse {
				line.StatusCode = seg.El(2)
			}
			addID(seg.Comp(3, 1), seg.Comp(3, 2))
			if cps != nil {
				d.Hierarchy[len(d.Hierarchy)-1].Item = firstNonEmpty(d.Hierarchy[len(d.Hierarchy)-1].Item, seg.Comp(3, 1))
			}
		case "PIA":
			for i := 2; i <= len(seg.Elems); i++ {
				addID(seg.Comp(i, 1), seg.Comp(i, 2))
			}
		case "IMD":
			if line != nil && line.Description == "" {
				line.Description = firstNonEmpty(seg.Comp(3, 4), seg.Comp(3, 1))
			}
		case "QTY":
			if line == nil {
				continue
			}
			q, ok := nums.num(seg.Tag, seg.Comp(1, 2))
			if !ok {
				continue
			}
			switch code := seg.Comp(1, 1); {
			case code == "21" && d.Kind == KindShipNotice:
				line.Ordered = q
			case code == "12" && d.Kind == KindInvoice:
				// The despatched quantity stands in for the invoiced one
				// when the invoice gives no QTY 47.
				if line.Quantity == 0 {
					line.Quantity, line.Unit = q, seg.Comp(1, 3)
				}
			case code == "21" || code == "47" && d.Kind == KindInvoice || code == "12" && d.Kind == KindShipNotice:
				line.Quantity, line.Unit = q, seg.Comp(1, 3)
				if cps != nil && code == "12" {
					d.Hierarchy[len(d.Hierarchy)-1].Quantity += q
				}
			case d.Kind == KindOrderResponse && (code == "113" || code == "12" || code == "194" || code == "170"):
				if !ackQty {
					line.AckQuantity, line.HasAckQty, ackQty = q, true, true
				}
			}
		case "PRI":
			if line != nil && !line.HasPrice && (seg.Comp(1, 1) == "AAA" || seg.Comp(1, 1) == "AAB" || seg.Comp(1, 1) == "INV" || seg.Comp(1, 1) == "CAL") {
				line.UnitPrice, line.HasPrice = nums.num(seg.Tag, seg.Comp(1, 2))
				// C509 5284: the price is per this many units.
				if basis, ok := nums.num(seg.Tag, seg.Comp(1, 5)); ok && basis > 0 {
					line.UnitPrice /= basis
				}
			}
		case "UNS":
			flush()
			inSummary = true
		case "MOA":
			if inSummary || line == nil {
				if v, ok := nums.num(seg.Tag, seg.Comp(1, 2)); ok {
					if _, seen := totals[seg.Comp(1, 1)]; !seen {
						totals[seg.Comp(1, 1)] = v
					}
				}
			}
		case "UCI": // CONTRL: the interchange as a whole
			d.DocumentNumber = seg.El(1)
			d.Acks = append(d.Acks, Ack{Group: seg.El(1), Code: seg.El(4), Status: contrlStatus(seg.El(4))})
		case "UCF": // CONTRL: a UNG group, whose messages' UCMs follow
			ucfGroup = seg.El(1)
			d.Acks = append(d.Acks, Ack{Group: ucfGroup, Code: seg.El(4), Status: contrlStatus(seg.El(4))})
		case "UCM":
			d.Acks = append(d.Acks, Ack{Group: ucfGroup, SetControl: seg.El(1), SetType: seg.Comp(2, 1), Code: seg.El(3), Status: contrlStatus(seg.El(3))})
		case "UCS", "UCD":
			if n := len(d.Acks); n > 0 {
				d.Acks[n-1].Errors = append(d.Acks[n-1].Errors, strings.TrimSpace(seg.Tag+" "+seg.El(1)+" error "+seg.El(2)))
			}
		}
	}
	flush()
	d.Date = dates["137"]
	for _, q := range []string{"2", "10", "63", "64", "69"} {
		if d.RequestedDate = dates[q]; d.RequestedDate != "" {
			break
		}
	}
	switch d.Kind {
	case KindPurchaseOrder:
		d.Value = lineValue(d.Items)
	case KindOrderResponse:
		for i := range d.Items {
			classifyEdifactLine(&d.Items[i])
		}
	case KindShipNotice:
		d.ShipDate = firstNonEmpty(dates["11"], d.Date)
		d.DeliveryDate = firstNonEmpty(dates["17"], dates["132"], dates["2"], dates["358"])
		for i := range d.Items {
			if d.Items[i].PO == "" {
				d.Items[i].PO = d.PONumber
			}
		}
	case KindInvoice:
		for _, q := range []string{"77", "86", "39", "9", "128"} {
			if v, ok := totals[q]; ok {
				d.Total = round2(v)
				break
			}
		}
		d.DueDate = firstNonEmpty(dates["13"], dates["140"])
	}
	if d.Kind == KindFunctionalAck {
		// CONTRL's UCI is the interchange: the set-level entries are the
		// detail, the UCI alone when there are none.
		if len(d.Acks) > 1 {
			d.Acks = d.Acks[1:]
		}
		d.Lines = len(d.Acks)
	} else {
		d.Lines = len(d.Items)
	}
}

// edifactDate reads a DTM value by its format code (2379). The formats that
// start with the full date (102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 with
// seconds, 205/303/304 with a zone, 8/9/10 a shift, period or T time, 718
// and 719 ranges, which give their first day) are read from their first
// eight digits; those that start with a two-digit year (101 YYMMDD, 201/202
// with a time, 301/302 with a zone) from their first six; 2 DDMMYY, 3 MMDDYY, 4 DDMMCCYY and 5 DDMMCCYYHHMM
// are reordered. A value without a format is read as 102 when it has eight
// digits or more.
func edifactDate(v, format string) string {
	switch format {
	case "102", "203", "204", "205", "303", "304", "8", "9", "10", "718", "719", "":
		if len(v) >= 8 {
			d, _ := ccyymmdd(v[:8])
			return d
		}
	case "101", "201", "202", "301", "302":
		if len(v) >= 6 {
			d, _ := yymmdd(v[:6])
			return d
		}
	case "2":
		if len(v) == 6 {
			d, _ := yymmdd(v[4:6] + v[2:4] + v[0:2])
			return d
		}
	case "3":
		if len(v) == 6 {
			d, _ := yymmdd(v[4:6] + v[0:2] + v[2:4])
			return d
		}
	case "4", "5":
		if len(v) >= 8 {
			d, _ := ccyymmdd(v[4:8] + v[2:4] + v[0:2])
			return d
		}
	}
	return ""
}

func periodWord(code string) string {
	switch code {
	case "D":
		return "days"
	case "W":
		return "weeks"
	case "M":
		return "months"
	}
	return "periods"
}

// edifactResponseStatus reads BGM 1225 of an ORDRSP.
func edifactResponseStatus(code string) string {
	switch code {
	case "27":
		return LineRejected
	case "4", "5", "30":
		return LineChanged
	case "":
		return ""
	}
	return LineAccepted
}

// contrlStatus reads CONTRL action code 0083.
func contrlStatus(code string) string {
	switch code {
	case "4":
		return "rejected"
	case "7", "8":
		return "accepted"
	}
	return "unknown"
}

// classifyEdifactLine reads LIN 1229 (action request) with the response
// quantity: 7 and 2 refuse a line, 3 and 6 change it, 5 accepts it.
func classifyEdifactLine(l *Line) {
	var changes []string
	switch l.StatusCode {
	case "7", "2":
		l.Status = LineRejected
		return
	case "3", "6":
		changes = append(changes, "item")
	}
	if l.HasAckQty && l.Quantity > 0 && l.AckQuantity != l.Quantity {
		changes = []string{"quantity"}
	}
	switch {
	case len(changes) > 0:
		l.Status, l.Changes = LineChanged, changes
	case l.StatusCode != "":
		l.Status = LineAccepted
	}
}
