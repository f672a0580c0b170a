package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/agents/documents"
	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// desk is what the bot asks of exops beyond decisions: the engine's case
// operations, reads of the store, the audit export for compliance, and the
// agents' answers. It lives here because it joins packages that must not
// import each other.
type desk struct {
	*cases.Engine
	store     *bolt.Store
	extractor *documents.Extractor
	orders    purchaseOrders // for the three-way match of invoices
	policy    func() *policies.Policy
	groups    cases.Directory
	asker     asker
	now       func() time.Time
}

// asker answers operators' questions (agents' question answering).
type asker interface {
	Ask(ctx context.Context, actor, question string) (string, error)
}

var _ bot.Desk = (*desk)(nil)

func (d *desk) Case(ctx context.Context, id string) (*cases.Case, error) {
	var c *cases.Case
	err := d.store.View(ctx, func(tx cases.ReadTx) error {
		var err error
		c, err = tx.Case(id)
		return err
	})
	if cases.KindOf(err) == cases.KindNotFound {
		return nil, cases.Errorf(cases.KindNotFound, "Case %s does not exist.", id)
	}
	return c, err
}

// cases returns the cases keep selects, newest first, at most limit.
func (d *desk) cases(ctx context.Context, limit int, keep func(*cases.Case) bool) ([]*cases.Case, error) {
	var out []*cases.Case
	err := d.store.View(ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			if keep(c) {
				out = append(out, c)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].OpenedAt.After(out[j].OpenedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

func (d *desk) OpenCases(ctx context.Context, limit int) ([]*cases.Case, error) {
	return d.cases(ctx, limit, func(c *cases.Case) bool { return c.Status == cases.StatusOpen })
}

func (d *desk) ResolvedSince(ctx context.Context, t time.Time) ([]*cases.Case, error) {
	return d.cases(ctx, 0, func(c *cases.Case) bool {
		return c.Status == cases.StatusResolved && c.ResolvedAt != nil && !c.ResolvedAt.Before(t)
	})
}

// ExportAudit gives members of the policy's compliance team the audit trail
// as CSV. Anyone else is refused, and both are audited.
func (d *desk) ExportAudit(ctx context.Context, actor string, q bot.AuditQuery) ([]byte, int, error) {
	users, groups := d.policy().Compliance()
	allowed := slices.Contains(users, actor)
	for _, g := range groups {
		if allowed || d.groups == nil {
			break
		}
		members, err := d.groups.GroupMembers(ctx, g)
		if err != nil {
			return nil, 0, &cases.Error{Kind: cases.KindTransient, Msg: "could not read the compliance group; try again", Err: err}
		}
		allowed = slices.Contains(members, actor)
	}
	what := fmt.Sprintf("audit export since %s until %s case %q", timeOrDash(q.Since), timeOrDash(q.Until), q.Case)
	if !allowed {
		if err := d.Record(ctx, cases.AuditEntry{Time: d.now(), Kind: cases.AuditRefused, Action: "export_audit", Actor: actor, Detail: what}); err != nil {
			return nil, 0, err
		}
		return nil, 0, cases.Errorf(cases.KindDenied, "Only the compliance team may export the audit trail; your request is recorded.")
	}
	var buf bytes.Buffer
	n, err := audit.ExportCSV(ctx, d.store, audit.Filter{Since: q.Since, Until: q.Until, Case: q.Case}, &buf)
	if err != nil {
		return nil, 0, fmt.Errorf("export audit: %w", err)
	}
	if err := d.Record(ctx, cases.AuditEntry{Time: d.now(), Kind: "audit_exported", Action: "export_audit", Actor: actor,
		Detail: fmt.Sprintf("%s: %d records", what, n)}); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (d *desk) Ask(ctx context.Context, actor, question string) (string, error) {
	if d.asker == nil {
		return "", cases.Errorf(cases.KindInvalid, "Questions are not set up here.")
	}
	return d.asker.Ask(ctx, actor, strings.TrimSpace(question))
}

// answerer adapts the agents' question answering to the bot's words.
type answerer struct{ a *agents.Answerer }

func (w answerer) Ask(ctx context.Context, _ string, question string) (string, error) {
	ans, err := w.a.Ask(ctx, question)
	if err != nil {
		return "", err
	}
	return ans.Text, nil
}

// purchaseOrders is the ERP's view of a PO and its receipts.
type purchaseOrders interface {
	PurchaseOrder(ctx context.Context, po string) (connectors.PurchaseOrder, connectors.Receipt, error)
}

// Document reads a PDF shared in a case's thread (noted on the case, which
// tells the thread) or sent to the bot directly (the reply says what it is).
// An invoice with a PO number is matched against the PO and its goods
// receipt; each variance beyond the policy's tolerances becomes an event of
// its own that flows into cases like any other.
func (d *desk) Document(ctx context.Context, actor, channel, thread, name string, pdf []byte) (string, bool, error) {
	var caseID string
	open, err := d.OpenCases(ctx, 0)
	if err != nil {
		return "", false, err
	}
	for _, c := range open {
		if c.Slack.TS == thread && (c.Slack.Channel == channel || c.Channel == channel) {
			caseID = c.ID
		}
	}
	doc, err := d.extractor.Extract(ctx, name, pdf)
	text := documentText(name, doc, err)
	if err == nil {
		text += d.match(ctx, doc, pdf)
	}
	if caseID == "" {
		return text, false, nil
	}
	if _, err := d.NoteDocument(ctx, caseID, actor, text); err != nil {
		return "", false, err
	}
	return text, true, nil
}

// DocumentSource is the CloudEvents source of the variances documents show.
const DocumentSource = "/exops/documents"

// match runs the three-way match of an invoice and turns its variances into
// events; it returns what to add to the document's note.
func (d *desk) match(ctx context.Context, doc documents.Document, pdf []byte) string {
	if doc.Type != "invoice" || doc.PONumber == "" || d.orders == nil {
		return ""
	}
	po, rc, err := d.orders.PurchaseOrder(ctx, doc.PONumber)
	if err != nil {
		return fmt.Sprintf(" No three-way match: %v.", err)
	}
	in := documents.MatchInput{Invoice: doc, PO: doc.PONumber, Supplier: po.Supplier}
	in.PricePct, in.QuantityPct, in.TotalPct = d.policy().MatchTolerances()
	for _, l := range po.Lines {
		in.POLines = append(in.POLines, documents.POLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	for _, l := range rc.Lines {
		in.Receipts = append(in.Receipts, documents.ReceiptLine{SKU: l.SKU, Warehouse: or(l.Warehouse, "UNKNOWN"), Quantity: l.Quantity})
	}
	vars, err := documents.ThreeWayMatch(in)
	if err != nil {
		return fmt.Sprintf(" No three-way match: %v.", err)
	}
	if len(vars) == 0 {
		return fmt.Sprintf(" Three-way match with %s and its receipt: no variance beyond the tolerances.", doc.PONumber)
	}
	// The same PDF always gives the same event ids, so sharing it again
	// changes nothing.
	sum := sha256.Sum256(pdf)
	var events []cases.Event
	var words []string
	for i, v := range vars {
		words = append(words, v.Message)
		if v.EventType == "" {
			continue // evidence only: no event type carries it
		}
		raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "source": DocumentSource, "type": v.EventType,
			"id": fmt.Sprintf("doc-%x-%d", sum[:8], i), "time": d.now().UTC().Format(time.RFC3339),
			"subject": doc.Number, "data": v.Data})
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			words = append(words, fmt.Sprintf("(could not raise it as an event: %v)", err))
			continue
		}
		events = append(events, ev)
	}
	out := fmt.Sprintf(" Three-way match with %s and its receipt: %s.", doc.PONumber, strings.Join(words, "; "))
	if len(events) > 0 {
		res, err := d.Ingest(ctx, events)
		if err != nil {
			return out + fmt.Sprintf(" The variances could not be recorded: %v.", err)
		}
		seen := map[string]bool{}
		var ids []string
		for _, r := range res {
			if !seen[r.Case] {
				seen[r.Case] = true
				ids = append(ids, r.Case)
			}
		}
		out += " Raised as " + strings.Join(ids, ", ") + "."
	}
	return out
}

// documentText says in one message what a PDF is and what was wrong with it.
func documentText(name string, doc documents.Document, err error) string {
	if err != nil {
		var ce *cases.Error
		if errors.As(err, &ce) && ce.Msg != "" {
			return fmt.Sprintf(":page_facing_up: %s: %s", name, ce.Msg)
		}
		return fmt.Sprintf(":page_facing_up: %s could not be read.", name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":page_facing_up: %s: %s", name, strings.ReplaceAll(or(doc.Type, "document"), "_", " "))
	if doc.Number != "" {
		fmt.Fprintf(&b, " %s", doc.Number)
	}
	if doc.Supplier != "" {
		fmt.Fprintf(&b, " from %s", doc.Supplier)
	}
	if doc.PONumber != "" {
		fmt.Fprintf(&b, ", PO %s", doc.PONumber)
	}
	if doc.Total != "" {
		fmt.Fprintf(&b, ", total %s %s", doc.Total, doc.Currency)
	}
	if doc.IssueDate != "" {
		fmt.Fprintf(&b, ", issued %s", doc.IssueDate)
	}
	if doc.DueDate != "" {
		fmt.Fprintf(&b, ", due %s", doc.DueDate)
	}
	fmt.Fprintf(&b, ", %d lines.", len(doc.Lines))
	if len(doc.Problems) > 0 {
		fmt.Fprintf(&b, " Problems: %s", strings.Join(doc.Problems, " "))
	}
	return b.String()
}
