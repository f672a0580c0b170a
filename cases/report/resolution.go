package report

import (
	"time"

	"github.com/exops/exops/cases"
)

// TimeToResolve is a case's time to resolve as the report counts it: from
// opening to resolution, for a case resolved at or after since; ok is false
// for a case the figure does not count.
func TimeToResolve(c *cases.Case, since time.Time) (d time.Duration, ok bool) {
	if c.Status != cases.StatusResolved || c.ResolvedAt == nil || c.ResolvedAt.Before(since) {
		return 0, false
	}
	return max(c.ResolvedAt.Sub(c.OpenedAt), 0), true
}

// Resolution summarises the time to resolve of the cases resolved at or
// after since (Report.Resolution over just those cases), without the rest
// of the report.
func Resolution(cs []*cases.Case, since time.Time) Durations {
	var ds []time.Duration
	for _, c := range cs {
		if d, ok := TimeToResolve(c, since); ok {
			ds = append(ds, d)
		}
	}
	return summarize(ds)
}
