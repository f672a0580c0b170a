package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// assistantDesk is a fakeDesk whose answers cite the cases it holds, in
// the rules' list form, and which notes what the thread showed while it
// looked the answer up.
type assistantDesk struct {
	*fakeDesk
	ls       *localslack.Slack
	mu       sync.Mutex
	answer   string
	statuses []string // the thread's status at each question
	where    [2]string
}

func (a *assistantDesk) Ask(ctx context.Context, actor, q string) (string, string, error) {
	a.mu.Lock()
	a.statuses = append(a.statuses, a.ls.AssistantStatus(a.where[0], a.where[1]))
	ans := a.answer
	a.mu.Unlock()
	a.fakeDesk.call("ask " + actor + " " + q)
	return ans, a.fakeDesk.by, nil
}

type assistantRig struct {
	ls   *localslack.Slack
	b    *Bot
	desk *assistantDesk
	url  string
}

const (
	paneUser   = "U0DANA"
	paneDM     = "D0EXOPSDANA"
	paneThread = "1732681000.000100"
)

// newAssistantRig posts the cards of three cases to the local Slack, so
// their permalinks exist, and serves the events endpoint.
func newAssistantRig(t *testing.T) *assistantRig {
	t.Helper()
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	noisy := compositeCase()
	noisy.ID, noisy.Severity, noisy.OpenedAt = "EX-000005", cases.SeverityCritical, testClock().Add(-5*time.Hour)
	noisy.Events = []cases.CaseEvent{{ID: "e7", Type: "supplier.confirmation_missing", Family: cases.FamilyMissingConfirmation, Time: t0,
		Data: map[string]any{"po": "PO-77 <!channel>", "supplier": "Evil <@U0ALL> Corp"}}}
	noisy.Families = []cases.Family{cases.FamilyMissingConfirmation}
	noCard := resolvedCase()
	noCard.Slack = cases.SlackRef{}
	d := &assistantDesk{fakeDesk: &fakeDesk{open: []*cases.Case{compositeCase(), noisy, noCard}}, ls: ls, where: [2]string{paneDM, paneThread}}
	b, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, c := range d.open[:2] {
		ref, err := b.PostCard(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		c.Slack = ref
	}
	mux := http.NewServeMux()
	mux.Handle("/slack/events", b.EventsHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &assistantRig{ls: ls, b: b, desk: d, url: srv.URL + "/slack/events"}
}

func (r *assistantRig) event(t *testing.T, id string, inner map[string]any) {
	t.Helper()
	if err := r.ls.Event(context.Background(), r.url, testSecret, id, inner); err != nil {
		t.Fatal(err)
	}
	r.b.Wait()
}

func (r *assistantRig) calls(method string) []localslack.AssistantCall {
	var out []localslack.AssistantCall
	for _, c := range r.ls.AssistantCalls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (r *assistantRig) replies(thread string) []localslack.Posted {
	var out []localslack.Posted
	for _, p := range r.ls.Transcript() {
		if p.Method == "chat.postMessage" && p.ThreadTS == thread {
			out = append(out, p)
		}
	}
	return out
}

// The assistant pane, end to end through slack-go and the local Slack:
// suggested prompts when it opens, a status while exops looks up, the
// first question as the title, the answer in the thread as a list.
func TestAssistantThread(t *testing.T) {
	r := newAssistantRig(t)
	r.desk.answer = "I found 3 cases for supplier Nordic Oils: EX-000001 (open; credit hold), EX-000005 (open; missing supplier confirmation), EX-000002 (resolved; price discrepancy)."

	started := localslack.AssistantThreadStarted(paneUser, paneDM, paneThread, "C0CREDIT")
	r.event(t, "Ev0PANE1", started)
	r.event(t, "Ev0PANE1", started) // Slack's retry: handled once
	prompts := r.calls("setSuggestedPrompts")
	if len(prompts) != 1 {
		t.Fatalf("%d setSuggestedPrompts calls, want 1: %+v", len(prompts), r.ls.AssistantCalls())
	}
	p := prompts[0]
	if p.Channel != paneDM || p.ThreadTS != paneThread || p.Title != assistantPromptsTitle {
		t.Errorf("prompts set on %s/%s titled %q", p.Channel, p.ThreadTS, p.Title)
	}
	var titles []string
	for _, x := range p.Prompts {
		titles = append(titles, x.Title)
	}
	// The newest open case with a supplier is EX-000001's (Nordic Oils);
	// fakeDesk lists cases in the order it holds them.
	if want := "What is waiting for my approval?|Open critical cases|Cases for supplier Nordic Oils"; strings.Join(titles, "|") != want {
		t.Errorf("prompts %q, want %q", titles, want)
	}
	if p.Prompts[2].Message != "Open cases for supplier Nordic Oils" {
		t.Errorf("supplier prompt asks %q", p.Prompts[2].Message)
	}
	if len(r.ls.Transcript()) != 2 { // the two cards
		t.Errorf("opening the pane posted a message: %+v", r.ls.Transcript()[2:])
	}

	// Looking at another channel changes nothing the user sees.
	r.event(t, "Ev0PANE2", localslack.AssistantThreadContextChanged(paneUser, paneDM, paneThread, "C0AP"))
	if n := len(r.ls.AssistantCalls()); n != 1 {
		t.Errorf("context change made %d more assistant calls", n-1)
	}

	const q1 = "Cases for supplier Nordic Oils"
	r.event(t, "Ev0PANE3", localslack.AssistantMessage(paneUser, paneDM, paneThread, "1732681005.000200", q1))
	if got := r.desk.got(); len(got) != 1 || got[0] != "ask "+paneUser+" "+q1 {
		t.Fatalf("asked %v", got)
	}
	if r.desk.statuses[0] != assistantStatus {
		t.Errorf("while answering the thread showed %q, want %q", r.desk.statuses[0], assistantStatus)
	}
	if s := r.ls.AssistantStatus(paneDM, paneThread); s != "" {
		t.Errorf("after the answer the thread still shows %q", s)
	}
	if ts := r.calls("setTitle"); len(ts) != 1 || ts[0].Title != q1 || ts[0].ThreadTS != paneThread {
		t.Errorf("titles %+v, want one: %q", ts, q1)
	}
	replies := r.replies(paneThread)
	if len(replies) != 1 || replies[0].Channel != paneDM {
		t.Fatalf("replies in the pane's thread: %+v", replies)
	}
	ans := replies[0]
	if ans.Text != escape(r.desk.answer) {
		t.Errorf("fallback text %q", ans.Text)
	}
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal(ans.Blocks, &blocks); err != nil || len(blocks) != 2 {
		t.Fatalf("blocks %s (%v)", ans.Blocks, err)
	}
	if blocks[0].Text.Text != "I found 3 cases for supplier Nordic Oils:" {
		t.Errorf("head %q", blocks[0].Text.Text)
	}
	lines := strings.Split(blocks[1].Text.Text, "\n")
	card1, card5 := r.desk.open[0].Slack, r.desk.open[1].Slack
	want := []string{
		"• <" + r.ls.Permalink(card1.Channel, card1.TS) + "|EX-000001> · high · 730d · credit hold, allocation conflict, supplier delay · order SO-1042",
		"• <" + r.ls.Permalink(card5.Channel, card5.TS) + "|EX-000005> · critical · 5h · missing supplier confirmation · PO PO-77 &lt;!channel&gt;",
		"• *EX-000002* · low · 730d · resolved · price discrepancy · invoice INV-88",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("list lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// A second question keeps the title and gets its own status.
	r.event(t, "Ev0PANE4", localslack.AssistantMessage(paneUser, paneDM, paneThread, "1732681010.000300", "Open critical cases"))
	if ts := r.calls("setTitle"); len(ts) != 1 {
		t.Errorf("%d titles after two questions, want 1", len(ts))
	}
	if len(r.desk.statuses) != 2 || r.desk.statuses[1] != assistantStatus || len(r.replies(paneThread)) != 2 {
		t.Fatalf("second question: statuses %q, %d replies", r.desk.statuses, len(r.replies(paneThread)))
	}
	// The same cases again: the links come from the cache and are the same.
	if second := r.replies(paneThread)[1]; !bytes.Equal(second.Blocks, ans.Blocks) {
		t.Errorf("second list differs:\n%s\n%s", second.Blocks, ans.Blocks)
	}
}

// An answer citing one case stays text; a DM outside a thread is answered
// under it, without the assistant's status or title.
func TestAnswerShapes(t *testing.T) {
	r := newAssistantRig(t)
	r.desk.answer = "EX-000001 is open: credit hold on SO-1042."
	r.event(t, "Ev0DM1", map[string]any{"type": "message", "channel_type": "im", "user": paneUser, "text": "status of SO-1042?",
		"ts": "1732681020.000100", "channel": paneDM})
	replies := r.replies("1732681020.000100")
	if len(replies) != 1 || replies[0].Blocks != nil {
		t.Fatalf("replies %+v, want one in the DM's thread, without blocks", replies)
	}
	if n := len(r.ls.AssistantCalls()); n != 0 {
		t.Errorf("%d assistant calls for a plain DM", n)
	}
}

// When the answer cannot be posted, the status is cleared by hand: no
// reply will clear it.
func TestAssistantStatusClearedOnFailure(t *testing.T) {
	r := newAssistantRig(t)
	r.desk.answer = "EX-000001 is open."
	r.ls.Outage("chat.postMessage", localslack.Failure{Status: http.StatusInternalServerError})
	r.event(t, "Ev0FAIL", localslack.AssistantMessage(paneUser, paneDM, paneThread, "1732681030.000100", "status?"))
	st := r.calls("setStatus")
	if len(st) != 2 || st[0].Status != assistantStatus || st[1].Status != "" {
		t.Errorf("statuses %+v, want %q then cleared", st, assistantStatus)
	}
	if s := r.ls.AssistantStatus(paneDM, paneThread); s != "" {
		t.Errorf("the thread still shows %q", s)
	}
}

// Assistant events are Events API callbacks like the others: unsigned or
// stale ones are refused and nothing is called.
func TestAssistantEventsAreVerified(t *testing.T) {
	r := newAssistantRig(t)
	inner := localslack.AssistantThreadStarted(paneUser, paneDM, paneThread, "C0CREDIT")
	body, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": "Ev0FORGED", "event": inner, "team_id": "T0EXOPS01"})
	for name, sign := range map[string]func(*http.Request){
		"unsigned": func(*http.Request) {},
		"wrong secret": func(req *http.Request) {
			stamp := fmt.Sprint(time.Now().Unix())
			req.Header.Set("X-Slack-Request-Timestamp", stamp)
			req.Header.Set("X-Slack-Signature", localslack.Sign("not-the-secret", stamp, body))
		},
		"ten minutes old": func(req *http.Request) {
			stamp := fmt.Sprint(time.Now().Add(-10 * time.Minute).Unix())
			req.Header.Set("X-Slack-Request-Timestamp", stamp)
			req.Header.Set("X-Slack-Signature", localslack.Sign(testSecret, stamp, body))
		},
	} {
		req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
		sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	r.b.Wait()
	if n := len(r.ls.AssistantCalls()); n != 0 {
		t.Errorf("%d assistant calls for refused events", n)
	}
}

// The local Slack refuses assistant calls Slack would refuse, so the bot's
// arguments are checked: a thread and channel each time, at most four
// prompts, a status of at most 50 characters.
func TestAssistantPromptsFitSlack(t *testing.T) {
	r := newAssistantRig(t)
	r.event(t, "Ev0PANE1", localslack.AssistantThreadStarted(paneUser, paneDM, paneThread, ""))
	p := r.calls("setSuggestedPrompts")
	if len(p) != 1 || len(p[0].Prompts) > 4 {
		t.Fatalf("prompts %+v", p)
	}
	if n := len([]rune(assistantStatus)); n > 50 {
		t.Errorf("status is %d characters", n)
	}
}

// Over Socket Mode the pane works the same: the events_api envelope is
// acknowledged and the prompts set.
func TestAssistantOverSocketMode(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &assistantDesk{fakeDesk: &fakeDesk{open: []*cases.Case{compositeCase()}}, ls: ls}
	b, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.RunSocketMode(ctx) }()
	defer func() { cancel(); <-done }()
	payload, _ := json.Marshal(map[string]any{"token": "x", "team_id": "T0EXOPS01", "api_app_id": "A0EXOPS01", "type": "event_callback",
		"event_id": "Ev0SOCK1", "event_time": testClock().Unix(), "event": localslack.AssistantThreadStarted(paneUser, paneDM, paneThread, "C0CREDIT")})
	env, _ := json.Marshal(map[string]any{"envelope_id": "env-pane", "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0,
		"retry_reason": "", "payload": json.RawMessage(payload)})
	ls.Server().SendToWebsocket(string(env))
	waitFor(t, func() bool {
		for _, c := range ls.AssistantCalls() {
			if c.Method == "setSuggestedPrompts" && c.Channel == paneDM && c.ThreadTS == paneThread && len(c.Prompts) == 3 {
				return true
			}
		}
		return false
	})
}

// Every answer says who gave it, in a context line under it: the rules,
// a model, or the rules because the model was not used, in a mention's
// thread, a DM and the assistant pane alike, for prose and for lists.
func TestAnswerSaysWhoAnswered(t *testing.T) {
	const one = "EX-000001 is open: credit hold on SO-1042."
	const list = "I found 2 cases for supplier Nordic Oils: EX-000001 (open; credit hold), EX-000005 (open; missing supplier confirmation)."
	where := []struct {
		name, thread string
		event        func(ts string) map[string]any
	}{
		{"mention", "1732681100.000100", func(ts string) map[string]any {
			return map[string]any{"type": "app_mention", "user": paneUser, "text": "<@U0EXOPSBOT> status of SO-1042?", "ts": ts, "channel": "C0CREDIT", "event_ts": ts}
		}},
		{"dm", "1732681200.000100", func(ts string) map[string]any {
			return map[string]any{"type": "message", "channel_type": "im", "user": paneUser, "text": "status of SO-1042?", "ts": ts, "channel": paneDM}
		}},
		{"pane", paneThread, func(ts string) map[string]any {
			return localslack.AssistantMessage(paneUser, paneDM, paneThread, ts, "status of SO-1042?")
		}},
	}
	tests := []struct {
		by, answer, want string
		blocks           int // before the context line
	}{
		{"rules", one, "Answered by exops's rules from the case store.", 1},
		{"openai:gpt-4o", one, "Answered by the language model openai:gpt-4o, checked against the case store.", 1},
		{"rules (model unavailable: server error (HTTP 503))", list,
			"Answered by exops's rules from the case store; the language model was not used (model unavailable: server error (HTTP 503)).", 2},
		{"rules (model answer refused: \"EX-000777\" is not in what the store returned)", one,
			"Answered by exops's rules from the case store; the language model was not used (model answer refused: \"EX-000777\" is not in what the store returned).", 1},
		{"anthropic:<!channel>", one, "Answered by the language model anthropic:&lt;!channel&gt;, checked against the case store.", 1},
	}
	for _, w := range where {
		for i, tt := range tests {
			t.Run(w.name+"/"+tt.by, func(t *testing.T) {
				r := newAssistantRig(t)
				r.desk.answer, r.desk.fakeDesk.by = tt.answer, tt.by
				ts := fmt.Sprintf("1732681%03d.000900", i)
				r.event(t, fmt.Sprintf("Ev0BY%s%d", w.name, i), w.event(ts))
				thread := w.thread
				if w.name != "pane" {
					thread = ts
				}
				replies := r.replies(thread)
				if len(replies) != 1 {
					t.Fatalf("replies in thread %s: %+v", thread, r.ls.Transcript())
				}
				var blocks []struct {
					Type     string                  `json:"type"`
					Text     struct{ Text string }   `json:"text"`
					Elements []struct{ Text string } `json:"elements"`
				}
				if err := json.Unmarshal(replies[0].Blocks, &blocks); err != nil || len(blocks) != tt.blocks+1 {
					t.Fatalf("blocks %s (%v), want %d and a context line", replies[0].Blocks, err, tt.blocks)
				}
				last := blocks[len(blocks)-1]
				if last.Type != "context" || len(last.Elements) != 1 || last.Elements[0].Text != tt.want {
					t.Errorf("last block %+v, want the context line %q", last, tt.want)
				}
				if tt.blocks == 1 && blocks[0].Text.Text != escape(tt.answer) {
					t.Errorf("answer block %q, want %q", blocks[0].Text.Text, tt.answer)
				}
				if replies[0].Text != escape(tt.answer) {
					t.Errorf("fallback text %q", replies[0].Text)
				}
			})
		}
	}
}

// Long prose is cut into sections Slack takes (3000 characters each).
func TestTextSections(t *testing.T) {
	long := strings.Repeat("a", 2000) + "\n" + strings.Repeat("b", 2000) + "\n" + strings.Repeat("c", 3500)
	var got []int
	var all strings.Builder
	for _, b := range textSections(long) {
		s := b.(*slack.SectionBlock).Text.Text
		got = append(got, len(s))
		all.WriteString(s)
	}
	if fmt.Sprint(got) != "[2000 2000 3000 500]" || all.String() != strings.ReplaceAll(long, "\n", "") {
		t.Errorf("sections of %v characters", got)
	}
}
