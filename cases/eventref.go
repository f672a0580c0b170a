package cases

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// A case refers to its events instead of embedding them: the stores keep,
// for every event of a case that names its stored event's Digest, only an
// EventRef in the case document, and give the event's type, times, subject
// and data back from the stored event when the case is read. The document
// then grows by a short reference per event, not by the event's data, so
// joining an event rewrites about the same bytes whether the case holds 1
// or 200 events. An event without a Digest (written by hand, or by an older
// exops) stays whole in the document; both shapes are read.

// CaseDoc is a case as the stores encode it. Its events keep the names and
// shape of CaseEvent, so documents of older versions (whole events) decode
// as they are; a reference is an event with a digest and nothing but its
// id, source, family and time of receipt.
type CaseDoc struct {
	*Case
	Events []DocEvent `json:"events"`
	// EventRows says the store keeps the events beside the document, one
	// row each (cases/bolt), and Events is empty here.
	EventRows bool `json:"event_rows,omitempty"`
}

// DocEvent is one event of a CaseDoc: whole, or a reference (Digest set).
type DocEvent struct {
	ID       string         `json:"id"`
	Source   string         `json:"source"`
	Type     string         `json:"type,omitempty"`
	Family   Family         `json:"family,omitempty"`
	Time     *time.Time     `json:"time,omitempty"`
	Received time.Time      `json:"received"`
	Subject  string         `json:"subject,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Digest   string         `json:"digest,omitempty"`
}

// NewCaseDoc makes the stored form of c. It shares c's values; encode it
// before c changes.
func NewCaseDoc(c *Case) *CaseDoc {
	d := &CaseDoc{Case: c}
	if c.Events != nil {
		d.Events = make([]DocEvent, len(c.Events))
	}
	for i := range c.Events {
		d.Events[i] = DocEventOf(&c.Events[i])
	}
	return d
}

// DocEventOf is ce as a CaseDoc holds it: a reference to its stored event
// if it names the event's digest, else whole (sharing its data).
func DocEventOf(ce *CaseEvent) DocEvent {
	if ce.Digest != "" {
		return DocEvent{ID: ce.ID, Source: ce.Source, Family: ce.Family, Received: ce.Received, Digest: ce.Digest}
	}
	t := ce.Time
	return DocEvent{ID: ce.ID, Source: ce.Source, Type: ce.Type, Family: ce.Family, Time: &t,
		Received: ce.Received, Subject: ce.Subject, Data: ce.Data}
}

// Refs lists the references of a decoded document, in order: the events
// Resolve needs from the store.
func (d *CaseDoc) Refs() []DocEvent {
	var out []DocEvent
	for _, de := range d.Events {
		if de.Digest != "" {
			out = append(out, de)
		}
	}
	return out
}

// Resolve makes the case from a decoded document; stored holds the stored
// events of Refs, in that order (nil for one the store did not find). Only
// their CloudEvents are used.
func (d *CaseDoc) Resolve(stored []*StoredEvent) (*Case, error) {
	c := d.Case
	if c == nil {
		c = &Case{}
	}
	c.Events = nil
	if d.Events != nil {
		c.Events = make([]CaseEvent, 0, len(d.Events))
	}
	k := 0
	for _, de := range d.Events {
		if de.Digest == "" {
			ce := CaseEvent{ID: de.ID, Source: de.Source, Type: de.Type, Family: de.Family, Received: de.Received, Subject: de.Subject, Data: de.Data}
			if de.Time != nil {
				ce.Time = *de.Time
			}
			c.Events = append(c.Events, ce)
			continue
		}
		var se *StoredEvent
		if k < len(stored) {
			se = stored[k]
		}
		k++
		switch {
		case se == nil:
			return nil, fmt.Errorf("case %s refers to event %s from %s, which is not stored", c.ID, de.ID, de.Source)
		case se.Digest != de.Digest:
			return nil, fmt.Errorf("case %s refers to event %s from %s as it was (digest %.12s), but it was stored again with other content (%.12s)",
				c.ID, de.ID, de.Source, de.Digest, se.Digest)
		}
		c.Events = append(c.Events, CaseEventOf(se, de.Family, de.Received))
	}
	return c, nil
}

// CaseEventOf is the event as a case keeps it: without an attached
// document's bytes, with the digest that lets the stores refer to it.
func CaseEventOf(se *StoredEvent, f Family, received time.Time) CaseEvent {
	// Data is shared with the cache: CaseEvent data is read-only everywhere.
	ev := se.Event
	return CaseEvent{ID: ev.ID, Source: ev.Source, Type: ev.Type, Family: f, Time: ev.Time, Received: received,
		Subject: ev.Subject, Data: withoutContent(ev.Data), Digest: se.Digest}
}

// EventCache keeps recently used stored events by source, id and digest,
// so that reading a case with many events does not read and decode each of
// them again. Only what the digest covers (the CloudEvent) may be taken
// from an entry, not its Received or Result: then an entry is never stale,
// whichever replica wrote the event and whether or not the transaction
// that wrote it committed. The events it returns are shared: nobody may
// change them.
type EventCache struct {
	lists *EventLists

	mu    sync.Mutex
	max   int
	size  int
	ll    *list.List
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key  string
	ev   *StoredEvent
	size int
}

// NewEventCache makes a cache that holds about maxBytes of encoded events.
func NewEventCache(maxBytes int) *EventCache {
	return &EventCache{max: maxBytes, ll: list.New(), byKey: map[string]*list.Element{}, lists: NewEventLists(EventListBytes)}
}

// Lists is the cache of cases' event lists that goes with this cache of
// stored events (nil for a nil cache): the lists' events share the data of
// the events cached here.
func (c *EventCache) Lists() *EventLists {
	if c == nil {
		return nil
	}
	return c.lists
}

// cacheKey names one content of one event: a digest that a caller chose
// (not computed by exops) may repeat across events, so it is not the key
// alone.
func cacheKey(source, id, digest string) string { return source + "\x00" + id + "\x00" + digest }

// Get returns the stored event (source, id) with that digest, if cached.
func (c *EventCache) Get(source, id, digest string) *StoredEvent {
	if c == nil || digest == "" {
		return nil
	}
	key := cacheKey(source, id, digest)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).ev
	}
	return nil
}

// Put remembers ev, whose encoded form is size bytes. An event without a
// digest, or larger than the whole cache, is not kept.
func (c *EventCache) Put(ev *StoredEvent, size int) {
	if c == nil || ev == nil || ev.Digest == "" || size > c.max {
		return
	}
	key := cacheKey(ev.Event.Source, ev.Event.ID, ev.Digest)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.byKey[key] = c.ll.PushFront(&cacheEntry{key: key, ev: ev, size: size})
	c.size += size
	for c.size > c.max {
		e := c.ll.Back()
		ce := e.Value.(*cacheEntry)
		c.ll.Remove(e)
		delete(c.byKey, ce.key)
		c.size -= ce.size
	}
}
