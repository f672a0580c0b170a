package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/bot"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/postgres"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// TestOutboxOrderAcrossReplicas: two replicas deliver one PostgreSQL
// outbox in parallel; every case's card is posted once, before its
// replies, and the replies arrive once each, in the order they were queued.
func TestOutboxOrderAcrossReplicas(t *testing.T) {
	url, opts, err := postgresOptions(postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ls := localslack.New(testClock)
	defer ls.Close()
	// Slack's pace, 20 times faster: paced, yet quick.
	n, err := bot.NewNotifier(bot.Config{BotToken: "xoxb-test", APIURL: ls.APIURL(), Clock: testClock, Limits: bot.SlackLimits().Scaled(20)})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	burst := outboxBurst{channels: 6, newCases: 4, replies: 3}
	var engines []*cases.Engine
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if i == 0 {
			seedBurst(t, st, n, burst, testClock)
		}
		sim := connectors.NewSimulator(testClock)
		eng, err := cases.New(cases.Config{Store: st, Policy: pol, Agents: agents.NewRules(testClock), Enricher: sim, Executor: sim,
			Notifier: n, Pacer: n, Now: testClock, Replica: fmt.Sprintf("r%d", i), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, eng)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, len(engines))
	for _, eng := range engines {
		go func() { eng.Run(runCtx); done <- struct{}{} }()
	}
	waitCtx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	for _, eng := range engines {
		if err := eng.WaitIdle(waitCtx); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for range engines {
		<-done
	}
	cardTS := map[string]string{} // case → ts of its card
	caseOf := map[string]string{} // card ts → case
	replies := map[string][]string{}
	for _, p := range ls.Transcript() {
		if p.ThreadTS == "" {
			id := strings.Fields(p.Text)[0]
			if _, dup := cardTS[id]; dup {
				t.Errorf("card of %s posted twice", id)
			}
			cardTS[id], caseOf[p.TS] = p.TS, id
			continue
		}
		id, ok := caseOf[p.ThreadTS]
		if !ok {
			t.Errorf("reply %q arrived before its card", p.Text)
			continue
		}
		replies[id] = append(replies[id], p.Text)
	}
	if len(cardTS) != burst.channels*burst.newCases {
		t.Errorf("%d cards posted, want %d", len(cardTS), burst.channels*burst.newCases)
	}
	for id := range cardTS {
		var want []string
		for r := 1; r <= burst.replies; r++ {
			want = append(want, fmt.Sprintf("New event %d on %s.", r, id))
		}
		if got := strings.Join(replies[id], " | "); got != strings.Join(want, " | ") {
			t.Errorf("%s replies: %s, want %s", id, got, strings.Join(want, " | "))
		}
	}
}
