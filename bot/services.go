package bot

import (
	"context"
	"time"

	"github.com/exops/exops/cases"
)

// What the bot needs of the rest of exops, each named for what it is for.
// The application layer (cases/desk) implements them all; a bot given only
// a Decider handles approvals and says so for the rest.

// Decider records a person's click on a recommendation.
type Decider interface {
	Decide(ctx context.Context, req cases.DecideRequest) (cases.DecideResult, error)
}

// CaseReader reads cases for /exops status and list and the Home tab,
// through the store's indexes.
type CaseReader interface {
	Case(ctx context.Context, id string) (*cases.Case, error)
	FindCases(ctx context.Context, q cases.CaseQuery) (cases.CaseList, error)
}

// CaseOperator changes a case on a person's behalf.
type CaseOperator interface {
	Assign(ctx context.Context, id, actor, assignee string) (*cases.Case, error)
	Snooze(ctx context.Context, id, actor string, until time.Time) (*cases.Case, error)
	Escalate(ctx context.Context, id, actor string) (*cases.Case, error)
	Comment(ctx context.Context, id, actor, text string) (*cases.Case, error)
}

// AuditExporter gives the compliance team the audit trail as CSV; anyone
// else is refused (KindDenied) and audited.
type AuditExporter interface {
	ExportAudit(ctx context.Context, actor string, q cases.AuditQuery) (csv []byte, records int, err error)
}

// Asker answers a question about cases in plain words, citing case ids,
// and says who answered: "rules", a model's name, or "rules (why the model
// was not used)"; "" says nothing.
type Asker interface {
	Ask(ctx context.Context, actor, question string) (text, by string, err error)
}

// DocumentTaker reads a document a person shared in a case's thread
// (channel and thread) or sent directly. It returns what to tell them;
// threaded is true when exops already noted it on the case and its thread.
type DocumentTaker interface {
	Document(ctx context.Context, actor, channel, thread, name string, data []byte) (reply string, threaded bool, err error)
}

// Services are what the bot answers people with. Decider is required; a
// nil one of the others makes its commands say they are not set up here.
type Services struct {
	Decider   Decider
	Cases     CaseReader
	Operator  CaseOperator
	Audit     AuditExporter
	Asker     Asker
	Documents DocumentTaker
}

// DeciderFunc adapts a function to Decider.
type DeciderFunc func(ctx context.Context, req cases.DecideRequest) (cases.DecideResult, error)

// Decide calls f.
func (f DeciderFunc) Decide(ctx context.Context, req cases.DecideRequest) (cases.DecideResult, error) {
	return f(ctx, req)
}
