package cases

import (
	"container/list"
	"crypto/sha256"
	"reflect"
	"sync"
	"sync/atomic"
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
// and with every reader, and nobody changes them.
//
// The resolved events are a prefix of an array (flatEvents) that the lists
// of a case's successive heads share, and tx.Case gives that prefix out
// as the case's events without copying it: so a read of a case of 200
// events copies none of them, and a join that appends in place (see
// ForAppend) writes one event, not 201. A caller therefore never writes an
// event of a case it read in place (it replaces the slice, as append does
// when the slice is full, or clones it first); the whole module keeps to
// that (see Case.Events).
type EventList struct {
	n        int
	flat     *flatEvents // nil when no event is resolved
	resolved int         // events flat.buf[:resolved]
	tail     []DocEvent
}

// flatEvents is the array that the lists of one case's heads share, each
// list a prefix of it. Slots [0, claimed) are taken, and an event in a
// slot never changes once a list that holds it is kept. A list that grows
// (by a join's new event, or by resolving its rows) takes the next free
// slots; when another list of the case took them first (two transactions
// appended to the same head, and at most one committed), it copies its
// events into an array of its own.
type flatEvents struct {
	buf     []CaseEvent // len(buf) == cap(buf)
	claimed atomic.Int64
	// lent is 1 + the slot that ForAppend lent to a case to append into,
	// 0 if none: only that case's event may be written over there (by
	// WithResolved, with the event as a read gives it).
	lent atomic.Int64
}

// newFlat is an array holding evs then room free slots.
func newFlat(evs []CaseEvent, room int) *flatEvents {
	f := &flatEvents{buf: make([]CaseEvent, len(evs)+room)}
	copy(f.buf, evs)
	f.claimed.Store(int64(len(evs)))
	return f
}

// take claims slots [from, from+k) of f: false if f has no room there or
// another list took them.
func (f *flatEvents) take(from, k int) bool {
	return f != nil && from+k <= len(f.buf) && f.claimed.CompareAndSwap(int64(from), int64(from+k))
}

// room is how many free slots an array for n events gets: a case that
// grows by joins copies its events about every n/2 joins, not every join.
func room(n int) int { return n/2 + 8 }

// NewEventList is a list of events all resolved (the list copies evs).
func NewEventList(evs []CaseEvent) *EventList {
	l := &EventList{n: len(evs), resolved: len(evs)}
	if len(evs) > 0 {
		l.flat = newFlat(evs, room(len(evs)))
	}
	return l
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

// resolvedEvents is the list's resolved events, full (len == cap), so an
// append to them copies.
func (l *EventList) resolvedEvents() []CaseEvent {
	if l.flat == nil {
		return []CaseEvent{}
	}
	return l.flat.buf[:l.resolved:l.resolved]
}

// WithResolved returns l with evs resolved after its resolved events (they
// replace as many of the tail). owner is the events of the case being
// written, if any: when ForAppend lent it the slot evs go to, its event
// there is replaced by evs's, the same event as a read gives it.
func (l *EventList) WithResolved(evs, owner []CaseEvent) *EventList {
	r, k := l.resolved, len(evs)
	nl := &EventList{n: l.n, resolved: r + k, tail: l.tail[k:]}
	f := l.flat
	switch {
	case k == 0:
	case f != nil && k == 1 && len(owner) == r+1 && &owner[0] == &f.buf[0] && f.lent.CompareAndSwap(int64(r+1), 0):
		f.buf[r] = evs[0]
	case f.take(r, k):
		copy(f.buf[r:], evs)
	default:
		f = &flatEvents{buf: make([]CaseEvent, r+k+room(r+k))}
		copy(f.buf, l.resolvedEvents())
		copy(f.buf[r:], evs)
		f.claimed.Store(int64(r + k))
	}
	nl.flat = f
	return nl
}

// Events is the list as tx.Case gives it: shared, and full, so that an
// append copies it.
func (l *EventList) Events() []CaseEvent { return l.resolvedEvents() }

// ForAppend is the list as a case gets it that will have one event
// appended in place: the next slot of the shared array is lent to the
// caller when it is free, and the caller's append writes it; else the
// caller gets its own copy with room for one more.
func (l *EventList) ForAppend() []CaseEvent {
	r := l.resolved
	if f := l.flat; f.take(r, 1) {
		f.lent.Store(int64(r + 1))
		return f.buf[: r : r+1]
	}
	out := make([]CaseEvent, r, r+1)
	copy(out, l.resolvedEvents())
	return out
}

// SamePrefix returns how many of evs, from the first, would be written as
// the rows l holds, compared field by field (a reference's row holds its
// id, source, family, time of receipt and digest only). When evs is the
// list's own array, as a read gave it and a join appended to it, its
// resolved events are the list's by identity (nobody writes an event in
// place) and are not compared at all; else strings an event got from a
// read share their bytes with the list, so the comparison costs a few
// pointer comparisons per event, not an encoding or a hash.
func (l *EventList) SamePrefix(evs []CaseEvent) int {
	if l == nil {
		return 0
	}
	n := min(len(evs), l.n)
	i := 0
	if l.resolved > 0 && len(evs) >= l.resolved && &evs[0] == &l.flat.buf[0] {
		i = l.resolved
	} else {
		for j, b := range l.resolvedEvents() {
			if j == n {
				return n
			}
			a := &evs[j]
			if a.Digest != b.Digest || a.ID != b.ID || a.Source != b.Source || a.Family != b.Family || a.Received != b.Received {
				return j
			}
			if a.Digest == "" && (a.Type != b.Type || a.Time != b.Time || a.Subject != b.Subject || !sameMap(a.Data, b.Data)) {
				return j
			}
			i = j + 1
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
		nl := &EventList{n: len(tail), resolved: r, tail: tail[r:]}
		if r > 0 {
			nl.flat = l.flat
		}
		return nl
	}
	// Appended: the new rows are resolved into the shared array later.
	nl := &EventList{n: l.n + len(tail), flat: l.flat, resolved: l.resolved}
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
