package localslack

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

type testWall struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testWall) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testWall) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestRateLimitsAnswer429: calls beyond the limits are refused with
// Slack's 429 and a Retry-After, post nothing, and pass again once the
// pace allows.
func TestRateLimitsAnswer429(t *testing.T) {
	business := func() time.Time { return time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC) }
	l := New(business)
	defer l.Close()
	wall := &testWall{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := SlackRateLimits()
	lim.Now = wall.now
	l.EnforceRateLimits(lim)
	api := slack.New("xoxb-test", slack.OptionAPIURL(l.APIURL()))
	ctx := context.Background()
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("hi", false))
		return err
	}
	retryAfter := func(err error) time.Duration {
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			return 0
		}
		return rl.RetryAfter
	}
	if err := post("C1"); err != nil {
		t.Fatal(err)
	}
	if ra := retryAfter(post("C1")); ra != time.Second {
		t.Errorf("second message to C1 at once: Retry-After %s, want 1s", ra)
	}
	if err := post("C2"); err != nil {
		t.Errorf("first message to C2: %v, want it taken (limits are per channel)", err)
	}
	_, ts, _ := api.PostMessageContext(ctx, "C3", slack.MsgOptionText("card", false))
	update := func() error {
		_, _, _, err := api.UpdateMessageContext(ctx, "C3", ts, slack.MsgOptionText("card v2", false))
		return err
	}
	if err := update(); err != nil {
		t.Fatal(err)
	}
	if ra := retryAfter(update()); ra != 2*time.Second {
		t.Errorf("second chat.update at once: Retry-After %s, want 2s (1.2 s rounded up)", ra)
	}
	wall.add(1200 * time.Millisecond)
	if err := update(); err != nil {
		t.Errorf("chat.update 1.2 s later: %v", err)
	}
	if err := post("C1"); err != nil {
		t.Errorf("message to C1 a second later: %v", err)
	}
	if got := l.RateLimited(); got["chat.postMessage"] != 1 || got["chat.update"] != 1 {
		t.Errorf("refused %v, want one of each", got)
	}
	if n := len(l.Transcript()); n != 6 {
		t.Errorf("transcript has %d messages, want 6 (refused calls post nothing)", n)
	}
	l.EnforceRateLimits(RateLimits{})
	for i := 0; i < 3; i++ {
		if err := post("C1"); err != nil {
			t.Errorf("with limits off: %v", err)
		}
	}
}
