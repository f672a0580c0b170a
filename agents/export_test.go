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

// IsCommand reports whether Ask takes question as a command (answered
// with where the change is made) before parsing it.
func IsCommand(question string) bool {
	_, ok := commandVerb(question)
	return ok
}
