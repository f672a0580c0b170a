package cases_test

import (
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

func TestOperations(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyAllocationConflict] = 0.7
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()

	if _, err := h.eng.Assign(h.ctx, id, "U1", "U1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Assign(h.ctx, id, "U2", "U1"); cases.KindOf(err) != cases.KindConflict {
		t.Errorf("assigning to the same person again: %v", err)
	}
	if _, err := h.eng.Comment(h.ctx, id, "U2", "  called the DC, stock is on the dock  "); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Comment(h.ctx, id, "U2", " "); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("empty comment: %v", err)
	}
	if _, err := h.eng.Comment(h.ctx, id, "U2", strings.Repeat("x", cases.MaxCommentLen+1)); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("long comment: %v", err)
	}
	if _, err := h.eng.Snooze(h.ctx, id, "U1", t0.Add(-time.Hour)); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("snooze into the past: %v", err)
	}
	c, err := h.eng.Escalate(h.ctx, id, "U3")
	if err != nil {
		t.Fatal(err)
	}
	if c.EscalatedAt == nil || !c.EscalatedAt.Equal(h.clock.Now()) {
		t.Errorf("escalated by hand at %v, want %v", c.EscalatedAt, h.clock.Now())
	}
	h.drain()
	if c.Assignee != "U1" || len(c.Comments) != 1 || c.Comments[0].Text != "called the DC, stock is on the dock" || c.FirstTouchedAt == nil {
		t.Errorf("case after operations: assignee %q, comments %+v, touched %v", c.Assignee, c.Comments, c.FirstTouchedAt)
	}
	kinds := strings.Join(h.auditKinds(id), ",")
	for _, k := range []string{cases.AuditAssigned, cases.AuditCommented, cases.AuditEscalated} {
		if !strings.Contains(kinds, k) {
			t.Errorf("no %s audit record: %s", k, kinds)
		}
	}
	var posted, noted int
	for _, s := range h.notify.all() {
		if s.kind == "post:#ops-leads" && strings.Contains(s.text, "<@U3> escalated") && strings.Contains(s.text, "<@UBOSS>") {
			posted++
		}
		if s.kind == "reply" && (strings.Contains(s.text, "<@U1> took") || strings.Contains(s.text, "commented: called the DC")) {
			noted++
		}
	}
	if posted != 1 || noted != 2 {
		t.Errorf("escalation posts %d (want 1), thread notes %d (want 2): %+v", posted, noted, h.notify.all())
	}
	// The manual escalation used the managers step: the timer does not repeat it.
	h.clock.Add(5 * time.Hour)
	if _, err := h.eng.FireTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.drain()
	for _, s := range h.notify.all() {
		if s.kind == "post:#ops-leads" && !strings.Contains(s.text, "<@U3> escalated") {
			t.Errorf("managers step taken again by the timer: %q", s.text)
		}
	}
	if _, err := h.eng.Assign(h.ctx, "EX-000404", "U1", "U1"); cases.KindOf(err) != cases.KindNotFound {
		t.Errorf("unknown case: %v", err)
	}
}

func TestSnoozeHoldsEscalation(t *testing.T) {
	h := govHarness(t)
	h.agents.conf[cases.FamilyAllocationConflict] = 0.7
	id := h.ingest(allocation(t, "e1", "SO-1", t0))[0].Case
	h.drain()
	// Snoozing is a touch, so the first-touch reminder is moot; the managers
	// step (due at 4h) waits for the snooze to end at 5h.
	if _, err := h.eng.Snooze(h.ctx, id, "U1", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(4*time.Hour + 30*time.Minute)
	if n, _ := h.eng.FireTimers(h.ctx); n != 0 {
		t.Fatalf("%d steps while snoozed", n)
	}
	h.clock.Add(60 * time.Minute)
	if n, _ := h.eng.FireTimers(h.ctx); n != 1 {
		t.Fatalf("%d steps after the snooze ended, want the managers step", n)
	}
}
