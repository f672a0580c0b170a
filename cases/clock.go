package cases

import (
	"context"
	"time"
)

// Clock is the business clock: what "now" is for correlation windows, SLA
// and escalation timers, ages, approval expiry and every date a person
// reads. Main makes the one clock of a process (the wall clock, or a clock
// moved for a demo or a test) and hands the same Clock to the engine, the
// policy evaluation, the agents, the bot, the reports and the simulator, so
// that nothing mixes two notions of today.
//
// Transport checks that must follow real time whatever the business clock
// says (Slack's signature window, HTTP deadlines, circuit breakers) use the
// wall clock and say so where they do.
type Clock func() time.Time

// WallClock is the real time, in UTC.
func WallClock() time.Time { return time.Now().UTC() }

// ShiftedClock is the wall clock moved by d: exops as it would run d from
// now. The demo and the clock tests use it to show that nothing depends on
// today's date.
func ShiftedClock(d time.Duration) Clock {
	return func() time.Time { return time.Now().Add(d).UTC() }
}

// Sleep waits d or until ctx ends, whichever is first; it returns ctx's
// error when ctx ended first. Retries and backoffs wait with it, so a
// shutdown never waits out a backoff.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
