package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/postgres"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// postgresURL is the server the PostgreSQL tests use, with a fresh schema
// that is dropped when the test ends. Without a server the test skips,
// saying how to start one; under CI it fails.
func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("EXOPS_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (%v); start it with "+
			"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set EXOPS_TEST_POSTGRES", u.Host, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	} else {
		c.Close()
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "exops_replicas_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgres.DropSchema(ctx, base, schema); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestThreeReplicasOnPostgres runs three replicas of the whole program on
// one PostgreSQL schema and one Slack, sends events to them round-robin
// over HTTP and stops one in the middle. Afterwards every acknowledged
// event is in exactly one case, no card was posted twice, and the audit
// chain verifies.
func TestThreeReplicasOnPostgres(t *testing.T) {
	store := postgresURL(t)
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	const source, secret = "/erp/sim", "replica-secret"
	type replica struct {
		m    *Main
		stop func()
	}
	start := func(name string) replica {
		m, err := NewMain(Config{DBPath: store, Policy: pol, Addr: "127.0.0.1:0", SlackBotToken: "xoxb-rep",
			SlackSigningSecret: "s", SlackAPIURL: ls.APIURL(), SourceSecrets: map[string]string{source: secret}, Now: testClock,
			Getenv: func(k string) string {
				switch k {
				case "EXOPS_REPLICA":
					return name
				case "EXOPS_JOB_LEASE":
					// The replica stopped mid-stream may hold leases; with
					// the 2-minute default the others would take its jobs
					// over only as the wait below runs out.
					return "30s"
				}
				return ""
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		<-m.Ready()
		stopped := false
		stop := func() {
			if !stopped {
				stopped = true
				cancel()
				<-done
				m.Close()
			}
		}
		t.Cleanup(stop)
		return replica{m, stop}
	}
	reps := []replica{start("r1"), start("r2"), start("r3")}
	evs := connectors.GenerateEvents(240, 7, source, testClock().Truncate(time.Second), "rep-")
	acked := map[string]bool{}
	alive := []int{0, 1, 2}
	for i, ev := range evs {
		if i == len(evs)/2 {
			reps[1].stop() // a replica goes away mid-stream
			alive = []int{0, 2}
		}
		r := reps[alive[i%len(alive)]]
		body, _ := json.Marshal(ev)
		req, _ := http.NewRequest(http.MethodPost, "http://"+r.m.Addr()+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set(connectors.HeaderSource, source)
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			acked[ev.ID] = true
		}
	}
	if len(acked) != len(evs) {
		t.Errorf("%d of %d events acknowledged", len(acked), len(evs))
	}
	// The outbox paces cards at Slack's published rates (about one a second
	// a channel), so draining takes tens of seconds; on a loaded shared
	// machine 2 minutes was once not enough.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, i := range alive {
		reps[i].m.bot.Wait()
		if err := reps[i].m.engine.WaitIdle(ctx); err != nil {
			t.Fatalf("queues did not drain: %v", err)
		}
	}
	st := reps[0].m.store
	inCase := map[string]int{}
	cards := 0
	err = st.View(ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			if c.Slack.TS != "" {
				cards++ // merged cases keep the card they had
			}
			if c.Status == cases.StatusMerged {
				return nil
			}
			for _, e := range c.Events {
				inCase[e.ID]++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if inCase[id] != 1 {
			t.Errorf("acknowledged event %s is in %d live cases, want 1", id, inCase[id])
		}
	}
	posted := map[string]int{}
	for _, p := range ls.Transcript() {
		if p.Method == "chat.postMessage" && p.ThreadTS == "" && strings.Contains(string(p.Metadata), "exops_case") {
			posted[string(p.Metadata)]++
		}
	}
	for c, n := range posted {
		if n > 1 {
			t.Errorf("the card of %s was posted %d times", c, n)
		}
	}
	if cards == 0 || len(posted) != cards {
		t.Errorf("%d cases have a card, %d distinct cards were posted", cards, len(posted))
	}
	t.Logf("%d events, %d cases with cards, %d chat.postMessage calls in all", len(acked), cards, len(ls.Transcript()))
	res, err := audit.Verify(ctx, st)
	if err != nil || res.Checked == 0 {
		t.Errorf("audit verify: %+v, %v", res, err)
	}
}
