package main

import (
	"bytes"
	"context"
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

// Document reads a PDF shared in a case's thread (noted on the case, which
// tells the thread) or sent to the bot directly (the reply says what it is).
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
	text := documentText(ctx, d.extractor, name, pdf)
	if caseID == "" {
		return text, false, nil
	}
	if _, err := d.NoteDocument(ctx, caseID, actor, text); err != nil {
		return "", false, err
	}
	return text, true, nil
}

// documentText says in one message what a PDF is and what was wrong with it.
func documentText(ctx context.Context, ex *documents.Extractor, name string, pdf []byte) string {
	doc, err := ex.Extract(ctx, name, pdf)
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
