package agents_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
)

// benchCases is the size of the store the question benchmark reads.
const benchCases = 100_000

// benchTeams are the teams the bench store's cases are spread over.
var benchTeams = []string{"customer-service", "credit", "accounts-payable", "warehouse", "procurement"}

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchStore builds, once per test binary, a bbolt store of 100,000 cases
// over 180 days: the twelve event types spread over 500 customers, 50
// suppliers, 2,000 SKUs and 5 warehouses, five teams and the four
// severities; 70% resolved with a decision in the case and the audit log,
// 2% merged, 28% open (8% waiting for approval, 10% assigned).
func benchStore(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "exops-askbench")
		if benchErr != nil {
			return
		}
		path := filepath.Join(benchDir, "bench.db")
		s, err := bolt.Open(path, bolt.Options{NoBatch: true})
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		r := rand.New(rand.NewPCG(1, 2))
		types := []string{"order.credit_hold", "order.allocation_conflict", "shipment.delayed", "invoice.price_variance",
			"receipt.variance", "inventory.mismatch", "supplier.confirmation_missing", "shipment.hold", "order.incomplete_data"}
		whs := []string{"DAL", "ATL", "RNO", "CHI", "NJ1"}
		start := now.Add(-180 * 24 * time.Hour)
		const chunk = 5000
		for base := 0; base < benchCases; base += chunk {
			err := s.Update(context.Background(), func(tx cases.Tx) error {
				for i := base; i < base+chunk; i++ {
					typ := types[i%len(types)]
					et, _ := cases.LookupEventType(typ)
					n := i + 1
					data := map[string]any{"order": fmt.Sprintf("SO-%d", n), "customer": fmt.Sprintf("C-%d", r.IntN(500)),
						"customer_name": fmt.Sprintf("Customer%d Trading", r.IntN(500)), "supplier": fmt.Sprintf("Supplier%d Ltd", r.IntN(50)),
						"sku": fmt.Sprintf("SKU-%d", r.IntN(2000)), "warehouse": whs[r.IntN(len(whs))], "po": fmt.Sprintf("PO-%d", n),
						"shipment": fmt.Sprintf("ASN-%d", n), "invoice": fmt.Sprintf("INV-%d", n), "order_value": float64(r.IntN(90000) + 1000),
						"reason": "carrier missed pickup"}
					opened := start.Add(time.Duration(i) * (180 * 24 * time.Hour / benchCases))
					c := &cases.Case{ID: cases.FormatCaseID(uint64(n)), Severity: cases.Severity(1 + r.IntN(4)), Priority: "P3", Team: benchTeams[i%len(benchTeams)],
						Status: cases.StatusOpen, Families: []cases.Family{et.Family}, OpenedAt: opened, UpdatedAt: opened,
						SLADue: opened.Add(24 * time.Hour), Keys: []string{"order:" + data["order"].(string)},
						Events:  []cases.CaseEvent{{ID: fmt.Sprintf("ev-%d", n), Source: "erp", Type: typ, Family: et.Family, Time: opened, Received: opened, Data: data}},
						Summary: "Summary text of the case.", SummaryBy: "rules",
						Recommendations: []cases.Recommendation{{ID: "r1", Action: "release_credit_hold", Family: et.Family, Title: "Release it", Confidence: 0.63, State: cases.RecPending}}}
					switch p := r.IntN(100); {
					case p < 70:
						res := opened.Add(time.Duration(1+r.IntN(72)) * time.Hour)
						c.Status, c.ResolvedAt = cases.StatusResolved, &res
						d := cases.Decision{Time: res, Actor: fmt.Sprintf("U0USER%03d", r.IntN(40)), RecommendationID: "r1", Action: "release_credit_hold",
							Choice: cases.ChoiceApprove, Verdict: cases.VerdictApprove, Confidence: 0.63, PolicyVersion: "bench"}
						c.Decisions = []cases.Decision{d}
						c.Recommendations[0].State = cases.RecExecuted
						if _, err := tx.Audit(cases.AuditEntry{Time: d.Time, Case: c.ID, Kind: cases.AuditDecision, Action: d.Action, Actor: d.Actor,
							Verdict: "approve", Confidence: 0.63, PolicyVersion: "bench", Detail: "approve: 1 of 1"}); err != nil {
							return err
						}
					case p < 72:
						c.Status, c.MergedInto = cases.StatusMerged, cases.FormatCaseID(uint64(max(1, n-1)))
					case p < 80:
						// Open, waiting for one of two approvers.
						c.Recommendations[0].Verdict = cases.VerdictApprove
						c.Recommendations[0].Approvers = []string{fmt.Sprintf("U0USER%03d", r.IntN(40)), "U0CFO"}
					case p < 90:
						c.Assignee = fmt.Sprintf("U0USER%03d", r.IntN(40))
					}
					if err := tx.PutCase(c); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				benchErr = err
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "bench.db")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkAsk measures rules-only question answering over 100,000 cases in
// bbolt: the intent parser, the indexed lookups and the answer's wording,
// one question after another. It reports answers/s and the p50 and p99
// latency of single answers. The patterns question reads up to 5,000
// resolved cases and is measured on its own.
func BenchmarkAsk(b *testing.B) {
	path := benchStore(b)
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// The store indexes cases in batches after they are written; let it
	// catch up with the bulk load before timing queries.
	if _, err := s.FindCases(context.Background(), cases.CaseQuery{Limit: 1}); err != nil {
		b.Fatal(err)
	}
	ans := agents.NewAnswerer(s, s, func() time.Time { return now })
	r := rand.New(rand.NewPCG(3, 4))
	questions := []func() string{
		func() string { return fmt.Sprintf("status of order SO-%d?", 1+r.IntN(benchCases)) },
		func() string { return fmt.Sprintf("show EX-%06d", 1+r.IntN(benchCases)) },
		func() string { return "which supplier delays are older than 2 days?" },
		func() string { return fmt.Sprintf("open cases for customer C-%d", r.IntN(500)) },
		func() string { return fmt.Sprintf("who approved the credit release for customer C-%d?", r.IntN(500)) },
		func() string { return "open credit holds older than 36 hours" },
		func() string { return fmt.Sprintf("cases for supplier Supplier%d in the last 7 days", r.IntN(50)) },
		func() string { return fmt.Sprintf("problems with SKU-%d at DAL", r.IntN(2000)) },
		func() string { return "how many open cases?" },
		func() string { return "decisions today" },
		func() string { return fmt.Sprintf("what did U0USER%03d approve this week?", r.IntN(40)) },
	}
	run := func(b *testing.B, next func() string) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			q := next()
			t0 := time.Now()
			if _, err := ans.Ask(context.Background(), q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
			lat = append(lat, time.Since(t0))
		}
		elapsed := time.Since(start)
		b.StopTimer()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "answers/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	}
	b.Run("mix", func(b *testing.B) {
		i := 0
		run(b, func() string { i++; return questions[i%len(questions)]() })
	})
	b.Run("patterns", func(b *testing.B) {
		run(b, func() string { return "what are the recurring patterns?" })
	})
}
