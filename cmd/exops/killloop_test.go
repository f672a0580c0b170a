package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// buildExops builds the real binary into a temporary directory of t.
func buildExops(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "exops")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// serveProc is one `exops serve` process.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts the binary with args and env and waits until /readyz
// answers 200 (or fails the test after wait).
func startServe(t *testing.T, bin string, env []string, wait time.Duration, args ...string) *serveProc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append(append([]string{"serve"}, args...), "--addr", addr)...)
	cmd.Env = append(os.Environ(), env...)
	p := &serveProc{cmd: cmd, addr: addr, logs: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exops serve never became ready:\n%s", p.logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// kill9 kills the process with SIGKILL and waits until it is gone, so its
// file lock is released.
func (p *serveProc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// queuedJobs sums exops_queue_jobs from /metrics (-1 when unreadable).
func (p *serveProc) queuedJobs() int {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "exops_queue_jobs{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return -1
		}
		n += int(v)
	}
	return n
}

// TestIngestSurvivesKill9Loop runs the real binary on a bbolt file and
// kill -9s it several times while a sender posts signed events, restarting
// it each time, as an orchestrator would. The sender retries an event until
// it is acknowledged, as a source does when its request fails. Afterwards
// every acknowledged event is in exactly one case, no card was posted twice
// (the local Slack's log), and the audit chain verifies, with its signed
// checkpoints too.
//
// The kills are placed by acknowledged count, not by time, so every run
// kills mid-stream whatever the machine's load; each wait is bounded.
func TestIngestSurvivesKill9Loop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildExops(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "exops.db")
	polFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polFile, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	keyEnv, pub := auditKey(t)
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	const (
		source, secret = "/erp/sim", "loop-secret"
		events         = 240
		checkpointChan = "#audit-checkpoints"
	)
	killAt := []int{40, 90, 140, 190} // acknowledged events before each kill
	env := []string{"SLACK_BOT_TOKEN=xoxb-loop", "SLACK_API_URL=" + ls.APIURL(), "SLACK_SIGNING_SECRET=s",
		"EXOPS_SOURCE_SECRETS=" + source + "=" + secret, envAuditKeyFile + "=" + keyEnv[envAuditKeyFile],
		envCheckpointEvery + "=25", envCheckpointChan + "=" + checkpointChan, envCheckpointFile + "=" + filepath.Join(dir, "shipped.ndjson")}
	const readyWait = 20 * time.Second
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()

	var (
		mu    sync.Mutex
		cur   = startServe(t, bin, env, readyWait, "--db", db, "--policy", polFile)
		acked = map[string]bool{}
		tries int
	)
	addr := func() string { mu.Lock(); defer mu.Unlock(); return cur.addr }
	evs := connectors.GenerateEvents(events, 19, source, testClock().Truncate(time.Second), "loop-")
	client := &http.Client{Timeout: 5 * time.Second}
	sendErr := make(chan error, 1)
	go func() {
		defer close(sendErr)
		for _, ev := range evs {
			body, _ := json.Marshal(ev)
			for {
				if ctx.Err() != nil {
					sendErr <- fmt.Errorf("event %s never acknowledged: %w", ev.ID, ctx.Err())
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr()+"/v1/events", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/cloudevents+json")
				req.Header.Set(connectors.HeaderSource, source)
				req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, body))
				resp, err := client.Do(req)
				mu.Lock()
				tries++
				mu.Unlock()
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						acked[ev.ID] = true
						mu.Unlock()
						break
					}
					if resp.StatusCode < 500 {
						sendErr <- fmt.Errorf("event %s refused with %d", ev.ID, resp.StatusCode)
						return
					}
				}
				time.Sleep(10 * time.Millisecond) // the process is down or restarting
			}
		}
	}()
	nAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for i, at := range killAt {
		for nAcked() < at {
			if ctx.Err() != nil {
				t.Fatalf("only %d events acknowledged before kill %d", nAcked(), i+1)
			}
			time.Sleep(2 * time.Millisecond)
		}
		mu.Lock()
		old := cur
		mu.Unlock()
		old.kill9()
		next := startServe(t, bin, env, readyWait, "--db", db, "--policy", polFile)
		mu.Lock()
		cur = next
		mu.Unlock()
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	ingest := time.Since(start)
	// Let the last process work its queues off (empty at two looks in a
	// row), then stop it cleanly.
	for empty := 0; empty < 2; {
		if ctx.Err() != nil {
			t.Fatalf("queues not empty after %v:\n%s", time.Since(start), cur.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
		if cur.queuedJobs() == 0 {
			empty++
		} else {
			empty = 0
		}
	}
	cur.cmd.Process.Signal(syscall.SIGTERM)
	if err := cur.cmd.Wait(); err != nil {
		t.Fatalf("exops serve did not stop cleanly: %v\n%s", err, cur.logs.String())
	}

	s, err := openStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inCase := map[string]int{}
	cards := 0
	waiting := 0
	if err := s.View(ctx, func(tx cases.ReadTx) error {
		for _, q := range cases.Queues() {
			tx.Jobs(q, func(cases.Job) error { waiting++; return nil })
		}
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
	if waiting != 0 {
		t.Errorf("%d jobs left in the queues", waiting)
	}
	if len(acked) != events {
		t.Errorf("%d of %d events acknowledged", len(acked), events)
	}
	for id := range acked {
		if inCase[id] != 1 {
			t.Errorf("acknowledged event %s is in %d live cases, want 1", id, inCase[id])
		}
	}
	posted := map[string]int{}
	var checkpointPosts []string
	for _, p := range ls.Transcript() {
		switch {
		case p.Method == "chat.postMessage" && p.ThreadTS == "" && strings.Contains(string(p.Metadata), "exops_case"):
			posted[string(p.Metadata)]++
		case p.Method == "chat.postMessage" && p.Channel == checkpointChan:
			checkpointPosts = append(checkpointPosts, p.Text)
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
	s.Close()
	// The signed checkpoints made across the kills verify too, with those
	// that reached the channel as the copy kept outside the database.
	if len(checkpointPosts) == 0 {
		t.Fatal("no checkpoint reached the channel")
	}
	f := filepath.Join(dir, "checkpoints.txt")
	os.WriteFile(f, []byte(strings.Join(checkpointPosts, "\n")+"\n"), 0o644)
	args := []string{"audit", "verify", "--db", db, "--pubkey", pub, "--checkpoint", f, "--checkpoint", filepath.Join(dir, "shipped.ndjson")}
	if code, out, errOut := exops(t, args...); code != 0 || !strings.Contains(out, "intact and signed") {
		t.Errorf("audit verify --pubkey: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("%d events acknowledged (%d requests) through %d kill -9s in %v; %d cases with cards, %d audit records verified, %d checkpoints posted; %v in all",
		len(acked), tries, len(killAt), ingest.Round(time.Millisecond), cards, res.Checked, len(checkpointPosts), time.Since(start).Round(time.Millisecond))
}
