package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// prepared is an event with everything computed that needs no store.
type prepared struct {
	ev     Event
	digest string
	keys   []string
	family Family
	detail string // the audit record's words for it, made outside the writer
}

// Ingest correlates validated events into cases in one transaction and
// returns after it is committed: one result per event, in order. A retry of
// an event already taken (same source and id, same content) is answered as
// the first delivery was and changes nothing; the same id with other content
// is a KindConflict error and nothing of the batch is written.
func (e *Engine) Ingest(ctx context.Context, events []Event) ([]IngestResult, error) {
	if len(events) == 0 {
		return nil, nil
	}
	preps := make([]prepared, len(events))
	for i, ev := range events {
		t, ok := LookupEventType(ev.Type)
		if !ok {
			return nil, Errorf(KindUnknownType, "event %d: unknown type %q", i, ev.Type)
		}
		d, err := eventDigest(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		preps[i] = prepared{ev: ev, digest: d, keys: ev.Keys(), family: t.Family,
			detail: fmt.Sprintf("%s %s: %s", ev.Type, ev.ID, DescribeEvent(ev))}
	}
	lockOrder := make([][2]string, 0, len(preps))
	var keyOrder []string
	for _, p := range preps {
		lockOrder = append(lockOrder, [2]string{p.ev.Source, p.ev.ID})
		keyOrder = append(keyOrder, p.keys...)
	}
	sort.Slice(lockOrder, func(i, j int) bool {
		return lockOrder[i][0] < lockOrder[j][0] || lockOrder[i][0] == lockOrder[j][0] && lockOrder[i][1] < lockOrder[j][1]
	})
	sort.Strings(keyOrder)
	keyOrder = slices.Compact(keyOrder)
	var results []IngestResult
	err := e.store.Update(ctx, func(tx Tx) error {
		// Batch may run this more than once: start clean every time.
		results = make([]IngestResult, 0, len(preps))
		now := e.now()
		pol := e.Policy()
		// Touch every event and correlation key of the batch in one sorted
		// order first: a store that locks what a transaction reads
		// (PostgreSQL) then takes the locks of two overlapping batches in
		// the same order, so they queue instead of deadlocking.
		pf, _ := tx.(Prefetcher)
		if pf != nil {
			if err := pf.Prefetch(lockOrder, keyOrder); err != nil {
				return err
			}
		}
		for _, id := range lockOrder {
			if _, err := tx.Event(id[0], id[1]); err != nil && KindOf(err) != KindNotFound {
				return err
			}
		}
		var caseIDs []string
		for _, k := range keyOrder {
			ref, err := tx.Key(k)
			if err != nil && KindOf(err) != KindNotFound {
				return err
			}
			if err == nil {
				caseIDs = append(caseIDs, ref.Case)
			}
		}
		if pf != nil {
			if err := pf.PrefetchCases(caseIDs); err != nil {
				return err
			}
		}
		ctx := &cachedTx{Tx: tx, cases: map[string]*Case{}}
		for i := range preps {
			r, err := e.ingestOne(ctx, pol, &preps[i], now)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		return ctx.flush()
	})
	if err != nil {
		return nil, err
	}
	e.kick(QueueWork, QueueOutbox)
	return results, nil
}

func eventDigest(ev Event) (string, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return "", Errorf(KindInvalid, "event %s cannot be encoded: %v", ev.ID, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (e *Engine) ingestOne(tx Tx, pol Policy, p *prepared, now time.Time) (IngestResult, error) {
	ev := p.ev
	if prev, err := tx.Event(ev.Source, ev.ID); err == nil {
		if prev.Digest != p.digest {
			return IngestResult{}, Errorf(KindConflict, "event %q from %q was already taken with other content; a new event needs a new id", ev.ID, ev.Source)
		}
		r := prev.Result
		r.Duplicate = true
		return r, nil
	} else if KindOf(err) != KindNotFound {
		return IngestResult{}, fmt.Errorf("look up event %s: %w", ev.ID, err)
	}

	window := pol.CorrelationWindow()
	var open []*Case
	seen := map[string]bool{}
	for _, k := range p.keys {
		ref, err := tx.Key(k)
		if KindOf(err) == KindNotFound {
			continue
		} else if err != nil {
			return IngestResult{}, fmt.Errorf("look up key %s: %w", k, err)
		}
		if absDuration(ev.Time.Sub(ref.LastSeen)) > window || seen[ref.Case] {
			continue
		}
		seen[ref.Case] = true
		c, err := e.liveCase(tx, ref.Case)
		if err != nil {
			return IngestResult{}, err
		}
		// A full case takes no more events: correlation through shared
		// customers and shipments must not snowball into one case of
		// everything. The event opens a new case instead.
		if c != nil && len(c.Events) >= e.maxEv {
			continue
		}
		if c != nil && !seen[c.ID+"#live"] {
			seen[c.ID+"#live"] = true
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return caseIDLess(open[i].ID, open[j].ID) })

	res := IngestResult{Source: ev.Source, ID: ev.ID}
	var c *Case
	if len(open) == 0 {
		n, err := tx.NextCaseNumber()
		if err != nil {
			return IngestResult{}, fmt.Errorf("number new case: %w", err)
		}
		c = &Case{ID: FormatCaseID(n), Status: StatusOpen, OpenedAt: now}
		res.Outcome = "opened"
		if err := e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditCaseOpened, Actor: ev.Source,
			PolicyVersion: pol.Version(), Detail: p.detail}); err != nil {
			return IngestResult{}, err
		}
	} else {
		c = open[0]
		res.Outcome = "joined"
		for _, other := range open[1:] {
			if len(c.Events)+len(other.Events) >= e.maxEv {
				continue // too big together; the event joins the older case only
			}
			if err := e.merge(tx, pol, c, other, ev, now); err != nil {
				return IngestResult{}, err
			}
			res.Merged = append(res.Merged, other.ID)
			res.Outcome = "merged"
		}
		if err := e.audit(tx, AuditEntry{Time: now, Case: c.ID, Kind: AuditEventJoined, Actor: ev.Source,
			PolicyVersion: pol.Version(), Detail: p.detail}); err != nil {
			return IngestResult{}, err
		}
	}
	res.Case = c.ID

	ce := CaseEvent{ID: ev.ID, Source: ev.Source, Type: ev.Type, Family: p.family, Time: ev.Time, Received: now, Subject: ev.Subject, Data: withoutContent(ev.Data), Digest: p.digest}
	c.Events = append(c.Events, ce)
	c.addFamily(p.family)
	c.addKeys(p.keys)
	dueBefore, touchBefore, teamBefore := c.SLADue, c.FirstTouchDue, c.Team
	e.refresh(c, pol, now)
	if err := tx.PutCase(c); err != nil {
		return IngestResult{}, fmt.Errorf("save case %s: %w", c.ID, err)
	}
	for _, k := range p.keys {
		ref := KeyRef{Case: c.ID, LastSeen: ev.Time}
		if old, err := tx.Key(k); err == nil && old.Case == c.ID && old.LastSeen.After(ev.Time) {
			ref.LastSeen = old.LastSeen
		}
		if err := tx.PutKey(k, ref); err != nil {
			return IngestResult{}, fmt.Errorf("index key %s: %w", k, err)
		}
	}
	// The escalation schedule follows from the due times and the team: set
	// it when the case is new or one of them moved, not on every event.
	if res.Outcome != "joined" || !c.SLADue.Equal(dueBefore) || !c.FirstTouchDue.Equal(touchBefore) || c.Team != teamBefore {
		if err := e.schedule(tx, pol, c); err != nil {
			return IngestResult{}, err
		}
	}
	if err := tx.PutEvent(&StoredEvent{Event: ev, Digest: p.digest, Received: now, Result: res}); err != nil {
		return IngestResult{}, fmt.Errorf("save event %s: %w", ev.ID, err)
	}
	if err := e.enqueueLater(tx, QueueWork, Job{Kind: JobProcess, Case: c.ID, Dedupe: "process:" + c.ID}); err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

// enqueueLater is enqueue for a job whose id nobody reads.
func (e *Engine) enqueueLater(tx Tx, q Queue, j Job) error {
	for {
		if lq, ok := tx.(LaterQueuer); ok {
			j.Created = e.now()
			if err := lq.EnqueueLater(q, j); err != nil {
				return fmt.Errorf("enqueue %s %s: %w", q, j.Kind, err)
			}
			return nil
		}
		ct, ok := tx.(*cachedTx)
		if !ok {
			return e.enqueue(tx, q, j)
		}
		tx = ct.Tx
	}
}

// liveCase returns the open case an index entry leads to, following merges,
// or nil when that case is closed.
func (e *Engine) liveCase(tx Tx, id string) (*Case, error) {
	for hops := 0; hops < 16; hops++ {
		c, err := tx.Case(id)
		if err != nil {
			return nil, fmt.Errorf("load case %s: %w", id, err)
		}
		switch c.Status {
		case StatusOpen:
			return c, nil
		case StatusMerged:
			id = c.MergedInto
		default:
			return nil, nil
		}
	}
	return nil, nil
}

// merge folds case other into the older case c: the event ev linked them.
func (e *Engine) merge(tx Tx, pol Policy, c, other *Case, ev Event, now time.Time) error {
	// Appended, not sorted in: the survivor's thread then tells the absorbed
	// events as new ones (see Case.Announced).
	c.Events = append(c.Events, other.Events...)
	for _, f := range other.Families {
		c.addFamily(f)
	}
	c.addKeys(other.Keys)
	c.MergedFrom = append(c.MergedFrom, other.ID)
	c.Decisions = append(c.Decisions, other.Decisions...)
	// The loser's settled recommendations stay on record there; pending ones
	// are proposed again on the survivor by the next processing.
	other.Status = StatusMerged
	other.MergedInto = c.ID
	other.UpdatedAt = now
	other.Version++
	for i := range other.Recommendations {
		if !other.Recommendations[i].State.Settled() {
			other.Recommendations[i].State = RecSuperseded
			other.Recommendations[i].Outcome = "case merged into " + c.ID
		}
	}
	for _, k := range other.Keys {
		ref, err := tx.Key(k)
		if err != nil && KindOf(err) != KindNotFound {
			return fmt.Errorf("merge %s: key %s: %w", other.ID, k, err)
		}
		if err == nil && ref.Case != other.ID {
			continue
		}
		ref.Case = c.ID
		if err := tx.PutKey(k, ref); err != nil {
			return fmt.Errorf("merge %s: key %s: %w", other.ID, k, err)
		}
	}
	if err := tx.PutCase(other); err != nil {
		return fmt.Errorf("merge %s: %w", other.ID, err)
	}
	if err := tx.ClearTimer(other.ID); err != nil {
		return fmt.Errorf("merge %s: %w", other.ID, err)
	}
	why := fmt.Sprintf("event %s %s links %s and %s", ev.Type, ev.ID, c.ID, other.ID)
	for _, en := range []AuditEntry{
		{Case: c.ID, Kind: AuditCaseMerged, Actor: ActorExops, PolicyVersion: pol.Version(), Detail: "absorbed " + other.ID + ": " + why},
		{Case: other.ID, Kind: AuditCaseMerged, Actor: ActorExops, PolicyVersion: pol.Version(), Detail: "merged into " + c.ID + ": " + why},
	} {
		en.Time = now
		if err := e.audit(tx, en); err != nil {
			return err
		}
	}
	if c.Slack.TS != "" {
		if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobReply, Case: c.ID, Text: fmt.Sprintf("Absorbed %s: %s.", other.ID, why)}); err != nil {
			return err
		}
	}
	if other.Slack.TS != "" {
		if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobCard, Case: other.ID, Dedupe: "card:" + other.ID}); err != nil {
			return err
		}
		if err := e.enqueue(tx, QueueOutbox, Job{Kind: JobReply, Case: other.ID, Text: fmt.Sprintf("Merged into %s: %s.", c.ID, why)}); err != nil {
			return err
		}
	}
	return nil
}

// refresh recomputes what follows from a case's events: severity, priority,
// routing (until the card is posted) and the SLA due time.
func (e *Engine) refresh(c *Case, pol Policy, now time.Time) {
	f := typeFolds.Fold(c)
	base := f.base
	sev := pol.Severity(c, base, now)
	if sev < base {
		sev = base // a policy raises severity, never lowers it below the types'
	}
	c.Severity = sev
	c.Priority = priority(sev, f.urgent)
	if c.Slack.TS == "" {
		c.Team, c.Channel = pol.Route(c, now)
	}
	sla := pol.SLA(sev)
	c.SLADue = c.OpenedAt.Add(sla.Resolve)
	c.FirstTouchDue = c.OpenedAt.Add(sla.FirstTouch)
	c.UpdatedAt = now
	c.Version++
}

// typeFold is what refresh takes from a case's events: the highest
// severity of their types and whether any makes the case urgent.
type typeFold struct {
	base   Severity
	urgent bool
}

var typeFolds = NewEventFolds(typeFold{base: SeverityLow}, func(f *typeFold, ce *CaseEvent) {
	if t, ok := LookupEventType(ce.Type); ok && t.Severity > f.base {
		f.base = t.Severity
	}
	f.urgent = f.urgent || urgentEvent(Event{Type: ce.Type, Data: ce.Data})
})

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// caseIDLess orders EX-000009 before EX-000010 and EX-999999 before EX-1000000.
func caseIDLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return strings.Compare(a, b) < 0
}

// cachedTx keeps the cases a batch touches decoded and writes each once at
// the end: the events of one batch often belong to the same case, and
// decoding and encoding a case is most of an event's cost in the writer.
type cachedTx struct {
	Tx
	cases map[string]*Case
	dirty []string
}

func (t *cachedTx) Case(id string) (*Case, error) {
	if c, ok := t.cases[id]; ok {
		return c, nil
	}
	var c *Case
	var err error
	if a, ok := t.Tx.(Appender); ok {
		c, err = a.CaseForAppend(id) // intake reads cases to join events to them
	} else {
		c, err = t.Tx.Case(id)
	}
	if err != nil {
		return nil, err
	}
	t.cases[id] = c
	return c, nil
}

func (t *cachedTx) PutCase(c *Case) error {
	if _, ok := t.cases[c.ID]; !ok || !slices.Contains(t.dirty, c.ID) {
		t.dirty = append(t.dirty, c.ID)
	}
	t.cases[c.ID] = c
	return nil
}

func (t *cachedTx) flush() error {
	for _, id := range t.dirty {
		if err := t.Tx.PutCase(t.cases[id]); err != nil {
			return fmt.Errorf("save case %s: %w", id, err)
		}
	}
	return nil
}

// withoutContent keeps an attached document's bytes out of the case, which
// is rewritten on every change: the stored event has them.
func withoutContent(data map[string]any) map[string]any {
	doc, ok := data["document"].(map[string]any)
	if !ok {
		return data
	}
	content, has := doc["content_base64"].(string)
	if !has {
		return data
	}
	slim := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "content_base64" {
			slim[k] = v
		}
	}
	slim["content_bytes"] = len(content) * 3 / 4
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = v
	}
	out["document"] = slim
	return out
}
