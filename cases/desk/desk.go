// Package desk is exops's application layer: what people and adapters ask
// of the product, between them and the case engine. The bot and the CLI see
// it through small interfaces of their own; it sees the engine, the store's
// indexed reads, and the adapters it needs (document reading, the ERP's
// purchase orders, the audit export, question answering) through
// interfaces declared here. It imports only the domain.
package desk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// Rules is what the desk reads from the policy in force.
type Rules interface {
	// Compliance names the users and user groups who may export the audit trail.
	Compliance() (users, groups []string)
	// MatchTolerances are the three-way match tolerances in percent.
	MatchTolerances() (price, quantity, total float64)
}

// Asker answers operators' questions in plain words, citing case ids. by
// says who answered, so people can weigh the answer: "rules", a model's
// name ("openai:gpt-4o"), or "rules (why the model was not used)", as
// agents.Answer.By has it.
type Asker interface {
	Ask(ctx context.Context, actor, question string) (text, by string, err error)
}

// AskFunc adapts a function to Asker.
type AskFunc func(ctx context.Context, actor, question string) (text, by string, err error)

// Ask calls f.
func (f AskFunc) Ask(ctx context.Context, actor, question string) (string, string, error) {
	return f(ctx, actor, question)
}

// AuditExport writes the audit records that pass the query as CSV and
// returns how many it wrote (audit.ExportCSV over the store).
type AuditExport func(ctx context.Context, q cases.AuditQuery, w io.Writer) (int, error)

// Store is what the desk reads: snapshots for one case or one key, and the
// indexed finder for everything that selects cases.
type Store interface {
	View(ctx context.Context, fn func(tx cases.ReadTx) error) error
	cases.CaseFinder
}

// Config is what a Desk is built from; Engine, Store, Policy and Now are
// required.
type Config struct {
	Engine    *cases.Engine
	Store     Store
	Policy    func() Rules    // the policy in force, read at each request
	Groups    cases.Directory // user-group members, for the compliance group; optional
	Documents *Documents      // document intake; nil: documents are refused
	Asker     Asker           // nil: questions are refused
	Audit     AuditExport     // nil: exports are refused
	Now       cases.Clock
}

// Desk carries out what people ask: decisions and case operations through
// the engine, reads through the store's indexes, documents through the
// intake, audit exports for the compliance team, questions through the
// answerer.
type Desk struct {
	cfg Config
}

// New checks cfg and builds the desk.
func New(cfg Config) (*Desk, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("desk: no engine")
	case cfg.Store == nil:
		return nil, errors.New("desk: no store")
	case cfg.Policy == nil:
		return nil, errors.New("desk: no policy")
	case cfg.Now == nil:
		return nil, errors.New("desk: no business clock")
	}
	return &Desk{cfg: cfg}, nil
}

// Decide records a person's click on a recommendation.
func (d *Desk) Decide(ctx context.Context, req cases.DecideRequest) (cases.DecideResult, error) {
	return d.cfg.Engine.Decide(ctx, req)
}

// Assign gives a case to assignee.
func (d *Desk) Assign(ctx context.Context, id, actor, assignee string) (*cases.Case, error) {
	return d.cfg.Engine.Assign(ctx, id, actor, assignee)
}

// Snooze holds a case's reminders and escalations until a time.
func (d *Desk) Snooze(ctx context.Context, id, actor string, until time.Time) (*cases.Case, error) {
	return d.cfg.Engine.Snooze(ctx, id, actor, until)
}

// Escalate takes a case's next escalation step now.
func (d *Desk) Escalate(ctx context.Context, id, actor string) (*cases.Case, error) {
	return d.cfg.Engine.Escalate(ctx, id, actor)
}

// Comment adds a person's comment to a case and its thread.
func (d *Desk) Comment(ctx context.Context, id, actor, text string) (*cases.Case, error) {
	return d.cfg.Engine.Comment(ctx, id, actor, text)
}

// Case returns one case, or a KindNotFound error that says so.
func (d *Desk) Case(ctx context.Context, id string) (*cases.Case, error) {
	var c *cases.Case
	err := d.cfg.Store.View(ctx, func(tx cases.ReadTx) error {
		var err error
		c, err = tx.Case(id)
		return err
	})
	if cases.KindOf(err) == cases.KindNotFound {
		return nil, cases.Errorf(cases.KindNotFound, "Case %s does not exist.", id)
	}
	return c, err
}

// FindCases selects cases through the store's indexes, newest opened first.
func (d *Desk) FindCases(ctx context.Context, q cases.CaseQuery) (cases.CaseList, error) {
	return d.cfg.Store.FindCases(ctx, q)
}

// CaseInThread returns the case whose card is the Slack message at channel
// and ts, or nil when that message is not a card.
func (d *Desk) CaseInThread(ctx context.Context, channel, ts string) (*cases.Case, error) {
	if channel == "" || ts == "" {
		return nil, nil
	}
	var c *cases.Case
	err := d.cfg.Store.View(ctx, func(tx cases.ReadTx) error {
		ref, err := tx.Key(cases.ThreadKey(channel, ts))
		if err != nil {
			return err
		}
		c, err = tx.Case(ref.Case)
		// A merged case's thread speaks for the case it went into.
		for hops := 0; err == nil && c.Status == cases.StatusMerged && c.MergedInto != "" && hops < 8; hops++ {
			c, err = tx.Case(c.MergedInto)
		}
		return err
	})
	if cases.KindOf(err) == cases.KindNotFound {
		return nil, nil
	}
	return c, err
}

// ExportAudit gives members of the policy's compliance team the audit trail
// as CSV. Anyone else is refused; both are audited.
func (d *Desk) ExportAudit(ctx context.Context, actor string, f cases.AuditQuery) ([]byte, int, error) {
	if d.cfg.Audit == nil {
		return nil, 0, cases.Errorf(cases.KindInvalid, "The audit export is not set up here.")
	}
	users, groups := d.cfg.Policy().Compliance()
	allowed := slices.Contains(users, actor)
	for _, g := range groups {
		if allowed || d.cfg.Groups == nil {
			break
		}
		members, err := d.cfg.Groups.GroupMembers(ctx, g)
		if err != nil {
			return nil, 0, &cases.Error{Kind: cases.KindTransient, Msg: "could not read the compliance group; try again", Err: err}
		}
		allowed = slices.Contains(members, actor)
	}
	what := fmt.Sprintf("audit export since %s until %s case %q", timeOrDash(f.Since), timeOrDash(f.Until), f.Case)
	if !allowed {
		if err := d.cfg.Engine.Record(ctx, cases.AuditEntry{Time: d.cfg.Now(), Kind: cases.AuditRefused, Action: "export_audit", Actor: actor, Detail: what}); err != nil {
			return nil, 0, err
		}
		return nil, 0, cases.Errorf(cases.KindDenied, "Only the compliance team may export the audit trail; your request is recorded.")
	}
	var buf strings.Builder
	n, err := d.cfg.Audit(ctx, f, &buf)
	if err != nil {
		return nil, 0, fmt.Errorf("export audit: %w", err)
	}
	if err := d.cfg.Engine.Record(ctx, cases.AuditEntry{Time: d.cfg.Now(), Kind: cases.AuditExported, Action: "export_audit", Actor: actor,
		Detail: fmt.Sprintf("%s: %d records", what, n)}); err != nil {
		return nil, 0, err
	}
	return []byte(buf.String()), n, nil
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Ask answers a question about cases and says who answered it.
func (d *Desk) Ask(ctx context.Context, actor, question string) (text, by string, err error) {
	if d.cfg.Asker == nil {
		return "", "", cases.Errorf(cases.KindInvalid, "Questions are not set up here.")
	}
	return d.cfg.Asker.Ask(ctx, actor, strings.TrimSpace(question))
}

// Document reads a document a person shared in a case's thread (channel and
// thread) or sent to exops directly. An invoice is matched three ways and
// its variances raised as events. It returns what to tell the person;
// threaded is true when the note is on the case, which tells its thread.
func (d *Desk) Document(ctx context.Context, actor, channel, thread, name string, data []byte) (reply string, threaded bool, err error) {
	if d.cfg.Documents == nil {
		return "", false, cases.Errorf(cases.KindInvalid, "Reading documents is not set up here.")
	}
	c, err := d.CaseInThread(ctx, channel, thread)
	if err != nil {
		return "", false, err
	}
	r := d.cfg.Documents.Read(ctx, name, data, d.cfg.Now())
	note := r.Note
	if len(r.Raise) > 0 {
		res, err := d.cfg.Engine.Ingest(ctx, r.Raise)
		switch {
		case cases.KindOf(err) == cases.KindConflict:
			// The same document shared before raised these ids then.
			note += " These variances were raised when this document was first read."
		case err != nil:
			note += fmt.Sprintf(" The variances could not be recorded: %s.", plainError(err))
		default:
			note += " Raised as " + strings.Join(caseIDs(res), ", ") + "."
		}
	}
	if c == nil || c.Status == cases.StatusResolved {
		return note, false, nil
	}
	if _, err := d.cfg.Engine.NoteDocument(ctx, c.ID, actor, note); err != nil {
		return "", false, err
	}
	return note, true, nil
}

func caseIDs(res []cases.IngestResult) []string {
	var ids []string
	for _, r := range res {
		if !slices.Contains(ids, r.Case) {
			ids = append(ids, r.Case)
		}
	}
	return ids
}

// plainError is an error's message for a person: the domain's own words,
// or a generic line for failures of ours.
func plainError(err error) string {
	var ce *cases.Error
	if errors.As(err, &ce) && ce.Msg != "" && ce.Kind != cases.KindInternal {
		return ce.Msg
	}
	return "an internal error (see the log)"
}
