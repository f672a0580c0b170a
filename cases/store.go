package cases

import (
	"context"
	"time"
)

// Store keeps events, cases, the correlation index, the audit log and the
// work queues. A case change, the audit records that explain it and the jobs
// it causes are written in one Update, so they commit or vanish together.
type Store interface {
	// Update runs fn in one read-write transaction and returns after it is
	// durably committed. Concurrent Updates may be grouped into one commit;
	// fn may then run more than once, so it must change nothing but tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only snapshot.
	View(ctx context.Context, fn func(tx ReadTx) error) error
	Close() error
}

// ReadTx reads one consistent snapshot. Returned values are copies: changing
// them changes nothing stored until written back with a Tx. The exception
// is a case's events, which a store may share between reads (see
// EventList and EventCache): a caller never writes an event of Case.Events,
// or its Data, in place; it replaces the slice (append does when the
// slice is full, as a read gives it) or clones it first.
type ReadTx interface {
	// Case returns the case with that id, or an error of KindNotFound.
	Case(id string) (*Case, error)
	// ForEachCase calls fn for every case in id order until fn returns an error.
	ForEachCase(fn func(*Case) error) error
	// Event returns the stored event with that (source, id), or KindNotFound.
	Event(source, id string) (*StoredEvent, error)
	// Key returns where a correlation key points, or KindNotFound.
	Key(key string) (KeyRef, error)
	// Jobs calls fn for the jobs of queue q, oldest first.
	Jobs(q Queue, fn func(Job) error) error
	// AuditHead returns the sequence number and hash of the newest audit
	// record (0 and "" for an empty log).
	AuditHead() (seq uint64, hash string, err error)
	// DueTimers calls fn for every case timer due at or before until, the
	// earliest first, until fn returns an error.
	DueTimers(until time.Time, fn func(caseID string, at time.Time) error) error
}

// Tx is a read-write transaction.
type Tx interface {
	ReadTx
	// PutCase keeps the events of c that carry a Digest as references to
	// their stored events (see CaseDoc): put those events too.
	PutCase(c *Case) error
	// PutEvent stores an event. Rewriting one that a case refers to with
	// other content breaks that case's reference.
	PutEvent(ev *StoredEvent) error
	PutKey(key string, ref KeyRef) error
	// NextCaseNumber returns 1, 2, 3, …; a rolled-back transaction gives its
	// number back.
	NextCaseNumber() (uint64, error)
	// Audit appends one record to the hash-chained audit log and returns its
	// sequence number.
	Audit(e AuditEntry) (uint64, error)
	// Enqueue adds a job to queue q and sets its ID. A job whose Dedupe key
	// matches one already waiting in q is dropped (Enqueue returns nil and
	// leaves j.ID zero).
	Enqueue(q Queue, j *Job) error
	// UpdateJob rewrites a waiting job (attempts, next try).
	UpdateJob(q Queue, j Job) error
	// DeleteJob removes a job, done or given up; deleting a missing job is no error.
	DeleteJob(q Queue, id uint64) error
	// SetTimer sets the one timer a case has (its next escalation step),
	// replacing any earlier one; ClearTimer removes it (no error if none).
	SetTimer(caseID string, at time.Time) error
	ClearTimer(caseID string) error
}

// Appender is a Tx that can give out a case to which the caller is about
// to append an event: the store then lends the case room to append one
// event in place, so that joining a case of many events copies none of
// them (see EventList). Intake reads cases through it when the store has
// it; a case read so and not appended to costs the next join of it one
// copy.
type Appender interface {
	CaseForAppend(id string) (*Case, error)
}

// LateAuditor is a Tx whose audit records take their final place in the
// chain only when the transaction commits (cases/postgres: replicas then
// hold the chain's head for their commit alone, not for all their work).
// Its Audit and AuditHead give provisional sequence numbers and hashes,
// true within the transaction but not of the committed chain. A record
// that must name the head it follows (a signed checkpoint) is appended
// with AuditLate: make is called at commit with the head the record will
// follow, and says whether to append its entry at all.
type LateAuditor interface {
	AuditLate(make func(headSeq uint64, headHash string) (e AuditEntry, ok bool)) error
}

// Prefetcher is a Tx that reads many rows in one go: the intake hands it
// a batch's events, correlation keys and then cases before it reads them
// one by one, in a sorted order (so two batches lock in the same order),
// and the reads that follow find them in the transaction. A store over a
// network (PostgreSQL) saves a round trip per row.
type Prefetcher interface {
	Prefetch(events [][2]string, keys []string) error
	PrefetchCases(ids []string) error
}

// LaterQueuer is a Tx that can enqueue a job without saying its id or
// whether a waiting job with its dedupe key dropped it, so that the job
// goes to the server with the transaction's next statement instead of a
// round trip of its own. The intake uses it: it needs neither.
type LaterQueuer interface {
	EnqueueLater(q Queue, j Job) error
}

// JobClaimer is a store that several replicas share: each job is taken by
// one replica at a time under a lease, which ends when the job is deleted or
// rescheduled, when its holder releases it, or when it expires (its holder
// died). Jobs of one case are claimed in order.
type JobClaimer interface {
	ClaimJob(ctx context.Context, q Queue, owner string, lease time.Duration, now time.Time) (job Job, found bool, err error)
	ReleaseJob(ctx context.Context, q Queue, id uint64, owner string) error
}

// LeaseReleaser is a JobClaimer that can give back every job lease one
// owner holds. A replica's engine calls it when it has stopped, with no job
// of its own left running: a lease taken in a claim whose answer the
// shutdown cut off would else hold its job until the lease ran out.
type LeaseReleaser interface {
	ReleaseLeases(ctx context.Context, owner string) error
}

// LeaderLease elects one replica for what must happen once (escalation
// timers, scheduled pulls, the daily digest): TryLead takes or renews the
// lease called name until now+ttl and reports whether owner holds it.
type LeaderLease interface {
	TryLead(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error)
	Resign(ctx context.Context, name, owner string) error
}

// ReplayMemory remembers the Slack requests already handled (signatures,
// Events API event ids, Socket Mode envelopes) in the store, so that a
// request replayed after a restart, or to another replica, is known.
type ReplayMemory interface {
	// SeenOnce remembers key until expires and reports whether this is its
	// first sighting, or the first since an earlier memory expired by now.
	SeenOnce(ctx context.Context, key string, now, expires time.Time) (first bool, err error)
	// ForgetExpired drops the memories expired by now and says how many.
	ForgetExpired(ctx context.Context, now time.Time) (int, error)
}

// StoredEvent is an accepted event with what its intake did, so that a retry
// is answered as the first delivery was.
type StoredEvent struct {
	Event    Event        `json:"event"`
	Digest   string       `json:"digest"` // SHA-256 of the canonical event, to tell a retry from a reused id
	Received time.Time    `json:"received"`
	Result   IngestResult `json:"result"`
}

// IngestResult is what intake did with one event.
type IngestResult struct {
	Source    string   `json:"source"`
	ID        string   `json:"id"`
	Case      string   `json:"case"`
	Outcome   string   `json:"outcome"` // opened, joined, merged
	Merged    []string `json:"merged,omitempty"`
	Duplicate bool     `json:"duplicate,omitempty"`
}

// KeyRef says which case a correlation key belongs to and when an event last
// carried it.
type KeyRef struct {
	Case     string    `json:"case"`
	LastSeen time.Time `json:"last_seen"`
}

// Queue names a durable work queue.
type Queue string

const (
	QueueWork    Queue = "work"    // cases to enrich, summarize, recommend and judge
	QueueActions Queue = "actions" // approved or automatic actions to execute
	QueueOutbox  Queue = "outbox"  // messages to deliver to Slack
)

// Queues lists every queue.
func Queues() []Queue { return []Queue{QueueWork, QueueActions, QueueOutbox} }

// JobKind says what a job does.
type JobKind string

// Job kinds, by queue.
const (
	JobProcess JobKind = "process" // work: enrich, summarize, recommend and judge a case
	JobExecute JobKind = "execute" // actions: run an approved or automatic action
	JobCard    JobKind = "card"    // outbox: post or update a case's card
	JobReply   JobKind = "reply"   // outbox: a reply in the case's thread
	JobPost    JobKind = "post"    // outbox: a message about the case in another channel
)

// Job is one unit of durable work.
type Job struct {
	ID             uint64  `json:"id"`
	Dedupe         string  `json:"dedupe,omitempty"`
	Kind           JobKind `json:"kind"`
	Case           string  `json:"case"`
	Recommendation string  `json:"recommendation,omitempty"`
	Text           string  `json:"text,omitempty"`
	// Channel is where a post outside the case's thread goes, or where a
	// card job's first try to post went.
	Channel  string `json:"channel,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	// Sent marks a reply whose post was tried: a retry first looks for it
	// in the thread.
	Sent      bool      `json:"sent,omitempty"`
	NotBefore time.Time `json:"not_before,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Created   time.Time `json:"created"`
}

// AuditEntry is the content of one audit record; the store adds the
// sequence number and the hash chain.
type AuditEntry struct {
	Time          time.Time `json:"time"`
	Case          string    `json:"case"`
	Kind          string    `json:"kind"`
	Action        string    `json:"action"`
	Actor         string    `json:"actor"`
	Verdict       string    `json:"verdict"`
	Confidence    float64   `json:"confidence"`
	PolicyVersion string    `json:"policy_version"`
	Detail        string    `json:"detail"`
	// Choice is what a decision chose (approve, reject, auto); empty for
	// records that are not decisions.
	Choice Choice `json:"choice,omitempty"`
}

// AuditQuery bounds an audit export: records at or after Since, before
// Until (zero: unbounded), of one case (empty: all).
type AuditQuery struct {
	Since, Until time.Time
	Case         string
}

// Audit record kinds.
const (
	AuditCaseOpened      = "case_opened"
	AuditEventJoined     = "event_joined"
	AuditCaseMerged      = "case_merged"
	AuditRecommendation  = "recommendation"
	AuditVerdict         = "verdict"
	AuditDecision        = "decision"
	AuditRefused         = "refused"
	AuditActionExecuted  = "action_executed"
	AuditActionFailed    = "action_failed"
	AuditCaseResolved    = "case_resolved"
	AuditEscalated       = "escalated"
	AuditApprovalExpired = "approval_expired"
	AuditExported        = "audit_exported"
)

// ActorExops is the actor of what the bot does on its own.
const ActorExops = "exops"
