package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
)

var tNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// seedDB writes a few hand-built cases straight into a new database.
func seedDB(t *testing.T) (string, *bolt.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exops.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return tNow.Add(time.Duration(h) * time.Hour) }
	ptr := func(t time.Time) *time.Time { return &t }
	cs := []*cases.Case{
		{ID: "EX-000001", Severity: cases.SeverityMedium, Status: cases.StatusResolved, Families: []cases.Family{cases.FamilyCreditHold}, OpenedAt: at(-30), ResolvedAt: ptr(at(-28)),
			Keys: []string{"order:SO-1"}, Events: []cases.CaseEvent{{ID: "e1", Source: "/erp", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Received: at(-30),
				Data: map[string]any{"order": "SO-1", "customer": "C-ACME"}}},
			Recommendations: []cases.Recommendation{{ID: "r1", Action: "release_credit_hold", State: cases.RecExecuted, Verdict: cases.VerdictApprove}},
			Decisions:       []cases.Decision{{Actor: "U1", RecommendationID: "r1", Choice: cases.ChoiceApprove}}, FirstTouchedAt: ptr(at(-29))},
		{ID: "EX-000002", Severity: cases.SeverityLow, Status: cases.StatusOpen, Families: []cases.Family{cases.FamilyAllocationConflict}, OpenedAt: at(-2),
			Keys: []string{"order:SO-2"}, Events: []cases.CaseEvent{{ID: "e2", Source: "/erp", Type: "order.allocation_conflict", Family: cases.FamilyAllocationConflict, Received: at(-2),
				Data: map[string]any{"order": "SO-2"}}},
			Recommendations: []cases.Recommendation{{ID: "r1", Action: "split_shipment", State: cases.RecPending, Verdict: cases.VerdictApprove}}},
	}
	if err := st.Update(context.Background(), func(tx cases.Tx) error {
		for _, c := range cs {
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return path, st
}

func TestReportCommand(t *testing.T) {
	path, st := seedDB(t)
	st.Close()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"report", "--db", path}, []string{"2 cases opened, 1 resolved, 1 open", "credit hold", "MTTR): mean 2.0h", "Approvals waiting: 1"}},
		{[]string{"report", "--db", path, "--digest"}, []string{"*exops daily digest*", "*1* approvals waiting"}},
		{[]string{"report", "--db", path, "--json"}, []string{`"Resolved": 1`, `"ApprovalsWaiting": 1`}},
	}
	for _, tt := range tests {
		code, out, errOut := exops(t, tt.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
	if code, _, _ := exops(t, "report", "--db", path, "--since", "last tuesday"); code != exitUsage {
		t.Errorf("bad --since: exit %d, want %d", code, exitUsage)
	}
}

func TestParseSince(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"24h", tNow.Add(-24 * time.Hour)},
		{"7d", tNow.Add(-7 * 24 * time.Hour)},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)},
	} {
		got, err := parseSince(tt.in, tNow)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseSince("-3d", tNow); err == nil {
		t.Error("negative age accepted")
	}
}

func TestMetricsExposition(t *testing.T) {
	_, st := seedDB(t)
	defer st.Close()
	m := NewMetrics(st, func() time.Time { return tNow }, "r1")
	m.SlackError("post_card")
	m.ConnectorCall("ERP", "lookup", 3*time.Millisecond, cases.Errorf(cases.KindTransient, "ERP timed out"))
	m.ConnectorCall("ERP", "made_up_by_a_model", time.Millisecond, nil)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`exops_cases_total{family="credit_hold",replica="r1"} 1`,
		`exops_events_total{family="allocation_conflict",replica="r1"} 1`,
		`exops_open_cases{age="<4h",replica="r1"} 1`,
		`exops_cases_resolved_total{by="people",replica="r1"} 1`,
		`exops_approvals_waiting{replica="r1"} 1`,
		`exops_resolved_by_bot_ratio{replica="r1"} 0`,
		`exops_time_to_resolve_seconds_bucket{replica="r1",le="14400"} 1`,
		`exops_time_to_first_touch_seconds_count{replica="r1"} 1`,
		`exops_slack_errors_total{op="post_card",replica="r1"} 1`,
		`exops_connector_calls_total{op="lookup",replica="r1",result="transient",system="ERP"} 1`,
		`exops_connector_calls_total{op="other",replica="r1",result="ok",system="ERP"} 1`,
		`exops_metrics_store_error{replica="r1"} 0`,
		`exops_queue_jobs{queue="outbox",replica="r1"} `,
		`exops_queue_oldest_job_seconds{queue="work",replica="r1"} `,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// recorder is an Ingester that keeps the events the intake accepted.
type recorder struct {
	mu  sync.Mutex
	evs []cases.Event
}

func (r *recorder) Ingest(_ context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
	out := make([]cases.IngestResult, len(evs))
	for i, ev := range evs {
		out[i] = cases.IngestResult{Source: ev.Source, ID: ev.ID, Case: "EX-000001", Outcome: "opened"}
	}
	return out, nil
}

// TestSimulateSendsSignedEvents: the stream passes the real intake's
// signature check and validation.
func TestSimulateSendsSignedEvents(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(&connectors.Intake{Ingester: rec, Secrets: map[string]string{"/sim/erp": "s3cret"}})
	defer srv.Close()
	var out, errb bytes.Buffer
	env := map[string]string{"EXOPS_SIM_SECRET": "s3cret"}
	code := run(context.Background(), []string{"simulate", "--events", "40", "--rate", "10000", "--seed", "3", "--to", srv.URL}, &out, &errb,
		func(k string) string { return env[k] })
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if len(rec.evs) != 40 || !strings.Contains(out.String(), "sent 40 of 40") {
		t.Errorf("intake got %d events; output %q", len(rec.evs), out.String())
	}
	env["EXOPS_SIM_SECRET"] = "wrong"
	code = run(context.Background(), []string{"simulate", "--events", "1", "--to", srv.URL}, &out, &errb, func(k string) string { return env[k] })
	if code != exitFail || !strings.Contains(errb.String(), "401") {
		t.Errorf("wrong secret: exit %d, %s", code, errb.String())
	}
}

func TestSimulateStaysOnLoopback(t *testing.T) {
	env := func(k string) string { return map[string]string{"EXOPS_SIM_SECRET": "x"}[k] }
	for _, args := range [][]string{
		{"simulate", "--addr", "0.0.0.0:8089"},
		{"simulate", "--addr", "10.1.2.3:8089"},
		{"simulate"},
		{"simulate", "--events", "5"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb, env); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--events", "5", "--to", "http://example.com/v1/events"}, &out, &errb, env); code != exitFail ||
		!strings.Contains(errb.String(), "loopback") {
		t.Errorf("remote --to: exit %d, %s", code, errb.String())
	}
}

// TestConnectorsFromEnv: no URLs keeps the simulator; a URL switches to REST.
func TestConnectorsFromEnv(t *testing.T) {
	sim := connectors.NewSimulator(func() time.Time { return tNow })
	enr, exe, remote, err := connectorsFromEnv(func(string) string { return "" }, nil, sim)
	if err != nil || enr != cases.Enricher(sim) || exe != cases.Executor(sim) || remote != nil {
		t.Errorf("default: %T %T %v %v", enr, exe, remote, err)
	}
	simSrv := httptest.NewServer(sim.Handler(""))
	defer simSrv.Close()
	env := map[string]string{}
	for _, s := range connectors.SystemNames() {
		env["EXOPS_"+s+"_URL"] = simSrv.URL + "/" + strings.ToLower(s)
	}
	enr, exe, remote, err = connectorsFromEnv(func(k string) string { return env[k] }, nil, sim)
	if err != nil || remote == nil || enr != cases.Enricher(remote) || exe != cases.Executor(remote) {
		t.Fatalf("configured: %T %T %v", enr, exe, err)
	}
	out, err := exe.Execute(context.Background(), cases.ActionRequest{Key: "EX-1/r1", Action: "recount_inventory", Params: map[string]string{"sku": "SKU-88", "warehouse": "DAL"}})
	if err != nil || !strings.Contains(out, "WMS scheduled a recount of SKU-88 at DAL") {
		t.Errorf("execute over REST: %q, %v", out, err)
	}
}

type failingNotifier struct{ cases.Notifier }

func (failingNotifier) PostReply(context.Context, *cases.Case, string, string) error {
	return cases.Errorf(cases.KindTransient, "slack: ratelimited")
}

func TestCountSlackErrors(t *testing.T) {
	m := NewMetrics(nil, nil, "r1")
	n := m.CountSlackErrors(failingNotifier{})
	for range 2 {
		if err := n.PostReply(context.Background(), &cases.Case{}, "hi", ""); err == nil {
			t.Fatal("error swallowed")
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `exops_slack_errors_total{op="post_reply",replica="r1"} 2`) {
		t.Errorf("slack errors not counted:\n%s", rec.Body.String())
	}
}
