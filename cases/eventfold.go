package cases

import (
	"sync"
	"unsafe"
)

// Severity, priority, routing and the policy's conditions are folds over a
// case's events (a maximum, whether any event says so, the latest value of
// a field). Computed again from every event on every join, they made a
// join's cost grow with the case. EventFolds keeps, per case, the fold over
// the events it has seen, and folds only the events appended since.
//
// An event is recognised by its type, source, id and digest: the digest of
// a stored event names its content, as the stores' cache of stored events
// takes it to (their data comes from the stored event when a case is
// read). An event without a digest is recognised by its Data map itself,
// the same map and not an equal one: data maps are read-only everywhere.
// A case whose events are not, from the first, those seen (events changed
// or dropped, another case of the same id) is folded again from the start:
// the result is always the full fold's.

// EventFolds keeps folds of type S. A result is a copy of the kept fold,
// which goes on from it: S's slices may only be appended to by the fold,
// and its maps are the fold's alone (a result must not read them).
type EventFolds[S any] struct {
	init S
	add  func(*S, *CaseEvent)

	mu     sync.Mutex
	byCase map[string]*eventFold[S]
	events int // len(seen) of all
}

type eventFold[S any] struct {
	seen []foldedEvent
	s    S
}

// foldedEvent is what the fold of an event depends on. The pointer (kept
// only for an event without a digest) keeps its map alive, so that the
// address is not reused for other data meanwhile.
type foldedEvent struct {
	typ, source, id, digest string
	data                    unsafe.Pointer
}

func foldedOf(ce *CaseEvent) foldedEvent {
	fe := foldedEvent{typ: ce.Type, source: ce.Source, id: ce.ID, digest: ce.Digest}
	if ce.Digest == "" {
		fe.data = *(*unsafe.Pointer)(unsafe.Pointer(&ce.Data))
	}
	return fe
}

// maxFoldedEvents bounds the events the folds remember, across cases; past
// it they are all dropped and folded again as they come.
const maxFoldedEvents = 1 << 17

// NewEventFolds makes folds that start at init and take each event with add
// (which may read only the event's Type and Data).
func NewEventFolds[S any](init S, add func(*S, *CaseEvent)) *EventFolds[S] {
	return &EventFolds[S]{init: init, add: add, byCase: map[string]*eventFold[S]{}}
}

// Fold returns the fold of c's events, oldest first.
func (f *EventFolds[S]) Fold(c *Case) S {
	if c.ID == "" {
		s := f.init
		for i := range c.Events {
			f.add(&s, &c.Events[i])
		}
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.byCase[c.ID]
	k := 0
	if m != nil && len(m.seen) <= len(c.Events) {
		for k < len(m.seen) {
			fe := foldedOf(&c.Events[k])
			if m.seen[k] != fe {
				break
			}
			// Equal strings, perhaps in other bytes (the event read
			// again): keep these, so that the next comparison of the
			// same read's events is of pointers only.
			m.seen[k] = fe
			k++
		}
	}
	if m == nil || k < len(m.seen) {
		if m != nil {
			f.events -= len(m.seen)
		}
		m = &eventFold[S]{s: f.init}
		k = 0
		f.byCase[c.ID] = m
	}
	for i := k; i < len(c.Events); i++ {
		f.add(&m.s, &c.Events[i])
		m.seen = append(m.seen, foldedOf(&c.Events[i]))
	}
	f.events += len(c.Events) - k
	s := m.s
	if f.events > maxFoldedEvents {
		clear(f.byCase)
		f.events = 0
	}
	return s
}
