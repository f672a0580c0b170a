package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// storeState is what a refused request must leave as it was: the audit
// chain's head, the cases, the stored events and the queued jobs.
type storeState struct {
	seq                uint64
	hash               string
	cases, events, job int
}

func stateOf(t *testing.T, m *Main) storeState {
	t.Helper()
	var s storeState
	err := m.store.View(context.Background(), func(tx cases.ReadTx) error {
		var err error
		if s.seq, s.hash, err = tx.AuditHead(); err != nil {
			return err
		}
		for _, q := range cases.Queues() {
			tx.Jobs(q, func(cases.Job) error { s.job++; return nil })
		}
		return tx.ForEachCase(func(c *cases.Case) error {
			s.cases++
			s.events += len(c.Events)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostileRequestsChangeNothing sends the whole HTTP surface of `exops
// serve` requests an attacker or a broken client would: unsigned, forged,
// stale or replayed, oversized, deeply nested, malformed or of unknown
// type. Each is refused with the status that names the problem, its answer
// carries no internal detail, and the store is exactly as it was.
func TestHostileRequestsChangeNothing(t *testing.T) {
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	const source, secret, slackSecret = "/erp/sim", "hostile-secret", "hostile-slack"
	m, err := NewMain(Config{DBPath: filepath.Join(t.TempDir(), "x.db"), Policy: pol, Addr: "127.0.0.1:0",
		SlackBotToken: "xoxb-hostile", SlackSigningSecret: slackSecret, SlackAPIURL: ls.APIURL(),
		SourceSecrets: map[string]string{source: secret}, Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-m.Ready()
	t.Cleanup(func() { cancel(); <-done; m.Close() })

	event := func(mutate func(map[string]any)) []byte {
		ev := map[string]any{"specversion": "1.0", "id": "h-1", "source": source, "type": "order.credit_hold",
			"time": testClock().Format(time.RFC3339), "data": map[string]any{"order": "SO-1", "customer": "C-1", "order_value": 900}}
		if mutate != nil {
			mutate(ev)
		}
		b, _ := json.Marshal(ev)
		return b
	}
	nested := func(depth int) any {
		var v any = "deep"
		for i := 0; i < depth; i++ {
			v = map[string]any{"n": v}
		}
		return v
	}
	// One real case first, so that a request that joined or changed it
	// would show.
	good := event(nil)
	if code := post(t, m, "/v1/events", "application/cloudevents+json", good, map[string]string{
		connectors.HeaderSource: source, connectors.HeaderSignature: connectors.Sign(secret, good)}); code != http.StatusOK {
		t.Fatalf("a good event: %d", code)
	}
	waitIdle(t, m)

	signed := func(body []byte) map[string]string {
		return map[string]string{connectors.HeaderSource: source, connectors.HeaderSignature: connectors.Sign(secret, body)}
	}
	slackSigned := func(body []byte, at time.Time) map[string]string {
		stamp := fmt.Sprint(at.Unix())
		return map[string]string{"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": localslack.Sign(slackSecret, stamp, body)}
	}
	form := func(kv ...string) []byte {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return []byte(v.Encode())
	}
	const ce, formType = "application/cloudevents+json", "application/x-www-form-urlencoded"
	other := event(func(ev map[string]any) { ev["id"] = "h-2" })
	huge := event(func(ev map[string]any) {
		ev["id"] = "h-3"
		ev["data"].(map[string]any)["note"] = strings.Repeat("x", 1_000_000)
	})
	deep := event(func(ev map[string]any) { ev["id"] = "h-4"; ev["data"].(map[string]any)["extra"] = nested(200) })
	wide := event(func(ev map[string]any) {
		ev["id"] = "h-5"
		d := ev["data"].(map[string]any)
		for i := 0; i < 1000; i++ {
			d[fmt.Sprintf("k%d", i)] = i
		}
	})
	unknown := event(func(ev map[string]any) { ev["id"] = "h-6"; ev["type"] = "order.teleported" })
	noID := event(func(ev map[string]any) { delete(ev, "id") })
	spoofed := event(func(ev map[string]any) { ev["id"] = "h-7"; ev["source"] = "/erp/other" })
	scalarData := event(func(ev map[string]any) { ev["id"] = "h-8"; ev["data"] = "text" })
	badBatch, _ := json.Marshal([]json.RawMessage{other, unknown})
	malformed := []byte(`{"specversion":"1.0","id":`)
	click := form("payload", `{"type":"block_actions","user":{"id":"U0X"},"actions":[{"action_id":"approve","value":"CASE-1"}]}`)
	command := form("command", "/exops", "text", "resolve CASE-000001", "user_id", "U0X", "channel_id", "C0OPS", "team_id", "T0EXOPS01")
	callback := []byte(`{"type":"event_callback","event_id":"Ev0HOSTILE","event":{"type":"app_mention","user":"U0X","text":"<@U0BOT> resolve CASE-000001","channel":"C0OPS","ts":"1.1"}}`)
	now := time.Now()

	tests := []struct {
		name, path, ctype string
		body              []byte
		headers           map[string]string
		want              int
	}{
		{"event unsigned", "/v1/events", ce, other, map[string]string{connectors.HeaderSource: source}, http.StatusUnauthorized},
		{"event without source", "/v1/events", ce, other, map[string]string{connectors.HeaderSignature: connectors.Sign(secret, other)}, http.StatusUnauthorized},
		{"event forged signature", "/v1/events", ce, other, map[string]string{connectors.HeaderSource: source, connectors.HeaderSignature: connectors.Sign("guess", other)}, http.StatusUnauthorized},
		{"event signature of another body", "/v1/events", ce, other, map[string]string{connectors.HeaderSource: source, connectors.HeaderSignature: connectors.Sign(secret, good)}, http.StatusUnauthorized},
		{"event from an unknown source", "/v1/events", ce, other, map[string]string{connectors.HeaderSource: "/erp/rogue", connectors.HeaderSignature: connectors.Sign(secret, other)}, http.StatusUnauthorized},
		{"event body speaks for another source", "/v1/events", ce, spoofed, signed(spoofed), http.StatusForbidden},
		{"event malformed JSON", "/v1/events", ce, malformed, signed(malformed), http.StatusBadRequest},
		{"event without id", "/v1/events", ce, noID, signed(noID), http.StatusBadRequest},
		{"event data not an object", "/v1/events", ce, scalarData, signed(scalarData), http.StatusBadRequest},
		{"event of unknown type", "/v1/events", ce, unknown, signed(unknown), http.StatusUnprocessableEntity},
		{"batch with one unknown type", "/v1/events", "application/cloudevents-batch+json", badBatch, signed(badBatch), http.StatusUnprocessableEntity},
		{"event with a 1 MB field", "/v1/events", ce, huge, signed(huge), http.StatusRequestEntityTooLarge},
		{"event nested 200 deep", "/v1/events", ce, deep, signed(deep), http.StatusBadRequest},
		{"event with 1,000 keys", "/v1/events", ce, wide, signed(wide), http.StatusRequestEntityTooLarge},
		{"event as plain text", "/v1/events", "text/plain", other, signed(other), http.StatusUnsupportedMediaType},
		{"interaction unsigned", "/slack/interactions", formType, click, nil, http.StatusUnauthorized},
		{"interaction forged", "/slack/interactions", formType, click, map[string]string{"X-Slack-Request-Timestamp": fmt.Sprint(now.Unix()), "X-Slack-Signature": "v0=00"}, http.StatusUnauthorized},
		{"interaction signed 10 minutes ago", "/slack/interactions", formType, click, slackSigned(click, now.Add(-10*time.Minute)), http.StatusUnauthorized},
		{"interaction signed in the future", "/slack/interactions", formType, click, slackSigned(click, now.Add(10*time.Minute)), http.StatusUnauthorized},
		{"interaction without payload", "/slack/interactions", formType, form("x", "y"), slackSigned(form("x", "y"), now), http.StatusBadRequest},
		{"interaction of 3 MB (over the 2 MB bound)", "/slack/interactions", formType, bytes.Repeat([]byte("a"), 3<<20), nil, http.StatusRequestEntityTooLarge},
		{"command unsigned", "/slack/commands", formType, command, nil, http.StatusUnauthorized},
		{"command signed with another secret", "/slack/commands", formType, command, map[string]string{"X-Slack-Request-Timestamp": fmt.Sprint(now.Unix()), "X-Slack-Signature": localslack.Sign("other", fmt.Sprint(now.Unix()), command)}, http.StatusUnauthorized},
		{"events API unsigned", "/slack/events", "application/json", callback, nil, http.StatusUnauthorized},
		{"events API stale", "/slack/events", "application/json", callback, slackSigned(callback, now.Add(-time.Hour)), http.StatusUnauthorized},
		{"events API not JSON", "/slack/events", "application/json", []byte("{"), slackSigned([]byte("{"), now), http.StatusBadRequest},
	}
	before := stateOf(t, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := postBody(t, m, tt.path, tt.ctype, tt.body, tt.headers)
			if code != tt.want {
				t.Errorf("status %d, want %d (%s)", code, tt.want, body)
			}
			for _, leak := range []string{"127.0.0.1", "tcp ", "goroutine", ".go:"} {
				if strings.Contains(body, leak) {
					t.Errorf("the answer carries internal detail %q: %s", leak, body)
				}
			}
		})
	}
	waitIdle(t, m)
	if after := stateOf(t, m); after != before {
		t.Errorf("refused requests changed the store: before %+v, after %+v", before, after)
	}
}

func post(t *testing.T, m *Main, path, ctype string, body []byte, headers map[string]string) int {
	code, _ := postBody(t, m, path, ctype, body, headers)
	return code
}

func postBody(t *testing.T, m *Main, path, ctype string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.Addr()+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}

func waitIdle(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m.bot.Wait()
	if err := m.engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}
