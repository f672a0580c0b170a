package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// fakeDesk records what the bot asked and answers from a fixed case set.
type fakeDesk struct {
	fakeDecider
	mu    sync.Mutex
	calls []string
	open  []*cases.Case
	err   error
	by    string // who answers questions, as Asker says it
}

func (f *fakeDesk) call(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.err
}

func (f *fakeDesk) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeDesk) Assign(_ context.Context, id, actor, to string) (*cases.Case, error) {
	return compositeCase(), f.call("assign " + id + " " + actor + " " + to)
}
func (f *fakeDesk) Snooze(_ context.Context, id, actor string, until time.Time) (*cases.Case, error) {
	return compositeCase(), f.call("snooze " + id + " " + actor + " " + until.UTC().Format(time.RFC3339))
}
func (f *fakeDesk) Escalate(_ context.Context, id, actor string) (*cases.Case, error) {
	c := compositeCase()
	c.Escalated = []string{"managers"}
	return c, f.call("escalate " + id + " " + actor)
}
func (f *fakeDesk) Comment(_ context.Context, id, actor, text string) (*cases.Case, error) {
	return compositeCase(), f.call("comment " + id + " " + actor + " " + text)
}
func (f *fakeDesk) Case(_ context.Context, id string) (*cases.Case, error) {
	for _, c := range f.open {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, cases.Errorf(cases.KindNotFound, "Case %s does not exist.", id)
}

// FindCases answers by the domain's own rule, CaseQuery.Match.
func (f *fakeDesk) FindCases(_ context.Context, q cases.CaseQuery) (cases.CaseList, error) {
	var l cases.CaseList
	for _, c := range append(append([]*cases.Case(nil), f.open...), resolvedCase()) {
		if q.Match(c) {
			l.Total++
			if q.Limit <= 0 || len(l.Cases) < q.Limit {
				l.Cases = append(l.Cases, c)
			}
		}
	}
	return l, nil
}
func (f *fakeDesk) ExportAudit(_ context.Context, actor string, q cases.AuditQuery) ([]byte, int, error) {
	if actor != "U0AUDITOR" {
		f.call("export refused " + actor)
		return nil, 0, cases.Errorf(cases.KindDenied, "Only the compliance team may export the audit trail; your request is recorded.")
	}
	f.call("export " + actor + " " + q.Case)
	return []byte("seq,time,case\n1,2026-11-27T09:00:00Z,EX-000001\n"), 1, nil
}
func (f *fakeDesk) Document(_ context.Context, actor, channel, thread, name string, pdf []byte) (string, bool, error) {
	f.call(fmt.Sprintf("document %s %s %s %s %d", actor, channel, thread, name, len(pdf)))
	return "read " + name, channel != "C0CASE", nil
}

func (f *fakeDesk) Ask(_ context.Context, actor, q string) (string, string, error) {
	f.call("ask " + actor + " " + q)
	return "EX-000001 is open: credit hold on SO-1042.", f.by, nil
}

type deskRig struct {
	ls   *localslack.Slack
	b    *Bot
	d    *fakeDesk
	srv  *httptest.Server
	ctx  context.Context
	card localslack.Posted
}

func newDeskRig(t *testing.T) *deskRig {
	t.Helper()
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	d := &fakeDesk{open: []*cases.Case{compositeCase()}}
	b, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	mux := http.NewServeMux()
	mux.Handle("/slack/interactions", b.InteractionsHandler())
	mux.Handle("/slack/commands", b.CommandsHandler())
	mux.Handle("/slack/events", b.EventsHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := &deskRig{ls: ls, b: b, d: d, srv: srv, ctx: context.Background()}
	if _, err := b.PostCard(r.ctx, compositeCase()); err != nil {
		t.Fatal(err)
	}
	r.card = ls.Transcript()[0]
	return r
}

func (r *deskRig) lastEphemeral(user string) string {
	tr := r.ls.Transcript()
	for i := len(tr) - 1; i >= 0; i-- {
		if tr[i].Method == "chat.postEphemeral" && tr[i].User == user {
			return tr[i].Text
		}
	}
	return ""
}

func (r *deskRig) click(t *testing.T, user, actionID string) {
	t.Helper()
	for _, btn := range r.card.Buttons() {
		if btn.ActionID == actionID {
			if err := r.ls.Click(r.ctx, r.srv.URL+"/slack/interactions", testSecret, user, r.card, btn); err != nil {
				t.Fatal(err)
			}
			r.b.Wait()
			return
		}
	}
	t.Fatalf("no %s button on the card", actionID)
}

func TestCaseButtons(t *testing.T) {
	r := newDeskRig(t)
	r.click(t, "U0DANA", ActionAssign)
	r.click(t, "U0DANA", ActionEscalate)
	if got := r.d.got(); len(got) != 2 || got[0] != "assign EX-000001 U0DANA U0DANA" || got[1] != "escalate EX-000001 U0DANA" {
		t.Fatalf("desk calls %v", got)
	}
	if msg := r.lastEphemeral("U0DANA"); msg != "Escalated EX-000001 (managers)." {
		t.Errorf("answer %q", msg)
	}

	// Snooze and Comment open forms; nothing happens until they are sent.
	r.click(t, "U0DANA", ActionSnooze)
	r.click(t, "U0DANA", ActionComment)
	views := r.ls.Views()
	if len(views) != 2 || len(r.d.got()) != 2 {
		t.Fatalf("%d forms, calls %v", len(views), r.d.got())
	}
	until := testClock().Add(4 * 24 * time.Hour).Truncate(time.Hour) // ahead of the business clock
	if err := r.ls.SubmitView(r.ctx, r.srv.URL+"/slack/interactions", testSecret, "U0DANA", views[0],
		map[string]map[string]any{snoozeBlock: {snoozeAction: until}}); err != nil {
		t.Fatal(err)
	}
	r.b.Wait() // each form is handled after its acknowledgement: keep them in order
	if err := r.ls.SubmitView(r.ctx, r.srv.URL+"/slack/interactions", testSecret, "U0DANA", views[1],
		map[string]map[string]any{commentBlock: {commentAction: "Stock arrives Tuesday"}}); err != nil {
		t.Fatal(err)
	}
	r.b.Wait()
	got := r.d.got()
	if got[2] != "snooze EX-000001 U0DANA "+until.Format(time.RFC3339) || got[3] != "comment EX-000001 U0DANA Stock arrives Tuesday" {
		t.Errorf("desk calls %v", got)
	}

	// An error the person can act on comes back in their words.
	r.d.err = cases.Errorf(cases.KindConflict, "EX-000001 is already assigned to <@U0DANA>.")
	r.click(t, "U0EVE", ActionAssign)
	if msg := r.lastEphemeral("U0EVE"); msg != "EX-000001 is already assigned to <@U0DANA>." {
		t.Errorf("conflict answered %q", msg)
	}
}

func TestSlashCommands(t *testing.T) {
	tests := []struct {
		user, text string
		call       string // desk call expected ("" for none)
		answer     string // part of the ephemeral answer
	}{
		{"U0DANA", "", "", "/exops status EX-000123"},
		{"U0DANA", "help", "", "export audit"},
		{"U0DANA", "status EX-000001", "", "EX-000001 · HIGH"},
		{"U0DANA", "status EX-000404", "", "Case EX-000404 does not exist."},
		{"U0DANA", "status", "", "Say which case"},
		{"U0DANA", "list credit_hold", "", "1 open case:"},
		{"U0DANA", "list inventory_variance", "", "No open case matches."},
		{"U0DANA", "list --older 2d", "", "1 open case:"},
		{"U0DANA", "list --older 30000d", "", "No open case matches."},
		{"U0DANA", "list --sideways", "", "I don't know `--sideways`"},
		{"U0DANA", "assign EX-000001 <@U0LEE|lee>", "assign EX-000001 U0DANA U0LEE", "assigned to <@U0LEE>"},
		{"U0DANA", "assign EX-000001 lee", "", "Say whom to assign to"},
		{"U0DANA", "snooze EX-000001 2d", "snooze EX-000001 U0DANA " + testClock().Add(48*time.Hour).Truncate(time.Hour).Format("2006-01-02T15"), "snoozed until"},
		{"U0DANA", "snooze EX-000001 tomorrowish", "", "is not a time"},
		{"U0DANA", "export audit --case EX-000001", "export refused U0DANA", "Only the compliance team"},
		{"U0AUDITOR", "export audit --case EX-000001", "export U0AUDITOR EX-000001", "Sent 1 audit records to your direct messages"},
		{"U0DANA", "export audit --since soon", "", "`--since soon`"},
		{"U0DANA", "frobnicate", "", "I don't know `frobnicate`"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := newDeskRig(t)
			if err := r.ls.Command(r.ctx, r.srv.URL+"/slack/commands", testSecret, tt.user, "C0CREDIT", tt.text); err != nil {
				t.Fatal(err)
			}
			r.b.Wait()
			calls := r.d.got()
			if tt.call == "" && len(calls) != 0 || tt.call != "" && (len(calls) != 1 || !strings.HasPrefix(calls[0], tt.call)) {
				t.Errorf("desk calls %v, want %q", calls, tt.call)
			}
			if msg := r.lastEphemeral(tt.user); !strings.Contains(msg, tt.answer) {
				t.Errorf("answer %q lacks %q", msg, tt.answer)
			}
		})
	}
	// The export lands as a CSV file in the auditor's DM.
	r := newDeskRig(t)
	if err := r.ls.Command(r.ctx, r.srv.URL+"/slack/commands", testSecret, "U0AUDITOR", "C0CREDIT", "export audit"); err != nil {
		t.Fatal(err)
	}
	r.b.Wait()
	files := r.ls.Files()
	if len(files) != 1 || files[0].Channel != "DU0AUDITOR" || !strings.HasPrefix(string(files[0].Content), "seq,time,case") || !strings.HasSuffix(files[0].Name, ".csv") {
		t.Errorf("uploaded %+v", files)
	}
}

func TestEvents(t *testing.T) {
	r := newDeskRig(t)
	url := r.srv.URL + "/slack/events"

	// url_verification answers the challenge, signed like any request.
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	stamp := fmt.Sprint(time.Now().Unix())
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", localslack.Sign(testSecret, stamp, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := new(bytes.Buffer)
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || buf.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("challenge: %d %q", resp.StatusCode, buf)
	}
	// Unsigned: refused.
	req, _ = http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned event: %d", resp.StatusCode)
	}

	mention := map[string]any{"type": "app_mention", "user": "U0DANA", "text": "<@U0EXOPSBOT> what is the status of SO-1042?",
		"ts": "1732680001.000100", "channel": "C0CREDIT", "event_ts": "1732680001.000100"}
	for i := 0; i < 2; i++ { // the second is Slack's retry of the same event
		if err := r.ls.Event(r.ctx, url, testSecret, "Ev0MENTION1", mention); err != nil {
			t.Fatal(err)
		}
	}
	dm := map[string]any{"type": "message", "channel_type": "im", "user": "U0DANA", "text": "who approved the credit release for Acme?",
		"ts": "1732680002.000100", "channel": "D0DANA"}
	botMsg := map[string]any{"type": "message", "channel_type": "im", "bot_id": "B0EXOPS", "text": "EX-000001 is open", "ts": "1732680003.000100", "channel": "D0DANA"}
	home := map[string]any{"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"}
	for id, ev := range map[string]map[string]any{"Ev0DM": dm, "Ev0BOT": botMsg, "Ev0HOME": home} {
		if err := r.ls.Event(r.ctx, url, testSecret, id, ev); err != nil {
			t.Fatal(err)
		}
	}
	r.b.Wait()
	calls := r.d.got()
	want := []string{"ask U0DANA what is the status of SO-1042?", "ask U0DANA who approved the credit release for Acme?"}
	if len(calls) != 2 || !contains(calls, want[0]) || !contains(calls, want[1]) {
		t.Errorf("questions asked %v, want %v (the retry and the bot's own message ignored)", calls, want)
	}
	var inThread bool
	for _, p := range r.ls.Transcript() {
		if p.Method == "chat.postMessage" && p.ThreadTS == "1732680001.000100" && strings.Contains(p.Text, "EX-000001 is open") {
			inThread = true
		}
	}
	if !inThread {
		t.Errorf("no answer in the mention's thread: %+v", r.ls.Transcript())
	}
	homeView := r.ls.Home("U0ALICE")
	if homeView == nil {
		t.Fatal("no home published")
	}
	golden(t, "home.json", homeView)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// golden compares JSON with testdata/NAME (rewritten with -update).
func golden(t *testing.T, name string, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, buf.Bytes(), 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./bot -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs:\n%s", path, buf.Bytes())
	}
}

// TestModalGolden pins the Block Kit JSON of the forms.
func TestModalGolden(t *testing.T) {
	for name, v := range map[string]any{
		"modal_reject.json":  RejectModal("EX-000001", "r2", "C0CREDIT", "Ship 60 from DC-East now, rest later"),
		"modal_snooze.json":  SnoozeModal("EX-000001", "C0CREDIT", t0),
		"modal_comment.json": CommentModal("EX-000001", "C0CREDIT"),
	} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, raw)
	}
}
