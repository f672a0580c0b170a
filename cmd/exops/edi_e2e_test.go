package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

const ediSource, ediSecret = "/van/acme", "van-secret"

// ediRig runs the whole program with a business clock the test moves.
type ediRig struct {
	t     *testing.T
	m     *Main
	ls    *localslack.Slack
	shift *atomic.Int64
	stop  func()
}

func startEDIRig(t *testing.T, ls *localslack.Slack, db string, shift *atomic.Int64) *ediRig {
	t.Helper()
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return testClock().Add(time.Duration(shift.Load())) }
	m, err := NewMain(Config{DBPath: db, Policy: pol, Addr: "127.0.0.1:0", SlackBotToken: "xoxb-rig", SlackAPIURL: ls.APIURL(),
		SourceSecrets: map[string]string{ediSource: ediSecret}, Now: now, TimerEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-m.Ready()
	r := &ediRig{t: t, m: m, ls: ls, shift: shift}
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); <-done; m.Close() }) }
	t.Cleanup(r.stop)
	return r
}

func (r *ediRig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r.m.bot.Wait()
	if err := r.m.engine.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

type ediReply struct {
	Sets []struct {
		Type   string        `json:"type"`
		Events []cases.Event `json:"events"`
		Notes  []string      `json:"notes"`
	} `json:"sets"`
	Events []cases.IngestResult `json:"events"`
	Errors []string             `json:"errors"`
}

func (r *ediRig) post(body []byte, signed bool) (int, ediReply) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.m.Addr()+"/v1/edi", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/edi-x12")
	req.Header.Set(connectors.HeaderSource, ediSource)
	if signed {
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(ediSecret, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep ediReply
	json.NewDecoder(resp.Body).Decode(&rep)
	return resp.StatusCode, rep
}

func (r *ediRig) caseOf(key string) *cases.Case {
	r.t.Helper()
	var c *cases.Case
	err := r.m.store.View(context.Background(), func(tx cases.ReadTx) error {
		ref, err := tx.Key(key)
		if err != nil {
			return err
		}
		c, err = tx.Case(ref.Case)
		return err
	})
	if err != nil {
		r.t.Fatalf("case of %s: %v", key, err)
	}
	return c
}

// interchange builds one X12 interchange; day(n) is the business date n
// days from now.
func interchange(from, to, fn, control string, segs ...string) []byte {
	pad := func(s string) string { return s + strings.Repeat(" ", 15-len(s)) }
	isa := strings.Join([]string{"ISA", "00", strings.Repeat(" ", 10), "00", strings.Repeat(" ", 10), "ZZ", pad(from), "ZZ", pad(to),
		"261201", "0900", "U", "00401", control, "0", "P", ">"}, "*")
	all := append([]string{isa, "GS*" + fn + "*" + from + "*" + to + "*20261201*0900*" + strings.TrimLeft(control, "0") + "*X*004010"}, segs...)
	all = append(all, "GE*1*"+strings.TrimLeft(control, "0"), "IEA*1*"+control)
	return []byte(strings.Join(all, "~\r\n") + "~\r\n")
}

func set(typ, ctl string, segs ...string) []string {
	out := append([]string{"ST*" + typ + "*" + ctl}, segs...)
	return append(out, fmt.Sprintf("SE*%d*%s", len(segs)+2, ctl))
}

func (r *ediRig) day(n int) string {
	return testClock().Add(time.Duration(r.shift.Load())).AddDate(0, 0, n).Format("20060102")
}

// Realistic sequences through the engine: each exception is raised once,
// routed to its team and posted, and the order memory survives a restart.
func TestEDISequencesThroughTheEngine(t *testing.T) {
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	db := filepath.Join(t.TempDir(), "x.db")
	shift := &atomic.Int64{}
	r := startEDIRig(t, ls, db, shift)
	ctx := context.Background()

	// Three POs go out: PO-E1 is never acknowledged, PO-E2 comes back
	// with a price change, PO-E3 ships late and short.
	pos := interchange("BUYER", "ACMESUPPLY", "PO", "000000101", append(append(
		set("850", "0001", "BEG*00*SA*PO-E1**"+r.day(0), "N1*VN*Acme Supply", "PO1*1*10*EA*2.5**BP*SKU-1", "DTM*002*"+r.day(7)),
		set("850", "0002", "BEG*00*SA*PO-E2**"+r.day(0), "N1*VN*Acme Supply", "PO1*1*20*EA*4**BP*SKU-2", "DTM*002*"+r.day(7))...),
		set("850", "0003", "BEG*00*SA*PO-E3**"+r.day(0), "N1*VN*Acme Supply", "PO1*1*100*EA*1.5**BP*SKU-3", "DTM*002*"+r.day(2))...)...)
	// The group holds three sets.
	pos = bytes.Replace(pos, []byte("GE*1*101"), []byte("GE*3*101"), 1)
	code, rep := r.post(pos, true)
	if code != http.StatusOK || len(rep.Sets) != 3 || len(rep.Events) != 0 || len(rep.Errors) != 0 {
		t.Fatalf("850s: %d %+v", code, rep)
	}
	if n, err := r.m.edi.RaiseOverdue(ctx); err != nil || n != 0 {
		t.Fatalf("nothing is overdue yet: %d %v", n, err)
	}

	ack := interchange("ACMESUPPLY", "BUYER", "PR", "000000900",
		set("855", "0001", "BAK*00*AC*PO-E2*"+r.day(0), "PO1*1*20*EA*4.4**BP*SKU-2", "ACK*IP*20*EA*068*"+r.day(7))...)
	code, rep = r.post(ack, true)
	if code != http.StatusOK || len(rep.Events) != 1 || rep.Events[0].Duplicate {
		t.Fatalf("855: %d %+v", code, rep)
	}
	if ev := rep.Sets[0].Events[0]; ev.Type != "supplier.order_changed" || ev.Str("change") != "price" {
		t.Errorf("855 raised %s %v", ev.Type, ev.Data)
	}
	// The partner resends it: a duplicate, nothing new.
	code, rep = r.post(ack, true)
	if code != http.StatusOK || len(rep.Events) != 1 || !rep.Events[0].Duplicate {
		t.Errorf("resent 855: %d %+v", code, rep)
	}

	asn := interchange("ACMESUPPLY", "BUYER", "SH", "000000901",
		set("856", "0001", "BSN*00*ASN-E3*"+r.day(5)+"*1200", "DTM*011*"+r.day(5), "DTM*017*"+r.day(8), "TD5**2*FDEG",
			"HL*1**S", "HL*2*1*O", "PRF*PO-E3", "HL*3*2*I", "LIN**BP*SKU-3", "SN1**60*EA")...)
	code, rep = r.post(asn, true)
	if code != http.StatusOK || len(rep.Events) != 2 {
		t.Fatalf("856: %d %+v", code, rep)
	}
	types := map[string]bool{}
	for _, ev := range rep.Sets[0].Events {
		types[ev.Type] = true
	}
	if !types["shipment.delayed"] || !types["shipment.shortfall"] || rep.Events[0].Case != rep.Events[1].Case {
		t.Errorf("856 raised %v into cases %s and %s", types, rep.Events[0].Case, rep.Events[1].Case)
	}

	// An invoice for a PO the ERP has at 4.00, billed at 4.30.
	inv := interchange("NORTHWIND", "BUYER", "IN", "000000902",
		set("810", "0001", "BIG*"+r.day(0)+"*INV-E9**PO-3298", "N1*VN*Northwind Fasteners", "IT1*1*500*EA*4.3**BP*SKU-12", "TDS*215000")...)
	code, rep = r.post(inv, true)
	if code != http.StatusOK || len(rep.Events) != 1 || rep.Sets[0].Events[0].Type != "invoice.price_variance" {
		t.Fatalf("810: %d %+v", code, rep)
	}

	// The supplier's 997 rejects the 850 of PO-E3: noted on its case.
	fa := interchange("ACMESUPPLY", "BUYER", "FA", "000000903",
		set("997", "0001", "AK1*PO*101", "AK2*850*0003", "AK5*R*5", "AK9*R*1*1*0")...)
	code, rep = r.post(fa, true)
	if code != http.StatusOK || len(rep.Sets[0].Notes) != 1 || !strings.Contains(rep.Sets[0].Notes[0], "noted on") {
		t.Fatalf("997: %d %+v", code, rep)
	}
	r.settle()

	// Restart on the same store, two days later: PO-E1 is overdue, PO-E2
	// was acknowledged, PO-E3's confirmation is missing too (its 997
	// rejected it and no 855 came).
	r.stop()
	shift.Store(int64(49 * time.Hour))
	r = startEDIRig(t, ls, db, shift)
	n, err := r.m.edi.RaiseOverdue(ctx)
	if err != nil || n != 2 {
		t.Fatalf("overdue after restart: %d %v", n, err)
	}
	if n, _ := r.m.edi.RaiseOverdue(ctx); n != 0 {
		t.Errorf("overdue raised twice: %d", n)
	}
	r.settle()

	want := []struct {
		key, team string
		family    cases.Family
	}{
		{"po:PO-E1", "procurement", cases.FamilyMissingConfirmation},
		{"po:PO-E2", "procurement", cases.FamilySupplierDelay},
		{"po:PO-E3", "procurement", cases.FamilySupplierDelay},
		{"invoice:INV-E9", "accounts-payable", cases.FamilyPriceDiscrepancy},
	}
	for _, w := range want {
		c := r.caseOf(w.key)
		if c.Team != w.team || !c.HasFamily(w.family) || c.Slack.TS == "" {
			t.Errorf("%s: case %s team %s families %v posted %q", w.key, c.ID, c.Team, c.Families, c.Slack.TS)
		}
	}
	c := r.caseOf("po:PO-E3")
	if !c.HasFamily(cases.FamilyMissingConfirmation) {
		t.Errorf("PO-E3's missing confirmation did not join its case: %v", c.Families)
	}
	noted := false
	for _, cm := range c.Comments {
		noted = noted || strings.Contains(cm.Text, "rejected 850 0003")
	}
	if !noted {
		t.Errorf("997 rejection not on the case: %+v", c.Comments)
	}
	if c := r.caseOf("po:PO-E1"); c.Events[0].Type != "supplier.confirmation_missing" {
		t.Errorf("PO-E1 case: %+v", c.Events)
	}
}

func TestEDIIntakeRefuses(t *testing.T) {
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	shift := &atomic.Int64{}
	r := startEDIRig(t, ls, filepath.Join(t.TempDir(), "x.db"), shift)
	good := interchange("ACMESUPPLY", "BUYER", "PR", "000000900", set("855", "0001", "BAK*00*AC*PO-X*20261201", "PO1*1*2*EA*1**BP*S", "ACK*IR")...)
	if code, _ := r.post(good, false); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", code)
	}
	big := bytes.Repeat([]byte("X"), 50<<20)
	if code, _ := r.post(big, true); code != http.StatusRequestEntityTooLarge {
		t.Errorf("50 MB: %d", code)
	}
	code, rep := r.post(good[:70], true)
	if code != http.StatusUnprocessableEntity || len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "truncated ISA") {
		t.Errorf("truncated ISA: %d %+v", code, rep)
	}
	wrong := bytes.Replace(good, []byte("SE*5*0001"), []byte("SE*9*0001"), 1)
	code, rep = r.post(wrong, true)
	if code != http.StatusOK || len(rep.Events) != 0 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "SE01") {
		t.Errorf("wrong count: %d %+v", code, rep)
	}
}
