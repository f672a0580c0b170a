package cases

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Family is an exception category from the article's taxonomy.
type Family string

const (
	FamilyOrderHold             Family = "order_hold"
	FamilyCreditHold            Family = "credit_hold"
	FamilyInventoryVariance     Family = "inventory_variance"
	FamilyAllocationConflict    Family = "allocation_conflict"
	FamilySupplierDelay         Family = "supplier_delay"
	FamilyMissingConfirmation   Family = "missing_supplier_confirmation"
	FamilyPriceDiscrepancy      Family = "price_discrepancy"
	FamilyInvoiceMismatch       Family = "invoice_mismatch"
	FamilyShipmentHold          Family = "shipment_hold"
	FamilyIncompleteOrderData   Family = "incomplete_order_data"
	FamilyReturnsException      Family = "returns_exception"
	FamilyReceiptQuantityVaries Family = "receipt_variance"
)

// Families lists every family exops knows, for policy checks and docs.
func Families() []Family {
	return []Family{FamilyOrderHold, FamilyCreditHold, FamilyInventoryVariance, FamilyAllocationConflict,
		FamilySupplierDelay, FamilyMissingConfirmation, FamilyPriceDiscrepancy, FamilyInvoiceMismatch,
		FamilyShipmentHold, FamilyIncompleteOrderData, FamilyReturnsException, FamilyReceiptQuantityVaries}
}

// Label is the family as people read it.
func (f Family) Label() string { return strings.ReplaceAll(string(f), "_", " ") }

// Severity is how bad an exception is; it sets the SLA.
type Severity int

const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

func (s Severity) String() string {
	switch s {
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return "unknown"
}

// ParseSeverity reads "low", "medium", "high" or "critical".
func ParseSeverity(s string) (Severity, error) {
	for v := SeverityLow; v <= SeverityCritical; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *Severity) UnmarshalText(b []byte) error {
	if string(b) == "unknown" { // the zero value, as MarshalText writes it
		*s = 0
		return nil
	}
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Status is where a case is in its life.
type Status string

const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
	StatusMerged   Status = "merged"
)

// Verdict is what the policy allows for one recommendation.
type Verdict string

const (
	VerdictAuto      Verdict = "auto"      // execute now
	VerdictApprove   Verdict = "approve"   // ask named approvers
	VerdictRecommend Verdict = "recommend" // show; a person decides
	VerdictDeny      Verdict = "deny"      // never
)

// RecState is where a recommendation stands.
type RecState string

const (
	RecPending    RecState = "pending"    // waiting for a person or for approvals
	RecApproved   RecState = "approved"   // approvals complete, execution queued
	RecExecuted   RecState = "executed"   // the action ran in the system of record
	RecFailed     RecState = "failed"     // the action was tried and failed
	RecRejected   RecState = "rejected"   // a person said no
	RecSuperseded RecState = "superseded" // another action settled its family
)

// Settled reports whether nothing more will happen to the recommendation.
func (s RecState) Settled() bool {
	return s == RecExecuted || s == RecRejected || s == RecSuperseded || s == RecFailed
}

// Evidence is one check behind a confidence: something that can be verified
// in the case facts or a system of record, and whether it held.
type Evidence struct {
	Check  string  `json:"check"`
	Passed bool    `json:"passed"`
	Weight float64 `json:"weight"`
	Detail string  `json:"detail,omitempty"`
}

// Recommendation is a proposed action with a confidence computed from
// evidence, and the policy's verdict on it.
type Recommendation struct {
	ID         string            `json:"id"`
	Action     string            `json:"action"`
	Family     Family            `json:"family"`
	Title      string            `json:"title"`
	Params     map[string]string `json:"params,omitempty"`
	Confidence float64           `json:"confidence"`
	Evidence   []Evidence        `json:"evidence,omitempty"`
	Rationale  string            `json:"rationale,omitempty"`
	By         string            `json:"by,omitempty"` // which agent proposed it

	Verdict        Verdict  `json:"verdict"`
	VerdictReason  string   `json:"verdict_reason,omitempty"`
	Approvers      []string `json:"approvers,omitempty"`
	ApproverGroups []string `json:"approver_groups,omitempty"`
	ApprovalTTL    Duration `json:"approval_ttl,omitempty"`
	// RequestedBy names the people who asked for this action (from the
	// events' requested_by); they may not approve it themselves.
	RequestedBy     []string `json:"requested_by,omitempty"`
	ApprovalsNeeded int      `json:"approvals_needed,omitempty"`
	Approvals       []string `json:"approvals,omitempty"`
	PolicyVersion   string   `json:"policy_version,omitempty"`

	State   RecState `json:"state"`
	Outcome string   `json:"outcome,omitempty"`
}

// Decision is who did what to a recommendation, under which policy.
type Decision struct {
	Time             time.Time `json:"time"`
	Actor            string    `json:"actor"`
	RecommendationID string    `json:"recommendation"`
	Action           string    `json:"action"`
	Choice           Choice    `json:"choice"`
	Verdict          Verdict   `json:"verdict"`
	Confidence       float64   `json:"confidence"`
	PolicyVersion    string    `json:"policy_version"`
	Reason           string    `json:"reason,omitempty"`
}

// Choice is what a person (or the bot) did with a recommendation.
type Choice string

const (
	ChoiceApprove Choice = "approve"
	ChoiceReject  Choice = "reject"
	ChoiceAuto    Choice = "auto"
)

// CaseEvent is an event as kept on its case.
type CaseEvent struct {
	ID       string         `json:"id"`
	Source   string         `json:"source"`
	Type     string         `json:"type"`
	Family   Family         `json:"family"`
	Time     time.Time      `json:"time"`
	Received time.Time      `json:"received"`
	Subject  string         `json:"subject,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	// Digest is the stored event's (StoredEvent.Digest): with it the
	// stores keep a reference to the stored event in the case document,
	// not the data again (see CaseDoc).
	Digest string `json:"digest,omitempty"`
}

// Event returns the CloudEvent this record was made from.
func (ce CaseEvent) Event() Event {
	return Event{SpecVersion: "1.0", ID: ce.ID, Source: ce.Source, Type: ce.Type, Time: ce.Time, Subject: ce.Subject, Data: ce.Data}
}

// SlackRef is where a case's card lives.
type SlackRef struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

// Case is the exception object: one per business problem.
type Case struct {
	ID         string     `json:"id"`
	Version    uint64     `json:"version"`
	Families   []Family   `json:"families"`
	Severity   Severity   `json:"severity"`
	Priority   string     `json:"priority"`
	Team       string     `json:"team"`
	Channel    string     `json:"channel"`
	Status     Status     `json:"status"`
	MergedInto string     `json:"merged_into,omitempty"`
	MergedFrom []string   `json:"merged_from,omitempty"`
	OpenedAt   time.Time  `json:"opened_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	SLADue     time.Time  `json:"sla_due"`
	// FirstTouchDue is when a person should have acted on the case;
	// FirstTouchedAt when one first did (a decision, an assignment, a comment).
	FirstTouchDue  time.Time  `json:"first_touch_due,omitempty"`
	FirstTouchedAt *time.Time `json:"first_touched_at,omitempty"`
	// Escalated lists the escalation steps already taken (by name), so a
	// restart neither loses nor repeats one.
	Escalated []string `json:"escalated,omitempty"`
	// EscalatedAt is when the latest escalation step was taken (by the
	// timer or by a person), so "cases escalated today" can be answered.
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	// Assignee is the person working the case; SnoozedUntil holds its
	// reminders and escalations until then.
	Assignee     string     `json:"assignee,omitempty"`
	SnoozedUntil *time.Time `json:"snoozed_until,omitempty"`
	Comments     []Comment  `json:"comments,omitempty"`
	// DocumentsRead lists the events whose attached document was read.
	DocumentsRead []string `json:"documents_read,omitempty"`
	Keys          []string `json:"keys"`
	// Events a store read gave out are shared with the store's cache:
	// append to them or replace the slice, never write one in place, nor
	// shorten the slice and append after (see ReadTx).
	Events []CaseEvent `json:"events"`

	Context   map[string]string `json:"context,omitempty"`
	Missing   []string          `json:"missing_context,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	SummaryBy string            `json:"summary_by,omitempty"`

	Recommendations []Recommendation `json:"recommendations,omitempty"`
	Decisions       []Decision       `json:"decisions,omitempty"`
	Slack           SlackRef         `json:"slack,omitempty"`
	// Announced counts the events already told to the team (on the card or
	// as thread replies), so each is told once.
	Announced int `json:"announced,omitempty"`
}

// FormatCaseID makes the id of case number n: EX-000001.
func FormatCaseID(n uint64) string { return fmt.Sprintf("EX-%06d", n) }

// HasFamily reports whether the case carries family f.
func (c *Case) HasFamily(f Family) bool {
	for _, x := range c.Families {
		if x == f {
			return true
		}
	}
	return false
}

// Recommendation finds a recommendation by id.
func (c *Case) Recommendation(id string) *Recommendation {
	for i := range c.Recommendations {
		if c.Recommendations[i].ID == id {
			return &c.Recommendations[i]
		}
	}
	return nil
}

// Fact returns the latest value of a data field across the case's events.
func (c *Case) Fact(name string) string {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if s := c.Events[i].Event().Str(name); s != "" {
			return s
		}
	}
	return ""
}

// FactNum returns the latest numeric value of a data field across the
// case's events.
func (c *Case) FactNum(name string) (float64, bool) {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if v, ok := c.Events[i].Event().Num(name); ok {
			return v, true
		}
	}
	return 0, false
}

// EventsOf returns the case's events of one family, oldest first.
func (c *Case) EventsOf(f Family) []Event {
	var out []Event
	for _, ce := range c.Events {
		if ce.Family == f {
			out = append(out, ce.Event())
		}
	}
	return out
}

// Pending lists recommendations still waiting for a person.
func (c *Case) Pending() []*Recommendation {
	var out []*Recommendation
	for i := range c.Recommendations {
		if c.Recommendations[i].State == RecPending {
			out = append(out, &c.Recommendations[i])
		}
	}
	return out
}

func (c *Case) addFamily(f Family) {
	if !c.HasFamily(f) {
		c.Families = append(c.Families, f)
	}
}

func (c *Case) addKeys(keys []string) {
	c.Keys = append(c.Keys, keys...)
	sort.Strings(c.Keys)
	c.Keys = dedupe(c.Keys)
}

// Clone returns a deep enough copy that the engine can change it without
// touching the caller's value.
func (c *Case) Clone() *Case {
	cp := *c
	cp.Families = append([]Family(nil), c.Families...)
	cp.Keys = append([]string(nil), c.Keys...)
	cp.Events = append([]CaseEvent(nil), c.Events...)
	cp.MergedFrom = append([]string(nil), c.MergedFrom...)
	cp.Missing = append([]string(nil), c.Missing...)
	cp.Escalated = append([]string(nil), c.Escalated...)
	cp.Comments = append([]Comment(nil), c.Comments...)
	cp.DocumentsRead = append([]string(nil), c.DocumentsRead...)
	if c.SnoozedUntil != nil {
		t := *c.SnoozedUntil
		cp.SnoozedUntil = &t
	}
	if c.EscalatedAt != nil {
		t := *c.EscalatedAt
		cp.EscalatedAt = &t
	}
	if c.FirstTouchedAt != nil {
		t := *c.FirstTouchedAt
		cp.FirstTouchedAt = &t
	}
	cp.Decisions = append([]Decision(nil), c.Decisions...)
	cp.Recommendations = make([]Recommendation, len(c.Recommendations))
	for i, r := range c.Recommendations {
		r.Approvals = append([]string(nil), r.Approvals...)
		r.Approvers = append([]string(nil), r.Approvers...)
		r.ApproverGroups = append([]string(nil), r.ApproverGroups...)
		r.RequestedBy = append([]string(nil), r.RequestedBy...)
		r.Evidence = append([]Evidence(nil), r.Evidence...)
		cp.Recommendations[i] = r
	}
	if c.Context != nil {
		cp.Context = make(map[string]string, len(c.Context))
		for k, v := range c.Context {
			cp.Context[k] = v
		}
	}
	if c.ResolvedAt != nil {
		t := *c.ResolvedAt
		cp.ResolvedAt = &t
	}
	return &cp
}

// Duration is a time.Duration that reads and writes as "24h0m0s" in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
