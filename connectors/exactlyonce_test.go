package connectors_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/policies"
)

// oneAction proposes releasing the credit hold; the policy asks U1.
type oneAction struct{}

func (oneAction) Summarize(_ context.Context, c *cases.Case) (string, string, error) {
	return "credit hold on SO-1042", "test", nil
}

func (oneAction) Recommend(_ context.Context, c *cases.Case) ([]cases.Recommendation, error) {
	return []cases.Recommendation{{Action: "release_credit_hold", Family: cases.FamilyCreditHold, Title: "Release credit hold on SO-1042",
		Confidence: 0.99, Params: map[string]string{"order": "SO-1042", "customer": "C-ACME"}, By: "test"}}, nil
}

// nopNotifier accepts every message. The embedded interface keeps it
// compiling when the port grows; a new method it does not define panics,
// which the test would show.
type nopNotifier struct{ cases.Notifier }

func (nopNotifier) FindCard(context.Context, *cases.Case) (cases.SlackRef, bool, error) {
	return cases.SlackRef{}, false, nil
}

func (nopNotifier) PostCard(context.Context, *cases.Case) (cases.SlackRef, error) {
	return cases.SlackRef{Channel: "C1", TS: "1.1"}, nil
}
func (nopNotifier) UpdateCard(context.Context, *cases.Case) error                { return nil }
func (nopNotifier) PostReply(context.Context, *cases.Case, string, string) error { return nil }
func (nopNotifier) FindReply(context.Context, *cases.Case, string) (bool, error) { return false, nil }
func (nopNotifier) PostMessage(context.Context, string, *cases.Case, string, string) error {
	return nil
}
func (nopNotifier) FindMessage(context.Context, string, *cases.Case, string) (bool, error) {
	return false, nil
}

// dieAfterCall performs the action in the system of record and then fails
// as a process killed before recording the outcome would: the call is done,
// nothing about it reached the store.
type dieAfterCall struct {
	inner cases.Executor
	mu    sync.Mutex
	keys  []string
}

func (d *dieAfterCall) Execute(ctx context.Context, req cases.ActionRequest) (string, error) {
	d.mu.Lock()
	d.keys = append(d.keys, req.Key)
	d.mu.Unlock()
	if _, err := d.inner.Execute(ctx, req); err != nil {
		return "", err
	}
	return "", cases.Errorf(cases.KindTransient, "process died after the call")
}

const onePolicy = `
version: exactly-once
default_team: credit
teams:
  credit: {channel: "#credit", approvers: [U1]}
actions:
  release_credit_hold: {approve_at: 0.5}
`

// TestActionRunsOnceAcrossACrash: the engine writes the action as a durable
// job, the executor calls the ERP (simulator over HTTP) and the process
// "dies" before recording the outcome. A new engine on the same database
// retries with the same idempotency key; the ERP answers with the first
// outcome and acts once.
func TestActionRunsOnceAcrossACrash(t *testing.T) {
	ctx := context.Background()
	sim, srv := simServer(t, nil)
	remote := remoteFor(t, srv.URL, nil)
	pol, err := policies.Parse([]byte(onePolicy))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "exops.db")
	clk := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(exec cases.Executor) (*bolt.Store, *cases.Engine) {
		st, err := bolt.Open(dbPath, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := cases.New(cases.Config{Store: st, Policy: pol, Agents: oneAction{}, Enricher: remote, Executor: exec,
			Notifier: nopNotifier{}, Now: clk.Now, Logger: quiet,
			// A failed job waits an hour: the first life stops there, as
			// if it had died; the second starts two hours later.
			Backoff: func(int) time.Duration { return time.Hour }})
		if err != nil {
			t.Fatal(err)
		}
		return st, eng
	}

	// First life: ingest, enrich, judge auto, call the ERP, die.
	crash := &dieAfterCall{inner: remote}
	st, eng := start(crash)
	evs := []cases.Event{caseEvent(t, "order.credit_hold", dataCreditAcme).Event()}
	res, err := eng.Ingest(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].Case
	// Enrich, recommend, ask U1; U1 approves → action job → call →
	// "death"; the job is rescheduled an hour on, so this life does no more.
	if err := eng.RunPending(ctx); err != nil {
		t.Fatal(err)
	}
	var recID string
	_ = st.View(ctx, func(tx cases.ReadTx) error {
		c, err := tx.Case(id)
		if err == nil && len(c.Recommendations) == 1 {
			recID = c.Recommendations[0].ID
		}
		return err
	})
	if _, err := eng.Decide(ctx, cases.DecideRequest{Case: id, Recommendation: recID, Actor: "U1", Choice: cases.ChoiceApprove}); err != nil {
		t.Fatalf("approve %q: %v", recID, err)
	}
	if err := eng.RunPending(ctx); err != nil {
		t.Fatal(err)
	}
	if len(crash.keys) != 1 || len(sim.Executed()) != 1 || sim.CustomerOnHold("C-ACME") {
		t.Fatalf("first life: %d tries, %d executed in the ERP; want the call made once", len(crash.keys), len(sim.Executed()))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Second life: the job is still in the store; it runs again with the
	// same key and records the ERP's first outcome.
	clk.Add(2 * time.Hour)
	again := &dieAfterCall{inner: nil}
	st, eng = start(recordKeys{remote, again})
	defer st.Close()
	if err := eng.RunPending(ctx); err != nil {
		t.Fatal(err)
	}
	if len(again.keys) != 1 || again.keys[0] != crash.keys[0] {
		t.Fatalf("retry keys %q, first %q: want one retry with the same key", again.keys, crash.keys)
	}
	if n := len(sim.Executed()); n != 1 {
		t.Fatalf("the ERP ran the action %d times, want once", n)
	}
	var c *cases.Case
	_ = st.View(ctx, func(tx cases.ReadTx) error { c, err = tx.Case(id); return err })
	r := c.Recommendations[0]
	if r.State != cases.RecExecuted || !strings.Contains(r.Outcome, "ERP released the credit hold on SO-1042 (ref SIM-0001)") {
		t.Errorf("recommendation %s: %q, want executed with the ERP's first outcome", r.State, r.Outcome)
	}
	if c.Status != cases.StatusResolved {
		t.Errorf("case %s, want resolved", c.Status)
	}
	if c.Context[cases.CtxCreditLimit("C-ACME")] != "250000" {
		t.Errorf("case not enriched over REST: %v", c.Context)
	}
	executed := 0
	if err := st.ForEachRecord(ctx, 1, func(rec audit.Record) error {
		if rec.Kind == cases.AuditActionExecuted {
			executed++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if executed != 1 {
		t.Errorf("%d action_executed audit records, want 1", executed)
	}
}

// recordKeys passes calls to the executor and notes their keys.
type recordKeys struct {
	exec cases.Executor
	log  *dieAfterCall
}

func (r recordKeys) Execute(ctx context.Context, req cases.ActionRequest) (string, error) {
	r.log.mu.Lock()
	r.log.keys = append(r.log.keys, req.Key)
	r.log.mu.Unlock()
	return r.exec.Execute(ctx, req)
}
