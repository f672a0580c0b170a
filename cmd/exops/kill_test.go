package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// TestReplicaProcessesSurviveKill9 runs three `exops serve` processes (the
// real binary) on one PostgreSQL schema and one local Slack, sends a
// bounded stream of events round-robin, and kill -9s a replica twice in the
// middle (one is started again). A sender whose replica died sends the same
// event to the next one, as a load balancer would. Afterwards every
// acknowledged event is in exactly one case, no card was posted twice and
// the audit chain verifies.
func TestReplicaProcessesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	store := postgresURL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "exops")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	polFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polFile, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	const source, secret = "/erp/sim", "kill-secret"
	type proc struct {
		cmd  *exec.Cmd
		addr string
	}
	start := func(name string) *proc {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(bin, "serve", "--store", store, "--policy", polFile, "--addr", addr)
		cmd.Env = append(os.Environ(), "SLACK_BOT_TOKEN=xoxb-kill", "SLACK_API_URL="+ls.APIURL(), "SLACK_SIGNING_SECRET=s",
			"EXOPS_SOURCE_SECRETS="+source+"="+secret, "EXOPS_REPLICA="+name, "EXOPS_JOB_LEASE=5s")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd: cmd, addr: addr}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s never became ready:\n%s", name, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	kill := func(p *proc) {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
	reps := []*proc{start("r1"), start("r2"), start("r3")}
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
	acked := map[string]bool{}
	dead := map[int]bool{}
	for i, ev := range evs {
		switch i {
		case 60:
			kill(reps[1])
			dead[1] = true
		case 100:
			reps[1] = start("r2") // back, as an orchestrator restarts it
			dead[1] = false
		case 130:
			kill(reps[2])
			dead[2] = true
		}
		body, _ := json.Marshal(ev)
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
	// Read the shared store while the survivors work the queues off.
	s, err := openStore(store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		waiting := 0
		s.View(ctx, func(tx cases.ReadTx) error {
			for _, q := range cases.Queues() {
				tx.Jobs(q, func(j cases.Job) error {
					if j.NotBefore.Before(time.Now().Add(time.Minute)) {
						waiting++
					}
					return nil
				})
			}
			return nil
		})
		if waiting == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d jobs still waiting after 3 minutes", waiting)
		}
		time.Sleep(200 * time.Millisecond)
	}
	inCase := map[string]int{}
	cards := 0
	if err := s.View(ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			if c.Slack.TS != "" {
				cards++
			}
			if c.Status != cases.StatusMerged {
				for _, e := range c.Events {
					inCase[e.ID]++
				}
			}
			return nil
		})
	}); err != nil {
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
			t.Errorf("card %s posted %d times", c, n)
		}
	}
	if cards == 0 || len(posted) != cards {
		t.Errorf("%d cases have a card, %d distinct cards were posted", cards, len(posted))
	}
	res, err := audit.Verify(ctx, s)
	if err != nil || res.Checked == 0 {
		t.Errorf("audit verify: %+v, %v", res, err)
	}
	t.Logf("%d events acknowledged through 2 kill -9s, %d cases with cards, %d audit records verified", len(acked), cards, res.Checked)
}
