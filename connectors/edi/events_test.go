package edi

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

type recorder struct{ events []cases.Event }

func (r *recorder) Ingest(_ context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	out := make([]cases.IngestResult, len(evs))
	for i, ev := range evs {
		dup := false
		for _, old := range r.events {
			dup = dup || old.ID == ev.ID
		}
		if !dup {
			r.events = append(r.events, ev)
		}
		out[i] = cases.IngestResult{Source: ev.Source, ID: ev.ID, Duplicate: dup}
	}
	return out, nil
}

func edifact(sender, receiver, ref string, msgs ...string) []byte {
	return []byte("UNA:+.? 'UNB+UNOC:3+" + sender + ":14+" + receiver + ":14+20261201:0900+" + ref + "'" +
		strings.Join(msgs, "") + "UNZ+" + strconv.Itoa(len(msgs)) + "+" + ref + "'")
}

func message(typ, ref string, segs ...string) string {
	body := "UNH+" + ref + "+" + typ + ":D:96A:UN:EAN008'" + strings.Join(segs, "'") + "'"
	return body + "UNT+" + strconv.Itoa(len(segs)+2) + "+" + ref + "'"
}

func clockAt(t *time.Time) cases.Clock { return func() time.Time { return *t } }

func types(evs []cases.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+":"+e.Str("change"))
	}
	return out
}

func TestOrderResponseAgainstRememberedOrder(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := &recorder{}
	r := &Reader{Ingester: rec, Ledger: &MemoryLedger{}, Now: clockAt(&now)}
	ctx := context.Background()
	order := edifact("BUYER", "SUPPLIER", "1", message("ORDERS", "1", "BGM+220+PO-55+9", "DTM+137:20261201:102", "NAD+SU+SUPPLIER::9++Supply Co",
		"LIN+1++111:EN", "QTY+21:10", "PRI+AAA:5", "DTM+2:20261210:102", "LIN+2++222:EN", "QTY+21:4", "PRI+AAA:7"))
	if _, err := r.Read(ctx, order); err != nil {
		t.Fatal(err)
	}
	resp := edifact("SUPPLIER", "BUYER", "2", message("ORDRSP", "1", "BGM+231+R-1+4", "DTM+137:20261202:102", "RFF+ON:PO-55",
		"LIN+1+3+111:EN", "QTY+21:10", "QTY+113:8", "PRI+AAA:5", "LIN+2+7+222:EN", "QTY+21:4"))
	res, err := r.Read(ctx, resp)
	if err != nil {
		t.Fatal(err)
	}
	got := types(rec.events)
	if len(got) != 2 || got[0] != "supplier.order_changed:quantity" || got[1] != "supplier.order_changed:rejected" {
		t.Fatalf("events %v (%+v)", got, res.Sets)
	}
	ev := rec.events[0]
	if ev.Str("supplier") != "Supply Co" || ev.Str("sku") != "111" {
		t.Errorf("event data %v", ev.Data)
	}
	if q, _ := ev.Num("confirmed_quantity"); q != 8 {
		t.Errorf("confirmed quantity %v", q)
	}
	if v, _ := ev.Num("po_value"); v != 78 {
		t.Errorf("po value %v", v)
	}
	// Acknowledged: never overdue.
	now = now.Add(30 * 24 * time.Hour)
	if n, err := r.RaiseOverdue(ctx); n != 0 || err != nil {
		t.Errorf("acknowledged order raised %d, %v", n, err)
	}
	// A resend is the same events.
	res2, _ := r.Read(ctx, resp)
	if len(res2.Raised) != 2 || !res2.Raised[0].Duplicate || len(rec.events) != 2 {
		t.Errorf("resend: %+v", res2.Raised)
	}
}

func TestConfirmationDue(t *testing.T) {
	sent := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := sent.Add(47 * time.Hour)
	rec := &recorder{}
	r := &Reader{Ingester: rec, Ledger: &MemoryLedger{}, Now: clockAt(&now), ConfirmationDue: func() time.Duration { return 48 * time.Hour }}
	ctx := context.Background()
	po := x12Doc('*', ':', '~', "\n", "00401", "GS*PO*BUYER*SUPPLIER*20261201*1200*7*X*004010", "ST*850*0001", "BEG*00*SA*PO-1**20261201",
		"CUR*BY*EUR", "PO1*1*10*EA*2.5**BP*SKU-1", "SE*5*0001", "GE*1*7", "IEA*1*000000101")
	if _, err := r.Read(ctx, []byte(po)); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RaiseOverdue(ctx); n != 0 {
		t.Fatalf("raised %d before the due time", n)
	}
	now = sent.Add(48 * time.Hour)
	if n, err := r.RaiseOverdue(ctx); n != 1 || err != nil {
		t.Fatalf("raised %d at the due time, %v", n, err)
	}
	ev := rec.events[0]
	if v, _ := ev.Num("po_value"); ev.Type != "supplier.confirmation_missing" || v != 25 || ev.Str("currency") != "EUR" || !ev.Time.Equal(now) {
		t.Errorf("event %+v", ev)
	}
	if n, _ := r.RaiseOverdue(ctx); n != 0 {
		t.Errorf("raised again: %d", n)
	}
	// A resent 850 does not bring the order back.
	r.Read(ctx, []byte(po))
	if n, _ := r.RaiseOverdue(ctx); n != 0 {
		t.Errorf("resent PO raised %d", n)
	}
}

func TestShipNoticeShortWithoutRememberedOrder(t *testing.T) {
	rec := &recorder{}
	r := &Reader{Ingester: rec, Ledger: &MemoryLedger{}}
	asn := x12Doc('*', ':', '~', "\n", "00401", "GS*SH*SUPPLIER*BUYER*20261201*1200*7*X*004010", "ST*856*0001",
		"BSN*00*ASN-1*20261201*1200", "HL*1**S", "HL*2*1*O", "PRF*PO-9", "HL*3*2*I", "LIN**BP*SKU-1", "SN1**6*EA**10*EA",
		"HL*4*2*I", "LIN**BP*SKU-2", "SN1**5*EA**5*EA", "SE*12*0001", "GE*1*7", "IEA*1*000000101")
	res, err := r.Read(context.Background(), []byte(asn))
	if err != nil || len(res.Errors) != 0 {
		t.Fatal(err, res.Errors)
	}
	if len(rec.events) != 1 {
		t.Fatalf("events %v", types(rec.events))
	}
	ev := rec.events[0]
	if q, _ := ev.Num("shipped_quantity"); ev.Type != "shipment.shortfall" || ev.Str("sku") != "SKU-1" || ev.Str("po") != "PO-9" || q != 6 {
		t.Errorf("event %+v", ev)
	}
}

// Sets whose envelope failed a check are shown with the error and raise
// nothing.
func TestBadEnvelopeRaisesNothing(t *testing.T) {
	rec := &recorder{}
	r := &Reader{Ingester: rec, Ledger: &MemoryLedger{}}
	ack := x12Doc('*', ':', '~', "\n", "00401", "GS*PR*SUPPLIER*BUYER*20261201*1200*7*X*004010", "ST*855*0001",
		"BAK*00*AC*PO-1*20261201", "PO1*1*10*EA*2.5**BP*SKU-1", "ACK*IR", "SE*5*0001", "GE*1*8", "IEA*1*000000101")
	res, err := r.Read(context.Background(), []byte(ack))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sets) != 1 || res.Sets[0].Lines != 1 || len(rec.events) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "GE02") {
		t.Errorf("result %+v, events %v", res, rec.events)
	}
}
