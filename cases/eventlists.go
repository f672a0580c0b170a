package cases

import (
	"container/list"
	"crypto/sha256"
	"reflect"
	"sync"
	"unsafe"
)

// A store that keeps a case's events as rows beside its document (one row
// per event, a reference to the stored event) would decode every row and
// resolve every reference on each read: with 200 events that is most of
// what a join costs. The stores therefore keep, for the heads they read or
// wrote last, the case's events as a read gives them (EventLists). A list
// is known by the case and the hash of its rows (ChainRow, chained over
// the bytes of every row), so it is right for anyone who reads rows with
// that hash: whether the transaction that wrote them committed or rolled
// back, on this replica or another, does not matter, and nothing has to be
// invalidated. Only the events' list is kept, not the case document, which
// stays small and is decoded on every read.

// EventList is a case's events for one head of its rows: the first ones
// resolved (as tx.Case gives them out), the rest as decoded rows still to
// resolve (written, not yet read). Nothing in a list changes once it is
// kept; the events' Data maps are shared with the cache of stored events
// and with every reader, and nobody changes them. The resolved events are
// kept in parts, shared between a list and the one a join makes of it, so
// that a join copies none of the events it did not add.
type EventList struct {
	n        int
	parts    [][]CaseEvent
	resolved int // events in parts
	tail     []DocEvent
}

// NewEventList is a list of events all resolved (the list keeps evs).
func NewEventList(evs []CaseEvent) *EventList {
	return &EventList{n: len(evs), parts: [][]CaseEvent{evs}, resolved: len(evs)}
}

// Len is how many events the list holds.
func (l *EventList) Len() int { return l.n }

// Unresolved lists the rows of the list not resolved yet, in order after
// the resolved ones.
func (l *EventList) Unresolved() []DocEvent { return l.tail }

// ChainRow returns the hash of a case's rows up to and including row, from
// prev, that of the rows before it (zero for the first).
func ChainRow(prev [sha256.Size]byte, row []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(row)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// maxParts bounds the parts of a list; past it they are joined into one
// (a copy of the events every maxParts joins, not every join).
const maxParts = 16

// WithResolved returns l with evs resolved after its resolved events (they
// replace as many of the tail).
func (l *EventList) WithResolved(evs []CaseEvent) *EventList {
	nl := &EventList{n: l.n, resolved: l.resolved + len(evs), tail: l.tail[len(evs):]}
	nl.parts = append(l.parts[:len(l.parts):len(l.parts)], evs)
	if len(nl.parts) > maxParts {
		all := make([]CaseEvent, 0, nl.resolved)
		for _, p := range nl.parts {
			all = append(all, p...)
		}
		nl.parts = [][]CaseEvent{all}
	}
	return nl
}

// prefix returns the first r resolved events of l as parts.
func (l *EventList) prefix(r int) [][]CaseEvent {
	var out [][]CaseEvent
	for _, p := range l.parts {
		if r == 0 {
			break
		}
		k := min(r, len(p))
		out = append(out, p[:k:k])
		r -= k
	}
	return out
}

// Events is the list as tx.Case gives it: the caller's own slice, with
// room for the event a join appends.
func (l *EventList) Events() []CaseEvent {
	out := make([]CaseEvent, 0, l.resolved+1)
	for _, p := range l.parts {
		out = append(out, p...)
	}
	return out
}

// SamePrefix returns how many of evs, from the first, would be written as
// the rows l holds, compared field by field (a reference's row holds its
// id, source, family, time of receipt and digest only). Strings an event
// got from a read share their bytes with the list, so this costs a few
// pointer comparisons per event, not an encoding or a hash.
func (l *EventList) SamePrefix(evs []CaseEvent) int {
	if l == nil {
		return 0
	}
	n := min(len(evs), l.n)
	i := 0
	for _, p := range l.parts {
		for j := range p {
			if i == n {
				return n
			}
			a, b := &evs[i], &p[j]
			if a.Digest != b.Digest || a.ID != b.ID || a.Source != b.Source || a.Family != b.Family || a.Received != b.Received {
				return i
			}
			if a.Digest == "" && (a.Type != b.Type || a.Time != b.Time || a.Subject != b.Subject || !sameMap(a.Data, b.Data)) {
				return i
			}
			i++
		}
	}
	for ; i < n; i++ {
		a, de := &evs[i], &l.tail[i-l.resolved]
		if a.Digest == "" || a.Digest != de.Digest || a.ID != de.ID || a.Source != de.Source || a.Family != de.Family || a.Received != de.Received {
			return i // a whole event not yet read back: its data is not the caller's
		}
	}
	return n
}

// sameMap reports whether a and b are the same map (not equal ones): an
// event's data a read gave out and that nobody replaced.
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// Extend returns the list after a write that kept rows [0, keep) of l's
// head (keep is 0 or l.n), found the first same events unchanged and wrote
// the rows tail from keep on. Nil when the kept rows are not l's.
func (l *EventList) Extend(keep, same int, tail []DocEvent) *EventList {
	switch {
	case keep == 0 && l == nil:
		return &EventList{n: len(tail), tail: tail}
	case l == nil || keep != 0 && keep != l.n:
		return nil
	case keep == 0:
		// Rewritten, but its unchanged first events are resolved already.
		r := min(same, l.resolved)
		return &EventList{n: len(tail), parts: l.prefix(r), resolved: r, tail: tail[r:]}
	}
	// Appended: the parts are shared, never appended to in place.
	nl := &EventList{n: l.n + len(tail), parts: l.parts[:len(l.parts):len(l.parts)], resolved: l.resolved}
	nl.tail = append(append(make([]DocEvent, 0, len(l.tail)+len(tail)), l.tail...), tail...)
	return nl
}

// EventListBytes bounds the memory the lists take, counted as the events'
// structs: about 35,000 events. Their data maps are those of the cache of
// stored events, but a list keeps them alive after that cache dropped them,
// so the lists hold about as many events as that cache does.
const EventListBytes = 5 << 20

const eventSize = int(unsafe.Sizeof(CaseEvent{}))

// EventLists keeps the lists of recently read or written heads, least
// recently used out first. Two lists of one case (a head and the one
// before, still read by an older read transaction) may be kept at once.
type EventLists struct {
	mu    sync.Mutex
	max   int
	size  int
	ll    *list.List
	byKey map[listKey]*list.Element
}

type listKey struct {
	id  string
	sum [sha256.Size]byte
}

type listEntry struct {
	key  listKey
	l    *EventList
	size int
}

// NewEventLists makes a cache that holds lists of about maxBytes.
func NewEventLists(maxBytes int) *EventLists {
	return &EventLists{max: maxBytes, ll: list.New(), byKey: map[listKey]*list.Element{}}
}

// Get returns the list of case id's head with hash sum and n rows, if kept.
func (c *EventLists) Get(id string, sum [sha256.Size]byte, n int) *EventList {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[listKey{id, sum}]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(e)
	if l := e.Value.(*listEntry).l; l.n == n {
		return l
	}
	return nil
}

// Put keeps l as the list of case id's head with hash sum (nil: nothing).
func (c *EventLists) Put(id string, sum [sha256.Size]byte, l *EventList) {
	if c == nil || l == nil {
		return
	}
	size := 64 + l.n*eventSize
	if size > c.max {
		return
	}
	key := listKey{id, sum}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		old := e.Value.(*listEntry)
		c.size += size - old.size
		old.l, old.size = l, size
		c.ll.MoveToFront(e)
	} else {
		c.byKey[key] = c.ll.PushFront(&listEntry{key: key, l: l, size: size})
		c.size += size
	}
	for c.size > c.max {
		e := c.ll.Back()
		le := e.Value.(*listEntry)
		c.ll.Remove(e)
		delete(c.byKey, le.key)
		c.size -= le.size
	}
}
