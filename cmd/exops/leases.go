package main

import (
	"fmt"
	"time"
)

// timing is how a replica shares work on a shared store: how long a dead
// replica's claimed job waits before another takes it, how long the
// schedules' leader lease lasts, and how often the timers tick (which also
// renews that lease).
type timing struct {
	JobLease    time.Duration // 0: the engine's default (2m)
	LeaderLease time.Duration
	TimerEvery  time.Duration
}

// Defaults: a leader that dies is replaced within 45 s; timers tick every
// 15 s, so a live leader renews its lease three times per term.
const (
	defaultLeaderLease = 45 * time.Second
	defaultTimerEvery  = 15 * time.Second
)

// timingFromEnv reads EXOPS_JOB_LEASE, EXOPS_LEADER_LEASE and
// EXOPS_TIMER_EVERY. timerEvery is Config.TimerEvery, which wins over the
// environment when set. The leader lease must outlast at least two ticks, or
// a live leader would lose it between renewals.
func timingFromEnv(getenv func(string) string, timerEvery time.Duration) (timing, error) {
	t := timing{TimerEvery: timerEvery}
	durations := []struct {
		name string
		dst  *time.Duration
		skip bool
	}{
		{"EXOPS_JOB_LEASE", &t.JobLease, false},
		{"EXOPS_LEADER_LEASE", &t.LeaderLease, false},
		{"EXOPS_TIMER_EVERY", &t.TimerEvery, timerEvery > 0},
	}
	for _, d := range durations {
		v := getenv(d.name)
		if v == "" || d.skip {
			continue
		}
		n, err := time.ParseDuration(v)
		if err != nil || n <= 0 {
			return timing{}, fmt.Errorf("%s %q: want a duration such as 30s or 2m", d.name, v)
		}
		*d.dst = n
	}
	if t.TimerEvery <= 0 {
		t.TimerEvery = defaultTimerEvery
	}
	if t.LeaderLease == 0 {
		// Unset: three renewals per term, and never under the default.
		t.LeaderLease = max(defaultLeaderLease, 3*t.TimerEvery)
	}
	if t.LeaderLease < 2*t.TimerEvery {
		return timing{}, fmt.Errorf("EXOPS_LEADER_LEASE %s must be at least twice EXOPS_TIMER_EVERY %s: the leader renews its lease on each tick", t.LeaderLease, t.TimerEvery)
	}
	return t, nil
}
