package cases

import (
	"context"
	"fmt"
	"time"
)

// cardPosting marks a card job that has started posting (in Job.Text).
const cardPosting = "posting"

// handleOutbox delivers one message to the team's chat. A card job renders
// the case as it is at delivery time; if the case changed while the card was
// in flight, the job stays and the card is rendered again.
func (e *Engine) handleOutbox(ctx context.Context, job *Job) error {
	c, err := e.jobCase(ctx, QueueOutbox, job)
	if c == nil {
		return err
	}
	var sendErr error
	var posted SlackRef
	switch job.Kind {
	case JobCard:
		if c.Slack.TS == "" {
			if c.Status == StatusMerged {
				return e.dropJob(ctx, QueueOutbox, job.ID) // never shown; the survivor's card tells it
			}
			// The card goes to the channel its first try went to: routing
			// may move a case until its card's ts is recorded, and a retry
			// that looked for the card (or posted it) in the new channel
			// would post a second card.
			to := c
			if job.Text == cardPosting && job.Channel != "" && job.Channel != c.Channel {
				to = c.Clone()
				to.Channel = job.Channel
			}
			// A card job that already tried to post may have been taken
			// by Slack without its ts reaching us: look before posting.
			if job.Text == cardPosting {
				ref, found, err := e.notifier.FindCard(ctx, to)
				if err != nil {
					return fmt.Errorf("look for the card of %s: %w", c.ID, err)
				}
				if found {
					posted = ref
					withRef := c.Clone()
					withRef.Slack = ref
					sendErr = e.notifier.UpdateCard(ctx, withRef)
					break
				}
			} else {
				job.Text, job.Channel = cardPosting, c.Channel
				if err := e.store.Update(ctx, func(tx Tx) error { return tx.UpdateJob(QueueOutbox, *job) }); err != nil {
					return fmt.Errorf("mark card of %s as posting: %w", c.ID, err)
				}
			}
			posted, sendErr = e.notifier.PostCard(ctx, to)
		} else {
			sendErr = e.notifier.UpdateCard(ctx, c)
		}
	case JobPost:
		key := fmt.Sprintf("%s/%d", c.ID, job.ID)
		if job.Sent {
			// Tried before: Slack may have taken it and lost the answer, or
			// the replica that posted it died before recording it.
			found, err := e.notifier.FindMessage(ctx, job.Channel, c, key)
			if err != nil {
				return fmt.Errorf("look for message %s in %s: %w", key, job.Channel, err)
			}
			if found {
				return e.dropJob(ctx, QueueOutbox, job.ID)
			}
		} else {
			job.Sent = true
			if err := e.store.Update(ctx, func(tx Tx) error { return tx.UpdateJob(QueueOutbox, *job) }); err != nil {
				return fmt.Errorf("mark message %s as sent: %w", key, err)
			}
		}
		sendErr = e.notifier.PostMessage(ctx, job.Channel, c, job.Text, key)
	case JobReply:
		if c.Slack.TS == "" {
			if c.Status == StatusMerged {
				// Merged before its card was posted: there is no thread to
				// reply in, and none will come (its card job is dropped
				// too); the survivor's card tells the story.
				return e.dropJob(ctx, QueueOutbox, job.ID)
			}
			// The card is not posted and no card job is ahead of this reply
			// (a case's oldest job goes first): move the reply behind one,
			// queuing it if there is none, so the card goes first instead of
			// the two waiting for each other.
			return e.store.Update(ctx, func(tx Tx) error {
				if err := tx.DeleteJob(QueueOutbox, job.ID); err != nil {
					return fmt.Errorf("move reply of %s behind its card: %w", c.ID, err)
				}
				if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobCard, Case: c.ID, Dedupe: "card:" + c.ID}); err != nil {
					return err
				}
				moved := *job
				moved.ID, moved.Attempts, moved.NotBefore, moved.LastError = 0, 0, time.Time{}, ""
				return e.enqueue(tx, QueueOutbox, moved)
			})
		}
		key := fmt.Sprintf("%s/%d", c.ID, job.ID)
		if job.Sent {
			// Tried before: Slack may have taken it and lost the answer.
			found, err := e.notifier.FindReply(ctx, c, key)
			if err != nil {
				return fmt.Errorf("look for reply %s: %w", key, err)
			}
			if found {
				return e.dropJob(ctx, QueueOutbox, job.ID)
			}
		} else {
			job.Sent = true
			if err := e.store.Update(ctx, func(tx Tx) error { return tx.UpdateJob(QueueOutbox, *job) }); err != nil {
				return fmt.Errorf("mark reply %s as sent: %w", key, err)
			}
		}
		sendErr = e.notifier.PostReply(ctx, c, job.Text, key)
	default:
		e.log.Error("unknown outbox job dropped", "kind", job.Kind, "case", job.Case)
		return e.dropJob(ctx, QueueOutbox, job.ID)
	}
	if sendErr != nil {
		if KindOf(sendErr) != KindTransient && job.Attempts+1 >= maxOutboxAttempts {
			e.log.Error("message given up", "kind", job.Kind, "case", job.Case, "attempts", job.Attempts+1, "err", sendErr)
			return e.dropJob(ctx, QueueOutbox, job.ID)
		}
		return fmt.Errorf("deliver %s for %s: %w", job.Kind, job.Case, sendErr)
	}
	return e.store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Case(job.Case)
		if err != nil {
			return err
		}
		if posted.TS != "" {
			cur.Slack = posted
			if err := tx.PutCase(cur); err != nil {
				return fmt.Errorf("save card ts of %s: %w", cur.ID, err)
			}
			// The thread finds its case by key, not by a walk over cases.
			if err := tx.PutKey(ThreadKey(posted.Channel, posted.TS), KeyRef{Case: cur.ID, LastSeen: e.now()}); err != nil {
				return fmt.Errorf("index the thread of %s: %w", cur.ID, err)
			}
		}
		if job.Kind == JobCard && cur.Version != c.Version {
			return nil // changed while in flight: render again
		}
		return tx.DeleteJob(QueueOutbox, job.ID)
	})
}
