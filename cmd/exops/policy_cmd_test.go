package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
)

const examplePolicy = "../../policies/examples/distributor.yaml"

func TestPolicyCommands(t *testing.T) {
	db := runDemo(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: x\ndefault_team: a\nteams: {a: {channel: \"#a\"}}\nrouting:\n  - {when: \"amount\", team: a}\n"), 0o600)
	raw, _ := os.ReadFile(examplePolicy)
	stricter := filepath.Join(dir, "stricter.yaml")
	// AP accepts variances alone only under 10 USD now: the resolved invoice
	// case (15 USD at stake) would have gone to a person.
	os.WriteFile(stricter, []byte(strings.Replace(string(raw), `when: "amount < 1000.0"   # small money only`, `when: "amount < 10.0"`, 1)), 0o600)

	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"policy", "check", examplePolicy}, 0, []string{"ok, version 2026-11-27.2+sha256:"}},
		{[]string{"policy", "check", bad}, 1, []string{"bad.yaml:5: routing[0].when: condition `amount` is a double"}},
		{[]string{"policy", "explain", "--db", db, "--policy", examplePolicy, "EX-000001"}, 0, []string{
			"severity critical, routed to customer-service", "escalation remind", "release_credit_hold", "human-only action", "auto guard `customer_tier != \"strategic\"` → false"}},
		{[]string{"policy", "explain", "--db", db, "--policy", examplePolicy, "EX-000404"}, 1, []string{"no case EX-000404"}},
		{[]string{"policy", "diff", examplePolicy, stricter, "--db", db}, 0, []string{"replayed 3 cases", "1 verdicts change", "accept_price_variance: auto → approve  1"}},
		{[]string{"policy", "diff", examplePolicy, examplePolicy, "--db", db}, 0, []string{"0 verdicts change, 0 cases route elsewhere, 0 change severity"}},
		{[]string{"policy"}, 2, []string{"policy needs check, explain or diff"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:min(2, len(tt.args))], " "), func(t *testing.T) {
			code, out, errOut := exops(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

// TestPolicyReload: a running exops takes a valid new policy file and keeps
// the old one when the new one is broken.
func TestPolicyReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	raw, _ := os.ReadFile(examplePolicy)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ls := localslack.New(testClock)
	defer ls.Close()
	m, err := NewMain(Config{DBPath: filepath.Join(dir, "x.db"), PolicyPath: path, SlackBotToken: "xoxb-test", SlackAPIURL: ls.APIURL(), Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	first := m.engine.Policy().Version()

	if err := os.WriteFile(path, []byte("version: [broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.reloadPolicy("test"); err == nil {
		t.Fatal("a broken file was accepted")
	}
	if got := m.engine.Policy().Version(); got != first {
		t.Fatalf("policy in force changed to %s after a broken file", got)
	}
	changed := strings.Replace(string(raw), `version: "2026-11-27.2"`, `version: "2026-11-28.1"`, 1)
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.reloadPolicy("test"); err != nil {
		t.Fatal(err)
	}
	if got := m.engine.Policy().Version(); !strings.HasPrefix(got, "2026-11-28.1+sha256:") {
		t.Fatalf("policy in force is %s after reload", got)
	}

	// The watcher notices a change on disk by itself.
	m.cfg.PolicyCheckEvery = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go m.watchPolicy(ctx)
	time.Sleep(50 * time.Millisecond) // let the watcher take the file's first stamp
	again := strings.Replace(string(raw), `version: "2026-11-27.2"`, `version: "2026-11-29.1"`, 1)
	if err := os.WriteFile(path, []byte(again+"\n# touched\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for !strings.HasPrefix(m.engine.Policy().Version(), "2026-11-29.1") {
		select {
		case <-ctx.Done():
			t.Fatalf("the watcher did not reload: %s", m.engine.Policy().Version())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
