package main

import (
	"testing"
	"time"
)

// cpuTimes is the CPU time used so far by this process (the replicas and
// the senders of a benchmark run in it) and by the machine's PostgreSQL
// processes, so that a run can say what an event costs each of them: on
// one machine the two share the cores, and what PostgreSQL spends is
// taken from what the replicas could use.
type cpuTimes struct {
	self, postgres time.Duration
	ok             bool // false where /proc is not to be read
}

// reportCPU reports the CPU time per event of this process and of
// PostgreSQL between two samples.
func reportCPU(b *testing.B, before, after cpuTimes, events int) {
	if !before.ok || !after.ok || events == 0 {
		return
	}
	b.ReportMetric(float64((after.self-before.self).Microseconds())/float64(events), "exops-cpu-µs/event")
	if after.postgres > 0 {
		b.ReportMetric(float64((after.postgres-before.postgres).Microseconds())/float64(events), "pg-cpu-µs/event")
	}
}
