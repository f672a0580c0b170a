package cases

import (
	"fmt"
	"testing"
)

// TestEventListLending: two readers of one head who both append get
// different slots (the second a copy), the lent slot takes the resolved
// event for its owner's write, and a list grown from the other read gets
// an array of its own, so neither list's events change under the other.
func TestEventListLending(t *testing.T) {
	ev := func(id string) CaseEvent { return CaseEvent{ID: id, Source: "erp", Digest: "d-" + id} }
	row := func(id string) DocEvent { return DocEvent{ID: id, Source: "erp", Digest: "d-" + id} }
	l3 := NewEventList([]CaseEvent{ev("a"), ev("b"), ev("c")})
	held := l3.Events()
	a := append(l3.ForAppend(), ev("x"))
	b := append(l3.ForAppend(), ev("y"))
	if &a[0] == &b[0] {
		t.Fatal("two appenders to one head share an array")
	}
	if &a[0] != &held[0] {
		t.Error("the first appender was not lent the list's array")
	}
	if got := l3.SamePrefix(a); got != 3 {
		t.Errorf("SamePrefix of the lent events = %d, want 3", got)
	}
	resolvedX := ev("x")
	resolvedX.Type = "as read"
	l4 := l3.Extend(3, 3, []DocEvent{row("x")}).WithResolved([]CaseEvent{resolvedX}, a)
	if &l4.Events()[0] != &held[0] || a[3].Type != "as read" {
		t.Error("the owner's lent slot did not take the resolved event in place")
	}
	l4y := l3.Extend(3, 3, []DocEvent{row("y")}).WithResolved([]CaseEvent{ev("y")}, b)
	for _, c := range []struct {
		l    *EventList
		want string
	}{{l3, "abc"}, {l4, "abcx"}, {l4y, "abcy"}} {
		got := ""
		for _, e := range c.l.Events() {
			got += e.ID
		}
		if got != c.want {
			t.Errorf("list gives %q, want %q", got, c.want)
		}
	}
	if len(held) != 3 || cap(held) != 3 {
		t.Errorf("a reader's events are %d long, room %d: an append to them would write in place", len(held), cap(held))
	}
	// A case that grows by joins shares one array for many of them.
	l := l4
	copies := 0
	for i := 0; i < 20; i++ {
		evs := append(l.ForAppend(), ev(fmt.Sprint("j", i)))
		next := l.Extend(l.Len(), l.Len(), []DocEvent{row(fmt.Sprint("j", i))}).WithResolved([]CaseEvent{evs[len(evs)-1]}, evs)
		if &next.Events()[0] != &l.Events()[0] {
			copies++
		}
		l = next
	}
	if copies > 2 {
		t.Errorf("20 joins copied the events %d times", copies)
	}
}
