package cases

import (
	"context"
	"time"
)

// The engine sees every other part of exops through these small interfaces;
// it never imports an adapter.

// Notifier delivers case messages to the team's chat (Slack in production).
// Calls come from the outbox worker, one at a time, after the change that
// caused them is committed.
type Notifier interface {
	// PostCard posts a new case card to c.Channel and returns where it landed.
	PostCard(ctx context.Context, c *Case) (SlackRef, error)
	// UpdateCard rewrites the card at c.Slack to show the case as it is now.
	UpdateCard(ctx context.Context, c *Case) error
	// PostReply posts text in the case's thread (under c.Slack.TS), marked
	// with key so that FindReply can tell whether it landed.
	PostReply(ctx context.Context, c *Case, text, key string) error
	// FindReply looks in the case's thread for the reply marked key (one
	// Slack took although its answer was lost), so a retry never posts it
	// twice.
	FindReply(ctx context.Context, c *Case, key string) (bool, error)
	// PostMessage posts text about a case in another channel, such as a
	// manager channel an escalation goes to, marked with key so that
	// FindMessage can tell whether it landed.
	PostMessage(ctx context.Context, channel string, c *Case, text, key string) error
	// FindMessage looks through channel's recent messages for the one
	// marked key, so a retry after a lost answer or a crash never posts it
	// twice.
	FindMessage(ctx context.Context, channel string, c *Case, key string) (bool, error)
	// FindCard looks for a card of c already in c.Channel (one posted just
	// before a crash, whose ts was never recorded).
	FindCard(ctx context.Context, c *Case) (SlackRef, bool, error)
}

// Policy decides what exops may do: severity, routing, SLAs, escalation,
// thresholds and approvers.
type Policy interface {
	// Version names the policy in force, with the hash of its content.
	Version() string
	// CorrelationWindow is how long a correlation key keeps joining events.
	CorrelationWindow() time.Duration
	// Severity rates a case whose events' types give at least base; now is
	// the business clock's time, for rules on age and lateness.
	Severity(c *Case, base Severity, now time.Time) Severity
	// Route returns the team and channel that own a case.
	Route(c *Case, now time.Time) (team, channel string)
	// SLA is the time to first touch and to resolve a case of this severity.
	SLA(s Severity) SLA
	// Escalation lists the reminders and escalations of a case, in time
	// order, with their due times worked out from the case.
	Escalation(c *Case) []EscalationStep
	// Judge returns the verdict for one recommendation on a case at now.
	Judge(c *Case, r Recommendation, now time.Time) Judgement
}

// SLA is how fast a case must be touched by a person and resolved.
type SLA struct {
	FirstTouch time.Duration
	Resolve    time.Duration
}

// EscalationStep is one reminder or escalation of a case.
type EscalationStep struct {
	Name string    // stable within a policy: "remind", "escalate:credit-managers"
	At   time.Time // when it is due
	// Channel is where it is posted; empty means the case's own thread.
	Channel string
	// Mention lists Slack user or user-group ids to mention.
	Mention []string
	// UnlessTouched skips the step when a person has acted on the case.
	UnlessTouched bool
	Text          string // what it says, before the case reference
}

// Judgement is a policy's verdict with what it needs.
type Judgement struct {
	Verdict        Verdict
	Approvers      []string // Slack user ids allowed to approve
	ApproverGroups []string // Slack user-group ids whose members may approve
	// ApprovalsNeeded is n in "n of m approvers".
	ApprovalsNeeded int
	// ApprovalTTL: an approval older than this no longer counts (0: never expires).
	ApprovalTTL time.Duration
	Reason      string   // plain words: why this verdict
	Explain     []string // the rules consulted, their values and results, for "policy explain"
}

// Directory resolves Slack user groups to their members (the bot, with a
// cache). Optional: without one, only named approvers can approve.
type Directory interface {
	GroupMembers(ctx context.Context, group string) ([]string, error)
}

// Agents write the summary and propose actions with a confidence computed
// from checkable evidence.
type Agents interface {
	Summarize(ctx context.Context, c *Case) (text, by string, err error)
	Recommend(ctx context.Context, c *Case) ([]Recommendation, error)
}

// Enricher asks the systems of record for context on a case. It returns what
// it found and, in plain words, what it could not get.
type Enricher interface {
	Enrich(ctx context.Context, c *Case) (facts map[string]string, missing []string)
}

// DocumentReader reads the document attached to an event (a supplier PDF or
// XML invoice in data.document). It says in one note what the document is
// and what its checks found, and returns the events its three-way match
// raises (variances beyond the policy's tolerances), whose ids derive from
// the document so that reading it again raises only duplicates. ok is false
// when the event carries no document.
type DocumentReader interface {
	ReadDocument(ctx context.Context, c *Case, ev CaseEvent) (r DocumentResult, ok bool)
}

// DocumentResult is what reading one document gave.
type DocumentResult struct {
	Note  string
	Raise []Event
}

// Executor runs an approved or automatic action in the system of record.
// The key is the same on every try of one action, so a system that honours
// idempotency keys never does it twice.
type Executor interface {
	Execute(ctx context.Context, req ActionRequest) (outcome string, err error)
}

// ActionRequest is one action to run.
type ActionRequest struct {
	Key    string
	Case   string
	Action string
	Params map[string]string
}

// DecideRequest is a person's click on a recommendation.
type DecideRequest struct {
	Case           string
	Recommendation string
	Actor          string // Slack user id
	Choice         Choice // approve or reject
	Reason         string
}

// DecideResult tells the person what their click did, in plain words.
type DecideResult struct {
	Case    *Case
	Message string
}
