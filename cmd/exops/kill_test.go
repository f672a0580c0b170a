package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// natsURL is the JetStream server the NATS tests use. Without one the test
// skips, saying how to start it; under CI it fails.
func natsURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EXOPS_TEST_NATS")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	host := u
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		host = p.Host
	}
	if c, err := net.DialTimeout("tcp", host, 2*time.Second); err != nil {
		msg := fmt.Sprintf("NATS JetStream not reachable at %s (%v); start it with "+
			"`start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log` or set EXOPS_TEST_NATS", host, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	} else {
		c.Close()
	}
	return u
}

// fastEscalation is the example policy with escalation steps seconds after a
// case opens, so that they fall due while replicas are being killed.
func fastEscalation(t testing.TB) []byte {
	t.Helper()
	const from = `escalation:
  - {name: remind, after: first_touch, to: thread, unless_touched: true}
  - {name: managers, after: resolve, to: manager}
  - {name: leadership, after: resolve+4h, to: team:ops-leadership}`
	const to = `escalation:
  - {name: remind, after: 2s, to: thread}
  - {name: managers, after: 5s, to: manager}`
	if !bytes.Contains(policies.Example, []byte(from)) {
		t.Fatal("the example policy's escalation block changed; update fastEscalation")
	}
	return bytes.Replace(policies.Example, []byte(from), []byte(to), 1)
}

// TestReplicaProcessesSurviveKill9 runs three `exops serve` processes (the
// real binary) on one PostgreSQL schema, one JetStream stream and one local
// Slack. It sends a bounded stream of events, alternately over HTTP
// (round-robin across the live replicas) and over NATS, and kill -9s a
// replica three times in the middle (two are started again), the schedules'
// leader among them. A sender whose replica died sends the same event to the
// next one, as a load balancer would. Afterwards every acknowledged event is
// in exactly one case, no card, thread reply or manager-channel post was posted twice, each
// escalation step fired once per case, and the audit chain verifies.
func TestReplicaProcessesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	store := postgresURL(t)
	natsAddr := natsURL(t)
	dir := t.TempDir()
	bin := buildExops(t)
	polFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polFile, fastEscalation(t), 0o600); err != nil {
		t.Fatal(err)
	}
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)

	// One stream, consumer and dead-letter subject of this run's own.
	var b [4]byte
	rand.Read(b[:])
	run := hex.EncodeToString(b[:])
	stream, prefix := "KILL_"+run, "killtest."+run
	nc, err := nats.Connect(natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		js.DeleteStream(ctx, stream)
		js.DeleteStream(ctx, stream+"_DLQ")
	})

	const source, secret = "/erp/sim", "kill-secret"
	start := func(name string) *serveProc {
		return startServe(t, bin, []string{"SLACK_BOT_TOKEN=xoxb-kill", "SLACK_API_URL=" + ls.APIURL(), "SLACK_SIGNING_SECRET=s",
			"EXOPS_SOURCE_SECRETS=" + source + "=" + secret, "EXOPS_REPLICA=" + name,
			"EXOPS_JOB_LEASE=5s", "EXOPS_LEADER_LEASE=3s", "EXOPS_TIMER_EVERY=1s",
			"EXOPS_NATS_URL=" + natsAddr, "EXOPS_NATS_STREAM=" + stream, "EXOPS_NATS_SUBJECTS=" + prefix + ".>",
			"EXOPS_NATS_CONSUMER=exops_" + run, "EXOPS_NATS_DEADLETTER=" + prefix + "_dead",
			"EXOPS_NATS_DEADLETTER_STREAM=" + stream + "_DLQ", "EXOPS_NATS_SOURCES=" + prefix + ".erp.=" + source},
			30*time.Second, "--store", store, "--policy", polFile)
	}
	// r1 starts first, so it takes the schedules' leader lease; its kill at
	// 150 makes another replica take over the escalation timers.
	reps := []*serveProc{start("r1"), start("r2"), start("r3")}
	evs := connectors.GenerateEvents(180, 11, source, testClock().Truncate(time.Second), "kill-")
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(addr string, body []byte) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set(connectors.HeaderSource, source)
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, body))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	ctx := context.Background()
	acked := map[string]bool{}
	overNATS := 0
	dead := map[int]bool{}
	for i, ev := range evs {
		switch i {
		case 50:
			reps[1].kill9()
			dead[1] = true
		case 90:
			reps[1] = start("r2") // back, as an orchestrator restarts it
			dead[1] = false
		case 120:
			reps[2].kill9()
			dead[2] = true
		case 150:
			reps[0].kill9() // the leader
			dead[0] = true
		case 165:
			reps[2] = start("r3")
			dead[2] = false
		}
		body, _ := json.Marshal(ev)
		if i%2 == 1 {
			// JetStream acknowledges once the stream holds the message;
			// the replicas' shared consumer takes it from there.
			if _, err := js.Publish(ctx, prefix+".erp.orders", body, jetstream.WithMsgID(ev.ID)); err == nil {
				acked[ev.ID] = true
				overNATS++
			}
			continue
		}
		for try := 0; try < 3; try++ {
			k := (i + try) % 3
			if dead[k] {
				continue
			}
			code, err := send(reps[k].addr, body)
			if err == nil && code == http.StatusOK {
				acked[ev.ID] = true
				break
			}
		}
	}
	if len(acked) != len(evs) {
		t.Errorf("%d of %d events acknowledged", len(acked), len(evs))
	}

	s, err := openStore(store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Wait while the survivors take in what NATS holds, work the queues off
	// and take every escalation step that falls due.
	deadline := time.Now().Add(4 * time.Minute)
	var inCase map[string]int
	cards, open := 0, 0
	for {
		waiting, timers := 0, 0
		inCase = map[string]int{}
		cards, open = 0, 0
		err := s.View(ctx, func(tx cases.ReadTx) error {
			for _, q := range cases.Queues() {
				tx.Jobs(q, func(j cases.Job) error {
					if j.NotBefore.Before(time.Now().Add(time.Minute)) {
						waiting++
					}
					return nil
				})
			}
			tx.DueTimers(time.Now().Add(time.Hour), func(string, time.Time) error { timers++; return nil })
			return tx.ForEachCase(func(c *cases.Case) error {
				if c.Slack.TS != "" {
					cards++
				}
				if c.Status == cases.StatusOpen {
					open++
				}
				if c.Status != cases.StatusMerged {
					for _, e := range c.Events {
						inCase[e.ID]++
					}
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for id := range acked {
			if inCase[id] == 0 {
				missing++
			}
		}
		if waiting == 0 && timers == 0 && missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			s.View(ctx, func(tx cases.ReadTx) error {
				for _, q := range cases.Queues() {
					tx.Jobs(q, func(j cases.Job) error {
						t.Logf("left in %s: %+v", q, j)
						return nil
					})
				}
				return nil
			})
			for i, r := range reps {
				if !dead[i] {
					t.Logf("replica %d log tail:\n%s", i+1, tail(r.logs.String(), 3000))
				}
			}
			t.Fatalf("after 4 minutes: %d jobs waiting, %d timers set, %d acknowledged events in no case", waiting, timers, missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for id := range acked {
		if inCase[id] != 1 {
			t.Errorf("acknowledged event %s is in %d live cases, want 1", id, inCase[id])
		}
	}
	posted := map[string]int{}
	managerPosts := 0
	for _, p := range ls.Transcript() {
		if p.Method != "chat.postMessage" {
			continue
		}
		if len(p.Metadata) > 0 {
			// cards, thread replies and manager-channel posts, by their key
			posted[p.ThreadTS+" "+string(p.Metadata)]++
		}
		if strings.Contains(string(p.Metadata), "exops_post") {
			managerPosts++
		}
	}
	for c, n := range posted {
		if n > 1 {
			t.Errorf("message %s posted %d times", c, n)
		}
	}
	threadless := 0
	for k := range posted {
		if strings.HasPrefix(k, " ") && strings.Contains(k, "exops_case") {
			threadless++
		}
	}
	if cards == 0 || threadless != cards {
		t.Errorf("%d cases have a card, %d distinct cards were posted", cards, threadless)
	}
	// Each escalation step is taken once per case, whoever led at the time.
	var out bytes.Buffer
	if _, err := audit.ExportNDJSON(ctx, s, audit.Filter{}, &out); err != nil {
		t.Fatal(err)
	}
	steps := map[string]int{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == cases.AuditEscalated {
			steps[r.Case+" "+r.Action]++
		}
	}
	reminders, managers := 0, 0
	for k, n := range steps {
		if n != 1 {
			t.Errorf("escalation %s taken %d times", k, n)
		}
		if strings.HasSuffix(k, " remind") {
			reminders++
		} else if strings.HasSuffix(k, " managers") {
			managers++
		}
	}
	if managerPosts != managers {
		t.Errorf("%d manager steps were taken and %d manager-channel messages posted: each should be posted once", managers, managerPosts)
	}
	if reminders == 0 || managers == 0 {
		t.Errorf("escalations: %d reminders, %d manager steps; want both to have fired", reminders, managers)
	}
	res, err := audit.Verify(ctx, s)
	if err != nil || res.Checked == 0 {
		t.Errorf("audit verify: %+v, %v", res, err)
	}
	t.Logf("%d events acknowledged (%d over NATS) through 3 kill -9s; %d cases with cards (%d open); %d reminders and %d manager steps taken once each (%d manager-channel posts); %d audit records verified",
		len(acked), overNATS, cards, open, reminders, managers, managerPosts, res.Checked)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
