package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Case operations people start from Slack besides deciding: assign, snooze,
// escalate, comment. Each is one transaction: the case change, its audit
// record, the thread note and the card update commit together, and each
// counts as the case's first touch.

// Audit kinds of the operations.
const (
	AuditAssigned  = "assigned"
	AuditSnoozed   = "snoozed"
	AuditCommented = "commented"
)

// MaxCommentLen bounds a comment kept on a case.
const MaxCommentLen = 3000

// Comment is a note a person left on a case.
type Comment struct {
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
}

// operate loads an open case, lets change alter it and say what happened in
// the thread, and commits it with its audit record and Slack messages.
func (e *Engine) operate(ctx context.Context, id, actor string, change func(c *Case, now time.Time, pol Policy) (note string, entry AuditEntry, extra []Job, err error)) (*Case, error) {
	if actor == "" {
		return nil, Errorf(KindInvalid, "no actor")
	}
	var out *Case
	err := e.store.Update(ctx, func(tx Tx) error {
		out = nil
		c, err := tx.Case(id)
		if KindOf(err) == KindNotFound {
			return Errorf(KindNotFound, "Case %s does not exist.", id)
		} else if err != nil {
			return fmt.Errorf("load case %s: %w", id, err)
		}
		switch c.Status {
		case StatusMerged:
			return Errorf(KindConflict, "%s was merged into %s; work on it there.", c.ID, c.MergedInto)
		case StatusResolved:
			return Errorf(KindConflict, "%s is already resolved.", c.ID)
		}
		now := e.now()
		pol := e.Policy()
		note, entry, extra, err := change(c, now, pol)
		if err != nil {
			return err
		}
		entry.Time, entry.Case, entry.Actor, entry.PolicyVersion = now, c.ID, actor, pol.Version()
		if err := e.commitTouch(tx, pol, c, now, entry, note, extra...); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.kick(QueueOutbox)
	return out, nil
}

// commitTouch records a person's change to a case: its audit record, the
// first touch, the case itself, its escalation timer, then a note in the
// thread, any extra messages and the card update, all in tx.
func (e *Engine) commitTouch(tx Tx, pol Policy, c *Case, now time.Time, entry AuditEntry, note string, extra ...Job) error {
	if err := e.audit(tx, entry); err != nil {
		return err
	}
	if c.FirstTouchedAt == nil {
		c.FirstTouchedAt = &now
	}
	c.UpdatedAt = now
	c.Version++
	if err := tx.PutCase(c); err != nil {
		return fmt.Errorf("save case %s: %w", c.ID, err)
	}
	if err := e.schedule(tx, pol, c); err != nil {
		return err
	}
	jobs := append([]Job{{Kind: JobReply, Case: c.ID, Text: note}}, extra...)
	jobs = append(jobs, Job{Kind: JobCard, Case: c.ID, Dedupe: "card:" + c.ID})
	for _, j := range jobs {
		if err := e.enqueue(tx, QueueOutbox, j); err != nil {
			return err
		}
	}
	return nil
}

// Assign makes assignee the person working the case.
func (e *Engine) Assign(ctx context.Context, id, actor, assignee string) (*Case, error) {
	if assignee == "" {
		return nil, Errorf(KindInvalid, "Say whom to assign %s to.", id)
	}
	return e.operate(ctx, id, actor, func(c *Case, _ time.Time, _ Policy) (string, AuditEntry, []Job, error) {
		if c.Assignee == assignee {
			return "", AuditEntry{}, nil, Errorf(KindConflict, "%s is already assigned to <@%s>.", c.ID, assignee)
		}
		c.Assignee = assignee
		note := fmt.Sprintf("<@%s> assigned %s to <@%s>.", actor, c.ID, assignee)
		if actor == assignee {
			note = fmt.Sprintf("<@%s> took %s.", actor, c.ID)
		}
		return note, AuditEntry{Kind: AuditAssigned, Detail: "assigned to " + assignee}, nil, nil
	})
}

// Snooze holds the case's reminders and escalations until the given time.
func (e *Engine) Snooze(ctx context.Context, id, actor string, until time.Time) (*Case, error) {
	return e.operate(ctx, id, actor, func(c *Case, now time.Time, _ Policy) (string, AuditEntry, []Job, error) {
		if !until.After(now) {
			return "", AuditEntry{}, nil, Errorf(KindInvalid, "Snooze until a time in the future; %s is past.", until.UTC().Format("2006-01-02 15:04 MST"))
		}
		if until.Sub(now) > 30*24*time.Hour {
			return "", AuditEntry{}, nil, Errorf(KindInvalid, "Snooze for at most 30 days.")
		}
		c.SnoozedUntil = &until
		return fmt.Sprintf("<@%s> snoozed %s until %s: no reminders or escalations before then.", actor, c.ID, until.UTC().Format("2006-01-02 15:04 MST")),
			AuditEntry{Kind: AuditSnoozed, Detail: "until " + until.UTC().Format(time.RFC3339)}, nil, nil
	})
}

// Escalate takes the case's next escalation step that goes to another
// channel now, at a person's request.
func (e *Engine) Escalate(ctx context.Context, id, actor string) (*Case, error) {
	return e.operate(ctx, id, actor, func(c *Case, now time.Time, pol Policy) (string, AuditEntry, []Job, error) {
		for _, s := range pol.Escalation(c) {
			if s.Channel == "" || hasString(c.Escalated, s.Name) {
				continue
			}
			c.Escalated = append(c.Escalated, s.Name)
			at := now
			c.EscalatedAt = &at
			text := fmt.Sprintf("<@%s> escalated %s: %s", actor, c.ID, s.Text)
			if len(s.Mention) > 0 {
				text = mentionAll(s.Mention) + " " + text
			}
			return fmt.Sprintf("<@%s> escalated %s to %s.", actor, c.ID, s.Channel),
				AuditEntry{Kind: AuditEscalated, Action: s.Name, Detail: "by hand, posted to " + s.Channel},
				[]Job{{Kind: JobPost, Case: c.ID, Channel: s.Channel, Text: text}}, nil
		}
		return "", AuditEntry{}, nil, Errorf(KindConflict, "%s has no escalation left in the policy.", c.ID)
	})
}

// Comment adds a person's note to the case and its thread.
func (e *Engine) Comment(ctx context.Context, id, actor, text string) (*Case, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, Errorf(KindInvalid, "A comment needs some text.")
	}
	if len(text) > MaxCommentLen {
		return nil, Errorf(KindInvalid, "A comment is at most %d characters.", MaxCommentLen)
	}
	return e.operate(ctx, id, actor, func(c *Case, now time.Time, _ Policy) (string, AuditEntry, []Job, error) {
		c.Comments = append(c.Comments, Comment{Time: now, Actor: actor, Text: text})
		return fmt.Sprintf("<@%s> commented: %s", actor, text), AuditEntry{Kind: AuditCommented, Detail: text}, nil, nil
	})
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AuditDocument is the kind of the record of a document read on a case.
const AuditDocument = "document_read"

// NoteDocument records on the case what exops read from a document a person
// shared in its thread, and tells the thread.
func (e *Engine) NoteDocument(ctx context.Context, id, actor, text string) (*Case, error) {
	return e.operate(ctx, id, actor, func(c *Case, now time.Time, _ Policy) (string, AuditEntry, []Job, error) {
		c.Comments = append(c.Comments, Comment{Time: now, Actor: ActorExops, Text: text})
		return text, AuditEntry{Kind: AuditDocument, Detail: text}, nil, nil
	})
}
