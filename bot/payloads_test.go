package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// The payloads in testdata/slack are written from the shapes Slack
// documents (the Events API envelope and its message subtypes, the
// interaction payloads, the slash command form, Enterprise Grid fields),
// including the fields Slack leaves out or sends as null.

// gatedDesk holds the work a request starts (questions, decisions, case
// lookups) until gate is closed, so a test can see that the handler
// acknowledged before the work was done.
type gatedDesk struct {
	*fakeDesk
	gate chan struct{}
}

func (g *gatedDesk) Decide(ctx context.Context, req cases.DecideRequest) (cases.DecideResult, error) {
	<-g.gate
	return g.fakeDesk.Decide(ctx, req)
}

func (g *gatedDesk) Ask(ctx context.Context, actor, q string) (string, string, error) {
	<-g.gate
	return g.fakeDesk.Ask(ctx, actor, q)
}

func (g *gatedDesk) Case(ctx context.Context, id string) (*cases.Case, error) {
	<-g.gate
	return g.fakeDesk.Case(ctx, id)
}

// payloadRig is a bot on a local Slack, with its transport clock at now.
type payloadRig struct {
	ls   *localslack.Slack
	b    *Bot
	d    *gatedDesk
	now  time.Time
	mux  *http.ServeMux
	gate chan struct{}
}

func newPayloadRig(t *testing.T) *payloadRig {
	t.Helper()
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	r := &payloadRig{ls: ls, now: time.Unix(1_732_680_100, 0), gate: make(chan struct{})}
	r.d = &gatedDesk{fakeDesk: &fakeDesk{open: []*cases.Case{compositeCase()}}, gate: r.gate}
	b, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock,
		TransportNow: func() time.Time { return r.now }}, services(r.d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	r.b = b
	r.mux = http.NewServeMux()
	r.mux.Handle("/slack/events", b.EventsHandler())
	r.mux.Handle("/slack/interactions", b.InteractionsHandler())
	r.mux.Handle("/slack/commands", b.CommandsHandler())
	return r
}

// slackPayload reads a payload and makes the request body Slack would send for
// it: JSON for events, a form with a payload field for interactions, the
// form itself for commands.
func slackPayload(t *testing.T, name string) (endpoint string, body []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "slack", name))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(name, "event_"):
		return "/slack/events", raw
	case strings.HasPrefix(name, "interaction_"):
		return "/slack/interactions", []byte(url.Values{"payload": {string(raw)}}.Encode())
	default:
		return "/slack/commands", bytes.TrimSpace(raw)
	}
}

// send serves one request signed at the rig's now (unless unsigned) and
// returns the response once the handler has returned, which it must do
// while the work it started is still held at the gate.
func (r *payloadRig) send(t *testing.T, endpoint string, body []byte, signed bool, extra map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if endpoint == "/slack/events" {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if signed {
		ts := strconv.FormatInt(r.now.Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", localslack.Sign(testSecret, ts, body))
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.mux.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(r.gate)
		t.Fatal("the handler waited for the work instead of acknowledging")
	}
	return rec
}

// settle lets the held work run and waits for it.
func (r *payloadRig) settle() {
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
	r.b.Wait()
}

func (r *payloadRig) ephemerals() []localslack.Posted {
	var out []localslack.Posted
	for _, p := range r.ls.Transcript() {
		if p.Method == "chat.postEphemeral" {
			out = append(out, p)
		}
	}
	return out
}

func TestRealSlackPayloads(t *testing.T) {
	type want struct {
		status int
		body   string // the response body, for the url_verification challenge
		// asked is how many questions were answered, replyIn where
		// (channel and thread of the answer).
		asked            int
		replyIn, replyTS string
		decided          []cases.DecideRequest
		// ephemeral is what the person is told privately: user, channel,
		// and a piece of the text.
		ephemeral []string
		prompts   bool   // the assistant pane got its suggested prompts
		home      string // whose Home tab was published
		silent    bool   // nothing posted, asked, decided or changed
	}
	tests := []struct {
		file   string
		signed bool
		want   want
	}{
		{"event_url_verification.json", true, want{status: 200, body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", silent: true}},
		{"event_app_mention_grid.json", true, want{status: 200, asked: 1, replyIn: "C0CREDIT", replyTS: "1515449522.000016"}},
		{"event_message_im.json", true, want{status: 200, asked: 1, replyIn: "D0DMEXOPS", replyTS: "1355517523.000005"}},
		// Slack Connect: someone of another organisation in a shared
		// channel is told privately, and neither answered nor read.
		{"event_app_mention_slack_connect_external.json", true, want{status: 200,
			ephemeral: []string{"U0VENDOR", "C0SHARED", "only people of the workspace"}}},
		{"event_message_file_share_slack_connect_external.json", true, want{status: 200,
			ephemeral: []string{"U0VENDOR", "C0SHARED", "only people of the workspace"}}},
		{"event_app_mention_slack_connect_home.json", true, want{status: 200, asked: 1, replyIn: "C0SHARED", replyTS: "1700000100.000200"}},
		// A Block Kit element slack-go does not know (Slack adds them).
		{"event_message_im_future_element.json", true, want{status: 200, asked: 1, replyIn: "D0DMEXOPS", replyTS: "1355517525.000009"}},
		{"event_app_home_opened_future_element.json", true, want{status: 200, home: "U0ALICE"}},
		{"event_message_bot_message.json", true, want{status: 200, silent: true}},
		{"event_message_own_bot.json", true, want{status: 200, silent: true}},
		{"event_message_own_reply.json", true, want{status: 200, silent: true}},
		{"event_message_changed.json", true, want{status: 200, silent: true}},
		{"event_message_deleted.json", true, want{status: 200, silent: true}},
		{"event_message_thread_broadcast.json", true, want{status: 200, silent: true}},
		{"event_message_file_share_image.json", true, want{status: 200, silent: true}},
		{"event_assistant_thread_started.json", true, want{status: 200, prompts: true}},
		{"event_app_rate_limited.json", true, want{status: 200, silent: true}},
		// Event types slack-go cannot parse: acknowledged, not retried.
		{"event_scope_granted.json", true, want{status: 200, silent: true}},
		{"event_user_profile_changed.json", true, want{status: 200, silent: true}},

		{"interaction_block_actions_message.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0ALICE", Choice: cases.ChoiceApprove}},
			ephemeral: []string{"U0ALICE", "C0CREDIT", "approve is recorded"}}},
		{"interaction_block_actions_grid_minimal.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0BOB", Choice: cases.ChoiceApprove}},
			ephemeral: []string{"U0BOB", "C0CREDIT", "approve is recorded"}}},
		{"interaction_block_actions_no_container.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0CAROL", Choice: cases.ChoiceApprove}},
			ephemeral: []string{"U0CAROL", "C0CREDIT", "approve is recorded"}}},
		// A Block Kit element slack-go does not know (Slack adds them) in
		// the message clicked on or the modal submitted.
		{"interaction_block_actions_future_element.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0DANA", Choice: cases.ChoiceApprove}},
			ephemeral: []string{"U0DANA", "C0CREDIT", "approve is recorded"}}},
		{"interaction_view_submission_future_element.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0ALICE", Choice: cases.ChoiceReject, Reason: "Customer is 90 days overdue"}},
			ephemeral: []string{"U0ALICE", "C0CREDIT", "reject is recorded"}}},
		// Slack Connect: a person of another organisation clicks Approve.
		{"interaction_block_actions_slack_connect_external.json", true, want{status: 200,
			ephemeral: []string{"U0VENDOR", "C0CREDIT", "only from people of the workspace"}}},
		// No one to record as the actor: nothing is decided.
		{"interaction_block_actions_no_user.json", true, want{status: 200, silent: true}},
		{"interaction_block_actions_modal.json", true, want{status: 200, silent: true}},
		{"interaction_block_actions_ephemeral_unknown.json", true, want{status: 200, silent: true}},
		{"interaction_view_submission_reject.json", true, want{status: 200,
			decided:   []cases.DecideRequest{{Case: "EX-000001", Recommendation: "r1", Actor: "U0ALICE", Choice: cases.ChoiceReject, Reason: "Customer is 90 days overdue"}},
			ephemeral: []string{"U0ALICE", "C0CREDIT", "reject is recorded"}}},
		// A blank field is shown on the form, which stays open; nothing
		// is decided or changed.
		{"interaction_view_submission_snooze_empty.json", true, want{status: 200, silent: true,
			body: `{"response_action":"errors","errors":{"until":"Pick a date and time to snooze until."}}`}},
		{"interaction_view_submission_reject_blank.json", true, want{status: 200, silent: true,
			body: `{"response_action":"errors","errors":{"reason":"Say why it is rejected; the reason goes into the thread and the audit log."}}`}},
		{"interaction_view_submission_comment_no_state.json", true, want{status: 200, silent: true,
			body: `{"response_action":"errors","errors":{"comment":"Write the comment."}}`}},
		{"interaction_view_closed.json", true, want{status: 200, silent: true}},
		{"interaction_shortcut_global.json", true, want{status: 200, silent: true}},
		{"interaction_message_action.json", true, want{status: 200, silent: true}},

		{"command_status_grid.form", true, want{status: 200, ephemeral: []string{"U0ALICE", "C0CREDIT", "EX-000001"}}},
		{"command_unknown.form", true, want{status: 200, ephemeral: []string{"U0ALICE", "C0CREDIT", "I don't know `frobnicate`"}}},
		{"command_empty_text.form", true, want{status: 200, ephemeral: []string{"U0ALICE", "C0CREDIT", "/exops status"}}},
		{"command_ssl_check.form", true, want{status: 200, silent: true}},
		{"command_ssl_check.form", false, want{status: 200, silent: true}},
	}
	for _, tt := range tests {
		name := tt.file
		if !tt.signed {
			name += " unsigned"
		}
		t.Run(name, func(t *testing.T) {
			r := newPayloadRig(t)
			endpoint, body := slackPayload(t, tt.file)
			rec := r.send(t, endpoint, body, tt.signed, nil)
			r.settle()
			w := tt.want
			if rec.Code != w.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, w.status, rec.Body.String())
			}
			if got := strings.TrimSpace(rec.Body.String()); got != w.body {
				t.Errorf("response body %q, want %q", got, w.body)
			}
			var asked []string
			for _, c := range r.d.got() {
				if strings.HasPrefix(c, "ask ") {
					asked = append(asked, c)
				}
			}
			if len(asked) != w.asked {
				t.Errorf("questions answered: %q, want %d", asked, w.asked)
			}
			if w.replyIn != "" {
				found := false
				for _, p := range r.ls.Transcript() {
					if p.Method == "chat.postMessage" && p.Channel == w.replyIn && p.ThreadTS == w.replyTS {
						found = true
					}
				}
				if !found {
					t.Errorf("no answer in %s thread %s: %+v", w.replyIn, w.replyTS, r.ls.Transcript())
				}
			}
			if got := r.d.requests(); len(got) != len(w.decided) {
				t.Errorf("decisions %+v, want %+v", got, w.decided)
			} else {
				for i := range got {
					if got[i] != w.decided[i] {
						t.Errorf("decision %+v, want %+v", got[i], w.decided[i])
					}
				}
			}
			if w.ephemeral != nil {
				eph := r.ephemerals()
				if len(eph) != 1 {
					t.Fatalf("ephemeral answers %+v, want one", eph)
				}
				if e := eph[0]; e.User != w.ephemeral[0] || e.Channel != w.ephemeral[1] || !strings.Contains(e.Text, w.ephemeral[2]) {
					t.Errorf("ephemeral to %s in %s: %q, want to %s in %s with %q", e.User, e.Channel, e.Text, w.ephemeral[0], w.ephemeral[1], w.ephemeral[2])
				}
			}
			prompts := 0
			for _, c := range r.ls.AssistantCalls() {
				if c.Method == "setSuggestedPrompts" {
					prompts++
				}
			}
			if (prompts > 0) != w.prompts {
				t.Errorf("suggested prompts set %d times, want %v", prompts, w.prompts)
			}
			if w.home != "" && r.ls.Home(w.home) == nil {
				t.Errorf("no Home tab published for %s", w.home)
			}
			if w.silent {
				if tr := r.ls.Transcript(); len(tr) != 0 {
					t.Errorf("posted %+v, want nothing", tr)
				}
				if calls := r.d.got(); len(calls) != 0 {
					t.Errorf("desk calls %q, want none", calls)
				}
				if v := r.ls.Views(); len(v) != 0 {
					t.Errorf("views opened %d, want none", len(v))
				}
			}
		})
	}
}

// TestRealSlackEventRetry: Slack resends an event it thinks was not
// acknowledged with the same event_id and X-Slack-Retry-Num/-Reason, each
// signed afresh. Every copy is acknowledged; the question is answered once.
func TestRealSlackEventRetry(t *testing.T) {
	r := newPayloadRig(t)
	endpoint, body := slackPayload(t, "event_message_im.json")
	if rec := r.send(t, endpoint, body, true, nil); rec.Code != 200 {
		t.Fatalf("first delivery: %d", rec.Code)
	}
	for n, reason := range []string{"http_timeout", "http_error", "connection_failed"} {
		r.now = r.now.Add(time.Minute)
		rec := r.send(t, endpoint, body, true, map[string]string{"X-Slack-Retry-Num": strconv.Itoa(n + 1), "X-Slack-Retry-Reason": reason})
		if rec.Code != 200 {
			t.Errorf("retry %d (%s): status %d, want 200", n+1, reason, rec.Code)
		}
	}
	r.settle()
	asks := 0
	for _, c := range r.d.got() {
		if strings.HasPrefix(c, "ask ") {
			asks++
		}
	}
	if asks != 1 {
		t.Errorf("question answered %d times over 4 deliveries, want once", asks)
	}
}

// TestRealSlackPayloadsForged: the same payloads, forged or stale, are
// refused on every endpoint and do nothing.
func TestRealSlackPayloadsForged(t *testing.T) {
	files := []string{"event_message_im.json", "event_scope_granted.json", "event_url_verification.json",
		"interaction_block_actions_message.json", "command_status_grid.form", "command_ssl_check.form"}
	forgeries := []struct {
		name string
		sign func(r *payloadRig, body []byte) map[string]string
	}{
		{"wrong secret", func(r *payloadRig, body []byte) map[string]string {
			ts := strconv.FormatInt(r.now.Unix(), 10)
			return map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": localslack.Sign("not-the-secret", ts, body)}
		}},
		{"stale", func(r *payloadRig, body []byte) map[string]string {
			ts := strconv.FormatInt(r.now.Add(-10*time.Minute).Unix(), 10)
			return map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": localslack.Sign(testSecret, ts, body)}
		}},
		{"signature only", func(r *payloadRig, body []byte) map[string]string {
			ts := strconv.FormatInt(r.now.Unix(), 10)
			return map[string]string{"X-Slack-Signature": localslack.Sign(testSecret, ts, body)}
		}},
	}
	for _, f := range files {
		for _, c := range forgeries {
			t.Run(f+" "+c.name, func(t *testing.T) {
				r := newPayloadRig(t)
				endpoint, body := slackPayload(t, f)
				rec := r.send(t, endpoint, body, false, c.sign(r, body))
				r.settle()
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", rec.Code)
				}
				if strings.Contains(rec.Body.String(), "3eZbrw1aBm2rZgRNFdxV") {
					t.Error("forged url_verification got its challenge back")
				}
				if len(r.ls.Transcript()) != 0 || len(r.d.got()) != 0 || len(r.d.requests()) != 0 {
					t.Errorf("forged request had an effect: %+v %q", r.ls.Transcript(), r.d.got())
				}
			})
		}
	}
	// Unsigned, only the certificate check is answered, and it does nothing.
	r := newPayloadRig(t)
	endpoint, body := slackPayload(t, "command_status_grid.form")
	if rec := r.send(t, endpoint, body, false, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned command: status %d, want 401", rec.Code)
	}
	r.settle()
	if len(r.ls.Transcript()) != 0 || len(r.d.got()) != 0 {
		t.Errorf("unsigned command had an effect: %+v %q", r.ls.Transcript(), r.d.got())
	}
}

// TestRealSlackPayloadsOverSocketMode sends golden payloads as Socket Mode
// envelopes through the real socketmode client: an event slack-go cannot
// parse is still acknowledged (else Slack resends it), a click on a
// message and a Home tab opened with an element slack-go does not know
// are taken, and an event
// Slack retries in a new envelope is answered once.
func TestRealSlackPayloadsOverSocketMode(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDesk{open: []*cases.Case{compositeCase()}}
	b, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.RunSocketMode(ctx) }()
	defer func() { cancel(); <-done }()

	envelope := func(id, file string, attempt int, reason string) string {
		_, payload := slackPayload(t, file)
		env, err := json.Marshal(map[string]any{"envelope_id": id, "type": "events_api", "accepts_response_payload": false,
			"retry_attempt": attempt, "retry_reason": reason, "payload": json.RawMessage(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return string(env)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "slack", "interaction_block_actions_future_element.json"))
	if err != nil {
		t.Fatal(err)
	}
	click, err := json.Marshal(map[string]any{"envelope_id": "env-click", "type": "interactive", "accepts_response_payload": false,
		"payload": json.RawMessage(raw)})
	if err != nil {
		t.Fatal(err)
	}
	ls.Server().SendToWebsocket(string(click))
	ls.Server().SendToWebsocket(envelope("env-scope", "event_scope_granted.json", 0, ""))
	ls.Server().SendToWebsocket(envelope("env-dm-1", "event_message_im.json", 0, ""))
	ls.Server().SendToWebsocket(envelope("env-dm-2", "event_message_im.json", 1, "timeout"))
	ls.Server().SendToWebsocket(envelope("env-home", "event_app_home_opened_future_element.json", 0, ""))

	want := map[string]bool{"env-click": true, "env-scope": true, "env-dm-1": true, "env-dm-2": true, "env-home": true}
	deadline := time.After(5 * time.Second)
	for len(want) > 0 {
		select {
		case m := <-ls.Server().SeenFeed:
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal([]byte(m), &ack) == nil {
				delete(want, ack.EnvelopeID)
			}
		case <-deadline:
			t.Fatalf("envelopes never acknowledged: %v", want)
		}
	}
	countAsks := func() int {
		n := 0
		for _, c := range d.got() {
			if strings.HasPrefix(c, "ask ") {
				n++
			}
		}
		return n
	}
	// Acknowledged before handled: wait for the work, then for the rest.
	waitFor(t, func() bool { return len(d.requests()) == 1 && countAsks() >= 1 && ls.Home("U0ALICE") != nil })
	b.Wait()
	asks := countAsks()
	if asks != 1 {
		t.Errorf("question answered %d times from two envelopes of one event, want once (%q)", asks, d.got())
	}
	want1 := cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0DANA", Choice: cases.ChoiceApprove}
	if got := d.requests(); len(got) != 1 || got[0] != want1 {
		t.Errorf("decisions %+v, want %+v", got, want1)
	}
}

// A command typed where exops is not a member (a DM between people, a
// private channel it was never invited to) cannot be answered with
// chat.postEphemeral; Slack's response_url for the command still reaches
// the person. Only Slack's own response_url is posted to.
func TestCommandAnsweredThroughResponseURL(t *testing.T) {
	for _, tt := range []struct {
		name     string
		local    bool // response_url on the Slack exops talks to
		answered bool
	}{
		{"Slack's response_url", true, true},
		{"response_url elsewhere", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newPayloadRig(t)
			r.ls.Handle("chat.postEphemeral", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
			})
			var got []string
			var mu sync.Mutex
			hook := func(w http.ResponseWriter, req *http.Request) {
				b, _ := io.ReadAll(req.Body)
				mu.Lock()
				got = append(got, req.URL.Path+" "+string(b))
				mu.Unlock()
				_, _ = w.Write([]byte("ok"))
			}
			r.ls.Handle("commands/", hook)
			elsewhere := httptest.NewServer(http.HandlerFunc(hook))
			defer elsewhere.Close()
			base := strings.TrimSuffix(r.ls.APIURL(), "/")
			if u, err := url.Parse(base); err == nil {
				base = u.Scheme + "://" + u.Host
			}
			if !tt.local {
				base = elsewhere.URL
			}
			endpoint, body := slackPayload(t, "command_status_dm.form")
			form, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			form.Set("response_url", base+"/commands/T0001/5678/abcDEF")
			if rec := r.send(t, endpoint, []byte(form.Encode()), true, nil); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			r.settle()
			mu.Lock()
			defer mu.Unlock()
			if !tt.answered {
				if len(got) != 0 {
					t.Errorf("posted to a response_url that is not Slack's: %q", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], "/commands/T0001/5678/abcDEF ") ||
				!strings.Contains(got[0], `"response_type":"ephemeral"`) || !strings.Contains(got[0], "EX-000001") {
				t.Errorf("response_url got %q, want the status of EX-000001, ephemeral", got)
			}
		})
	}
}

func TestResponseURLAllowed(t *testing.T) {
	b, err := New(Config{BotToken: "xoxb-x", SigningSecret: testSecret, Clock: testClock}, services(&fakeDecider{}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for raw, want := range map[string]bool{
		"https://hooks.slack.com/commands/T0001/5678/abc":      true,
		"https://hooks.slack.com/actions/T9TK3CUKW/1/abc":      true,
		"https://hooks.slack-gov.com/commands/T0001/5678/abc":  true,
		"http://hooks.slack.com/commands/T0001/5678/abc":       false,
		"https://hooks.slack.com.evil.example/commands/T/1/a":  false,
		"https://evil.example/commands/T0001/5678/abc":         false,
		"https://user:pw@hooks.slack.com/commands/T0001/5678/": false,
		"https://hooks.slack.com:8443/commands/T0001/5678/abc": false,
		"https://169.254.169.254/latest/meta-data":             false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.responseURLAllowed(u); got != want {
			t.Errorf("%s allowed = %v, want %v", raw, got, want)
		}
	}
}

// A block_actions payload carries the whole message clicked on. A card at
// Slack's own limits (50 blocks, long sections), as exops posts for a big
// case, makes a payload far over 64 KB once form-encoded; the click must
// still be taken.
func TestClickOnLargestCardIsTaken(t *testing.T) {
	r := newPayloadRig(t)
	if _, err := r.b.PostCard(context.Background(), hugeCase()); err != nil {
		t.Fatal(err)
	}
	card := r.ls.Transcript()[0]
	var approve *localslack.Button
	for _, btn := range card.Buttons() {
		if btn.ActionID == ActionApprove {
			approve = &btn
			break
		}
	}
	if approve == nil {
		t.Fatal("the card has no Approve button")
	}
	body, err := localslack.ClickBody("U0ALICE", card, *approve, r.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) <= 64<<10 {
		t.Fatalf("payload is %d bytes; the test needs one over 64 KB", len(body))
	}
	rec := r.send(t, "/slack/interactions", body, true, nil)
	r.settle()
	if rec.Code != 200 {
		t.Fatalf("status %d for a %d-byte click (%s)", rec.Code, len(body), rec.Body.String())
	}
	if got := r.d.requests(); len(got) != 1 || got[0].Case != "EX-000004" || got[0].Actor != "U0ALICE" {
		t.Errorf("decisions %+v, want one approval of EX-000004 by U0ALICE", got)
	}
}

// payloadAcker records each Ack's envelope id and payload.
type payloadAcker struct {
	mu   sync.Mutex
	acks []string
}

func (a *payloadAcker) Ack(req socketmode.Request, payload ...any) error {
	raw, _ := json.Marshal(payload)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks = append(a.acks, req.EnvelopeID+" "+string(raw))
	return nil
}

// Over Socket Mode a form with a blank field gets its errors in the
// acknowledgement, and nothing is decided.
func TestSocketModeFormErrorsInAck(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDesk{open: []*cases.Case{compositeCase()}}
	b := newTestBot(t, ls, d)
	raw, err := os.ReadFile(filepath.Join("testdata", "slack", "interaction_view_submission_reject_blank.json"))
	if err != nil {
		t.Fatal(err)
	}
	ic, err := decodeInteraction(raw)
	if err != nil {
		t.Fatal(err)
	}
	acker := &payloadAcker{}
	b.socketEvent(context.Background(), acker, socketmode.Event{Type: socketmode.EventTypeInteractive, Data: ic, Request: &socketmode.Request{EnvelopeID: "env-form"}})
	b.Wait()
	want := `env-form [{"response_action":"errors","errors":{"reason":"Say why it is rejected; the reason goes into the thread and the audit log."}}]`
	if len(acker.acks) != 1 || acker.acks[0] != want {
		t.Errorf("acks %q, want %q", acker.acks, want)
	}
	if got := d.requests(); len(got) != 0 {
		t.Errorf("decided %+v on a form with no reason", got)
	}
}

// FuzzSlackHandlers sends signed bodies (the golden payloads and mutations
// of them) to every endpoint: whatever Slack or a mutation sends, the
// answer is 200 or a clear 400, and nothing panics.
func FuzzSlackHandlers(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "slack"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("testdata", "slack", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.Name(), raw)
	}
	ls := localslack.New(testClock)
	defer ls.Close()
	now := time.Unix(1_732_680_100, 0)
	d := &fakeDesk{open: []*cases.Case{compositeCase()}}
	b, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock,
		TransportNow: func() time.Time { return now }}, services(d))
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close()
	handlers := map[string]http.Handler{"/slack/events": b.EventsHandler(), "/slack/interactions": b.InteractionsHandler(), "/slack/commands": b.CommandsHandler()}
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		var endpoint string
		var body []byte
		switch {
		case strings.HasPrefix(name, "event_"):
			endpoint, body = "/slack/events", raw
		case strings.HasPrefix(name, "interaction_"):
			endpoint, body = "/slack/interactions", []byte(url.Values{"payload": {string(raw)}}.Encode())
		default:
			endpoint, body = "/slack/commands", raw
		}
		req := httptest.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
		ts := strconv.FormatInt(now.Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", localslack.Sign(testSecret, ts, body))
		rec := httptest.NewRecorder()
		handlers[endpoint].ServeHTTP(rec, req)
		b.Wait()
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d (%s)", endpoint, rec.Code, rec.Body.String())
		}
	})
}

// A signed body that is not an Events API payload at all is a 400 that
// tells Slack not to send it again.
func TestEventsNotAnEnvelope(t *testing.T) {
	for _, body := range []string{`not json`, `{}`, `[1,2]`, `{"type":""}`, `{"event_id":"Ev1"}`} {
		r := newPayloadRig(t)
		rec := r.send(t, "/slack/events", []byte(body), true, nil)
		r.settle()
		if rec.Code != http.StatusBadRequest || rec.Header().Get("X-Slack-No-Retry") != "1" {
			t.Errorf("%s: status %d, X-Slack-No-Retry %q; want 400 and 1", body, rec.Code, rec.Header().Get("X-Slack-No-Retry"))
		}
		if len(r.ls.Transcript()) != 0 || len(r.d.got()) != 0 {
			t.Errorf("%s had an effect", body)
		}
	}
}
