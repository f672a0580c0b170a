package agents

import (
	"context"
	"time"
)

// NoSleep makes a's retries wait no time, so tests of backoff run fast.
func NoSleep(a *Agent) {
	if a.model != nil {
		a.model.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	}
}
