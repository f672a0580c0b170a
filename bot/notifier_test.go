package bot

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

func newTestBot(t *testing.T, ls *localslack.Slack, d Decider) *Bot {
	t.Helper()
	if d == nil {
		d = &fakeDecider{}
	}
	b, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestNotifierAgainstLocalSlack(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	b := newTestBot(t, ls, nil)
	ctx := context.Background()

	c := compositeCase()
	c.Slack = cases.SlackRef{}
	ref, err := b.PostCard(ctx, c)
	if err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	if ref.Channel != "C0CREDIT" || ref.TS != slackTS(testClock()) {
		t.Fatalf("PostCard ref = %+v", ref)
	}
	c.Slack = ref
	if err := b.PostReply(ctx, c, "<@U0ALICE> approved Release credit hold (1 of 2 approvals).", "EX-000001/7"); err != nil {
		t.Fatalf("PostReply: %v", err)
	}
	c.Recommendations[0].Approvals = append(c.Recommendations[0].Approvals, "U0BOB")
	c.Recommendations[0].State = cases.RecApproved
	if err := b.UpdateCard(ctx, c); err != nil {
		t.Fatalf("UpdateCard: %v", err)
	}

	tr := ls.Transcript()
	if len(tr) != 3 {
		t.Fatalf("transcript has %d posts, want 3: %+v", len(tr), tr)
	}
	card, reply, upd := tr[0], tr[1], tr[2]
	if card.Method != "chat.postMessage" || card.ThreadTS != "" || !strings.HasPrefix(card.Text, "EX-000001 · HIGH") {
		t.Errorf("card post = %+v", card)
	}
	if got := recButtons(card); len(got) != 4 || got[0] != (localslack.Button{Text: "Approve", ActionID: ActionApprove, BlockID: "rec:EX-000001:r1", Value: "EX-000001|r1", Label: "Approve: Release credit hold"}) {
		t.Errorf("card buttons = %+v", got)
	}
	if reply.Method != "chat.postMessage" || reply.ThreadTS != ref.TS || reply.Channel != ref.Channel || reply.TS <= ref.TS {
		t.Errorf("reply = %+v, want a thread reply under %s", reply, ref.TS)
	}
	if upd.Method != "chat.update" || upd.TS != ref.TS || upd.Channel != ref.Channel {
		t.Errorf("update = %+v, want chat.update of %s", upd, ref.TS)
	}
	if got := recButtons(upd); len(got) != 2 || got[0].Value != "EX-000001|r2" {
		t.Errorf("after approval the card should only offer r2's buttons, got %+v", got)
	}

	var out bytes.Buffer
	localslack.FormatTranscript(&out, tr)
	for _, want := range []string{
		"→ #C0CREDIT (new card)", "→ #C0CREDIT (thread reply)", "→ #C0CREDIT (card updated)",
		"== EX-000001 · HIGH · credit hold, allocation conflict, supplier delay ==",
		"[Approve: Release credit hold] [Reject: Release credit hold]",
		"⏳ Approved (approved by <@U0ALICE>, <@U0BOB>); running now",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out.String())
		}
	}
}

func TestNotifierErrorKinds(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    cases.Kind
	}{
		{"429 rate limited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
		}, cases.KindTransient},
		{"503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "<html>down</html>", http.StatusServiceUnavailable)
		}, cases.KindTransient},
		{"ok false ratelimited", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
		}, cases.KindTransient},
		{"invalid_blocks", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_blocks"}`))
		}, cases.KindInvalid},
		{"not_in_channel", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok":false,"error":"not_in_channel"}`))
		}, cases.KindInternal},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
		}, cases.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := localslack.New(testClock)
			defer ls.Close()
			ls.Handle("chat.postMessage", tt.handler)
			b := newTestBot(t, ls, nil)
			_, err := b.PostCard(context.Background(), compositeCase())
			if err == nil {
				t.Fatal("PostCard succeeded, want an error")
			}
			if got := cases.KindOf(err); got != tt.want {
				t.Errorf("kind = %v, want %v (err: %v)", got, tt.want, err)
			}
			var ce *cases.Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "post card of EX-000001") {
				t.Errorf("error lacks context: %v", err)
			}
			if strings.Contains(err.Error(), "xoxb-test") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestNotifierRefusesCaseWithoutCard(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	b := newTestBot(t, ls, nil)
	c := compositeCase()
	c.Slack = cases.SlackRef{}
	if err := b.UpdateCard(context.Background(), c); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("UpdateCard without a card: %v", err)
	}
	if err := b.PostReply(context.Background(), c, "hi", ""); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("PostReply without a card: %v", err)
	}
	c.Slack = cases.SlackRef{Channel: "C0CREDIT", TS: "1.000001"}
	if err := b.UpdateCard(context.Background(), c); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("UpdateCard of a message localslack.Slack never saw: %v", err)
	}
	if len(ls.Transcript()) != 0 {
		t.Errorf("nothing should be recorded: %+v", ls.Transcript())
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}, services(&fakeDecider{})); err == nil {
		t.Error("New without a bot token succeeded")
	}
	if _, err := New(Config{BotToken: "xoxb-x", Clock: testClock}, Services{}); err == nil {
		t.Error("New without a decider succeeded")
	}
}

// recButtons are a card's buttons on recommendations (not the case's own).
func recButtons(p localslack.Posted) []localslack.Button {
	var out []localslack.Button
	for _, b := range p.Buttons() {
		if strings.HasPrefix(b.BlockID, "rec:") {
			out = append(out, b)
		}
	}
	return out
}

// A message to another channel carries its key in Slack's metadata, and
// FindMessage finds it there by that key only.
func TestFindMessageByKey(t *testing.T) {
	ls := localslack.New(testClock)
	defer ls.Close()
	b := newTestBot(t, ls, nil)
	ctx := context.Background()
	c := compositeCase()
	if err := b.PostMessage(ctx, "C0LEADS", c, "Overdue: EX-000001", "EX-000001/12"); err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	for _, tt := range []struct {
		channel, key string
		want         bool
	}{
		{"C0LEADS", "EX-000001/12", true},
		{"C0LEADS", "EX-000001/13", false},
		{"C0OTHER", "EX-000001/12", false},
	} {
		got, err := b.FindMessage(ctx, tt.channel, c, tt.key)
		if err != nil || got != tt.want {
			t.Errorf("FindMessage(%s, %s) = %v, %v; want %v", tt.channel, tt.key, got, err, tt.want)
		}
	}
}
