package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Decide records a person's approval or rejection of a recommendation.
// Only the approvers the policy named (users, or members of its user groups)
// may decide; the person who asked for an action may not approve it; each
// person counts once; approvals older than the policy's TTL no longer count;
// a rejection needs a reason. Every refusal is explained in plain words and
// audited.
func (e *Engine) Decide(ctx context.Context, req DecideRequest) (DecideResult, error) {
	if req.Choice != ChoiceApprove && req.Choice != ChoiceReject {
		return DecideResult{}, Errorf(KindInvalid, "unknown choice %q", req.Choice)
	}
	if req.Actor == "" {
		return DecideResult{}, Errorf(KindInvalid, "no actor")
	}
	members, err := e.groupMembers(ctx, req)
	if err != nil {
		return DecideResult{}, err
	}
	var res DecideResult
	var refusal error
	err = e.store.Update(ctx, func(tx Tx) error {
		res, refusal = DecideResult{}, nil
		c, err := tx.Case(req.Case)
		if KindOf(err) == KindNotFound {
			return Errorf(KindNotFound, "Case %s does not exist.", req.Case)
		} else if err != nil {
			return fmt.Errorf("load case %s: %w", req.Case, err)
		}
		if c.Status == StatusMerged {
			return Errorf(KindConflict, "%s was merged into %s; decide there.", c.ID, c.MergedInto)
		}
		r := c.Recommendation(req.Recommendation)
		if r == nil {
			return Errorf(KindNotFound, "%s has no recommendation %s.", c.ID, req.Recommendation)
		}
		pol := e.Policy()
		ver := pol.Version()
		now := e.now()
		entry := AuditEntry{Time: now, Case: c.ID, Action: r.Action, Actor: req.Actor, Verdict: string(r.Verdict),
			Confidence: r.Confidence, PolicyVersion: ver}
		refuse := func(kind Kind, msg string) error {
			refusal = Errorf(kind, "%s", msg)
			entry.Kind = AuditRefused
			entry.Detail = string(req.Choice) + " refused: " + msg
			return e.audit(tx, entry)
		}
		if r.State != RecPending {
			return Errorf(KindConflict, "%s on %s is already %s; nothing was changed.", r.Title, c.ID, r.State)
		}
		if r.Verdict == VerdictDeny {
			return refuse(KindDenied, fmt.Sprintf("The policy does not allow %s on %s.", r.Title, c.ID))
		}
		if !slices.Contains(r.Approvers, req.Actor) && !members[req.Actor] {
			return refuse(KindDenied, fmt.Sprintf("You are not an approver for %s on %s. Approvers: %s.", r.Title, c.ID,
				mentions(append(append([]string(nil), r.Approvers...), r.ApproverGroups...))))
		}
		if req.Choice == ChoiceApprove && slices.Contains(r.RequestedBy, req.Actor) {
			return refuse(KindDenied, fmt.Sprintf("You asked for %s on %s, so someone else must approve it (separation of duties).", r.Title, c.ID))
		}
		if req.Choice == ChoiceReject && strings.TrimSpace(req.Reason) == "" {
			return refuse(KindInvalid, fmt.Sprintf("A rejection of %s on %s needs a reason; nothing was changed.", r.Title, c.ID))
		}
		if err := e.expireApprovals(tx, c, r, now, ver); err != nil {
			return err
		}
		d := Decision{Time: now, Actor: req.Actor, RecommendationID: r.ID, Action: r.Action, Choice: req.Choice,
			Verdict: r.Verdict, Confidence: r.Confidence, PolicyVersion: ver, Reason: req.Reason}
		entry.Kind, entry.Choice = AuditDecision, req.Choice
		var reply string
		if req.Choice == ChoiceReject {
			r.State = RecRejected
			r.Outcome = "rejected by <@" + req.Actor + ">: " + req.Reason
			entry.Detail = "reject: " + req.Reason
			reply = fmt.Sprintf("<@%s> rejected %s: %s", req.Actor, r.Title, req.Reason)
			res.Message = fmt.Sprintf("You rejected %s on %s.", r.Title, c.ID)
		} else {
			if slices.Contains(r.Approvals, req.Actor) {
				return Errorf(KindConflict, "You already approved %s on %s; one person counts once (%d of %d).",
					r.Title, c.ID, len(r.Approvals), need(r))
			}
			r.Approvals = append(r.Approvals, req.Actor)
			entry.Detail = fmt.Sprintf("approve: %d of %d", len(r.Approvals), need(r))
			if len(r.Approvals) >= need(r) {
				r.State = RecApproved
				if err := e.enqueue(tx, QueueActions, Job{Kind: JobExecute, Case: c.ID, Recommendation: r.ID, Dedupe: "execute:" + c.ID + "/" + r.ID}); err != nil {
					return err
				}
				reply = fmt.Sprintf("<@%s> approved %s. Running it now.", req.Actor, r.Title)
				res.Message = fmt.Sprintf("You approved %s on %s; exops is running it.", r.Title, c.ID)
			} else {
				reply = fmt.Sprintf("<@%s> approved %s (%d of %d approvals).", req.Actor, r.Title, len(r.Approvals), need(r))
				res.Message = fmt.Sprintf("Your approval of %s on %s is recorded: %d of %d.", r.Title, c.ID, len(r.Approvals), need(r))
			}
		}
		c.Decisions = append(c.Decisions, d)
		res.Case = c
		return e.commitTouch(tx, pol, c, now, entry, reply)
	})
	if err != nil {
		return DecideResult{}, err
	}
	e.kick(QueueActions, QueueOutbox)
	if refusal != nil {
		return DecideResult{}, refusal
	}
	return res, nil
}

// groupMembers resolves the user groups that may decide the recommendation,
// before the transaction: the directory may call Slack.
func (e *Engine) groupMembers(ctx context.Context, req DecideRequest) (map[string]bool, error) {
	if e.directory == nil {
		return nil, nil
	}
	var groups []string
	err := e.store.View(ctx, func(tx ReadTx) error {
		c, err := tx.Case(req.Case)
		if err != nil {
			return nil // Decide reports it
		}
		if r := c.Recommendation(req.Recommendation); r != nil {
			groups = r.ApproverGroups
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read approver groups of %s: %w", req.Case, err)
	}
	members := map[string]bool{}
	for _, g := range groups {
		ids, err := e.directory.GroupMembers(ctx, g)
		if err != nil {
			return nil, &Error{Kind: KindTransient, Msg: "could not read the members of approver group " + g + "; try again", Err: err}
		}
		for _, id := range ids {
			members[id] = true
		}
	}
	return members, nil
}

// expireApprovals drops approvals older than the recommendation's TTL, each
// audited: an old yes no longer counts towards n of m.
func (e *Engine) expireApprovals(tx Tx, c *Case, r *Recommendation, now time.Time, ver string) error {
	if r.ApprovalTTL <= 0 || len(r.Approvals) == 0 {
		return nil
	}
	kept := r.Approvals[:0:0]
	for _, who := range r.Approvals {
		var at time.Time
		for _, d := range c.Decisions {
			if d.RecommendationID == r.ID && d.Actor == who && d.Choice == ChoiceApprove && d.Time.After(at) {
				at = d.Time
			}
		}
		if now.Sub(at) <= time.Duration(r.ApprovalTTL) {
			kept = append(kept, who)
			continue
		}
		if err := e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditApprovalExpired, Action: r.Action, Actor: who,
			Verdict: string(r.Verdict), Confidence: r.Confidence, PolicyVersion: ver,
			Detail: fmt.Sprintf("approval of %s expired after %s", at.UTC().Format(time.RFC3339), time.Duration(r.ApprovalTTL))}); err != nil {
			return err
		}
	}
	r.Approvals = kept
	return nil
}

func need(r *Recommendation) int { return max(r.ApprovalsNeeded, 1) }

func mentions(ids []string) string {
	if len(ids) == 0 {
		return "none named in the policy"
	}
	return strings.ReplaceAll(mentionAll(ids), " ", ", ")
}

// handleAction runs one approved action in the system of record and records
// its outcome. The idempotency key is the same on every try.
func (e *Engine) handleAction(ctx context.Context, job *Job) error {
	c, err := e.jobCase(ctx, QueueActions, job)
	if c == nil {
		return err
	}
	r := c.Recommendation(job.Recommendation)
	if r == nil || r.State != RecApproved {
		return e.dropJob(ctx, QueueActions, job.ID)
	}
	outcome, runErr := e.executor.Execute(ctx, ActionRequest{Key: c.ID + "/" + r.ID, Case: c.ID, Action: r.Action, Params: r.Params})
	if runErr != nil && KindOf(runErr) == KindTransient && job.Attempts+1 < maxActionAttempts {
		return fmt.Errorf("execute %s on %s: %w", r.Action, c.ID, runErr)
	}
	err = e.store.Update(ctx, func(tx Tx) error {
		c, err := tx.Case(job.Case)
		if err != nil {
			return err
		}
		r := c.Recommendation(job.Recommendation)
		if r == nil || r.State != RecApproved {
			return tx.DeleteJob(QueueActions, job.ID)
		}
		pol := e.Policy()
		now := e.now()
		entry := AuditEntry{Time: now, Case: c.ID, Action: r.Action, Actor: ActorExops, Verdict: string(r.Verdict),
			Confidence: r.Confidence, PolicyVersion: pol.Version()}
		var reply string
		if runErr != nil {
			r.State, r.Outcome = RecFailed, "failed: "+runErr.Error()
			entry.Kind, entry.Detail = AuditActionFailed, runErr.Error()
			reply = fmt.Sprintf(":x: %s failed: %v. The case is back in your hands.", r.Title, runErr)
		} else {
			r.State, r.Outcome = RecExecuted, outcome
			entry.Kind, entry.Detail = AuditActionExecuted, outcome
			by := "by exops on its own"
			if r.Verdict != VerdictAuto {
				by = "after approval by " + mentions(r.Approvals)
			}
			reply = fmt.Sprintf(":white_check_mark: %s done %s: %s", r.Title, by, outcome)
			for i := range c.Recommendations {
				o := &c.Recommendations[i]
				if o.ID != r.ID && o.Family == r.Family && o.State == RecPending {
					o.State, o.Outcome = RecSuperseded, r.Title+" settled "+r.Family.Label()
				}
			}
		}
		if err := e.audit(tx, entry); err != nil {
			return err
		}
		if resolved(c) {
			c.Status = StatusResolved
			c.ResolvedAt = &now
			by := ActorExops
			for _, d := range c.Decisions {
				if d.Actor != ActorExops {
					by = "people and exops"
				}
			}
			if err := e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditCaseResolved, Actor: ActorExops,
				PolicyVersion: pol.Version(), Detail: "every recommendation settled; resolved by " + by}); err != nil {
				return err
			}
			reply += "\nCase resolved."
		}
		c.UpdatedAt = now
		c.Version++
		if err := tx.PutCase(c); err != nil {
			return fmt.Errorf("save case %s: %w", c.ID, err)
		}
		if err := e.schedule(tx, pol, c); err != nil {
			return err
		}
		if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobReply, Case: c.ID, Text: reply}); err != nil {
			return err
		}
		// The summary names the decisions still needed: write it again.
		if err := e.enqueue(tx, QueueWork, Job{Kind: JobProcess, Case: c.ID, Dedupe: "process:" + c.ID}); err != nil {
			return err
		}
		if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobCard, Case: c.ID, Dedupe: "card:" + c.ID}); err != nil {
			return err
		}
		return tx.DeleteJob(QueueActions, job.ID)
	})
	if err != nil {
		return fmt.Errorf("record outcome of %s on %s: %w", job.Recommendation, job.Case, err)
	}
	e.kick(QueueWork, QueueOutbox)
	return nil
}

// resolved reports whether a case is done: something was executed and
// nothing waits for a person or for execution.
func resolved(c *Case) bool {
	executed := false
	for _, r := range c.Recommendations {
		switch r.State {
		case RecPending, RecApproved:
			return false
		case RecExecuted:
			executed = true
		}
	}
	return executed
}
