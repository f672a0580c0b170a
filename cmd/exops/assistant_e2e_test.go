package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// TestAssistantPaneEndToEnd runs the whole program, rules answerer and
// store included, behind Slack's assistant pane: the supplier prompt names
// a supplier that has open cases, and asking it lists exactly those cases,
// each linked to its card, in the pane's thread.
func TestAssistantPaneEndToEnd(t *testing.T) {
	r := newSlackRig(t)
	now := testClock().UTC()
	var evs []cases.Event
	for i, sup := range []string{"Northwind Fasteners", "Northwind Fasteners", "Contoso Packaging"} {
		raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": fmt.Sprintf("d%d", i), "source": "/tms", "type": "shipment.delayed",
			"time": now.Add(time.Duration(i-10) * time.Minute).Format(time.RFC3339), "data": map[string]any{
				"shipment": fmt.Sprintf("ASN-%d", 100+i), "po": fmt.Sprintf("PO-%d", 500+i), "supplier": sup, "quantity": 10,
				"original_eta": now.Format("2006-01-02"), "new_eta": now.AddDate(0, 0, 3).Format("2006-01-02")}})
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	res, err := r.m.engine.Ingest(r.ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	cards := map[string]cases.SlackRef{}
	r.m.store.View(r.ctx, func(tx cases.ReadTx) error {
		for _, x := range res {
			if c, err := tx.Case(x.Case); err == nil {
				cards[c.ID] = c.Slack
			}
		}
		return nil
	})
	if len(cards) != 3 {
		t.Fatalf("%d cases, want 3", len(cards))
	}

	const dm, thread = "D0PANE", "1732700000.000100"
	if err := r.ls.Event(r.ctx, r.url("/slack/events"), r.secret, "Ev0P1", localslack.AssistantThreadStarted("U0APLEAD", dm, thread, "C0AP")); err != nil {
		t.Fatal(err)
	}
	r.settle()
	var prompt string
	for _, c := range r.ls.AssistantCalls() {
		for _, p := range c.Prompts {
			if strings.HasPrefix(p.Title, "Cases for supplier ") {
				prompt = p.Message
			}
		}
	}
	// The newest open case with a supplier is Contoso's (opened last).
	if prompt != "Open cases for supplier Contoso Packaging" {
		t.Fatalf("supplier prompt %q; calls %+v", prompt, r.ls.AssistantCalls())
	}
	ask := "Open cases for supplier Northwind"
	if err := r.ls.Event(r.ctx, r.url("/slack/events"), r.secret, "Ev0P2", localslack.AssistantMessage("U0APLEAD", dm, thread, "1732700001.000100", ask)); err != nil {
		t.Fatal(err)
	}
	r.settle()
	var reply *localslack.Posted
	for _, p := range r.ls.Transcript() {
		if p.Channel == dm && p.ThreadTS == thread {
			reply = &p
		}
	}
	if reply == nil {
		t.Fatal("no answer in the pane's thread")
	}
	blocks := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(reply.Blocks))
	for _, x := range res[:2] { // Northwind's cases
		link := "<" + r.ls.Permalink(cards[x.Case].Channel, cards[x.Case].TS) + "|" + x.Case + ">"
		if !strings.Contains(blocks, link) {
			t.Errorf("the list lacks %s:\n%s", link, blocks)
		}
	}
	if strings.Contains(reply.Text, res[2].Case) {
		t.Errorf("the answer names Contoso's case %s: %s", res[2].Case, reply.Text)
	}
	if s := r.ls.AssistantStatus(dm, thread); s != "" {
		t.Errorf("status still %q", s)
	}
	titled := false
	for _, c := range r.ls.AssistantCalls() {
		titled = titled || c.Method == "setTitle" && c.Title == ask
	}
	if !titled {
		t.Errorf("thread not titled %q: %+v", ask, r.ls.AssistantCalls())
	}
}
