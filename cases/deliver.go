package cases

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ChatCall is one kind of call the outbox makes to the chat, as its rate
// limits see it: Slack limits new messages per channel and each other
// method per workspace.
type ChatCall string

// The calls an outbox job makes.
const (
	CallPost      ChatCall = "post"       // a new message: a card, a thread reply, a message to another channel
	CallUpdate    ChatCall = "update"     // rewrite a card
	CallFindCard  ChatCall = "find_card"  // look for a card that may have landed unrecorded
	CallFindReply ChatCall = "find_reply" // look for a reply whose answer was lost
	CallFindPost  ChatCall = "find_post"  // look for a message to another channel whose answer was lost
)

// Pacer knows the chat's rate limits. The outbox asks it before each job,
// so that a channel or method at its limit waits while other channels'
// messages go on, instead of every job running into 429s.
type Pacer interface {
	// Reserve takes the budget for the calls one job makes to channel and
	// returns 0 when they may all go now; otherwise it takes nothing and
	// returns how long to wait before asking again.
	Reserve(channel string, calls ...ChatCall) time.Duration
}

// Outbox delivery bounds.
const (
	// DefaultOutboxWorkers is how many outbox calls may be in flight at once
	// (each to a different channel).
	DefaultOutboxWorkers = 16
	// outboxHand bounds the outbox jobs held in memory, ready to go when the
	// pacer allows (on a store with leases, claimHand: claimed jobs).
	outboxHand = 4096
	claimHand  = 256
	// fillEvery spaces the scans of the queue: a case's next message goes
	// to the same channel, where Slack allows one a second anyway.
	fillEvery = 100 * time.Millisecond
	// pollEvery: with nothing else to wake it, the queue is read this often.
	pollEvery = time.Second
)

// outboxJob is an outbox job in hand: due, the oldest of its case, waiting
// for a worker, its channel and the pacer.
type outboxJob struct {
	job     Job
	lane    string // the channel its calls go to; "" when it makes none
	calls   []ChatCall
	running bool
	gone    bool
	readyAt time.Time // the pacer asked to wait until then (transport time)
}

// dispatcher delivers the outbox in parallel across channels. Order holds
// per case (only a case's oldest job is in hand, so a card always goes
// before its replies and updates, on any replica) and per channel (one
// call at a time to a channel, oldest job first).
type dispatcher struct {
	e        *Engine
	workers  int
	hand     []*outboxJob // queue order
	byCase   map[string]*outboxJob
	lanes    map[string]bool // channels with a call in flight
	running  int
	done     chan *outboxJob
	needFill bool
	lastFill time.Time // transport time
	retryAt  time.Time // business time a held job comes due
}

// Coalesced counts card updates completed without a call because a later
// card job of the same case supersedes them.
func (e *Engine) Coalesced() uint64 { return e.coalesced.Load() }

func (e *Engine) deliver(ctx context.Context) {
	d := &dispatcher{e: e, workers: e.outboxWorkers, byCase: map[string]*outboxJob{}, lanes: map[string]bool{},
		done: make(chan *outboxJob, e.outboxWorkers), needFill: true}
	defer d.stop()
	for ctx.Err() == nil {
		if d.needFill && (e.wall().Sub(d.lastFill) >= fillEvery || len(d.hand) == 0) {
			if err := d.fill(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("read queue", "queue", QueueOutbox, "err", err)
			}
		}
		wait := d.dispatch(ctx)
		if !d.retryAt.IsZero() {
			if w := d.retryAt.Sub(e.now()); w < wait {
				wait = max(w, time.Millisecond)
			}
		}
		if d.needFill {
			wait = min(wait, fillEvery)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case j := <-d.done:
			d.finish(j)
		case <-e.wake[QueueOutbox]:
			d.needFill = true
		case <-t.C:
			// A held job came due, or it is time to look again: jobs that
			// other replicas queue wake nobody here.
			if (!d.retryAt.IsZero() && !e.now().Before(d.retryAt)) || e.wall().Sub(d.lastFill) >= pollEvery {
				d.needFill = true
			}
		}
		t.Stop()
		for drained := false; !drained; {
			select {
			case j := <-d.done:
				d.finish(j)
			default:
				drained = true
			}
		}
	}
}

// stop waits for the calls in flight and gives back the jobs in hand.
func (d *dispatcher) stop() {
	for d.running > 0 {
		d.finish(<-d.done)
	}
	if d.e.claimer == nil {
		return
	}
	for _, j := range d.hand {
		if !j.gone {
			if err := d.e.claimer.ReleaseJob(context.Background(), QueueOutbox, j.job.ID, d.e.replica); err != nil {
				d.e.log.Warn("release job", "queue", QueueOutbox, "case", j.job.Case, "err", err)
			}
		}
	}
}

func (d *dispatcher) finish(j *outboxJob) {
	j.running, j.gone = false, true
	d.running--
	d.e.inFlight.Add(-1)
	if j.lane != "" {
		delete(d.lanes, j.lane)
	}
	if d.byCase[caseKey(j.job)] == j {
		delete(d.byCase, caseKey(j.job))
	}
	d.needFill = true // the case's next job may go now
}

// dispatch starts every job in hand that may go now, oldest first, and
// returns how long until the pacer lets the next waiting one go.
func (d *dispatcher) dispatch(ctx context.Context) time.Duration {
	wait := time.Second
	now := d.e.wall()
	for _, j := range d.hand {
		if d.running >= d.workers {
			break
		}
		if j.running || j.gone || (j.lane != "" && d.lanes[j.lane]) {
			continue
		}
		if now.Before(j.readyAt) {
			wait = min(wait, j.readyAt.Sub(now))
			continue
		}
		if d.e.pacer != nil && len(j.calls) > 0 {
			if w := d.e.pacer.Reserve(j.lane, j.calls...); w > 0 {
				j.readyAt = now.Add(w)
				wait = min(wait, w)
				continue
			}
		}
		d.start(ctx, j)
	}
	return wait
}

func (d *dispatcher) start(ctx context.Context, j *outboxJob) {
	j.running = true
	d.running++
	d.e.inFlight.Add(1)
	if j.lane != "" {
		d.lanes[j.lane] = true
	}
	go func() {
		d.e.runJob(ctx, QueueOutbox, j.job, d.e.handleOutbox)
		d.done <- j
	}()
}

// fill brings due jobs into hand: the oldest job of each case not in hand.
func (d *dispatcher) fill(ctx context.Context) error {
	d.needFill, d.lastFill, d.retryAt = false, d.e.wall(), time.Time{}
	live := d.hand[:0]
	for _, j := range d.hand {
		if !j.gone {
			live = append(live, j)
		}
	}
	clear(d.hand[len(live):])
	d.hand = live
	if d.e.claimer != nil {
		return d.claim(ctx)
	}
	now := d.e.now()
	var add []*outboxJob
	seen := map[string]bool{}
	heads := map[string]*outboxJob{}
	superseded := map[*outboxJob]bool{}
	full := errors.New("hand full")
	err := d.e.store.View(ctx, func(tx ReadTx) error {
		add, superseded = add[:0], map[*outboxJob]bool{}
		clear(seen)
		clear(heads)
		return tx.Jobs(QueueOutbox, func(job Job) error {
			key := caseKey(job)
			if seen[key] {
				// A later card job of a case renders the same case as it
				// is then: the head's card update is superseded.
				if h := heads[key]; h != nil && job.Kind == JobCard && h.job.Kind == JobCard && h.calls != nil && h.calls[0] == CallUpdate {
					superseded[h] = true
				}
				return nil
			}
			seen[key] = true
			if d.byCase[key] != nil {
				return nil // its oldest job is in hand already
			}
			if job.NotBefore.After(now) {
				if d.retryAt.IsZero() || job.NotBefore.Before(d.retryAt) {
					d.retryAt = job.NotBefore
				}
				return nil // held for a retry, and its later jobs with it
			}
			if len(d.hand)+len(add) >= outboxHand {
				return full
			}
			j := &outboxJob{job: job}
			c, err := tx.Case(job.Case)
			if err != nil && KindOf(err) != KindNotFound {
				return err
			}
			j.plan(c)
			heads[key] = j
			add = append(add, j)
			return nil
		})
	})
	if err != nil && !errors.Is(err, full) {
		return err
	}
	for _, j := range add {
		if superseded[j] {
			// Completed without a call; the later card job shows the case.
			if err := d.e.dropJob(ctx, QueueOutbox, j.job.ID); err != nil {
				return fmt.Errorf("drop superseded card update of %s: %w", j.job.Case, err)
			}
			d.e.coalesced.Add(1)
			d.needFill = true
			continue
		}
		d.hand = append(d.hand, j)
		d.byCase[caseKey(j.job)] = j
	}
	return nil
}

// claim takes jobs under a lease from a store that replicas share; the
// store hands out only the oldest job of a case, so order holds across
// replicas. A claimed job the pacer holds longer than half the lease is
// put back for later, so its lease cannot run out in hand.
func (d *dispatcher) claim(ctx context.Context) error {
	e := d.e
	now, wall := e.now(), e.wall()
	kept := d.hand[:0]
	for _, j := range d.hand {
		if !j.running && j.readyAt.Sub(wall) > e.lease/2 {
			j.job.NotBefore = now.Add(j.readyAt.Sub(wall))
			if err := e.store.Update(ctx, func(tx Tx) error { return tx.UpdateJob(QueueOutbox, j.job) }); err != nil {
				return fmt.Errorf("put back job of %s: %w", j.job.Case, err)
			}
			if err := e.claimer.ReleaseJob(ctx, QueueOutbox, j.job.ID, e.replica); err != nil {
				return fmt.Errorf("release job of %s: %w", j.job.Case, err)
			}
			delete(d.byCase, caseKey(j.job))
			continue
		}
		kept = append(kept, j)
	}
	clear(d.hand[len(kept):])
	d.hand = kept
	for len(d.hand) < claimHand {
		job, found, err := e.claimer.ClaimJob(ctx, QueueOutbox, e.replica, e.lease, now)
		if err != nil || !found {
			return err
		}
		j := &outboxJob{job: job}
		var c *Case
		err = e.store.View(ctx, func(tx ReadTx) error {
			var err error
			c, err = tx.Case(job.Case)
			return err
		})
		if err != nil && KindOf(err) != KindNotFound {
			// Also when the read failed because exops is shutting down:
			// with the canceled context the job would stay leased until
			// the lease ran out, and no other replica could take it.
			_ = e.claimer.ReleaseJob(context.WithoutCancel(ctx), QueueOutbox, job.ID, e.replica)
			return err
		}
		j.plan(c)
		d.hand = append(d.hand, j)
		d.byCase[caseKey(job)] = j
	}
	return nil
}

// plan says which channel a job's calls go to and which calls they are,
// from its case as it is now (nil: gone). A job that makes no call (its
// case is gone or merged, a reply whose card is not there) goes straight
// to the handler, which drops it or holds it.
func (j *outboxJob) plan(c *Case) {
	if c == nil {
		return
	}
	switch j.job.Kind {
	case JobCard:
		switch {
		case c.Slack.TS != "":
			j.lane, j.calls = c.Slack.Channel, []ChatCall{CallUpdate}
		case c.Status == StatusMerged:
		case j.job.Text == cardPosting:
			j.lane, j.calls = c.Channel, []ChatCall{CallFindCard, CallPost}
			if j.job.Channel != "" {
				j.lane = j.job.Channel // where the first try went (see handleOutbox)
			}
		default:
			j.lane, j.calls = c.Channel, []ChatCall{CallPost}
		}
	case JobReply:
		switch {
		case c.Slack.TS == "":
		case j.job.Sent:
			j.lane, j.calls = c.Slack.Channel, []ChatCall{CallFindReply, CallPost}
		default:
			j.lane, j.calls = c.Slack.Channel, []ChatCall{CallPost}
		}
	case JobPost:
		if j.job.Sent {
			j.lane, j.calls = j.job.Channel, []ChatCall{CallFindPost, CallPost}
		} else {
			j.lane, j.calls = j.job.Channel, []ChatCall{CallPost}
		}
	}
}

// caseKey is what orders a job: its case, or the job alone when it has none.
func caseKey(j Job) string {
	if j.Case == "" {
		return fmt.Sprintf("#%d", j.ID)
	}
	return j.Case
}
