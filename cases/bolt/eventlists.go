package bolt

import (
	"container/list"
	"crypto/sha256"
	"reflect"
	"sync"
	"unsafe"

	"github.com/exops/exops/cases"
)

// Reading a case whose events are rows decodes every row and resolves every
// reference: with 200 events that is most of what a join costs. The store
// therefore keeps, for the heads it read or wrote last, the case's events
// as a read gives them. A list is known by the head's hash, which is
// chained over the bytes of every row, so it is right for anyone who reads
// that head: whether the transaction that wrote it committed or rolled back
// does not matter, and nothing has to be invalidated. Only the events'
// list is kept, not the case document, which stays small and is decoded on
// every read.

// eventList is a case's events for one head of its rows: the first ones
// resolved (as tx.Case gives them out), the rest as decoded rows still to
// resolve (written, not yet read). Nothing in a list changes once it is
// kept; the events' Data maps are shared with the cache of stored events
// and with every reader, and nobody changes them. The resolved events are
// kept in parts, shared between a list and the one a join makes of it, so
// that a join copies none of the events it did not add.
type eventList struct {
	n        int
	parts    [][]cases.CaseEvent
	resolved int // events in parts
	tail     []cases.DocEvent
}

// maxParts bounds the parts of a list; past it they are joined into one
// (a copy of the events every maxParts joins, not every join).
const maxParts = 16

// withResolved returns l with evs resolved after its resolved events (they
// replace as many of the tail).
func (l *eventList) withResolved(evs []cases.CaseEvent) *eventList {
	nl := &eventList{n: l.n, resolved: l.resolved + len(evs), tail: l.tail[len(evs):]}
	nl.parts = append(l.parts[:len(l.parts):len(l.parts)], evs)
	if len(nl.parts) > maxParts {
		all := make([]cases.CaseEvent, 0, nl.resolved)
		for _, p := range nl.parts {
			all = append(all, p...)
		}
		nl.parts = [][]cases.CaseEvent{all}
	}
	return nl
}

// prefix returns the first r resolved events of l as parts.
func (l *eventList) prefix(r int) [][]cases.CaseEvent {
	var out [][]cases.CaseEvent
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

// copyOut is the list as tx.Case gives it: the caller's own slice, with
// room for the event a join appends.
func (l *eventList) copyOut() []cases.CaseEvent {
	out := make([]cases.CaseEvent, 0, l.resolved+1)
	for _, p := range l.parts {
		out = append(out, p...)
	}
	return out
}

// samePrefix returns how many of evs, from the first, would be written as
// the rows l holds, compared field by field (a reference's row holds its
// id, source, family, time of receipt and digest only). Strings an event
// got from a read share their bytes with the list, so this costs a few
// pointer comparisons per event, not an encoding or a hash.
func (l *eventList) samePrefix(evs []cases.CaseEvent) int {
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

// extend returns the list after a write that kept rows [0, keep) of l's
// head (keep is 0 or l.n), found the first same events unchanged and wrote
// the rows tail from keep on. Nil when the kept rows are not l's.
func (l *eventList) extend(keep, same int, tail []cases.DocEvent) *eventList {
	switch {
	case keep == 0 && l == nil:
		return &eventList{n: len(tail), tail: tail}
	case l == nil || keep != 0 && keep != l.n:
		return nil
	case keep == 0:
		// Rewritten, but its unchanged first events are resolved already.
		r := min(same, l.resolved)
		return &eventList{n: len(tail), parts: l.prefix(r), resolved: r, tail: tail[r:]}
	}
	// Appended: the parts are shared, never appended to in place.
	nl := &eventList{n: l.n + len(tail), parts: l.parts[:len(l.parts):len(l.parts)], resolved: l.resolved}
	nl.tail = append(append(make([]cases.DocEvent, 0, len(l.tail)+len(tail)), l.tail...), tail...)
	return nl
}

// eventListBytes bounds the memory the lists take, counted as the events'
// structs: about 35,000 events. Their data maps are those of the cache of
// stored events, but a list keeps them alive after that cache dropped them,
// so the lists hold about as many events as that cache does.
const eventListBytes = 5 << 20

const eventSize = int(unsafe.Sizeof(cases.CaseEvent{}))

// eventLists keeps the lists of recently read or written heads, least
// recently used out first. Two lists of one case (a head and the one
// before, still read by an older read transaction) may be kept at once.
type eventLists struct {
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
	l    *eventList
	size int
}

func newEventLists(maxBytes int) *eventLists {
	return &eventLists{max: maxBytes, ll: list.New(), byKey: map[listKey]*list.Element{}}
}

// get returns the list of case id's head with hash sum and n rows, if kept.
func (c *eventLists) get(id string, sum [sha256.Size]byte, n int) *eventList {
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

// put keeps l as the list of case id's head with hash sum (nil: nothing).
func (c *eventLists) put(id string, sum [sha256.Size]byte, l *eventList) {
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
