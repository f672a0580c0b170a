package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// The demo's people and systems. Approvers match policies/examples/distributor.yaml.
const (
	demoERP       = "/erp/sap-prod"
	demoTMS       = "/tms/carrier-hub"
	demoAPLead    = "U0APLEAD"
	demoIntern    = "U0INTERN"
	demoBotToken  = "xoxb-demo-not-a-real-token"
	demoChannelCS = "#cs-exceptions"
	demoChannelAP = "#ap-exceptions"
)

func (c *cli) demo(args []string) int {
	fs := c.flags("demo", "demo [--db PATH] [--policy FILE]")
	db := fs.String("db", "", "keep the demo's database in this `file` (default: a temporary one, removed at the end)")
	polPath := fs.String("policy", "", "policy `file` (default: the built-in policies/examples/distributor.yaml)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	// The model the demo's agents use, as serve reads it: none unless
	// EXOPS_LLM_PROVIDER names one.
	llm, err := agents.ConfigFromEnv(c.getenv)
	if err != nil {
		return c.fail(err)
	}
	d, err := newDemo(c.ctx, c.clock, *db, *polPath, llm, c.stdout)
	if err != nil {
		return c.fail(err)
	}
	err = d.play()
	if cerr := d.close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(c.stdout, "\nDEMO FAILED: %v\n", err)
		return exitFail
	}
	return exitOK
}

// demo plays the scenario against the real program: events over the signed
// HTTP API, cards to a local Slack-compatible API, clicks signed like Slack's.
type demo struct {
	ctx      context.Context
	out      io.Writer
	m        *Main
	slack    *localslack.Slack
	secret   string // Slack signing secret
	sources  map[string]string
	tmpDir   string
	dbPath   string
	clock    cases.Clock
	now      time.Time // the business clock when the demo began: its events' dates are days from it
	shown    int
	cancel   context.CancelFunc
	runDone  chan error
	steps    int
	stepsRan int
	llm      agents.Config
}

func newDemo(ctx context.Context, clock cases.Clock, dbPath, polPath string, llm agents.Config, out io.Writer) (*demo, error) {
	d := &demo{ctx: ctx, out: out, clock: clock, now: clock().UTC(), secret: randomHex(16), runDone: make(chan error, 1), llm: llm}
	d.sources = map[string]string{demoERP: randomHex(16), demoTMS: randomHex(16)}
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "exops-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: temp dir: %w", err)
		}
		d.tmpDir = dir
		dbPath = filepath.Join(dir, "exops.db")
	}
	// The demo's events have fixed ids and today's times: played again on
	// the same store, its first event is the same id with other content,
	// which the intake rightly refuses. Say so before anything starts.
	if fi, err := os.Stat(dbPath); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("demo: %s already holds data (an earlier demo?); the demo starts from an empty store: remove the file or give another --db", dbPath)
	}
	d.dbPath = dbPath
	var pol *policies.Policy
	var err error
	if polPath == "" {
		pol, err = policies.Parse(policies.Example)
	} else {
		pol, err = policies.Load(polPath)
	}
	if err != nil {
		d.close()
		return nil, err
	}
	d.slack = localslack.New(clock)
	// The credit team's approvers include a Slack user group (policy
	// approver_groups); the local Slack knows its members.
	d.slack.SetGroup("S0CREDITLEADS", "U0CREDITLEAD2", "U0CREDITLEAD3")
	d.m, err = NewMain(Config{
		DBPath: dbPath, Policy: pol, Addr: "127.0.0.1:0",
		SlackBotToken: demoBotToken, SlackSigningSecret: d.secret, SlackAPIURL: d.slack.APIURL(),
		SourceSecrets: d.sources, Now: clock, LLM: llm,
	})
	if err != nil {
		d.close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	go func() { d.runDone <- d.m.Run(runCtx) }()
	select {
	case <-d.m.Ready():
	case err := <-d.runDone:
		d.runDone <- err
		d.close()
		return nil, fmt.Errorf("demo: start: %w", err)
	}
	return d, nil
}

func (d *demo) close() error {
	var err error
	if d.cancel != nil {
		d.cancel()
		err = <-d.runDone
		err = errors.Join(err, d.m.Close())
	}
	if d.slack != nil {
		d.slack.Close()
	}
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

func (d *demo) day(offset int) string { return d.now.AddDate(0, 0, offset).Format("2006-01-02") }

func (d *demo) play() error {
	fmt.Fprintf(d.out, "exops demo: local Slack at %s, event API at http://%s\n", d.slack.APIURL(), d.m.Addr())
	fmt.Fprintf(d.out, "policy %s\n", d.m.policy.Version())
	fmt.Fprintln(d.out, d.modelLine())
	steps := []struct {
		title string
		run   func() error
	}{
		{"A strategic retail order split across two warehouses, its replenishment late, the customer on credit hold", d.composite},
		{"The ERP retries an event it already sent", d.retry},
		{"An invoice 0.75% over the PO price: within tolerance", d.smallVariance},
		{"An invoice 15% over the PO price", d.largeVariance},
		{"Someone who is not an approver clicks Approve", d.refusedClick},
		{"The AP lead clicks Approve", d.approvedClick},
		{"An operator asks @exops about order SO-1042 in the channel", d.question},
		{"Compliance verifies the audit log", d.verify},
	}
	d.steps = len(steps)
	for i, s := range steps {
		fmt.Fprintf(d.out, "\n== Step %d: %s\n", i+1, s.title)
		if err := s.run(); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
		}
		d.stepsRan++
	}
	fmt.Fprintf(d.out, "\nDemo passed: %d of %d steps.\n", d.stepsRan, d.steps)
	if d.tmpDir == "" {
		fmt.Fprintf(d.out, "The database is kept at %s: try \"exops cases list --db %s\".\n", d.dbPath, d.dbPath)
	}
	return nil
}

// modelLine says in the transcript who writes summaries and answers.
func (d *demo) modelLine() string {
	if d.llm.Provider == "" || d.llm.Provider == agents.ProviderNone {
		return "language model: none (EXOPS_LLM_PROVIDER is not set): summaries, recommendations and answers by the rules"
	}
	line := "language model: " + d.llm.String() + " (EXOPS_LLM_PROVIDER=" + string(d.llm.Provider) + "): summaries and recommendations checked against the case facts"
	if agents.ToolCalling(d.llm.Provider) {
		return line + "; answers through tool calls over the case store, checked against what the tools returned; the rules whenever a check fails"
	}
	return line + "; answers by the rules (langchaingo's " + string(d.llm.Provider) + " client sends no tools)"
}

// send posts events signed as source and returns the per-event results.
func (d *demo) send(source string, events ...map[string]any) ([]cases.IngestResult, error) {
	body, ctype := []byte(nil), "application/cloudevents+json"
	var err error
	if len(events) == 1 {
		body, err = json.Marshal(events[0])
	} else {
		body, err = json.Marshal(events)
		ctype = "application/cloudevents-batch+json"
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, "http://"+d.m.Addr()+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set(connectors.HeaderSource, source)
	req.Header.Set(connectors.HeaderSignature, connectors.Sign(d.sources[source], body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post events: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("event API answered %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var out struct {
		Results []cases.IngestResult `json:"results"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("event API answer: %w", err)
	}
	for _, r := range out.Results {
		dup := ""
		if r.Duplicate {
			dup = " (duplicate: answered as the first time, nothing changed)"
		}
		fmt.Fprintf(d.out, "  event %s from %s → %s %s%s\n", r.ID, r.Source, r.Outcome, r.Case, dup)
	}
	return out.Results, nil
}

func (d *demo) event(source, id, typ string, data map[string]any) map[string]any {
	return map[string]any{"specversion": "1.0", "id": id, "source": source, "type": typ,
		"time": d.now.Format(time.RFC3339), "datacontenttype": "application/json", "data": data}
}

// settle waits until the bot and the engine have nothing left to do, then
// prints what reached Slack since the last look.
func (d *demo) settle() error {
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	d.m.bot.Wait()
	if err := d.m.engine.WaitIdle(ctx); err != nil {
		return err
	}
	posts := d.slack.Transcript()
	if d.shown < len(posts) {
		var buf bytes.Buffer
		localslack.FormatTranscript(&buf, posts[d.shown:])
		for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
			fmt.Fprintf(d.out, "  %s\n", line)
		}
		d.shown = len(posts)
	}
	return nil
}

func (d *demo) caseByID(id string) (*cases.Case, error) {
	var c *cases.Case
	err := d.m.store.View(d.ctx, func(tx cases.ReadTx) error {
		var err error
		c, err = tx.Case(id)
		return err
	})
	return c, err
}

var compositeCase string

func (d *demo) composite() error {
	results, err := d.send(demoERP, d.event(demoERP, "evt-so1042-alloc", "order.allocation_conflict", map[string]any{
		"order": "SO-1042", "customer": "C-ACME", "customer_name": "Acme Retail", "customer_tier": "strategic",
		"order_value": 48250, "currency": "USD", "sales_channel": "retail", "promise_date": d.day(connectors.SimulatorPromiseOffset),
		"sku": "SKU-88", "quantity": 1200,
		"allocations": []map[string]any{{"warehouse": "DAL", "quantity": 700}, {"warehouse": "ATL", "quantity": 500}},
	}))
	if err != nil {
		return err
	}
	more, err := d.send(demoTMS, d.delayEvent())
	if err != nil {
		return err
	}
	results = append(results, more...)
	more, err = d.send(demoERP, d.event(demoERP, "evt-so1042-credit", "order.credit_hold", map[string]any{
		"order": "SO-1042", "customer": "C-ACME", "customer_name": "Acme Retail", "customer_tier": "strategic",
		"order_value": 48250, "currency": "USD", "credit_limit": 250000, "balance": 238900, "overdue_amount": 0,
		"reason": "remittance REM-5531 unapplied",
	}))
	if err != nil {
		return err
	}
	results = append(results, more...)
	if err := d.settle(); err != nil {
		return err
	}
	id := results[0].Case
	for _, r := range results {
		if r.Case != id {
			return fmt.Errorf("events went to %s and %s: want one composite case", id, r.Case)
		}
	}
	c, err := d.caseByID(id)
	if err != nil {
		return err
	}
	if len(c.Families) != 3 {
		return fmt.Errorf("%s has families %v: want 3", id, c.Families)
	}
	if c.Channel != demoChannelCS || c.Slack.TS == "" {
		return fmt.Errorf("%s was not posted to %s (channel %q, ts %q)", id, demoChannelCS, c.Channel, c.Slack.TS)
	}
	if len(c.Pending()) == 0 {
		return fmt.Errorf("%s has no recommendation waiting for a person", id)
	}
	compositeCase = id
	fmt.Fprintf(d.out, "  summary by %s\n", c.SummaryBy)
	fmt.Fprintf(d.out, "  ✔ one composite case %s with %d families, routed to %s (%s), %d recommendations waiting for people\n",
		id, len(c.Families), c.Team, c.Channel, len(c.Pending()))
	return nil
}

// delayEvent is the TMS's report that SO-1042's replenishment is late.
func (d *demo) delayEvent() map[string]any {
	return d.event(demoTMS, "evt-asn7781-eta", "shipment.delayed", map[string]any{
		"shipment": "ASN-7781", "po": "PO-3310", "supplier": "Northwind Fasteners", "warehouse": "DAL", "sku": "SKU-88",
		"quantity": 2000, "original_eta": d.day(0), "new_eta": d.day(connectors.SimulatorETAOffset), "orders": []string{"SO-1042"}, "reason": "carrier missed pickup",
	})
}

func (d *demo) retry() error {
	before, err := d.countCases()
	if err != nil {
		return err
	}
	res, err := d.send(demoTMS, d.delayEvent())
	if err != nil {
		return err
	}
	if err := d.settle(); err != nil {
		return err
	}
	after, err := d.countCases()
	if err != nil {
		return err
	}
	if !res[0].Duplicate || res[0].Case != compositeCase || after != before {
		return fmt.Errorf("retry was not answered as the first delivery (result %+v, cases %d → %d)", res[0], before, after)
	}
	fmt.Fprintf(d.out, "  ✔ retry answered with %s again; still %d cases\n", res[0].Case, after)
	return nil
}

func (d *demo) countCases() (int, error) {
	n := 0
	err := d.m.store.View(d.ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(*cases.Case) error { n++; return nil })
	})
	return n, err
}

func (d *demo) smallVariance() error {
	res, err := d.send(demoERP, d.event(demoERP, "evt-inv90211", "invoice.price_variance", map[string]any{
		"invoice": "INV-90211", "po": "PO-3298", "supplier": "Northwind Fasteners", "sku": "SKU-12",
		"quantity": 500, "invoice_unit_price": 4.03, "po_unit_price": 4.00, "currency": "USD",
	}))
	if err != nil {
		return err
	}
	if err := d.settle(); err != nil {
		return err
	}
	c, err := d.caseByID(res[0].Case)
	if err != nil {
		return err
	}
	if c.Status != cases.StatusResolved {
		return fmt.Errorf("%s is %s: want resolved by exops on its own", c.ID, c.Status)
	}
	for _, dec := range c.Decisions {
		if dec.Actor != cases.ActorExops || dec.Choice != cases.ChoiceAuto {
			return fmt.Errorf("%s has a decision by %s: want exops alone", c.ID, dec.Actor)
		}
	}
	if !d.cardShows(c, "Resolved") {
		return fmt.Errorf("the card of %s does not show it resolved", c.ID)
	}
	fmt.Fprintf(d.out, "  ✔ %s resolved by exops alone (verdict auto) and the card says so\n", c.ID)
	return nil
}

var largeCase string

func (d *demo) largeVariance() error {
	res, err := d.send(demoERP, d.event(demoERP, "evt-inv90377", "invoice.price_variance", map[string]any{
		"invoice": "INV-90377", "po": "PO-3305", "supplier": "Contoso Castings", "sku": "SKU-31",
		"quantity": 400, "invoice_unit_price": 13.80, "po_unit_price": 12.00, "currency": "USD",
	}))
	if err != nil {
		return err
	}
	if err := d.settle(); err != nil {
		return err
	}
	c, err := d.caseByID(res[0].Case)
	if err != nil {
		return err
	}
	p := c.Pending()
	if c.Status != cases.StatusOpen || len(p) != 1 || p[0].Verdict != cases.VerdictApprove {
		return fmt.Errorf("%s should wait for one approval (status %s, %d pending)", c.ID, c.Status, len(p))
	}
	if c.Channel != demoChannelAP {
		return fmt.Errorf("%s went to %s: want %s", c.ID, c.Channel, demoChannelAP)
	}
	largeCase = c.ID
	fmt.Fprintf(d.out, "  ✔ %s waits for approval of %q by %s\n", c.ID, p[0].Title, strings.Join(p[0].Approvers, ", "))
	return nil
}

// click finds the case card's Approve button for its pending recommendation
// and clicks it as user, the way Slack would deliver the click.
func (d *demo) click(caseID, user string) (*cases.Case, error) {
	c, err := d.caseByID(caseID)
	if err != nil {
		return nil, err
	}
	card, ok := d.latestCard(c)
	if !ok {
		return nil, fmt.Errorf("no card for %s in Slack", caseID)
	}
	for _, b := range card.Buttons() {
		if strings.HasPrefix(b.Value, caseID+"|") && strings.Contains(strings.ToLower(b.Text), "approve") {
			fmt.Fprintf(d.out, "  <@%s> clicks [%s] on %s\n", user, b.Text, caseID)
			if err := d.slack.Click(d.ctx, "http://"+d.m.Addr()+"/slack/interactions", d.secret, user, card, b); err != nil {
				return nil, err
			}
			if err := d.settle(); err != nil {
				return nil, err
			}
			return d.caseByID(caseID)
		}
	}
	return nil, fmt.Errorf("the card of %s has no Approve button", caseID)
}

func (d *demo) refusedClick() error {
	before := len(d.slack.Transcript())
	c, err := d.click(largeCase, demoIntern)
	if err != nil {
		return err
	}
	if len(c.Pending()) != 1 {
		return fmt.Errorf("a click by a non-approver changed %s", c.ID)
	}
	refused := false
	for _, p := range d.slack.Transcript()[before:] {
		if p.Method == "chat.postEphemeral" && p.User == demoIntern {
			refused = true
		}
	}
	if !refused {
		return fmt.Errorf("%s got no ephemeral refusal", demoIntern)
	}
	n, err := d.auditCount(largeCase, cases.AuditRefused)
	if err != nil || n != 1 {
		return fmt.Errorf("refused click audited %d times (%v): want 1", n, err)
	}
	fmt.Fprintf(d.out, "  ✔ refused in an ephemeral message only %s sees; the attempt is in the audit log\n", demoIntern)
	return nil
}

func (d *demo) approvedClick() error {
	c, err := d.click(largeCase, demoAPLead)
	if err != nil {
		return err
	}
	if c.Status != cases.StatusResolved {
		return fmt.Errorf("%s is %s after approval: want resolved", c.ID, c.Status)
	}
	if !d.cardShows(c, "Resolved") {
		return fmt.Errorf("the card of %s does not show it resolved", c.ID)
	}
	fmt.Fprintf(d.out, "  ✔ %s approved by %s, executed in the ERP, resolved\n", c.ID, demoAPLead)
	return nil
}

func (d *demo) question() error {
	const asker, ts = "U0CSLEAD", "1732690000.000100"
	q := "<@U0EXOPSBOT> what is the status of SO-1042?"
	fmt.Fprintf(d.out, "  <@%s> in %s: %s\n", asker, demoChannelCS, q)
	err := d.slack.Event(d.ctx, "http://"+d.m.Addr()+"/slack/events", d.secret, "Ev0DEMO0001", map[string]any{
		"type": "app_mention", "user": asker, "text": q, "ts": ts, "channel": demoChannelCS, "event_ts": ts})
	if err != nil {
		return err
	}
	if err := d.settle(); err != nil {
		return err
	}
	for _, p := range d.slack.Transcript() {
		if p.ThreadTS == ts && strings.Contains(p.Text, compositeCase) {
			fmt.Fprintf(d.out, "  ✔ answered in the thread, citing %s\n", compositeCase)
			return nil
		}
	}
	return fmt.Errorf("no answer citing %s in the question's thread", compositeCase)
}

func (d *demo) auditCount(caseID, kind string) (int, error) {
	n := 0
	err := d.m.store.ForEachRecord(d.ctx, 1, func(r audit.Record) error {
		if r.Case == caseID && r.Kind == kind {
			n++
		}
		return nil
	})
	return n, err
}

func (d *demo) verify() error {
	res, err := audit.Verify(d.ctx, d.m.store)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  ✔ audit log intact: %d records checked, head %s\n", res.Checked, res.Head)
	return nil
}

// latestCard is the case card as Slack shows it now: the last post or update
// of the card's message.
func (d *demo) latestCard(c *cases.Case) (localslack.Posted, bool) {
	var card localslack.Posted
	found := false
	for _, p := range d.slack.Transcript() {
		if p.TS == c.Slack.TS && p.Channel == c.Slack.Channel && p.ThreadTS == "" && p.Method != "chat.postEphemeral" {
			card, found = p, true
		}
	}
	return card, found
}

func (d *demo) cardShows(c *cases.Case, text string) bool {
	card, ok := d.latestCard(c)
	return ok && (strings.Contains(card.Text, text) || bytes.Contains(card.Blocks, []byte(text)))
}
