package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/bot"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestOutageDeliversEverythingOnceInOrder: Slack answers 500s and 429s for a
// while; after it, every card and thread reply is there exactly once, each
// thread in the order its events came.
func TestOutageDeliversEverythingOnceInOrder(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	ls := localslack.New(clk.Now)
	defer ls.Close()
	b, err := bot.NewNotifier(bot.Config{BotToken: "xoxb-test", APIURL: ls.APIURL(), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(t.TempDir()+"/o.db", bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	sim := connectors.NewSimulator(clk.Now)
	rules := agents.NewRules(clk.Now)
	eng, err := cases.New(cases.Config{Store: st, Policy: pol, Agents: rules, Enricher: sim, Executor: sim, Notifier: b,
		Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ls.Outage("chat.postMessage", localslack.Failure{Status: 500}, localslack.Failure{Status: 502}, localslack.Failure{Status: 429, RetryAfter: 30},
		localslack.Failure{Status: 503}, localslack.Failure{Status: 500})
	ls.Outage("chat.update", localslack.Failure{Status: 500}, localslack.Failure{Status: 429, RetryAfter: 10})

	event := func(id, typ string, at time.Time, data map[string]any) cases.Event {
		raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/erp", "type": typ, "time": at.Format(time.RFC3339), "data": data})
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	var events []cases.Event
	for i := 0; i < 3; i++ { // three orders, each with three events joining one case
		order, at := fmt.Sprintf("SO-%d", i), clk.Now()
		events = append(events,
			event(order+"-a", "order.credit_hold", at, map[string]any{"order": order, "customer": "C-" + order, "reason": fmt.Sprintf("hold %d", i)}),
		)
	}
	if _, err := eng.Ingest(ctx, events); err != nil {
		t.Fatal(err)
	}
	// Let the cards go out (through the outage), then more events join.
	drain := func() {
		for i := 0; i < 200; i++ {
			if err := eng.RunPending(ctx); err != nil {
				t.Fatal(err)
			}
			n := 0
			st.View(ctx, func(tx cases.ReadTx) error {
				return tx.Jobs(cases.QueueOutbox, func(cases.Job) error { n++; return nil })
			})
			if n == 0 {
				return
			}
			clk.Add(5 * time.Second)
		}
		t.Fatal("the outbox never drained")
	}
	drain()
	var more []cases.Event
	for i := 0; i < 3; i++ {
		order, at := fmt.Sprintf("SO-%d", i), clk.Now()
		more = append(more,
			event(order+"-b", "order.allocation_conflict", at, map[string]any{"order": order, "customer": "C-" + order, "sku": "SKU-12", "quantity": 10,
				"allocations": []any{map[string]any{"warehouse": "DAL", "quantity": 5}, map[string]any{"warehouse": "ATL", "quantity": 5}}}),
			event(order+"-c", "shipment.delayed", at.Add(time.Second), map[string]any{"shipment": "ASN-" + order, "supplier": "Northwind",
				"original_eta": "2026-11-27", "new_eta": "2026-11-30", "orders": []any{order}}),
		)
	}
	// Some replies are taken by Slack and their answers lost (a 500 after
	// the post): the retries find them in the thread and post nothing again.
	ls.Outage("chat.postMessage", localslack.Failure{Status: 500}, localslack.Failure{Status: 429, RetryAfter: 20},
		localslack.Failure{Status: 500, AfterPost: true}, localslack.Failure{Status: 500}, localslack.Failure{Status: 502, AfterPost: true})
	if _, err := eng.Ingest(ctx, more); err != nil {
		t.Fatal(err)
	}
	drain()

	posts := ls.Transcript()
	cards := map[string]string{} // ts → case
	replies := map[string][]string{}
	for _, p := range posts {
		if p.Method == "chat.postMessage" && p.ThreadTS == "" {
			if id := strings.Fields(p.Text)[0]; true {
				if _, dup := cards[p.TS]; dup {
					t.Errorf("two posts with ts %s", p.TS)
				}
				cards[p.TS] = id
			}
		}
	}
	for _, p := range posts {
		if p.Method == "chat.postMessage" && p.ThreadTS != "" {
			replies[cards[p.ThreadTS]] = append(replies[cards[p.ThreadTS]], p.Text)
		}
	}
	perCase := map[string]int{}
	for _, id := range cards {
		perCase[id]++
	}
	for _, id := range []string{"EX-000001", "EX-000002", "EX-000003"} {
		if perCase[id] != 1 {
			t.Errorf("%s has %d cards, want exactly 1", id, perCase[id])
		}
		r := replies[id]
		if len(r) != 2 || !strings.Contains(r[0], "split across warehouses") || !strings.Contains(r[1], "Inbound shipment") {
			t.Errorf("%s thread = %q, want the split allocation then the delay, once each", id, r)
		}
	}
}
