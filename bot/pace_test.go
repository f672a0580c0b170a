package bot

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// wallClock is a transport clock the test moves by hand.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *wallClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *wallClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestPacerFollowsSlackLimits(t *testing.T) {
	wall := &wallClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(Limits{}, wall.now)
	steps := []struct {
		name    string
		channel string
		calls   []cases.ChatCall
		want    time.Duration
		advance time.Duration
	}{
		{"first message to a channel", "C1", []cases.ChatCall{cases.CallPost}, 0, 0},
		{"second message to it at once: a second apart", "C1", []cases.ChatCall{cases.CallPost}, time.Second, 0},
		{"another channel is not held", "C2", []cases.ChatCall{cases.CallPost}, 0, 0},
		{"a card update", "C1", []cases.ChatCall{cases.CallUpdate}, 0, 0},
		{"chat.update is limited for the workspace: 50 a minute", "C3", []cases.ChatCall{cases.CallUpdate}, 1200 * time.Millisecond, 0},
		{"a lookup and a post wait for the slower", "C1", []cases.ChatCall{cases.CallFindReply, cases.CallPost}, time.Second, 600 * time.Millisecond},
		{"after 0.6 s the channel still waits", "C1", []cases.ChatCall{cases.CallPost}, 400 * time.Millisecond, 400 * time.Millisecond},
		{"after 1 s it may post", "C1", []cases.ChatCall{cases.CallFindReply, cases.CallPost}, 0, 0},
		{"the lookup was taken with it", "C2", []cases.ChatCall{cases.CallFindReply}, 1200 * time.Millisecond, 0},
	}
	for _, s := range steps {
		if got := p.Reserve(s.channel, s.calls...); got != s.want {
			t.Errorf("%s: wait %s, want %s", s.name, got, s.want)
		}
		wall.add(s.advance)
	}
}

// TestRateLimitHoldsOnlyItsMethodAndChannel: a 429 on a thread reply holds
// messages to that channel for Retry-After, and nothing else.
func TestRateLimitHoldsOnlyItsMethodAndChannel(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	wall := &wallClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	n, err := NewNotifier(Config{BotToken: "xoxb-test", APIURL: ls.APIURL(), Clock: testClock, TransportNow: wall.now,
		Limits: Limits{PostInterval: -1, UpdatePerMinute: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := compositeCase()
	c.Channel = "#credit" // posted by name; Slack answers with the id
	c.Slack = cases.SlackRef{}
	ref, err := n.PostCard(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	c.Slack = ref
	ls.Outage("chat.postMessage", localslack.Failure{Status: http.StatusTooManyRequests, RetryAfter: 30})
	err = n.PostReply(ctx, c, "hello", "EX-000001/1")
	if cases.RetryAfterOf(err) != 30*time.Second {
		t.Fatalf("reply answered %v, want a 429 with Retry-After 30 s", err)
	}
	for _, ch := range []string{ref.Channel, "#credit"} {
		if w := n.Reserve(ch, cases.CallPost); w != 30*time.Second {
			t.Errorf("message to %s may go in %s, want 30 s (Retry-After)", ch, w)
		}
	}
	if w := n.Reserve("C0OTHER", cases.CallPost); w != 0 {
		t.Errorf("another channel waits %s, want 0", w)
	}
	if w := n.Reserve(ref.Channel, cases.CallUpdate); w != 0 {
		t.Errorf("card update in that channel waits %s, want 0 (another method)", w)
	}
	wall.add(30 * time.Second)
	if w := n.Reserve(ref.Channel, cases.CallPost); w != 0 {
		t.Errorf("after Retry-After, wait %s, want 0", w)
	}
}
