package agents_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
)

// BenchmarkAskRules measures rules answers (parse, indexed lookups,
// wording) over the 100,000-case bbolt store of benchStore, per kind of
// question: key lookups, filtered lists, and aggregates over a week's
// resolved cases (about 2,700). Each reports p50 and p99 of single answers
// and the ratio of its p50 to the baseline's, measured in the same run:
// one FindCases by case id, straight on the store (no parsing, no words).
func BenchmarkAskRules(b *testing.B) {
	path := benchStore(b)
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.FindCases(ctx, cases.CaseQuery{Limit: 1}); err != nil {
		b.Fatal(err)
	}
	teams := agents.Vocabulary{}
	for _, t := range benchTeams {
		teams.Teams = append(teams.Teams, agents.Team{Name: t, Channel: "#" + t})
	}
	ans := agents.NewAnswerer(s, s, func() time.Time { return now }).WithVocabulary(func() agents.Vocabulary { return teams })
	r := rand.New(rand.NewPCG(5, 6))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	kinds := []struct {
		name      string
		questions []func() string
	}{
		{"keys", []func() string{
			func() string { return fmt.Sprintf("status of order SO-%d?", 1+r.IntN(benchCases)) },
			func() string { return fmt.Sprintf("anything on PO-%d", 1+r.IntN(benchCases)) },
			func() string { return fmt.Sprintf("invoice INV-%d", 1+r.IntN(benchCases)) },
			func() string { return fmt.Sprintf("where is shipment ASN-%d", 1+r.IntN(benchCases)) },
			func() string { return fmt.Sprintf("open cases for customer C-%d", r.IntN(500)) },
			func() string { return fmt.Sprintf("SKU-%d at warehouse %s", r.IntN(2000), pick("DAL", "ATL", "RNO")) },
			func() string { return fmt.Sprintf("cases for supplier Supplier%d", r.IntN(50)) },
			func() string { return fmt.Sprintf("order SO-%d", benchCases+1+r.IntN(1000)) }, // no such case
		}},
		{"lists", []func() string{
			func() string { return fmt.Sprintf("what does the %s team have open?", pick(benchTeams...)) },
			func() string { return "which cases are waiting for approval?" },
			func() string { return fmt.Sprintf("what is waiting for U0USER%03d's approval?", r.IntN(40)) },
			func() string { return fmt.Sprintf("open critical cases of %s", pick(benchTeams...)) },
			func() string { return fmt.Sprintf("unassigned %s cases past their SLA", pick(benchTeams...)) },
			func() string { return "shipments on hold opened this week" },
			func() string { return fmt.Sprintf("how many open cases does %s have?", pick(benchTeams...)) },
			func() string { return "credit holds older than 2 days in the last 4 hours" },
		}},
		{"aggregates", []func() string{
			func() string { return "average time to resolve price discrepancies in the last 7 days" },
			func() string { return "median time to resolve per family in the last 7 days" },
			func() string {
				return fmt.Sprintf("mean time to resolve for %s in the last 7 days", pick(benchTeams...))
			},
			func() string { return "how many cases were resolved in the last 7 days?" },
		}},
		{"backlog-oldest", []func() string{
			func() string { return fmt.Sprintf("backlog of %s by age band", pick(benchTeams...)) },
			func() string { return "oldest open credit hold" },
		}},
	}
	measure := func(b *testing.B, next func() (string, error)) []time.Duration {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if q, err := next(); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var baseP50 time.Duration
	b.Run("baseline-find-by-id", func(b *testing.B) {
		lat := measure(b, func() (string, error) {
			_, err := s.FindCases(ctx, cases.CaseQuery{ID: cases.FormatCaseID(uint64(1 + r.IntN(benchCases))), Limit: 1})
			return "find by id", err
		})
		baseP50 = lat[len(lat)/2]
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
	})
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			i := 0
			lat := measure(b, func() (string, error) {
				q := k.questions[i%len(k.questions)]()
				i++
				a, err := ans.Ask(ctx, q)
				if err == nil && a.By != agents.Name {
					err = fmt.Errorf("answered by %s", a.By)
				}
				return q, err
			})
			p50 := lat[len(lat)/2]
			b.ReportMetric(ms(p50), "p50-ms")
			b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
			if baseP50 > 0 {
				b.ReportMetric(float64(p50)/float64(baseP50), "p50-x-baseline")
			}
		})
	}
}
