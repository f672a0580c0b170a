package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// handleWork enriches a case, asks the agents and the policy, and records
// what changed. The agents may be slow (a model, a remote system), so they
// run outside any transaction on a snapshot; the result is written only if
// the case did not change meanwhile, otherwise the work is done again.
func (e *Engine) handleWork(ctx context.Context, job *Job) error {
	for try := 0; try < 5; try++ {
		var snap *Case
		if err := e.store.View(ctx, func(tx ReadTx) error {
			c, err := tx.Case(job.Case)
			snap = c
			return err
		}); err != nil {
			if KindOf(err) == KindNotFound {
				return e.dropJob(ctx, QueueWork, job.ID)
			}
			return fmt.Errorf("process %s: %w", job.Case, err)
		}
		if snap.Status == StatusMerged {
			return e.dropJob(ctx, QueueWork, job.ID)
		}
		if snap.Status == StatusResolved {
			return e.resummarize(ctx, job, snap)
		}
		work := snap.Clone()
		if e.enricher != nil {
			work.Context, work.Missing = e.enricher.Enrich(ctx, work)
		}
		docs := e.readDocuments(ctx, work)
		// The variances a document shows go in before the document is marked
		// read: if this job dies after, its retry reads the document again
		// and raises the same ids, which intake answers as duplicates.
		var raise []Event
		for _, d := range docs {
			raise = append(raise, d.raise...)
		}
		if len(raise) > 0 {
			if _, err := e.Ingest(ctx, raise); err != nil {
				return fmt.Errorf("raise the variances of %s's documents: %w", job.Case, err)
			}
		}
		recs, err := e.agents.Recommend(ctx, work)
		if err != nil {
			return fmt.Errorf("recommend %s: %w", job.Case, err)
		}
		// The summary names the decisions still needed, so it is written
		// from a preview of what the verdicts will be.
		preview := work.Clone()
		preview.Recommendations = nil
		pol := e.Policy()
		for _, r := range recs {
			r.State = RecPending
			if pol.Judge(preview, r, e.now()).Verdict == VerdictAuto {
				r.State = RecApproved
			}
			preview.Recommendations = append(preview.Recommendations, r)
		}
		summary, by, err := e.agents.Summarize(ctx, preview)
		if err != nil {
			return fmt.Errorf("summarize %s: %w", job.Case, err)
		}
		stale := false
		err = e.store.Update(ctx, func(tx Tx) error {
			stale = false
			cur, err := tx.Case(job.Case)
			if err != nil {
				return err
			}
			if cur.Version != snap.Version {
				stale = true
				return nil
			}
			cur.Context, cur.Missing = work.Context, work.Missing
			cur.Summary, cur.SummaryBy = summary, by
			if err := e.recordDocuments(tx, cur, docs); err != nil {
				return err
			}
			if err := e.applyRecommendations(tx, cur, recs); err != nil {
				return err
			}
			if err := e.announce(tx, cur); err != nil {
				return err
			}
			if err := e.schedule(tx, e.Policy(), cur); err != nil {
				return err
			}
			cur.UpdatedAt = e.now()
			cur.Version++
			if err := tx.PutCase(cur); err != nil {
				return fmt.Errorf("save case %s: %w", cur.ID, err)
			}
			return tx.DeleteJob(QueueWork, job.ID)
		})
		if err != nil {
			return fmt.Errorf("record processing of %s: %w", job.Case, err)
		}
		if !stale {
			e.kick(QueueActions, QueueOutbox)
			return nil
		}
	}
	return Errorf(KindTransient, "case %s kept changing while it was processed", job.Case)
}

// jobCase loads the case a job is about. A job whose case is gone is
// dropped: it returns nil and no error then.
func (e *Engine) jobCase(ctx context.Context, q Queue, job *Job) (*Case, error) {
	var c *Case
	err := e.store.View(ctx, func(tx ReadTx) error {
		var err error
		c, err = tx.Case(job.Case)
		return err
	})
	switch {
	case KindOf(err) == KindNotFound:
		return nil, e.dropJob(ctx, q, job.ID)
	case err != nil:
		return nil, fmt.Errorf("load case %s: %w", job.Case, err)
	}
	return c, nil
}

func (e *Engine) dropJob(ctx context.Context, q Queue, id uint64) error {
	return e.store.Update(ctx, func(tx Tx) error { return tx.DeleteJob(q, id) })
}

// applyRecommendations merges fresh recommendations into the case: settled
// ones stay as they are, pending ones are updated in place (keeping their
// approvals), new ones are added, and pending ones no longer proposed are
// superseded. Each new or changed verdict is audited; auto verdicts are
// decided and queued for execution here, in the same transaction.
func (e *Engine) applyRecommendations(tx Tx, c *Case, fresh []Recommendation) error {
	pol := e.Policy()
	ver := pol.Version()
	now := e.now()
	proposed := map[string]bool{}
	settledFamily := map[Family]bool{}
	for _, r := range c.Recommendations {
		if r.State == RecExecuted || r.State == RecApproved {
			settledFamily[r.Family] = true
		}
	}
	for _, nr := range fresh {
		key := string(nr.Family) + "/" + nr.Action
		if proposed[key] || settledFamily[nr.Family] {
			continue
		}
		proposed[key] = true
		var cur *Recommendation
		for i := range c.Recommendations {
			r := &c.Recommendations[i]
			if r.Family == nr.Family && r.Action == nr.Action && r.State != RecSuperseded {
				cur = r
				break
			}
		}
		if cur != nil && cur.State != RecPending {
			continue // decided already; a person or the bot settled it
		}
		isNew := cur == nil
		if isNew {
			c.Recommendations = append(c.Recommendations, Recommendation{ID: fmt.Sprintf("r%d", len(c.Recommendations)+1), State: RecPending})
			cur = &c.Recommendations[len(c.Recommendations)-1]
		}
		oldVerdict, oldConf, oldVer := cur.Verdict, cur.Confidence, cur.PolicyVersion
		id, approvals, state := cur.ID, cur.Approvals, cur.State
		*cur = nr
		cur.ID, cur.Approvals, cur.State = id, approvals, state
		j := pol.Judge(c, *cur, now)
		cur.Verdict, cur.VerdictReason = j.Verdict, j.Reason
		cur.Approvers, cur.ApproverGroups, cur.ApprovalsNeeded = j.Approvers, j.ApproverGroups, j.ApprovalsNeeded
		cur.ApprovalTTL = Duration(j.ApprovalTTL)
		cur.RequestedBy = requesters(c, cur.Family)
		cur.PolicyVersion = ver
		if isNew || oldConf != cur.Confidence {
			if err := e.audit(tx, AuditEntry{Case: c.ID, Kind: AuditRecommendation, Action: cur.Action, Actor: cur.By,
				Confidence: cur.Confidence, PolicyVersion: ver, Detail: evidenceLine(cur.Evidence)}); err != nil {
				return err
			}
		}
		if isNew || oldVerdict != cur.Verdict || oldVer != ver {
			if err := e.audit(tx, AuditEntry{Case: c.ID, Kind: AuditVerdict, Action: cur.Action, Actor: ActorExops,
				Verdict: string(cur.Verdict), Confidence: cur.Confidence, PolicyVersion: ver, Detail: cur.VerdictReason}); err != nil {
				return err
			}
		}
		if cur.Verdict == VerdictAuto {
			cur.State = RecApproved
			c.Decisions = append(c.Decisions, Decision{Time: now, Actor: ActorExops, RecommendationID: cur.ID, Action: cur.Action,
				Choice: ChoiceAuto, Verdict: cur.Verdict, Confidence: cur.Confidence, PolicyVersion: ver, Reason: cur.VerdictReason})
			if err := e.audit(tx, AuditEntry{Case: c.ID, Kind: AuditDecision, Action: cur.Action, Actor: ActorExops,
				Verdict: string(cur.Verdict), Confidence: cur.Confidence, PolicyVersion: ver, Detail: "auto: " + cur.VerdictReason, Choice: ChoiceAuto}); err != nil {
				return err
			}
			if err := e.enqueue(tx, QueueActions, Job{Kind: JobExecute, Case: c.ID, Recommendation: cur.ID, Dedupe: "execute:" + c.ID + "/" + cur.ID}); err != nil {
				return err
			}
			settledFamily[cur.Family] = true
		}
	}
	for i := range c.Recommendations {
		r := &c.Recommendations[i]
		if r.State == RecPending && (!proposed[string(r.Family)+"/"+r.Action] || settledFamily[r.Family]) {
			r.State = RecSuperseded
			r.Outcome = "no longer recommended"
			if settledFamily[r.Family] {
				r.Outcome = "another action settles " + r.Family.Label()
			}
		}
	}
	return nil
}

// announce queues the Slack messages that tell the team about the case: the
// card (posted, or updated to the latest state) and a thread reply for each
// event the team has not heard of.
func (e *Engine) announce(tx Tx, c *Case) error {
	if c.Slack.TS != "" {
		for _, ce := range c.Events[min(c.Announced, len(c.Events)):] {
			text := fmt.Sprintf("New event (%s): %s", ce.Family.Label(), DescribeEvent(ce.Event()))
			if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobReply, Case: c.ID, Text: text}); err != nil {
				return err
			}
		}
	}
	c.Announced = len(c.Events)
	return e.enqueue(tx, QueueOutbox, Job{Kind: JobCard, Case: c.ID, Dedupe: "card:" + c.ID})
}

func evidenceLine(ev []Evidence) string {
	var parts []string
	for _, x := range ev {
		mark := "fail"
		if x.Passed {
			mark = "pass"
		}
		s := mark + " " + x.Check
		if x.Detail != "" {
			s += " (" + x.Detail + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// resummarize rewrites the summary of a resolved case, so the card no longer
// asks for a decision that was made.
func (e *Engine) resummarize(ctx context.Context, job *Job, snap *Case) error {
	summary, by, err := e.agents.Summarize(ctx, snap)
	if err != nil {
		return fmt.Errorf("summarize %s: %w", job.Case, err)
	}
	return e.store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Case(job.Case)
		if err != nil {
			return err
		}
		if cur.Version == snap.Version && (cur.Summary != summary || cur.SummaryBy != by) {
			cur.Summary, cur.SummaryBy = summary, by
			cur.Version++
			if err := tx.PutCase(cur); err != nil {
				return fmt.Errorf("save case %s: %w", cur.ID, err)
			}
			if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobCard, Case: cur.ID, Dedupe: "card:" + cur.ID}); err != nil {
				return err
			}
		}
		return tx.DeleteJob(QueueWork, job.ID)
	})
}

// requesters are the people the events of a family name as having asked for
// the action (data field requested_by): separation of duties keeps them
// from approving it.
func requesters(c *Case, f Family) []string {
	var out []string
	for _, ev := range c.EventsOf(f) {
		if r := ev.Str("requested_by"); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// documentNote is what reading one event's document found.
type documentNote struct {
	event string
	note  string
	raise []Event
}

// readDocuments reads the documents attached to events not read before,
// outside any transaction (a child process parses each one).
func (e *Engine) readDocuments(ctx context.Context, c *Case) []documentNote {
	if e.documents == nil {
		return nil
	}
	var out []documentNote
	for _, ev := range c.Events {
		if _, has := ev.Data["document"]; !has || slices.Contains(c.DocumentsRead, ev.Source+"/"+ev.ID) {
			continue
		}
		r, ok := e.documents.ReadDocument(ctx, c, ev)
		if !ok {
			continue
		}
		out = append(out, documentNote{event: ev.Source + "/" + ev.ID, note: r.Note, raise: r.Raise})
	}
	return out
}

// recordDocuments keeps each note on the case, in its thread and in the
// audit log, once per event.
func (e *Engine) recordDocuments(tx Tx, c *Case, docs []documentNote) error {
	now := e.now()
	for _, d := range docs {
		if slices.Contains(c.DocumentsRead, d.event) {
			continue
		}
		c.DocumentsRead = append(c.DocumentsRead, d.event)
		c.Comments = append(c.Comments, Comment{Time: now, Actor: ActorExops, Text: d.note})
		if err := e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditDocument, Actor: ActorExops,
			PolicyVersion: e.Policy().Version(), Detail: d.note}); err != nil {
			return err
		}
		if c.Slack.TS != "" {
			if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobReply, Case: c.ID, Text: d.note}); err != nil {
				return err
			}
		}
	}
	return nil
}
