package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
)

func exops(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string {
		if k == "EXOPS_CLOCK_OFFSET" {
			return testOffset
		}
		return ""
	})
	return code, out.String(), errb.String()
}

// runDemo plays the demo into a kept database and returns its path.
func runDemo(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "exops.db")
	code, out, errOut := exops(t, "demo", "--db", db)
	if code != 0 {
		t.Fatalf("demo exited %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Demo passed: 8 of 8 steps.") {
		t.Fatalf("demo output lacks the pass line:\n%s", out)
	}
	return db
}

// TestDemoScenario plays the whole product: signed events over HTTP, cards
// to a slacktest-based Slack, signed clicks, the audit check. The demo
// itself fails on any step that does not happen; this test also checks what
// it left in the database.
func TestDemoScenario(t *testing.T) {
	db := runDemo(t)
	// Played again on the same file, the demo says why it cannot, and
	// leaves the file as it was.
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := exops(t, "demo", "--db", db); code == 0 || !strings.Contains(errOut, "already holds data") {
		t.Errorf("demo on a used store: exit %d, %q", code, errOut)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Errorf("demo on a used store changed it")
	}
	code, out, _ := exops(t, "cases", "list", "--db", db)
	if code != 0 {
		t.Fatalf("cases list exited %d", code)
	}
	for _, want := range []string{
		"EX-000001  open      critical",
		"allocation_conflict,supplier_delay,credit_hold",
		"EX-000002  resolved",
		"EX-000003  resolved",
		"3 cases",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("cases list lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = exops(t, "cases", "show", "EX-000003", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("cases show exited %d", code)
	}
	var c cases.Case
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	var approver, refusedAudited bool
	for _, d := range c.Decisions {
		if d.Actor == demoAPLead && d.Choice == cases.ChoiceApprove {
			approver = true
		}
		if d.Actor == demoIntern {
			t.Errorf("a refused click became a decision: %+v", d)
		}
	}
	if !approver || c.Status != cases.StatusResolved {
		t.Errorf("EX-000003: status %s, decisions %+v", c.Status, c.Decisions)
	}
	code, out, _ = exops(t, "audit", "export", "--db", db, "--format", "ndjson", "--case", "EX-000003")
	if code != 0 {
		t.Fatalf("audit export exited %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"seq", "time", "case", "kind", "action", "actor", "verdict", "confidence", "policy_version", "prev_hash", "hash"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("export record lacks %q: %s", k, sc.Text())
			}
		}
		if rec["kind"] == cases.AuditRefused && rec["actor"] == demoIntern {
			refusedAudited = true
		}
	}
	if !refusedAudited {
		t.Error("the refused click is not in the audit export")
	}
}

// TestAuditVerifyFindsTamperedRecord edits one audit record in the database
// file itself, as someone with disk access would, and expects verify to name
// that record's sequence number.
func TestAuditVerifyFindsTamperedRecord(t *testing.T) {
	db := runDemo(t)
	code, out, _ := exops(t, "audit", "verify", "--db", db)
	if code != 0 || !regexp.MustCompile(`intact: \d+ records checked`).MatchString(out) {
		t.Fatalf("verify on the untouched log: exit %d, %q", code, out)
	}
	// Find the refused click's record and its seq.
	_, export, _ := exops(t, "audit", "export", "--db", db, "--format", "ndjson")
	var seq float64
	for _, line := range strings.Split(strings.TrimSpace(export), "\n") {
		var rec map[string]any
		json.Unmarshal([]byte(line), &rec)
		if rec["kind"] == cases.AuditRefused {
			seq = rec["seq"].(float64)
		}
	}
	if seq == 0 {
		t.Fatal("no refused record in the demo's log")
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	// The refused record is the only one with this actor: make the intern
	// look like someone else (same length, so the file stays readable).
	old := []byte(`"actor":"` + demoIntern + `"`)
	forged := []byte(`"actor":"U0INTERX"`)
	if !bytes.Contains(raw, old) {
		t.Fatal("record not found in the file")
	}
	if err := os.WriteFile(db, bytes.ReplaceAll(raw, old, forged), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = exops(t, "audit", "verify", "--db", db)
	want := fmt.Sprintf("BROKEN at record %d:", int(seq))
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("verify after tampering: exit %d, %q; want exit 1 and %q", code, out, want)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"audit", "export", "--db", "x.db"}, 2, "--format csv or --format ndjson"},
		{[]string{"audit", "verify", "--db", "/nonexistent/exops.db"}, 1, "open database"},
		{[]string{"cases", "show"}, 2, "needs a case id"},
		{[]string{"serve", "--db", "x.db"}, 1, "no policy file"},
		{[]string{"demo", "--help"}, 0, "Usage: exops demo"},
		{[]string{"audit", "export", "--help"}, 0, "--format"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := exops(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

func TestServeNeedsBotToken(t *testing.T) {
	code, _, errOut := exops(t, "serve", "--db", filepath.Join(t.TempDir(), "x.db"), "--policy", "../../policies/examples/distributor.yaml")
	if code != 1 || !strings.Contains(errOut, "SLACK_BOT_TOKEN") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestDemoOnAnyDay plays the demo with the business clock moved five years
// ahead and one year back. It passes unchanged, and the dates on its cards
// agree with the evidence behind them: the order's promise date and the
// shipment's new ETA are the simulator's, days from the moved clock.
func TestDemoOnAnyDay(t *testing.T) {
	for _, offset := range []string{"5y", "-1y"} {
		t.Run(offset, func(t *testing.T) {
			d, err := parseOffset(offset)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now().Add(d).UTC()
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"demo", "--db", filepath.Join(t.TempDir(), "exops.db")}, &out, &errb,
				func(k string) string {
					if k == "EXOPS_CLOCK_OFFSET" {
						return offset
					}
					return ""
				})
			after := time.Now().Add(d).UTC()
			if code != 0 || !strings.Contains(out.String(), "Demo passed: 8 of 8 steps.") {
				t.Fatalf("demo at %s exited %d\n%s\n%s", offset, code, out.String(), errb.String())
			}
			day := func(base time.Time, n int) string { return base.AddDate(0, 0, n).Format("2006-01-02") }
			found := false
			for _, base := range []time.Time{before, after} { // the demo may straddle midnight
				if strings.Contains(out.String(), "promised for "+day(base, connectors.SimulatorPromiseOffset)) &&
					strings.Contains(out.String(), "slipped 5 days to "+day(base, connectors.SimulatorETAOffset)) {
					found = true
				}
			}
			if !found {
				t.Errorf("demo at %s: the card's promise and ETA are not days %d and %d from %s:\n%s", offset,
					connectors.SimulatorPromiseOffset, connectors.SimulatorETAOffset, before.Format("2006-01-02"), out.String())
			}
			if !strings.Contains(out.String(), "✓ new ETA misses a customer promise") {
				t.Errorf("demo at %s: the evidence no longer says the ETA misses the promise:\n%s", offset, out.String())
			}
		})
	}
}

// `exops cases show` and `cases list` cannot be made to rewrite the
// operator's terminal by what an event said.
func TestCasesShowEscapesControlCharacters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "exops.db")
	s, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &cases.Case{ID: "EX-000001", Status: cases.StatusOpen, Severity: cases.SeverityHigh, Priority: "P2", Team: "ops\x1b[2J", OpenedAt: testClock(),
		Families: []cases.Family{cases.FamilyCreditHold}, Summary: "pay\a now \u202egpj.exe\x1b]0;owned\a"}
	if err := s.Update(context.Background(), func(tx cases.Tx) error { return tx.PutCase(c) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, args := range [][]string{{"cases", "show", "EX-000001", "--db", db}, {"cases", "list", "--db", db}} {
		code, out, errOut := exops(t, args...)
		if code != 0 {
			t.Fatalf("%v exited %d: %s", args, code, errOut)
		}
		if strings.ContainsAny(out, "\x1b\a\u202e") {
			t.Errorf("%v printed control characters: %q", args, out)
		}
		if !strings.Contains(out, `\u001b[2J`) {
			t.Errorf("%v hides the escape instead of showing it: %q", args, out)
		}
	}
}
