package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// schedule sets a case's timer to its next escalation step, or clears it
// when the case is closed or has no step left. It runs in every transaction
// that changes what the steps depend on (severity, touch, status).
func (e *Engine) schedule(tx Tx, pol Policy, c *Case) error {
	if c.Status == StatusOpen {
		if next, ok := nextStep(pol.Escalation(c), c); ok {
			if err := tx.SetTimer(c.ID, next.At); err != nil {
				return fmt.Errorf("schedule %s: %w", c.ID, err)
			}
			return nil
		}
	}
	if err := tx.ClearTimer(c.ID); err != nil {
		return fmt.Errorf("schedule %s: %w", c.ID, err)
	}
	return nil
}

// nextStep is the earliest step not yet taken and not moot.
func nextStep(steps []EscalationStep, c *Case) (EscalationStep, bool) {
	for _, s := range steps {
		if slices.Contains(c.Escalated, s.Name) || (s.UnlessTouched && c.FirstTouchedAt != nil) {
			continue
		}
		if c.SnoozedUntil != nil && s.At.Before(*c.SnoozedUntil) {
			s.At = *c.SnoozedUntil
		}
		return s, true
	}
	return EscalationStep{}, false
}

// FireTimers takes every escalation step that is due: a reminder in the
// case's thread or a post to a manager channel, each audited. A step is
// recorded on the case in the transaction that queues its message, so a
// restart neither loses nor repeats it. The scheduler calls it every few
// seconds; it returns how many steps it took.
func (e *Engine) FireTimers(ctx context.Context) (int, error) {
	now := e.now()
	var due []string
	err := e.store.View(ctx, func(tx ReadTx) error {
		return tx.DueTimers(now, func(id string, _ time.Time) error {
			due = append(due, id)
			if len(due) >= 1000 {
				return errStopScan
			}
			return nil
		})
	})
	if err != nil && err != errStopScan {
		return 0, fmt.Errorf("read timers: %w", err)
	}
	fired := 0
	for _, id := range due {
		n, err := e.fireCase(ctx, id, now)
		if err != nil {
			return fired, err
		}
		fired += n
	}
	if fired > 0 {
		e.kick(QueueOutbox)
	}
	return fired, nil
}

var errStopScan = Errorf(KindInternal, "stop scan")

func (e *Engine) fireCase(ctx context.Context, id string, now time.Time) (int, error) {
	fired := 0
	err := e.store.Update(ctx, func(tx Tx) error {
		fired = 0
		c, err := tx.Case(id)
		if KindOf(err) == KindNotFound {
			return tx.ClearTimer(id)
		} else if err != nil {
			return fmt.Errorf("load case %s: %w", id, err)
		}
		pol := e.Policy()
		snoozed := c.SnoozedUntil != nil && now.Before(*c.SnoozedUntil)
		if c.Status == StatusOpen && !snoozed {
			for _, s := range pol.Escalation(c) {
				if s.At.After(now) || slices.Contains(c.Escalated, s.Name) {
					continue
				}
				c.Escalated = append(c.Escalated, s.Name)
				if s.UnlessTouched && c.FirstTouchedAt != nil {
					continue // moot: someone already acted
				}
				if err := e.takeStep(tx, pol, c, s, now); err != nil {
					return err
				}
				at := now
				c.EscalatedAt = &at
				fired++
			}
			if fired > 0 {
				c.Version++
				if err := tx.PutCase(c); err != nil {
					return fmt.Errorf("save case %s: %w", c.ID, err)
				}
			}
		}
		return e.schedule(tx, pol, c)
	})
	return fired, err
}

func (e *Engine) takeStep(tx Tx, pol Policy, c *Case, s EscalationStep, now time.Time) error {
	text := s.Text
	if len(s.Mention) > 0 {
		text = mentionAll(s.Mention) + " " + text
	}
	job := Job{Kind: JobReply, Case: c.ID, Text: text}
	if s.Channel != "" {
		job = Job{Kind: JobPost, Case: c.ID, Channel: s.Channel, Text: text}
	}
	if err := e.enqueue(tx, QueueOutbox, job); err != nil {
		return err
	}
	where := "thread"
	if s.Channel != "" {
		where = s.Channel
	}
	return e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditEscalated, Action: s.Name, Actor: ActorExops,
		PolicyVersion: pol.Version(), Detail: fmt.Sprintf("%s due %s, posted to %s", s.Name, s.At.UTC().Format(time.RFC3339), where)})
}

// mentionAll writes Slack mentions: <@U…> for users, <!subteam^S…> for groups.
func mentionAll(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if strings.HasPrefix(id, "S") {
			out[i] = "<!subteam^" + id + ">"
		} else {
			out[i] = "<@" + id + ">"
		}
	}
	return strings.Join(out, " ")
}
