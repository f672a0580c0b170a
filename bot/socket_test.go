package bot

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// envelope wraps a block_actions payload the way Socket Mode delivers it.
func envelope(t *testing.T, id, user string, p localslack.Posted, b localslack.Button) string {
	t.Helper()
	form, err := localslack.ClickBody(user, p, b, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vals, err := url.ParseQuery(string(form))
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(map[string]any{
		"envelope_id":              id,
		"type":                     "interactive",
		"accepts_response_payload": false,
		"payload":                  json.RawMessage(vals.Get("payload")),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(env)
}

// TestSocketModeOverSlacktestWebsocket runs the real Socket Mode client
// against slacktest: apps.connections.open, the WebSocket, an interactive
// envelope pushed with SendToWebsocket, the Ack read back from the socket.
func TestSocketModeOverSlacktestWebsocket(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDecider{res: cases.DecideResult{Message: "Your approval is recorded: 2 of 2."}}
	b, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.RunSocketMode(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunSocketMode: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("RunSocketMode did not stop after cancel")
		}
	}()

	card := localslack.Posted{Channel: "C0CREDIT", TS: "1732680000.000100"}
	btn := localslack.Button{Text: "Approve", ActionID: ActionApprove, BlockID: "rec:EX-000001:r1", Value: "EX-000001|r1"}
	// Queued until the client has connected: slacktest hands it to the
	// first WebSocket reader.
	ls.Server().SendToWebsocket(envelope(t, "env-42", "U0BOB", card, btn))

	// slacktest passes what the client writes to SeenFeed; the Ack is the
	// envelope id echoed back.
	deadline := time.After(5 * time.Second)
	acked := false
	for !acked {
		select {
		case m := <-ls.Server().SeenFeed:
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal([]byte(m), &ack) == nil && ack.EnvelopeID == "env-42" {
				acked = true
			}
		case <-deadline:
			t.Fatal("no Ack for env-42 on the WebSocket")
		}
	}

	waitFor(t, func() bool { return len(d.requests()) == 1 && len(ls.Transcript()) == 1 })
	want := cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0BOB", Choice: cases.ChoiceApprove}
	if got := d.requests()[0]; got != want {
		t.Errorf("Decide got %+v, want %+v", got, want)
	}
	if eph := ls.Transcript()[0]; eph.Method != "chat.postEphemeral" || eph.User != "U0BOB" || eph.Text != "Your approval is recorded: 2 of 2." {
		t.Errorf("answer = %+v", eph)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 5 s")
}

// orderLog records the order of Ack and Decide across goroutines.
type orderLog struct {
	mu     sync.Mutex
	events []string
}

func (o *orderLog) add(s string) { o.mu.Lock(); o.events = append(o.events, s); o.mu.Unlock() }
func (o *orderLog) get() string  { o.mu.Lock(); defer o.mu.Unlock(); return strings.Join(o.events, ",") }

type loggingAcker struct{ log *orderLog }

func (a loggingAcker) Ack(req socketmode.Request, _ ...any) error {
	a.log.add("ack:" + req.EnvelopeID)
	return nil
}

// TestSocketEventAcksBeforeWork checks the event loop's contract directly:
// every envelope is acknowledged, interactive ones before Decide runs.
func TestSocketEventAcksBeforeWork(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	log := &orderLog{}
	d := DeciderFunc(func(_ context.Context, req cases.DecideRequest) (cases.DecideResult, error) {
		log.add("decide:" + req.Recommendation)
		return cases.DecideResult{Message: "ok"}, nil
	})
	b := newTestBot(t, ls, d)

	ic := slack.InteractionCallback{
		Type:    slack.InteractionTypeBlockActions,
		User:    slack.User{ID: "U0BOB"},
		Channel: slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: "C0CREDIT"}}},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{
			{ActionID: ActionApprove, BlockID: "rec:EX-000001:r2", Value: "EX-000001|r2"},
		}},
	}
	events := []socketmode.Event{
		{Type: socketmode.EventTypeConnected},
		{Type: socketmode.EventTypeInteractive, Data: ic, Request: &socketmode.Request{EnvelopeID: "e1"}},
		{Type: socketmode.EventTypeSlashCommand, Data: slack.SlashCommand{Command: "/exops"}, Request: &socketmode.Request{EnvelopeID: "e2"}},
	}
	for _, evt := range events {
		b.socketEvent(context.Background(), loggingAcker{log}, evt)
	}
	b.Wait()
	got := log.get()
	if !strings.HasPrefix(got, "ack:e1,") || !strings.Contains(got, "decide:r2") || !strings.Contains(got, "ack:e2") {
		t.Errorf("order = %s, want ack:e1 first, then decide:r2, and e2 acked", got)
	}
	if tr := ls.Transcript(); len(tr) != 1 || tr[0].Method != "chat.postEphemeral" || tr[0].Channel != "C0CREDIT" {
		t.Errorf("transcript = %+v", tr)
	}
}

func TestRunSocketModeNeedsAppToken(t *testing.T) {
	b, err := New(Config{BotToken: "xoxb-x", Clock: testClock}, services(&fakeDecider{}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.RunSocketMode(context.Background()); err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Errorf("err = %v", err)
	}
}
