// Package storetest is the conformance suite every cases.Store passes. A
// store's own test calls Run with a function that opens a new, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// Run runs the suite. open must return a new, empty store each call; Run
// closes it when the subtest ends. The store must also be an audit.Log,
// since exports and verification read the log through it.
func Run(t *testing.T, open func(t *testing.T) cases.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cases.Store)
	}{
		{"CaseRoundTrip", testCaseRoundTrip},
		{"ReturnedValuesAreCopies", testCopies},
		{"CaseRefersToStoredEvents", testCaseRefs},
		{"EventRoundTrip", testEventRoundTrip},
		{"KeyRoundTrip", testKeyRoundTrip},
		{"NotFound", testNotFound},
		{"ForEachCaseOrder", testForEachCase},
		{"CaseNumbers", testCaseNumbers},
		{"UpdateSeesOwnWrites", testOwnWrites},
		{"AuditEmpty", testAuditEmpty},
		{"AuditChain", testAuditChain},
		{"AuditConcurrent", testAuditConcurrent},
		{"FailedUpdateLeavesNothing", testFailedUpdate},
		{"FailedUpdatesAmongConcurrent", testFailedConcurrent},
		{"ErrorsPassThrough", testErrorsPassThrough},
		{"ContextDone", testContextDone},
		{"ViewSeesCommittedOnly", testViewCommittedOnly},
		{"QueueOrder", testQueueOrder},
		{"QueueDedupe", testQueueDedupe},
		{"QueueUpdateJob", testQueueUpdateJob},
		{"QueueDeleteJob", testQueueDeleteJob},
		{"FindCases", testFindCases},
		{"FindCasesFollowsUpdates", testFindCasesUpdates},
		{"FindCasesMatchesScan", testFindCasesScan},
		{"FindCasesRolledBack", testFindCasesRolledBack},
		{"ReplayMemory", testReplayMemory},
		{"JoinsAppend", testAppends},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// base is the suite's clock: times are UTC with nanoseconds, as the engine
// stores them.
var base = time.Date(2025, 6, 2, 8, 30, 15, 123456789, time.UTC)

func update(t *testing.T, s cases.Store, fn func(tx cases.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s cases.Store, fn func(tx cases.ReadTx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func logOf(t *testing.T, s cases.Store) audit.Log {
	t.Helper()
	l, ok := s.(audit.Log)
	if !ok {
		t.Fatalf("%T is not an audit.Log", s)
	}
	return l
}

func records(t *testing.T, s cases.Store, from uint64) []audit.Record {
	t.Helper()
	var out []audit.Record
	if err := logOf(t, s).ForEachRecord(context.Background(), from, func(r audit.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("ForEachRecord: %v", err)
	}
	return out
}

func verify(t *testing.T, s cases.Store, want int) {
	t.Helper()
	res, err := audit.Verify(context.Background(), logOf(t, s))
	if err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
	if res.Checked != want {
		t.Errorf("audit.Verify checked %d records, want %d", res.Checked, want)
	}
	var seq uint64
	var hash string
	view(t, s, func(tx cases.ReadTx) (err error) { seq, hash, err = tx.AuditHead(); return err })
	if seq != uint64(want) || hash != res.Head {
		t.Errorf("AuditHead = %d %s, want %d %s", seq, hash, want, res.Head)
	}
}

// same fails the test with both values as JSON when they differ deeply.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s differs after the round trip\n--- got\n%s\n--- want\n%s\n--- got %#v", what, g, w, got)
	}
}

func wantKind(t *testing.T, what string, err error, kind cases.Kind) {
	t.Helper()
	if got := cases.KindOf(err); err == nil || got != kind {
		t.Errorf("%s: err = %v (kind %v), want kind %v", what, err, got, kind)
	}
}

// sampleCase fills every field, nested ones included; Data holds only what
// JSON gives back as the same Go value (strings, float64, bool, nil, []any,
// map[string]any).
func sampleCase(id string) *cases.Case {
	resolved := base.Add(90*time.Minute + 7)
	return &cases.Case{
		ID:         id,
		Version:    3,
		Families:   []cases.Family{cases.FamilyCreditHold, cases.FamilyAllocationConflict},
		Severity:   cases.SeverityHigh,
		Priority:   "P1",
		Team:       "credit",
		Channel:    "C0CREDIT",
		Status:     cases.StatusResolved,
		MergedFrom: []string{"EX-000009"},
		OpenedAt:   base,
		UpdatedAt:  base.Add(time.Minute),
		ResolvedAt: &resolved,
		SLADue:     base.Add(4 * time.Hour),
		Keys:       []string{"customer:ACME", "order:SO-1042"},
		Events: []cases.CaseEvent{{
			ID: "evt-1", Source: "erp/sap", Type: "order.credit_hold", Family: cases.FamilyCreditHold,
			Time: base.Add(-time.Minute), Received: base, Subject: "SO-1042",
			Data: map[string]any{"order": "SO-1042", "amount": 1234.5, "lines": []any{"a", "b"},
				"nested": map[string]any{"x": 1.0, "ok": true, "none": nil}},
		}},
		Context:   map[string]string{"credit_limit": "50000", "overdue": "0"},
		Missing:   []string{"eta"},
		Summary:   "Acme's order SO-1042 is on credit hold; \"limit\" <ok> ✓",
		SummaryBy: "fallback",
		Recommendations: []cases.Recommendation{{
			ID: "r1", Action: "release_credit_hold", Family: cases.FamilyCreditHold, Title: "Release the hold",
			Params: map[string]string{"order": "SO-1042"}, Confidence: 0.87,
			Evidence: []cases.Evidence{{Check: "within_limit", Passed: true, Weight: 0.5, Detail: "42k of 50k"},
				{Check: "no_overdue", Passed: false, Weight: 0.25}},
			Rationale: "within limit", By: "rules", Verdict: cases.VerdictApprove, VerdictReason: "amount over 10k",
			Approvers: []string{"U1", "U2"}, ApprovalsNeeded: 2, Approvals: []string{"U1"}, PolicyVersion: "v7",
			State: cases.RecApproved, Outcome: "queued",
		}},
		Decisions: []cases.Decision{{Time: base.Add(time.Hour), Actor: "U1", RecommendationID: "r1",
			Action: "release_credit_hold", Choice: cases.ChoiceApprove, Verdict: cases.VerdictApprove,
			Confidence: 0.87, PolicyVersion: "v7", Reason: "fine"}},
		Slack: cases.SlackRef{Channel: "C0CREDIT", TS: "1712345678.000100"},
	}
}

func sampleEvent(source, id string) *cases.StoredEvent {
	return &cases.StoredEvent{
		Event: cases.Event{SpecVersion: "1.0", ID: id, Source: source, Type: "shipment.delayed", Time: base,
			Subject: "SH-77", DataContentType: "application/json",
			Data: map[string]any{"shipment": "SH-77", "delay_days": 2.0, "orders": []any{"SO-1", "SO-2"}}},
		Digest:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Received: base.Add(time.Second),
		Result: cases.IngestResult{Source: source, ID: id, Case: "EX-000001", Outcome: "merged",
			Merged: []string{"EX-000002"}},
	}
}

func testCaseRoundTrip(t *testing.T, s cases.Store) {
	tests := []struct {
		name string
		c    *cases.Case
	}{
		{"full", sampleCase("EX-000001")},
		{"minimal", &cases.Case{ID: "EX-000002", Severity: cases.SeverityLow, Status: cases.StatusOpen, OpenedAt: base}},
		{"rewritten", func() *cases.Case {
			c := sampleCase("EX-000001")
			c.Version = 4
			c.Status = cases.StatusOpen
			c.ResolvedAt = nil
			return c
		}()},
	}
	for _, tt := range tests {
		update(t, s, func(tx cases.Tx) error { return tx.PutCase(tt.c) })
		view(t, s, func(tx cases.ReadTx) error {
			got, err := tx.Case(tt.c.ID)
			if err != nil {
				return err
			}
			same(t, tt.name+" case", got, tt.c)
			return nil
		})
	}
}

func testCopies(t *testing.T, s cases.Store) {
	c := sampleCase("EX-000001")
	update(t, s, func(tx cases.Tx) error { return tx.PutCase(c) })
	// Changing the value that was put changes nothing stored.
	c.Summary = "changed after PutCase"
	c.Recommendations[0].Approvals[0] = "U9"
	view(t, s, func(tx cases.ReadTx) error {
		got, err := tx.Case("EX-000001")
		if err != nil {
			return err
		}
		same(t, "case", got, sampleCase("EX-000001"))
		// Nor does changing what was read.
		got.Summary = "changed after Case"
		got.Context["credit_limit"] = "1"
		again, err := tx.Case("EX-000001")
		if err != nil {
			return err
		}
		same(t, "case read twice", again, sampleCase("EX-000001"))
		return nil
	})
}

// testCaseRefs: an event of a case that carries its stored event's digest
// is kept as a reference, and its data comes back from the stored event.
func testCaseRefs(t *testing.T, s cases.Store) {
	se := sampleEvent("tms", "ev-ref")
	se.Digest = "d1-" + strings.Repeat("a", 61)
	c := sampleCase("EX-000001")
	whole := c.Events[0]
	c.Events = append(c.Events, cases.CaseEventOf(se, cases.FamilySupplierDelay, base.Add(time.Minute)))
	if c.Events[1].Digest == "" || c.Events[1].Data["shipment"] != "SH-77" {
		t.Fatalf("CaseEventOf = %+v, want the stored event's data and digest", c.Events[1])
	}
	update(t, s, func(tx cases.Tx) error {
		if err := tx.PutEvent(se); err != nil {
			return err
		}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		got, err := tx.Case(c.ID) // in the writing transaction too
		if err != nil {
			return err
		}
		same(t, "case read in its own Update", got, c)
		return nil
	})
	view(t, s, func(tx cases.ReadTx) error {
		got, err := tx.Case(c.ID)
		if err != nil {
			return err
		}
		same(t, "case with a referenced event", got, c)
		same(t, "whole event beside it", got.Events[0], whole)
		return tx.ForEachCase(func(got *cases.Case) error {
			same(t, "case from ForEachCase", got, c)
			return nil
		})
	})
}

func testEventRoundTrip(t *testing.T, s cases.Store) {
	evs := []*cases.StoredEvent{sampleEvent("erp/sap", "1"), sampleEvent("wms", "1"), sampleEvent("erp/sap", "2")}
	update(t, s, func(tx cases.Tx) error {
		for _, ev := range evs {
			if err := tx.PutEvent(ev); err != nil {
				return err
			}
		}
		return nil
	})
	// Same id from another source is another event.
	evs[1].Result.Duplicate = true
	update(t, s, func(tx cases.Tx) error { return tx.PutEvent(evs[1]) })
	view(t, s, func(tx cases.ReadTx) error {
		for _, want := range evs {
			got, err := tx.Event(want.Event.Source, want.Event.ID)
			if err != nil {
				return err
			}
			same(t, "event "+want.Event.Source+" "+want.Event.ID, got, want)
		}
		return nil
	})
}

func testKeyRoundTrip(t *testing.T, s cases.Store) {
	refs := map[string]cases.KeyRef{
		"order:SO-1042":          {Case: "EX-000001", LastSeen: base},
		"sku@warehouse:A-1@WH-2": {Case: "EX-000002", LastSeen: base.Add(time.Hour)},
	}
	update(t, s, func(tx cases.Tx) error {
		for k, ref := range refs {
			if err := tx.PutKey(k, ref); err != nil {
				return err
			}
		}
		return nil
	})
	refs["order:SO-1042"] = cases.KeyRef{Case: "EX-000003", LastSeen: base.Add(2 * time.Hour)}
	update(t, s, func(tx cases.Tx) error { return tx.PutKey("order:SO-1042", refs["order:SO-1042"]) })
	view(t, s, func(tx cases.ReadTx) error {
		for k, want := range refs {
			got, err := tx.Key(k)
			if err != nil {
				return err
			}
			same(t, "key "+k, got, want)
		}
		return nil
	})
}

func testNotFound(t *testing.T, s cases.Store) {
	update(t, s, func(tx cases.Tx) error {
		if err := tx.PutCase(sampleCase("EX-000001")); err != nil {
			return err
		}
		if err := tx.PutEvent(sampleEvent("erp", "e1")); err != nil {
			return err
		}
		return tx.PutKey("order:SO-1", cases.KeyRef{Case: "EX-000001", LastSeen: base})
	})
	tests := []struct {
		name string
		get  func(tx cases.ReadTx) error
	}{
		{"case", func(tx cases.ReadTx) error { _, err := tx.Case("EX-000404"); return err }},
		{"case prefix", func(tx cases.ReadTx) error { _, err := tx.Case("EX-00000"); return err }},
		{"event id", func(tx cases.ReadTx) error { _, err := tx.Event("erp", "e2"); return err }},
		{"event other source", func(tx cases.ReadTx) error { _, err := tx.Event("wms", "e1"); return err }},
		{"event split differently", func(tx cases.ReadTx) error { _, err := tx.Event("er", "pe1"); return err }},
		{"key", func(tx cases.ReadTx) error { _, err := tx.Key("order:SO-2"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.View(context.Background(), func(tx cases.ReadTx) error {
				wantKind(t, tt.name, tt.get(tx), cases.KindNotFound)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// A Tx reads the same way.
			if err := s.Update(context.Background(), func(tx cases.Tx) error {
				wantKind(t, tt.name+" in Update", tt.get(tx), cases.KindNotFound)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testForEachCase(t *testing.T, s cases.Store) {
	ids := []string{"EX-000010", "EX-000002", "EX-000001", "EX-000100", "EX-000003"}
	update(t, s, func(tx cases.Tx) error {
		for _, id := range ids {
			if err := tx.PutCase(sampleCase(id)); err != nil {
				return err
			}
		}
		return nil
	})
	want := append([]string(nil), ids...)
	sort.Strings(want)
	var got []string
	view(t, s, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			got = append(got, c.ID)
			same(t, "case "+c.ID, c, sampleCase(c.ID))
			return nil
		})
	})
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ForEachCase order = %v, want %v", got, want)
	}

	stop := errors.New("stop")
	n := 0
	err := s.View(context.Background(), func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(*cases.Case) error {
			if n++; n == 2 {
				return stop
			}
			return nil
		})
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("ForEachCase stopping: err = %v after %d calls, want stop after 2", err, n)
	}

	// Writing cases while walking them in an Update visits each once.
	got = got[:0]
	update(t, s, func(tx cases.Tx) error {
		got = got[:0] // fn may run more than once
		return tx.ForEachCase(func(c *cases.Case) error {
			got = append(got, c.ID)
			c.Version++
			return tx.PutCase(c)
		})
	})
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ForEachCase with PutCase visited %v, want %v", got, want)
	}
}

func testCaseNumbers(t *testing.T, s cases.Store) {
	next := func(tx cases.Tx) uint64 {
		n, err := tx.NextCaseNumber()
		if err != nil {
			t.Fatalf("NextCaseNumber: %v", err)
		}
		return n
	}
	var got []uint64
	update(t, s, func(tx cases.Tx) error { got = append(got[:0], next(tx), next(tx)); return nil })
	var n3 uint64
	update(t, s, func(tx cases.Tx) error { n3 = next(tx); return nil })
	got = append(got, n3)
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("case numbers = %v, want [1 2 3]", got)
	}

	boom := errors.New("boom")
	for i := 0; i < 3; i++ {
		err := s.Update(context.Background(), func(tx cases.Tx) error { next(tx); next(tx); return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("failing Update = %v, want boom", err)
		}
	}
	update(t, s, func(tx cases.Tx) error { n3 = next(tx); return nil })
	if n3 != 4 {
		t.Errorf("after rolled-back Updates the next number is %d, want 4", n3)
	}
}

func testOwnWrites(t *testing.T, s cases.Store) {
	update(t, s, func(tx cases.Tx) error {
		c := sampleCase("EX-000001")
		if err := tx.PutCase(c); err != nil {
			return err
		}
		got, err := tx.Case(c.ID)
		if err != nil {
			return fmt.Errorf("Case after PutCase in the same Update: %w", err)
		}
		same(t, "case", got, c)
		seq, err := tx.Audit(cases.AuditEntry{Time: base, Case: c.ID, Kind: cases.AuditCaseOpened, Actor: cases.ActorExops})
		if err != nil {
			return err
		}
		hs, hh, err := tx.AuditHead()
		if err != nil {
			return err
		}
		if hs != seq || len(hh) != 64 {
			t.Errorf("AuditHead after Audit in the same Update = %d %q, want %d and a hash", hs, hh, seq)
		}
		j := &cases.Job{Kind: "summarize", Case: c.ID, Created: base}
		if err := tx.Enqueue(cases.QueueWork, j); err != nil {
			return err
		}
		var ids []uint64
		if err := tx.Jobs(cases.QueueWork, func(j cases.Job) error { ids = append(ids, j.ID); return nil }); err != nil {
			return err
		}
		if len(ids) != 1 || ids[0] != j.ID || j.ID == 0 {
			t.Errorf("Jobs after Enqueue in the same Update = %v, want [%d]", ids, j.ID)
		}
		return nil
	})
}

func testAuditEmpty(t *testing.T, s cases.Store) {
	view(t, s, func(tx cases.ReadTx) error {
		seq, hash, err := tx.AuditHead()
		if err != nil || seq != 0 || hash != "" {
			t.Errorf("AuditHead of an empty log = %d %q %v, want 0 \"\" nil", seq, hash, err)
		}
		return nil
	})
	verify(t, s, 0)
}

func entry(i int) cases.AuditEntry {
	return cases.AuditEntry{
		// A zone other than UTC: the record must come back in UTC.
		Time:          base.Add(time.Duration(i) * time.Second).In(time.FixedZone("X", 2*3600)),
		Case:          cases.FormatCaseID(uint64(i%7 + 1)),
		Kind:          cases.AuditDecision,
		Action:        "release_credit_hold",
		Actor:         fmt.Sprintf("U%03d", i%5),
		Verdict:       string(cases.VerdictApprove),
		Confidence:    float64(i%100) / 100,
		PolicyVersion: "v7",
		Detail:        fmt.Sprintf("entry %d, \"quoted\"\nline two", i),
	}
}

func testAuditChain(t *testing.T, s cases.Store) {
	var entries []cases.AuditEntry
	for u := 0; u < 40; u++ {
		n := u%3 + 1 // one to three records per Update
		var seqs []uint64
		update(t, s, func(tx cases.Tx) error {
			seqs = seqs[:0]
			for k := 0; k < n; k++ {
				seq, err := tx.Audit(entry(len(entries) + k))
				if err != nil {
					return err
				}
				seqs = append(seqs, seq)
			}
			return nil
		})
		for _, seq := range seqs {
			if want := uint64(len(entries) + 1); seq != want {
				t.Fatalf("Audit returned seq %d, want %d", seq, want)
			}
			entries = append(entries, entry(len(entries)))
		}
	}
	verify(t, s, len(entries))

	recs := records(t, s, 1)
	if len(recs) != len(entries) {
		t.Fatalf("ForEachRecord gave %d records, want %d", len(recs), len(entries))
	}
	prev := audit.GenesisHash
	for i, r := range recs {
		e := entries[i]
		want := audit.NewRecord(uint64(i+1), prev, e)
		same(t, fmt.Sprintf("audit record %d", i+1), r, want)
		if r.Time.Location() != time.UTC {
			t.Errorf("record %d time %v is not UTC", r.Seq, r.Time)
		}
		prev = r.Hash
	}
	if from := records(t, s, 17); len(from) != len(entries)-16 || from[0].Seq != 17 {
		t.Errorf("ForEachRecord from 17 starts at %d with %d records", from[0].Seq, len(from))
	}
	if none := records(t, s, uint64(len(entries)+1)); len(none) != 0 {
		t.Errorf("ForEachRecord past the head gave %d records", len(none))
	}
}

// testAuditConcurrent runs many Updates at once, each taking a case number,
// writing a case, a key and an audit record: every one must land exactly
// once, on a chain without gaps.
func testAuditConcurrent(t *testing.T, s cases.Store) {
	const goroutines, perG = 64, 8
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				tag := fmt.Sprintf("g%02d/i%d", g, i)
				errs <- s.Update(context.Background(), func(tx cases.Tx) error {
					n, err := tx.NextCaseNumber()
					if err != nil {
						return err
					}
					c := &cases.Case{ID: cases.FormatCaseID(n), Severity: cases.SeverityMedium, Status: cases.StatusOpen, OpenedAt: base,
						Context: map[string]string{"tag": tag}}
					if err := tx.PutCase(c); err != nil {
						return err
					}
					if err := tx.PutKey("tag:"+tag, cases.KeyRef{Case: c.ID, LastSeen: base}); err != nil {
						return err
					}
					_, err = tx.Audit(cases.AuditEntry{Time: base, Case: c.ID, Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: tag})
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
	}
	const total = goroutines * perG
	verify(t, s, total)

	seen := map[string]int{}
	for _, r := range records(t, s, 1) {
		seen[r.Detail]++
	}
	cnt := 0
	view(t, s, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			cnt++
			tag := c.Context["tag"]
			ref, err := tx.Key("tag:" + tag)
			if err != nil || ref.Case != c.ID {
				t.Errorf("key of %s = %v %v, want case %s", tag, ref, err, c.ID)
			}
			return nil
		})
	})
	if cnt != total {
		t.Errorf("%d cases stored, want %d", cnt, total)
	}
	for g := 0; g < goroutines; g++ {
		for i := 0; i < perG; i++ {
			if tag := fmt.Sprintf("g%02d/i%d", g, i); seen[tag] != 1 {
				t.Errorf("audit record %s appears %d times, want once", tag, seen[tag])
			}
		}
	}
	view(t, s, func(tx cases.ReadTx) error {
		for n := uint64(1); n <= total; n++ {
			if _, err := tx.Case(cases.FormatCaseID(n)); err != nil {
				t.Errorf("case number %d: %v", n, err)
			}
		}
		return nil
	})
}

var errFail = errors.New("planned failure")

// writeAll writes one of everything, tagged, as a failing Update would.
func writeAll(tx cases.Tx, tag string) error {
	n, err := tx.NextCaseNumber()
	if err != nil {
		return err
	}
	_ = n
	if err := tx.PutCase(&cases.Case{ID: "case-" + tag, Severity: cases.SeverityCritical, Status: cases.StatusOpen, OpenedAt: base}); err != nil {
		return err
	}
	if err := tx.PutEvent(sampleEvent("src", tag)); err != nil {
		return err
	}
	if err := tx.PutKey("key:"+tag, cases.KeyRef{Case: "case-" + tag, LastSeen: base}); err != nil {
		return err
	}
	if _, err := tx.Audit(cases.AuditEntry{Time: base, Case: "case-" + tag, Kind: cases.AuditCaseOpened, Detail: tag}); err != nil {
		return err
	}
	return tx.Enqueue(cases.QueueOutbox, &cases.Job{Kind: "post", Case: "case-" + tag, Dedupe: "d-" + tag, Created: base})
}

// gone checks that nothing written by writeAll(tag) is stored.
func gone(t *testing.T, tx cases.ReadTx, tag string) {
	t.Helper()
	if _, err := tx.Case("case-" + tag); cases.KindOf(err) != cases.KindNotFound {
		t.Errorf("case of failed Update %s: err = %v, want not found", tag, err)
	}
	if _, err := tx.Event("src", tag); cases.KindOf(err) != cases.KindNotFound {
		t.Errorf("event of failed Update %s: err = %v, want not found", tag, err)
	}
	if _, err := tx.Key("key:" + tag); cases.KindOf(err) != cases.KindNotFound {
		t.Errorf("key of failed Update %s: err = %v, want not found", tag, err)
	}
	if err := tx.Jobs(cases.QueueOutbox, func(j cases.Job) error {
		if j.Case == "case-"+tag {
			t.Errorf("job of failed Update %s is stored", tag)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

func testFailedUpdate(t *testing.T, s cases.Store) {
	update(t, s, func(tx cases.Tx) error { return writeAll(tx, "ok") })
	for _, tag := range []string{"f1", "f2"} {
		err := s.Update(context.Background(), func(tx cases.Tx) error {
			if err := writeAll(tx, tag); err != nil {
				return err
			}
			return errFail
		})
		if !errors.Is(err, errFail) {
			t.Fatalf("failing Update = %v, want the function's error", err)
		}
	}
	view(t, s, func(tx cases.ReadTx) error {
		gone(t, tx, "f1")
		gone(t, tx, "f2")
		return nil
	})
	verify(t, s, 1)
	// The failed Updates' dedupe keys, sequence numbers and audit seqs are free.
	update(t, s, func(tx cases.Tx) error {
		n, err := tx.NextCaseNumber()
		if n != 2 || err != nil {
			t.Errorf("NextCaseNumber after failures = %d %v, want 2", n, err)
		}
		j := &cases.Job{Kind: "post", Dedupe: "d-f1", Created: base}
		if err := tx.Enqueue(cases.QueueOutbox, j); err != nil || j.ID == 0 {
			t.Errorf("Enqueue with a failed Update's dedupe key: id %d err %v, want it queued", j.ID, err)
		}
		seq, err := tx.Audit(cases.AuditEntry{Time: base, Detail: "after"})
		if seq != 2 || err != nil {
			t.Errorf("Audit after failures = %d %v, want seq 2", seq, err)
		}
		return nil
	})
	verify(t, s, 2)
}

// testFailedConcurrent mixes failing and succeeding Updates so that a store
// that groups commits has to take the failures out of a group.
func testFailedConcurrent(t *testing.T, s cases.Store) {
	const goroutines, perG = 32, 4
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				tag := fmt.Sprintf("g%d-%d", g, i)
				fail := (g+i)%3 == 0
				err := s.Update(context.Background(), func(tx cases.Tx) error {
					if err := writeAll(tx, tag); err != nil {
						return err
					}
					if fail {
						return errFail
					}
					return nil
				})
				if fail != errors.Is(err, errFail) || (!fail && err != nil) {
					bad.Add(1)
					t.Errorf("Update %s (fail=%v) = %v", tag, fail, err)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		return
	}
	okCount := 0
	view(t, s, func(tx cases.ReadTx) error {
		for g := 0; g < goroutines; g++ {
			for i := 0; i < perG; i++ {
				tag := fmt.Sprintf("g%d-%d", g, i)
				if (g+i)%3 == 0 {
					gone(t, tx, tag)
					continue
				}
				okCount++
				if _, err := tx.Case("case-" + tag); err != nil {
					t.Errorf("case of Update %s: %v", tag, err)
				}
			}
		}
		return nil
	})
	verify(t, s, okCount)
	jobs := map[string]int{}
	view(t, s, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueOutbox, func(j cases.Job) error { jobs[j.Case]++; return nil })
	})
	if len(jobs) != okCount {
		t.Errorf("%d distinct jobs queued, want %d", len(jobs), okCount)
	}
	for c, n := range jobs {
		if n != 1 {
			t.Errorf("%d jobs for %s, want 1", n, c)
		}
	}
}

func testErrorsPassThrough(t *testing.T, s cases.Store) {
	conflict := cases.Errorf(cases.KindConflict, "case EX-000001 changed meanwhile")
	err := s.Update(context.Background(), func(tx cases.Tx) error { return conflict })
	if !errors.Is(err, conflict) || cases.KindOf(err) != cases.KindConflict {
		t.Errorf("Update = %v, want the function's error with its kind", err)
	}
	err = s.View(context.Background(), func(tx cases.ReadTx) error { return conflict })
	if !errors.Is(err, conflict) || cases.KindOf(err) != cases.KindConflict {
		t.Errorf("View = %v, want the function's error with its kind", err)
	}
	// Invalid input is refused with KindInvalid, not stored.
	for name, fn := range map[string]func(tx cases.Tx) error{
		"case without id":       func(tx cases.Tx) error { return tx.PutCase(&cases.Case{Severity: cases.SeverityLow}) },
		"case without severity": func(tx cases.Tx) error { return tx.PutCase(&cases.Case{ID: "EX-000001"}) },
		"event without id":      func(tx cases.Tx) error { return tx.PutEvent(&cases.StoredEvent{}) },
		"empty key":             func(tx cases.Tx) error { return tx.PutKey("", cases.KeyRef{}) },
		"unnamed queue":         func(tx cases.Tx) error { return tx.Enqueue("", &cases.Job{}) },
		"missing job update":    func(tx cases.Tx) error { return tx.UpdateJob(cases.QueueWork, cases.Job{ID: 99}) },
	} {
		err := s.Update(context.Background(), fn)
		want := cases.KindInvalid
		if strings.HasPrefix(name, "missing") {
			want = cases.KindNotFound
		}
		wantKind(t, name, err, want)
	}
}

func testContextDone(t *testing.T, s cases.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := s.Update(ctx, func(tx cases.Tx) error { called = true; return tx.PutCase(sampleCase("EX-000001")) }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context = %v, want context.Canceled", err)
	}
	if err := s.View(ctx, func(cases.ReadTx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context = %v, want context.Canceled", err)
	}
	if called {
		t.Error("fn ran although the context was done")
	}
	view(t, s, func(tx cases.ReadTx) error {
		if _, err := tx.Case("EX-000001"); cases.KindOf(err) != cases.KindNotFound {
			t.Errorf("case written under a canceled context: err = %v", err)
		}
		return nil
	})
}

// testViewCommittedOnly holds an Update open and looks from a View. A store
// may also make the View wait for the commit; then it must see it.
func testViewCommittedOnly(t *testing.T, s cases.Store) {
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx cases.Tx) error {
			if err := writeAll(tx, "held"); err != nil {
				return err
			}
			once.Do(func() { close(inside); <-release })
			return nil
		})
	}()
	<-inside
	type seen struct {
		caseErr error
		head    uint64
	}
	viewed := make(chan seen, 1)
	go func() {
		var v seen
		err := s.View(context.Background(), func(tx cases.ReadTx) error {
			_, v.caseErr = tx.Case("case-held")
			var err error
			v.head, _, err = tx.AuditHead()
			return err
		})
		if err != nil {
			t.Errorf("View: %v", err)
		}
		viewed <- v
	}()
	select {
	case v := <-viewed:
		if cases.KindOf(v.caseErr) != cases.KindNotFound || v.head != 0 {
			t.Errorf("View during an uncommitted Update saw its case (err %v) or audit head %d", v.caseErr, v.head)
		}
		close(release)
	case <-time.After(time.Second):
		close(release)
		if v := <-viewed; v.caseErr != nil || v.head != 1 {
			t.Errorf("View that waited for the commit: case err %v, head %d, want the committed state", v.caseErr, v.head)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}
	view(t, s, func(tx cases.ReadTx) error {
		_, err := tx.Case("case-held")
		if err != nil {
			t.Errorf("after commit: %v", err)
		}
		return nil
	})
}

func jobsOf(t *testing.T, s cases.Store, q cases.Queue) []cases.Job {
	t.Helper()
	var out []cases.Job
	view(t, s, func(tx cases.ReadTx) error {
		out = out[:0]
		return tx.Jobs(q, func(j cases.Job) error { out = append(out, j); return nil })
	})
	return out
}

func ids(js []cases.Job) []uint64 {
	var out []uint64
	for _, j := range js {
		out = append(out, j.ID)
	}
	return out
}

func testQueueOrder(t *testing.T, s cases.Store) {
	var want []cases.Job
	for i := 0; i < 12; i++ {
		j := cases.Job{Kind: "summarize", Case: cases.FormatCaseID(uint64(12 - i)), Recommendation: "r1",
			Text: fmt.Sprintf("job %d", i), Created: base.Add(time.Duration(i) * time.Second)}
		update(t, s, func(tx cases.Tx) error { return tx.Enqueue(cases.QueueWork, &j) })
		if j.ID == 0 || (len(want) > 0 && j.ID <= want[len(want)-1].ID) {
			t.Fatalf("job %d got id %d after %v", i, j.ID, ids(want))
		}
		want = append(want, j)
	}
	same(t, "work queue", jobsOf(t, s, cases.QueueWork), want)
	if got := jobsOf(t, s, cases.QueueActions); len(got) != 0 {
		t.Errorf("actions queue holds %d jobs, want none", len(got))
	}

	stop := errors.New("stop")
	n := 0
	err := s.View(context.Background(), func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueWork, func(cases.Job) error { n++; return stop })
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Jobs stopping: err %v after %d calls", err, n)
	}

	// Deleting each job while walking the queue visits every job once.
	var visited []uint64
	update(t, s, func(tx cases.Tx) error {
		visited = visited[:0]
		return tx.Jobs(cases.QueueWork, func(j cases.Job) error {
			visited = append(visited, j.ID)
			return tx.DeleteJob(cases.QueueWork, j.ID)
		})
	})
	if fmt.Sprint(visited) != fmt.Sprint(ids(want)) {
		t.Errorf("walk with DeleteJob visited %v, want %v", visited, ids(want))
	}
	if got := jobsOf(t, s, cases.QueueWork); len(got) != 0 {
		t.Errorf("queue holds %v after deleting all", ids(got))
	}

	// The same over a queue large enough to span many pages, deleting every
	// other job and rewriting the rest.
	const many = 2000
	update(t, s, func(tx cases.Tx) error {
		for i := 0; i < many; i++ {
			if err := tx.Enqueue(cases.QueueWork, &cases.Job{Kind: "summarize", Text: strings.Repeat("x", 64), Created: base}); err != nil {
				return err
			}
		}
		return nil
	})
	n = 0
	update(t, s, func(tx cases.Tx) error {
		n = 0
		return tx.Jobs(cases.QueueWork, func(j cases.Job) error {
			if n++; n%2 == 0 {
				return tx.DeleteJob(cases.QueueWork, j.ID)
			}
			j.Attempts++
			j.Text = strings.Repeat("y", 200)
			return tx.UpdateJob(cases.QueueWork, j)
		})
	})
	left := jobsOf(t, s, cases.QueueWork)
	if n != many || len(left) != many/2 {
		t.Errorf("walk with writes visited %d of %d jobs and left %d, want all visited and %d left", n, many, len(left), many/2)
	}
	for _, j := range left {
		if j.Attempts != 1 {
			t.Errorf("job %d was updated %d times, want once", j.ID, j.Attempts)
			break
		}
	}
}

func testQueueDedupe(t *testing.T, s cases.Store) {
	enq := func(q cases.Queue, d string) uint64 {
		t.Helper()
		j := cases.Job{Kind: "post", Dedupe: d, Created: base}
		update(t, s, func(tx cases.Tx) error { return tx.Enqueue(q, &j) })
		return j.ID
	}
	first := enq(cases.QueueOutbox, "card:EX-000001")
	if first == 0 {
		t.Fatal("first job with a dedupe key was dropped")
	}
	if id := enq(cases.QueueOutbox, "card:EX-000001"); id != 0 {
		t.Errorf("duplicate got id %d, want it dropped (0)", id)
	}
	if id := enq(cases.QueueActions, "card:EX-000001"); id == 0 {
		t.Error("same dedupe key in another queue was dropped")
	}
	if id := enq(cases.QueueOutbox, ""); id == 0 {
		t.Error("job without a dedupe key was dropped")
	}
	if id := enq(cases.QueueOutbox, ""); id == 0 {
		t.Error("second job without a dedupe key was dropped")
	}
	// Within one Update too.
	update(t, s, func(tx cases.Tx) error {
		a := &cases.Job{Kind: "post", Dedupe: "same-tx", Created: base}
		b := &cases.Job{Kind: "post", Dedupe: "same-tx", Created: base, ID: 77}
		if err := tx.Enqueue(cases.QueueOutbox, a); err != nil {
			return err
		}
		if err := tx.Enqueue(cases.QueueOutbox, b); err != nil {
			return err
		}
		if a.ID == 0 || b.ID != 0 {
			t.Errorf("same Update: ids %d and %d, want first queued and second 0", a.ID, b.ID)
		}
		return nil
	})
	if n := len(jobsOf(t, s, cases.QueueOutbox)); n != 4 {
		t.Errorf("outbox holds %d jobs, want 4", n)
	}
	// Updating keeps the key taken; deleting frees it.
	update(t, s, func(tx cases.Tx) error {
		return tx.UpdateJob(cases.QueueOutbox, cases.Job{ID: first, Kind: "post", Dedupe: "card:EX-000001", Attempts: 1, Created: base})
	})
	if id := enq(cases.QueueOutbox, "card:EX-000001"); id != 0 {
		t.Errorf("duplicate of an updated job got id %d, want 0", id)
	}
	update(t, s, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueOutbox, first) })
	again := enq(cases.QueueOutbox, "card:EX-000001")
	if again == 0 || again <= first {
		t.Errorf("after DeleteJob the key gave id %d, want a new id above %d", again, first)
	}
}

func testQueueUpdateJob(t *testing.T, s cases.Store) {
	var js []*cases.Job
	update(t, s, func(tx cases.Tx) error {
		js = js[:0]
		for i := 0; i < 3; i++ {
			j := &cases.Job{Kind: "execute", Case: "EX-000001", Recommendation: fmt.Sprint("r", i), Created: base}
			if err := tx.Enqueue(cases.QueueActions, j); err != nil {
				return err
			}
			js = append(js, j)
		}
		return nil
	})
	changed := *js[1]
	changed.Attempts = 3
	changed.NotBefore = base.Add(5 * time.Minute)
	changed.LastError = "ERP answered 503"
	update(t, s, func(tx cases.Tx) error { return tx.UpdateJob(cases.QueueActions, changed) })
	same(t, "actions queue", jobsOf(t, s, cases.QueueActions), []cases.Job{*js[0], changed, *js[2]})

	err := s.Update(context.Background(), func(tx cases.Tx) error {
		return tx.UpdateJob(cases.QueueActions, cases.Job{ID: js[2].ID + 100, Kind: "execute"})
	})
	wantKind(t, "UpdateJob of a missing job", err, cases.KindNotFound)
}

func testQueueDeleteJob(t *testing.T, s cases.Store) {
	var want []cases.Job
	update(t, s, func(tx cases.Tx) error {
		want = want[:0]
		for i := 0; i < 5; i++ {
			j := cases.Job{Kind: "post", Case: "EX-000001", Text: fmt.Sprint(i), Created: base}
			if err := tx.Enqueue(cases.QueueOutbox, &j); err != nil {
				return err
			}
			want = append(want, j)
		}
		return nil
	})
	update(t, s, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueOutbox, want[2].ID) })
	update(t, s, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueOutbox, want[2].ID) }) // again: no error
	update(t, s, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueOutbox, 12345) })
	update(t, s, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueWork, want[0].ID) }) // other queue
	want = append(want[:2], want[3:]...)
	same(t, "outbox after DeleteJob", jobsOf(t, s, cases.QueueOutbox), want)
}

// --- cases.CaseFinder: every store answers questions from indexes that
// agree with its cases.

func finderOf(t *testing.T, s cases.Store) cases.CaseFinder {
	t.Helper()
	f, ok := s.(cases.CaseFinder)
	if !ok {
		t.Fatalf("%T is not a cases.CaseFinder", s)
	}
	return f
}

// qcase makes a case of one event with the given family and data, opened
// at base plus n hours.
func qcase(n int, status cases.Status, fam cases.Family, data map[string]any) *cases.Case {
	c := &cases.Case{ID: cases.FormatCaseID(uint64(n)), Severity: cases.SeverityMedium, Status: status,
		Families: []cases.Family{fam}, OpenedAt: base.Add(time.Duration(n) * time.Hour),
		Events: []cases.CaseEvent{{ID: fmt.Sprintf("ev-%d", n), Source: "erp", Type: "t", Family: fam, Time: base, Data: data}}}
	if status == cases.StatusResolved {
		r := c.OpenedAt.Add(time.Duration(n%5+1) * time.Hour)
		c.ResolvedAt = &r
	}
	return c
}

func putCases(t *testing.T, s cases.Store, cs ...*cases.Case) {
	t.Helper()
	update(t, s, func(tx cases.Tx) error {
		for _, c := range cs {
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func find(t *testing.T, s cases.Store, q cases.CaseQuery) cases.CaseList {
	t.Helper()
	l, err := finderOf(t, s).FindCases(context.Background(), q)
	if err != nil {
		t.Fatalf("FindCases(%+v): %v", q, err)
	}
	return l
}

func caseIDs(cs []*cases.Case) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testFindCases(t *testing.T, s cases.Store) {
	acme := map[string]any{"order": "SO-1042", "customer": "C-ACME", "customer_name": "Acme Retail"}
	delay := map[string]any{"shipment": "ASN-7781", "po": "PO-3310", "supplier": "Northwind Fasteners", "warehouse": "DAL",
		"sku": "SKU-88", "orders": []any{"SO-1042", "SO-1043"}}
	alloc := map[string]any{"order": "SO-2001", "customer": "C-CORA", "sku": "SKU-88",
		"allocations": []any{map[string]any{"warehouse": "RNO", "quantity": 5.0}}}
	price := map[string]any{"invoice": "INV-9", "po": "PO-3298", "supplier": "Contoso", "sku": "SKU-12"}
	ctxCase := qcase(5, cases.StatusOpen, cases.FamilyCreditHold, map[string]any{"order": "SO-5", "customer": "C-BOLT"})
	ctxCase.Context = map[string]string{cases.CtxCustomerName("C-BOLT"): "Bolt Hardware"}
	putCases(t, s,
		qcase(1, cases.StatusResolved, cases.FamilyCreditHold, acme),
		qcase(2, cases.StatusOpen, cases.FamilySupplierDelay, delay),
		qcase(3, cases.StatusOpen, cases.FamilyAllocationConflict, alloc),
		qcase(4, cases.StatusMerged, cases.FamilyPriceDiscrepancy, price),
		ctxCase,
	)
	day := 24 * time.Hour
	tests := []struct {
		name  string
		q     cases.CaseQuery
		want  []string
		total int
	}{
		{"everything, newest first", cases.CaseQuery{}, []string{"EX-000005", "EX-000004", "EX-000003", "EX-000002", "EX-000001"}, 5},
		{"by id", cases.CaseQuery{ID: "EX-000003"}, []string{"EX-000003"}, 1},
		{"by id, lower case", cases.CaseQuery{ID: "ex-000003"}, []string{"EX-000003"}, 1},
		{"by id, other condition fails", cases.CaseQuery{ID: "EX-000003", Status: cases.StatusResolved}, []string{}, 0},
		{"missing id", cases.CaseQuery{ID: "EX-999999"}, []string{}, 0},
		{"order, also from a delay's waiting orders", cases.CaseQuery{Order: "SO-1042"}, []string{"EX-000002", "EX-000001"}, 2},
		{"order, any case", cases.CaseQuery{Order: "so-1042"}, []string{"EX-000002", "EX-000001"}, 2},
		{"order and status", cases.CaseQuery{Order: "SO-1042", Status: cases.StatusOpen}, []string{"EX-000002"}, 1},
		{"customer id", cases.CaseQuery{Customer: "C-ACME"}, []string{"EX-000001"}, 1},
		{"customer full name", cases.CaseQuery{Customer: "acme retail"}, []string{"EX-000001"}, 1},
		{"customer name word", cases.CaseQuery{Customer: "Acme"}, []string{"EX-000001"}, 1},
		{"customer name from the ERP context", cases.CaseQuery{Customer: "bolt"}, []string{"EX-000005"}, 1},
		{"part of a word does not match", cases.CaseQuery{Customer: "Acm"}, []string{}, 0},
		{"supplier word", cases.CaseQuery{Supplier: "northwind"}, []string{"EX-000002"}, 1},
		{"sku across families", cases.CaseQuery{SKU: "SKU-88"}, []string{"EX-000003", "EX-000002"}, 2},
		{"warehouse from allocations", cases.CaseQuery{Warehouse: "RNO"}, []string{"EX-000003"}, 1},
		{"sku at warehouse", cases.CaseQuery{SKU: "SKU-88", Warehouse: "DAL"}, []string{"EX-000002"}, 1},
		{"po", cases.CaseQuery{PO: "PO-3298"}, []string{"EX-000004"}, 1},
		{"shipment", cases.CaseQuery{Shipment: "ASN-7781"}, []string{"EX-000002"}, 1},
		{"invoice", cases.CaseQuery{Invoice: "INV-9"}, []string{"EX-000004"}, 1},
		{"family", cases.CaseQuery{Family: cases.FamilyCreditHold}, []string{"EX-000005", "EX-000001"}, 2},
		{"status", cases.CaseQuery{Status: cases.StatusOpen}, []string{"EX-000005", "EX-000003", "EX-000002"}, 3},
		{"opened before (exclusive)", cases.CaseQuery{OpenedBefore: base.Add(3 * time.Hour)}, []string{"EX-000002", "EX-000001"}, 2},
		{"opened after (inclusive)", cases.CaseQuery{OpenedAfter: base.Add(3 * time.Hour)}, []string{"EX-000005", "EX-000004", "EX-000003"}, 3},
		{"opened window", cases.CaseQuery{OpenedAfter: base.Add(2 * time.Hour), OpenedBefore: base.Add(4 * time.Hour)}, []string{"EX-000003", "EX-000002"}, 2},
		{"sub-second bound", cases.CaseQuery{OpenedBefore: base.Add(2*time.Hour + time.Nanosecond)}, []string{"EX-000002", "EX-000001"}, 2},
		{"sub-second bound excludes", cases.CaseQuery{OpenedAfter: base.Add(2*time.Hour + time.Nanosecond)}, []string{"EX-000005", "EX-000004", "EX-000003"}, 3},
		{"status and age", cases.CaseQuery{Status: cases.StatusOpen, OpenedBefore: base.Add(day)}, []string{"EX-000005", "EX-000003", "EX-000002"}, 3},
		{"limit keeps the total", cases.CaseQuery{Limit: 2}, []string{"EX-000005", "EX-000004"}, 5},
		{"no match", cases.CaseQuery{Supplier: "Globex"}, []string{}, 0},
		{"conditions that exclude each other", cases.CaseQuery{Customer: "C-ACME", Family: cases.FamilySupplierDelay}, []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := find(t, s, tt.q)
			if ids := caseIDs(got.Cases); !reflect.DeepEqual(ids, tt.want) || got.Total != tt.total || got.TotalCapped {
				t.Errorf("FindCases(%+v) = %v total %d capped %v, want %v total %d", tt.q, ids, got.Total, got.TotalCapped, tt.want, tt.total)
			}
		})
	}
	// The cases come back whole.
	got := find(t, s, cases.CaseQuery{ID: "EX-000005"})
	if len(got.Cases) == 1 {
		same(t, "found case", got.Cases[0], ctxCase)
	}
}

func testFindCasesUpdates(t *testing.T, s cases.Store) {
	c := qcase(1, cases.StatusOpen, cases.FamilyCreditHold, map[string]any{"order": "SO-1", "customer": "C-ACME"})
	putCases(t, s, c)
	count := func(q cases.CaseQuery) int { return find(t, s, q).Total }
	if n := count(cases.CaseQuery{Status: cases.StatusOpen}); n != 1 {
		t.Fatalf("open cases = %d, want 1", n)
	}
	// Resolve it, and let a new event bring another order and family.
	c.Status = cases.StatusResolved
	r := c.OpenedAt.Add(time.Hour)
	c.ResolvedAt = &r
	c.Families = append(c.Families, cases.FamilyAllocationConflict)
	c.Events = append(c.Events, cases.CaseEvent{ID: "ev-2", Source: "erp", Type: "t", Family: cases.FamilyAllocationConflict,
		Data: map[string]any{"order": "SO-2", "sku": "SKU-1", "warehouse": "DAL"}})
	putCases(t, s, c)
	checks := []struct {
		q    cases.CaseQuery
		want int
	}{
		{cases.CaseQuery{Status: cases.StatusOpen}, 0},
		{cases.CaseQuery{Status: cases.StatusResolved}, 1},
		{cases.CaseQuery{Order: "SO-1", Status: cases.StatusOpen}, 0},
		{cases.CaseQuery{Order: "SO-1", Status: cases.StatusResolved}, 1},
		{cases.CaseQuery{Order: "SO-2"}, 1},
		{cases.CaseQuery{Family: cases.FamilyAllocationConflict, Status: cases.StatusResolved}, 1},
		{cases.CaseQuery{}, 1},
	}
	for _, ck := range checks {
		if n := count(ck.q); n != ck.want {
			t.Errorf("after update: FindCases(%+v) total %d, want %d", ck.q, n, ck.want)
		}
	}
	// An event dropped from the case (a rewrite) drops its terms.
	c.Events = c.Events[:1]
	c.Families = c.Families[:1]
	putCases(t, s, c)
	if n := count(cases.CaseQuery{Order: "SO-2"}); n != 0 {
		t.Errorf("order SO-2 still finds %d cases after its event left", n)
	}
	if n := count(cases.CaseQuery{Family: cases.FamilyAllocationConflict}); n != 0 {
		t.Errorf("family still finds %d cases after it left", n)
	}
	// Writing the same case twice in one transaction counts it once.
	update(t, s, func(tx cases.Tx) error {
		if err := tx.PutCase(c); err != nil {
			return err
		}
		return tx.PutCase(c)
	})
	if n := count(cases.CaseQuery{Customer: "c-acme"}); n != 1 {
		t.Errorf("customer finds %d cases, want 1", n)
	}
}

// testFindCasesScan checks the indexes against CaseQuery.Match on a few hundred
// varied cases and every combination of a handful of conditions.
func testFindCasesScan(t *testing.T, s cases.Store) {
	fams := []cases.Family{cases.FamilyCreditHold, cases.FamilySupplierDelay, cases.FamilyAllocationConflict}
	statuses := []cases.Status{cases.StatusOpen, cases.StatusResolved, cases.StatusMerged}
	suppliers := []string{"Northwind Fasteners", "Contoso Packaging", "Fabrikam"}
	var all []*cases.Case
	for i := 1; i <= 300; i++ {
		data := map[string]any{"order": fmt.Sprintf("SO-%d", i%37), "customer": fmt.Sprintf("C-%d", i%11),
			"supplier": suppliers[i%3], "sku": fmt.Sprintf("SKU-%d", i%13), "warehouse": []string{"DAL", "ATL"}[i%2]}
		c := qcase(i, statuses[i%3], fams[i%3], data)
		c.OpenedAt = base.Add(time.Duration(i*7919%1000) * time.Minute) // not in id order
		if i%10 == 0 {
			c.Families = append(c.Families, fams[(i+1)%3])
		}
		// What questions ask beyond keys: team, people, severity, states
		// and times, varied independently of the above.
		c.Team = []string{"credit", "warehouse", "accounts-payable", "procurement"}[i%4]
		c.Severity = cases.Severity(i%4 + 1)
		c.Priority = []string{"P1", "P2", ""}[i%3]
		if i%5 == 1 {
			c.Assignee = "U0ANA"
		}
		if i%7 == 0 {
			c.Escalated = []string{"remind"}
			at := c.OpenedAt.Add(time.Duration(i%5) * time.Hour)
			c.EscalatedAt = &at
		}
		c.SLADue = c.OpenedAt.Add(time.Duration(i%9) * time.Hour)
		c.FirstTouchDue = c.OpenedAt.Add(time.Hour)
		if i%4 == 0 {
			touched := c.OpenedAt.Add(30 * time.Minute)
			c.FirstTouchedAt = &touched
		}
		if i%6 == 0 {
			until := c.OpenedAt.Add(time.Duration(i%11) * time.Hour)
			c.SnoozedUntil = &until
		}
		if i%8 == 3 {
			c.Recommendations = []cases.Recommendation{{ID: "r1", Action: "release_credit_hold", State: cases.RecPending,
				Verdict: cases.VerdictApprove, Approvers: []string{"U0BOB", "U0CFO"}, Approvals: []string{"U0CFO"}[:i%2]}}
		}
		if c.Status == cases.StatusResolved && i%4 != 2 {
			c.Decisions = []cases.Decision{{Actor: []string{cases.ActorExops, "U0BOB"}[i%2], Action: "release_credit_hold", Choice: cases.ChoiceApprove}}
		}
		all = append(all, c)
	}
	putCases(t, s, all...)
	var queries []cases.CaseQuery
	for _, fam := range append(fams, "") {
		for _, st := range append(statuses, "") {
			for _, extra := range []cases.CaseQuery{{}, {Supplier: "contoso"}, {Order: "SO-5"}, {SKU: "sku-4", Warehouse: "DAL"},
				{Customer: "C-3"}, {OpenedBefore: base.Add(400 * time.Minute)}, {OpenedAfter: base.Add(300 * time.Minute), OpenedBefore: base.Add(700 * time.Minute)},
				{Team: "warehouse"}, {Team: "Credit", Severity: cases.SeverityCritical}, {Assignee: "u0ana"}, {Priority: "P1"},
				{Unassigned: true}, {Assigned: true}, {Escalated: true}, {AwaitingApproval: true}, {Approver: "U0BOB"}, {Approver: "U0CFO"},
				{EscalatedAfter: base.Add(300 * time.Minute)}, {EscalatedAfter: base.Add(200 * time.Minute), EscalatedBefore: base.Add(600 * time.Minute)},
				{EscalatedBefore: base.Add(500 * time.Minute), Team: "credit"},
				{SLADueAfter: base.Add(300 * time.Minute), SLADueBefore: base.Add(500 * time.Minute)}, {SLADueBefore: base.Add(200 * time.Minute), Team: "warehouse"},
				{ByExops: true}, {ResolvedAfter: base.Add(300 * time.Minute)}, {ResolvedAfter: base.Add(200 * time.Minute), ResolvedBefore: base.Add(600 * time.Minute)},
				{PastSLA: true, At: base.Add(500 * time.Minute)}, {PastSLA: true}, {Snoozed: true, At: base.Add(400 * time.Minute)},
				{FirstTouchOverdue: true, At: base.Add(600 * time.Minute), Team: "credit"}} {
				q := extra
				q.Family, q.Status, q.Limit = fam, st, 7
				queries = append(queries, q)
			}
		}
	}
	for _, q := range queries {
		var want []*cases.Case
		for _, c := range all {
			if q.Match(c) { // the domain's reference rule
				want = append(want, c)
			}
		}
		sort.SliceStable(want, func(i, j int) bool { return want[i].OpenedAt.After(want[j].OpenedAt) })
		got := find(t, s, q)
		if got.Total != len(want) {
			t.Errorf("FindCases(%+v): total %d, scan finds %d", q, got.Total, len(want))
			continue
		}
		wantIDs := caseIDs(want[:min(len(want), q.Limit)])
		if ids := caseIDs(got.Cases); !reflect.DeepEqual(ids, wantIDs) {
			t.Errorf("FindCases(%+v) = %v, scan gives %v", q, ids, wantIDs)
		}
	}
}

func testFindCasesRolledBack(t *testing.T, s cases.Store) {
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx cases.Tx) error {
		if err := tx.PutCase(qcase(1, cases.StatusOpen, cases.FamilyCreditHold, map[string]any{"order": "SO-1"})); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if got := find(t, s, cases.CaseQuery{Order: "SO-1"}); got.Total != 0 || len(got.Cases) != 0 {
		t.Errorf("a rolled-back case is found: %+v", got)
	}
}

// testReplayMemory: a key is new once until it expires, then new again;
// ForgetExpired drops exactly the expired memories.
func testReplayMemory(t *testing.T, s cases.Store) {
	rm, ok := s.(cases.ReplayMemory)
	if !ok {
		t.Fatalf("%T keeps no replay memory (cases.ReplayMemory): Slack replays would pass after a restart", s)
	}
	ctx := context.Background()
	seen := func(key string, now time.Time, ttl time.Duration) bool {
		t.Helper()
		first, err := rm.SeenOnce(ctx, key, now, now.Add(ttl))
		if err != nil {
			t.Fatalf("SeenOnce(%s): %v", key, err)
		}
		return first
	}
	if !seen("sig:a", base, time.Minute) {
		t.Fatal("a new key is not first")
	}
	if seen("sig:a", base.Add(59*time.Second), time.Minute) {
		t.Error("a key seen 59 s ago, remembered for a minute, is first again")
	}
	if !seen("sig:b", base, time.Minute) {
		t.Error("another key is not first")
	}
	if !seen("sig:a", base.Add(61*time.Second), time.Minute) {
		t.Error("a key whose memory expired is not first again")
	}
	if !seen("event:x", base, time.Hour) {
		t.Fatal("event key")
	}
	n, err := rm.ForgetExpired(ctx, base.Add(100*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 { // sig:b; sig:a was renewed at 61 s until 121 s, event:x lives an hour
		t.Errorf("ForgetExpired dropped %d, want 1", n)
	}
	if seen("event:x", base.Add(30*time.Minute), time.Hour) {
		t.Error("ForgetExpired dropped a live memory")
	}
	var wg sync.WaitGroup
	firsts := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := rm.SeenOnce(ctx, "sig:race", base, base.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			firsts <- first
		}()
	}
	wg.Wait()
	close(firsts)
	count := 0
	for f := range firsts {
		if f {
			count++
		}
	}
	if count != 1 {
		t.Errorf("8 concurrent sightings of one key: %d were first, want 1", count)
	}
}
