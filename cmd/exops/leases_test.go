package main

import (
	"strings"
	"testing"
	"time"
)

func TestTimingFromEnv(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		config time.Duration // Config.TimerEvery
		want   timing
		err    string
	}{
		{name: "defaults", want: timing{LeaderLease: 45 * time.Second, TimerEvery: 15 * time.Second}},
		{name: "all set", env: map[string]string{"EXOPS_JOB_LEASE": "5s", "EXOPS_LEADER_LEASE": "6s", "EXOPS_TIMER_EVERY": "1s"},
			want: timing{JobLease: 5 * time.Second, LeaderLease: 6 * time.Second, TimerEvery: time.Second}},
		{name: "config wins over env for the tick", env: map[string]string{"EXOPS_TIMER_EVERY": "10s"}, config: 2 * time.Second,
			want: timing{LeaderLease: 45 * time.Second, TimerEvery: 2 * time.Second}},
		{name: "a slow tick stretches the default lease", config: time.Hour,
			want: timing{LeaderLease: 3 * time.Hour, TimerEvery: time.Hour}},
		{name: "lease shorter than two ticks", env: map[string]string{"EXOPS_LEADER_LEASE": "20s"}, err: "at least twice"},
		{name: "not a duration", env: map[string]string{"EXOPS_LEADER_LEASE": "soon"}, err: "EXOPS_LEADER_LEASE"},
		{name: "negative", env: map[string]string{"EXOPS_JOB_LEASE": "-1s"}, err: "EXOPS_JOB_LEASE"},
		{name: "zero tick", env: map[string]string{"EXOPS_TIMER_EVERY": "0s"}, err: "EXOPS_TIMER_EVERY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := timingFromEnv(func(k string) string { return tt.env[k] }, tt.config)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
