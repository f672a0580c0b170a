package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

const testSecret = "test-signing-secret"

// Slack's documented example from "Verifying requests from Slack".
const (
	slackDocSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackDocTimestamp = "1531420618"
	slackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	slackDocBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)

func TestSignatureSlackDocumentedExample(t *testing.T) {
	at := time.Unix(1531420618, 0)
	d := &fakeDecider{}
	b, err := New(Config{BotToken: "xoxb-x", SigningSecret: slackDocSecret, Clock: testClock, TransportNow: func() time.Time { return at.Add(30 * time.Second) }}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", slackDocTimestamp)
	h.Set("X-Slack-Signature", slackDocSignature)
	if err := b.verify(h, []byte(slackDocBody)); err != nil {
		t.Fatalf("Slack's documented example refused: %v", err)
	}
	if got := localslack.Sign(slackDocSecret, slackDocTimestamp, []byte(slackDocBody)); got != slackDocSignature {
		t.Errorf("localslack.Sign = %s, want %s", got, slackDocSignature)
	}
	// Through the handler the signature passes; the body is a slash command,
	// not an interaction, so it is a 400 rather than a 401.
	req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(slackDocBody))
	req.Header = h
	rec := httptest.NewRecorder()
	b.InteractionsHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400 (signature accepted, no payload)", rec.Code)
	}
}

func TestInteractionsHandlerRefuses(t *testing.T) {
	now := time.Unix(1_732_680_000, 0)
	body := []byte(url.Values{"payload": {`{"type":"block_actions","user":{"id":"U0ALICE"},"channel":{"id":"C0CREDIT"},"actions":[{"action_id":"exops_approve","block_id":"rec:EX-000001:r1","value":"EX-000001|r1","type":"button"}]}`}}.Encode())
	stamp := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	sign := func(ts string, b []byte) string { return localslack.Sign(testSecret, ts, b) }

	tests := []struct {
		name    string
		method  string
		body    []byte
		headers map[string]string
		want    int
		decided bool
	}{
		{"valid", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now), "X-Slack-Signature": sign(stamp(now), body)}, 200, true},
		{"valid 4m59s old", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now.Add(-299 * time.Second)), "X-Slack-Signature": sign(stamp(now.Add(-299*time.Second)), body)}, 200, true},
		{"forged", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now), "X-Slack-Signature": localslack.Sign("wrong-secret", stamp(now), body)}, 401, false},
		{"body changed", "POST", []byte(strings.Replace(string(body), "U0ALICE", "U0EVE00", 1)), map[string]string{"X-Slack-Request-Timestamp": stamp(now), "X-Slack-Signature": sign(stamp(now), body)}, 401, false},
		{"stale 6m", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now.Add(-6 * time.Minute)), "X-Slack-Signature": sign(stamp(now.Add(-6*time.Minute)), body)}, 401, false},
		{"future 6m", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now.Add(6 * time.Minute)), "X-Slack-Signature": sign(stamp(now.Add(6*time.Minute)), body)}, 401, false},
		{"unsigned", "POST", body, nil, 401, false},
		{"no timestamp", "POST", body, map[string]string{"X-Slack-Signature": sign(stamp(now), body)}, 401, false},
		{"v1 signature", "POST", body, map[string]string{"X-Slack-Request-Timestamp": stamp(now), "X-Slack-Signature": strings.Replace(sign(stamp(now), body), "v0=", "v1=", 1)}, 401, false},
		{"garbage timestamp", "POST", body, map[string]string{"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": sign("soon", body)}, 401, false},
		{"oversized", "POST", []byte("payload=" + strings.Repeat("a", maxInteractionBody)), map[string]string{"X-Slack-Request-Timestamp": stamp(now), "X-Slack-Signature": "v0=00"}, 413, false},
		{"GET", "GET", nil, nil, 405, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := localslack.New(testClock)
			defer ls.Close()
			d := &fakeDecider{res: cases.DecideResult{Message: "ok"}}
			b, err := New(Config{BotToken: "xoxb-x", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock, TransportNow: func() time.Time { return now }}, services(d))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, "/slack/interactions", strings.NewReader(string(tt.body)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			b.InteractionsHandler().ServeHTTP(rec, req)
			b.Wait()
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body.String())
			}
			if tt.want == 200 && rec.Body.Len() != 0 {
				t.Errorf("acknowledgement has a body: %q", rec.Body.String())
			}
			if got := len(d.requests()) > 0; got != tt.decided {
				t.Errorf("decided = %v, want %v", got, tt.decided)
			}
			_ = b.Close()
		})
	}
}

func TestInteractionsReplayIsIgnored(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDecider{res: cases.DecideResult{Message: "ok"}}
	b := newTestBot(t, ls, d)
	srv := httptest.NewServer(b.InteractionsHandler())
	defer srv.Close()
	p := localslack.Posted{Channel: "C0CREDIT", TS: "1732680000.000100"}
	btn := localslack.Button{Text: "Approve", ActionID: ActionApprove, BlockID: "rec:EX-000001:r1", Value: "EX-000001|r1"}
	body, err := localslack.ClickBody("U0ALICE", p, btn, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", localslack.Sign(testSecret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.Wait()
	if n := len(d.requests()); n != 1 {
		t.Errorf("decided %d times, want 1 (the second request is a replay)", n)
	}
}

// TestClickFlow drives the whole HTTP path: a card posted to localslack.Slack, a
// signed click on one of its buttons, the Decider called, the person
// answered with an ephemeral message.
func TestClickFlow(t *testing.T) {
	tests := []struct {
		name       string
		user       string
		button     int // index in the card's buttons
		decideErr  error
		result     string
		wantReq    cases.DecideRequest
		wantAnswer string
	}{
		{
			name: "approve", user: "U0BOB", button: 0, result: "Your approval of Release credit hold on EX-000001 is recorded: 2 of 2.",
			wantReq:    cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0BOB", Choice: cases.ChoiceApprove},
			wantAnswer: "Your approval of Release credit hold on EX-000001 is recorded: 2 of 2.",
		},
		{
			name: "reject", user: "U0ALICE", button: 3, result: "You rejected Ship 60 from DC-East now, rest later on EX-000001.",
			wantReq:    cases.DecideRequest{Case: "EX-000001", Recommendation: "r2", Actor: "U0ALICE", Choice: cases.ChoiceReject, Reason: "Customer cancelled the order"},
			wantAnswer: "You rejected Ship 60 from DC-East now, rest later on EX-000001.",
		},
		{
			name: "non-approver refused", user: "U0EVE", button: 0,
			decideErr:  cases.Errorf(cases.KindDenied, "You are not an approver for Release credit hold on EX-000001. Approvers: <@U0ALICE>, <@U0BOB>."),
			wantReq:    cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0EVE", Choice: cases.ChoiceApprove},
			wantAnswer: "You are not an approver for Release credit hold on EX-000001. Approvers: <@U0ALICE>, <@U0BOB>.",
		},
		{
			name: "already decided", user: "U0ALICE", button: 0,
			decideErr:  cases.Errorf(cases.KindConflict, "You already approved Release credit hold on EX-000001; one person counts once (1 of 2)."),
			wantReq:    cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0ALICE", Choice: cases.ChoiceApprove},
			wantAnswer: "You already approved Release credit hold on EX-000001; one person counts once (1 of 2).",
		},
		{
			name: "store broken", user: "U0BOB", button: 0,
			decideErr:  &cases.Error{Kind: cases.KindInternal, Msg: "save case EX-000001", Err: context.DeadlineExceeded},
			wantReq:    cases.DecideRequest{Case: "EX-000001", Recommendation: "r1", Actor: "U0BOB", Choice: cases.ChoiceApprove},
			wantAnswer: genericFailure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := localslack.New(testClock)
			defer ls.Close()
			d := &fakeDecider{res: cases.DecideResult{Message: tt.result}, err: tt.decideErr}
			b := newTestBot(t, ls, d)
			srv := httptest.NewServer(b.InteractionsHandler())
			defer srv.Close()

			c := compositeCase()
			ref, err := b.PostCard(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			card := ls.Transcript()[0]
			btn := card.Buttons()[tt.button]
			if err := ls.Click(context.Background(), srv.URL, testSecret, tt.user, card, btn); err != nil {
				t.Fatalf("click: %v", err)
			}
			b.Wait()
			if btn.ActionID == ActionReject {
				// Reject asks for the reason in a modal first; nothing is decided yet.
				views := ls.Views()
				if len(views) != 1 || len(d.requests()) != 0 {
					t.Fatalf("after Reject: %d modals, %d decisions; want the reason modal and no decision", len(views), len(d.requests()))
				}
				if !strings.Contains(string(views[0].View), CallbackReject) {
					t.Fatalf("modal is not the reject form: %s", views[0].View)
				}
				if err := ls.SubmitView(context.Background(), srv.URL, testSecret, tt.user, views[0],
					map[string]map[string]any{reasonBlock: {reasonAction: tt.wantReq.Reason}}); err != nil {
					t.Fatalf("submit: %v", err)
				}
				b.Wait()
			}

			reqs := d.requests()
			if len(reqs) != 1 || reqs[0] != tt.wantReq {
				t.Fatalf("Decide got %+v, want [%+v]", reqs, tt.wantReq)
			}
			tr := ls.Transcript()
			if len(tr) != 2 {
				t.Fatalf("transcript has %d posts, want card + ephemeral: %+v", len(tr), tr)
			}
			eph := tr[1]
			if eph.Method != "chat.postEphemeral" || eph.User != tt.user || eph.Channel != ref.Channel || eph.Text != tt.wantAnswer {
				t.Errorf("answer = %+v, want ephemeral %q to %s in %s", eph, tt.wantAnswer, tt.user, ref.Channel)
			}
		})
	}
}

func TestClickOnUnknownActionIsIgnored(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDecider{}
	b := newTestBot(t, ls, d)
	srv := httptest.NewServer(b.InteractionsHandler())
	defer srv.Close()
	p := localslack.Posted{Channel: "C0CREDIT", TS: "1732680000.000100"}
	if err := ls.Click(context.Background(), srv.URL, testSecret, "U0ALICE", p, localslack.Button{Text: "Snooze", ActionID: "exops_snooze_v9", BlockID: "x", Value: "EX-000001|r1"}); err != nil {
		t.Fatalf("click: %v", err)
	}
	b.Wait()
	if len(d.requests()) != 0 || len(ls.Transcript()) != 0 {
		t.Errorf("unknown action should do nothing: decided %v, posted %+v", d.requests(), ls.Transcript())
	}
}

func TestClickWithBadValueAnswersPlainly(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDecider{}
	b := newTestBot(t, ls, d)
	srv := httptest.NewServer(b.InteractionsHandler())
	defer srv.Close()
	p := localslack.Posted{Channel: "C0CREDIT", TS: "1732680000.000100"}
	if err := ls.Click(context.Background(), srv.URL, testSecret, "U0ALICE", p, localslack.Button{Text: "Approve", ActionID: ActionApprove, BlockID: "x", Value: "garbage"}); err != nil {
		t.Fatalf("click: %v", err)
	}
	b.Wait()
	tr := ls.Transcript()
	if len(d.requests()) != 0 || len(tr) != 1 || tr[0].Method != "chat.postEphemeral" {
		t.Errorf("want one ephemeral and no decision: decided %v, posted %+v", d.requests(), tr)
	}
}

func TestNoSigningSecretRefusesAll(t *testing.T) {
	b, err := New(Config{BotToken: "xoxb-x", Clock: testClock}, services(&fakeDecider{}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader("payload={}"))
	req.Header.Set("X-Slack-Request-Timestamp", "1")
	req.Header.Set("X-Slack-Signature", localslack.Sign("", "1", []byte("payload={}")))
	rec := httptest.NewRecorder()
	b.InteractionsHandler().ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Error("an empty signing secret must not accept requests signed with it")
	}
}
