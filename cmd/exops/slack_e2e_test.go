package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/desk"
	"github.com/exops/exops/policies"
)

// slackRig runs the whole program against LocalSlack.
type slackRig struct {
	t      *testing.T
	m      *Main
	ls     *localslack.Slack
	secret string
	ctx    context.Context
	stop   func()
}

func newSlackRig(t *testing.T) *slackRig {
	t.Helper()
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	return startSlackRig(t, ls, filepath.Join(t.TempDir(), "x.db"))
}

// startSlackRig runs Main on the database at db against ls; stop ends it
// (it is also ended when the test ends).
func startSlackRig(t *testing.T, ls *localslack.Slack, db string) *slackRig {
	t.Helper()
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	r := &slackRig{t: t, ls: ls, secret: "rig-secret", ctx: context.Background()}
	r.m, err = NewMain(Config{DBPath: db, Policy: pol, Addr: "127.0.0.1:0",
		SlackBotToken: "xoxb-rig", SlackSigningSecret: r.secret, SlackAPIURL: ls.APIURL(), Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.m.Run(ctx) }()
	<-r.m.Ready()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			r.m.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

func (r *slackRig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 60*time.Second)
	defer cancel()
	r.m.bot.Wait()
	if err := r.m.engine.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *slackRig) url(path string) string { return "http://" + r.m.Addr() + path }

// TestDocumentsSharedInSlack: a PDF shared in a case's thread is read and
// noted on the case; one sent to the bot directly is answered in the DM; a
// broken one gets its plain reason.
func TestDocumentsSharedInSlack(t *testing.T) {
	r := newSlackRig(t)
	raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "e1", "source": "/erp", "type": "invoice.price_variance",
		"time": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"invoice": "INV-1", "po": "PO-3305", "supplier": "Contoso Castings",
			"sku": "SKU-31", "quantity": 400, "invoice_unit_price": 13.8, "po_unit_price": 12.0}})
	ev, err := cases.ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.m.engine.Ingest(r.ctx, []cases.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	var cs *cases.Case
	r.m.store.View(r.ctx, func(tx cases.ReadTx) error { cs, _ = tx.Case(res[0].Case); return nil })
	if cs.Slack.TS == "" {
		t.Fatal("no card")
	}
	share := func(id, channel, channelType, thread, file string) {
		t.Helper()
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f := r.ls.ShareFile(filepath.Base(file), "application/pdf", content)
		msg := map[string]any{"type": "message", "subtype": "file_share", "user": "U0APLEAD", "text": "", "ts": "1732690001.000" + id[len(id)-3:],
			"channel": channel, "channel_type": channelType, "files": []any{f}}
		if thread != "" {
			msg["thread_ts"] = thread
		}
		if err := r.ls.Event(r.ctx, r.url("/slack/events"), r.secret, id, msg); err != nil {
			t.Fatal(err)
		}
		r.settle()
	}
	corpus := "../../agents/documents/testdata/"
	share("Ev0DOC001", cs.Slack.Channel, "channel", cs.Slack.TS, corpus+"corpus/invoice-01-en.pdf")
	share("Ev0DOC002", "D0APLEAD", "im", "", corpus+"malformed/encrypted-aes256.pdf")

	var inThread, inDM string
	for _, p := range r.ls.Transcript() {
		if p.ThreadTS == cs.Slack.TS && strings.Contains(p.Text, "invoice-01-en.pdf") {
			inThread = p.Text
		}
		if p.Channel == "D0APLEAD" && strings.Contains(p.Text, "encrypted-aes256.pdf") {
			inDM = p.Text
		}
	}
	if !strings.Contains(inThread, "invoice") || !strings.Contains(inThread, "total") {
		t.Errorf("thread note %q", inThread)
	}
	// The invoice was matched against PO-3087 and its receipt in the ERP: the
	// washers are invoiced above the PO price and fewer cartons arrived; each
	// variance is an event of its own that opened or joined a case.
	if !strings.Contains(inThread, "Three-way match with PO-3087") || !strings.Contains(inThread, "Raised as EX-") {
		t.Errorf("thread note lacks the three-way match: %q", inThread)
	}
	var fromDocs []*cases.Case
	r.m.store.View(r.ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			for _, e := range c.Events {
				if e.Source == desk.DocumentSource {
					fromDocs = append(fromDocs, c)
					break
				}
			}
			return nil
		})
	})
	fams := map[cases.Family]bool{}
	for _, c := range fromDocs {
		for _, f := range c.Families {
			fams[f] = true
		}
	}
	if !fams[cases.FamilyPriceDiscrepancy] || !fams[cases.FamilyReceiptQuantityVaries] {
		t.Errorf("variance cases from the document have families %v, want a price discrepancy and a receipt variance", fams)
	}
	if !strings.Contains(strings.ToLower(inDM), "encrypted") {
		t.Errorf("DM answer %q, want the encryption named", inDM)
	}
	var after *cases.Case
	r.m.store.View(r.ctx, func(tx cases.ReadTx) error { after, _ = tx.Case(cs.ID); return nil })
	if len(after.Comments) != 1 || after.Comments[0].Actor != cases.ActorExops {
		t.Errorf("case comments %+v", after.Comments)
	}
}

// TestDocumentAttachedToEvent: an event carrying a supplier PDF in
// data.document has it read on its case (and three-way matched); a URL
// outside EXOPS_DOCUMENT_HOSTS is refused with the reason, not fetched.
func TestDocumentAttachedToEvent(t *testing.T) {
	r := newSlackRig(t)
	pdf, err := os.ReadFile("../../agents/documents/testdata/corpus/invoice-01-en.pdf")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string, doc map[string]any, invoice, po string) cases.Event {
		raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/ap/inbox", "type": "invoice.price_variance",
			"time": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"invoice": invoice, "po": po,
				"supplier": "Adventure Works Tools Ltd", "sku": "SKU-12", "quantity": 1540, "invoice_unit_price": 538.43, "po_unit_price": 530,
				"document": doc}})
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	res, err := r.m.engine.Ingest(r.ctx, []cases.Event{
		mk("e1", map[string]any{"name": "INV-2026-56725.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdf)}, "INV-2026-56725", "PO-3087"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	res2, err := r.m.engine.Ingest(r.ctx, []cases.Event{
		mk("e2", map[string]any{"name": "other.pdf", "url": "http://127.0.0.1:1/other.pdf"}, "INV-OTHER", "PO-9999"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	load := func(id string) *cases.Case {
		var c *cases.Case
		r.m.store.View(r.ctx, func(tx cases.ReadTx) error { c, _ = tx.Case(id); return nil })
		return c
	}
	c := load(res[0].Case)
	if len(c.Comments) == 0 || !strings.Contains(c.Comments[0].Text, "Three-way match with PO-3087") {
		t.Fatalf("case %s notes %+v", c.ID, c.Comments)
	}
	for _, ev := range c.Events {
		if d, ok := ev.Data["document"].(map[string]any); ok {
			if _, has := d["content_base64"]; has {
				t.Error("the PDF's bytes are kept on the case")
			}
		}
	}
	if !c.HasFamily(cases.FamilyReceiptQuantityVaries) {
		t.Errorf("the receipt variance the match found did not join %s: %v", c.ID, c.Families)
	}
	other := load(res2[0].Case)
	if len(other.Comments) != 1 || !strings.Contains(other.Comments[0].Text, "EXOPS_DOCUMENT_HOSTS") {
		t.Errorf("URL document: %+v", other.Comments)
	}
	// Reprocessing the case does not read the document again.
	before := len(load(c.ID).Comments)
	if _, err := r.m.engine.Comment(r.ctx, c.ID, "U0APLEAD", "checked"); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if n := len(load(c.ID).Comments); n != before+1 {
		t.Errorf("%d notes after a comment, want %d", n, before+1)
	}
}

// /readyz says whether the store (and NATS, when configured) can be used;
// /healthz stays liveness.
func TestReadiness(t *testing.T) {
	r := newSlackRig(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + r.m.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/readyz" && !strings.Contains(string(body), `"store":"ok"`) {
			t.Errorf("/readyz does not check the store: %s", body)
		}
	}
}

// A captured, validly signed slash command sent again after exops
// restarted is known from the store's replay memory and changes nothing.
func TestReplayAfterRestartIsRefused(t *testing.T) {
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	db := filepath.Join(t.TempDir(), "x.db")
	r := startSlackRig(t, ls, db)
	raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "e1", "source": "/erp", "type": "order.credit_hold",
		"time": testClock().Format(time.RFC3339), "data": map[string]any{"order": "SO-7", "customer": "C-ACME", "order_value": 900}})
	ev, err := cases.ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.m.engine.Ingest(r.ctx, []cases.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	body := []byte(url.Values{"command": {"/exops"}, "text": {"snooze " + res[0].Case + " 2d"}, "user_id": {"U0DANA"},
		"channel_id": {"C0OPS"}, "team_id": {"T0EXOPS01"}}.Encode())
	stamp := fmt.Sprint(time.Now().Unix())
	send := func(r *slackRig) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+r.m.Addr()+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", localslack.Sign(r.secret, stamp, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Each snooze is one audit record: the chain's head says whether the
	// command was carried out again.
	head := func(r *slackRig) uint64 {
		var seq uint64
		r.m.store.View(r.ctx, func(tx cases.ReadTx) error { seq, _, _ = tx.AuditHead(); return nil })
		return seq
	}
	before := head(r)
	if code := send(r); code != http.StatusOK {
		t.Fatalf("first command: %d", code)
	}
	r.settle()
	snoozed := head(r)
	if snoozed == before {
		t.Fatal("the command was not carried out")
	}
	r.stop()
	r2 := startSlackRig(t, ls, db)
	if code := send(r2); code != http.StatusOK {
		t.Fatalf("replayed command: %d (a replay is answered quietly)", code)
	}
	r2.settle()
	if h := head(r2); h != snoozed {
		t.Errorf("after the replay the audit chain grew from %d to %d records: the command ran again", snoozed, h)
	}
}
