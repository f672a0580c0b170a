package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	json "github.com/goccy/go-json"
	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/cases"
)

// A case's events are rows of their own, not part of the case document:
// joining an event then writes one short row and a document whose size
// does not depend on how many events the case holds. The rows of a case
// sit under "case id NUL": one row per event (4-byte big-endian index → a
// cases.DocEvent: a reference to the stored event, or a whole event), then
// a head (how many rows and a hash chained over them) under five 0xff
// bytes, after the rows, so that a join's new row and the head share a
// page. Schema 2 kept the head before the rows, under "case id NUL"
// alone; such a head is read, and moved on the case's next write. A
// document without rows (from before schema 2, or of a case without
// events) keeps its events inline and is read as it is.

var bucketCaseEvents = []byte("case_events")

// eventsHead is the head row of a case's event rows.
type eventsHead struct {
	N    int    `json:"n"`
	Hash string `json:"hash"`
	// Chain names how Hash was made. 2: the whole SHA-256 chained over
	// each row's bytes as stored, so a head names exactly one list of rows
	// and the chain can go on from it. Heads without it (written before)
	// hashed some fields of each row; their rows are written again whole
	// on the case's next write.
	Chain int `json:"chain,omitempty"`
}

// chainVersion is the Chain this package writes.
const chainVersion = 2

// sum returns the head's hash, if it is one of chainVersion.
func (h eventsHead) sum() (sum [sha256.Size]byte, ok bool) {
	if h.Chain != chainVersion || hex.DecodedLen(len(h.Hash)) != sha256.Size {
		return sum, false
	}
	_, err := hex.Decode(sum[:], []byte(h.Hash))
	return sum, err == nil
}

func caseEventsPrefix(id string) []byte { return append([]byte(id), 0) }

// caseEventsHeadKey is where a case's head row is kept, after its rows.
func caseEventsHeadKey(id string) []byte {
	return append(caseEventsPrefix(id), 0xff, 0xff, 0xff, 0xff, 0xff)
}

func caseEventKey(id string, i int) []byte {
	return binary.BigEndian.AppendUint32(caseEventsPrefix(id), uint32(i))
}

// eventsHead reads the head of a case's rows (N 0 if it has none); before
// says it is still where schema 2 kept it.
func (t *tx) eventsHead(b *bbolt.Bucket, id string) (head eventsHead, before bool, err error) {
	v := b.Get(caseEventsHeadKey(id))
	if v == nil {
		if v = b.Get(caseEventsPrefix(id)); v == nil {
			return head, false, nil
		}
		before = true
	}
	if err := json.Unmarshal(v, &head); err != nil {
		return head, before, fmt.Errorf("decode event rows of case %s: %w", id, err)
	}
	return head, before, nil
}

// putCaseEvents writes the event rows of c and returns its document.
//
// A join appends one event to a case: then only the new row is encoded,
// hashed and written. The rows already there are not even compared with
// c's events by hash when the store's list for the head (see cases.EventLists)
// shows that c's first events are the ones a read gave out, unchanged.
// Any change other than an append rewrites all the rows.
func (t *tx) putCaseEvents(c *cases.Case) (*cases.CaseDoc, error) {
	b, err := t.bucket(bucketCaseEvents)
	if err != nil {
		return nil, err
	}
	head, before, err := t.eventsHead(b, c.ID)
	if err != nil {
		return nil, err
	}
	if before {
		if err := b.Delete(caseEventsPrefix(c.ID)); err != nil {
			return nil, fmt.Errorf("move the head of case %s's event rows: %w", c.ID, err)
		}
	}
	d := &cases.CaseDoc{Case: c}
	if len(c.Events) == 0 {
		// Inline (an empty list and a nil one stay apart); drop old rows.
		if c.Events != nil {
			d.Events = []cases.DocEvent{}
		}
		return d, t.deleteCaseEvents(b, c.ID, head.N)
	}
	sum, chained := head.sum()
	var known *cases.EventList
	if chained {
		known = t.lists.Get(c.ID, sum, head.N)
	}
	same := known.SamePrefix(c.Events)
	keep := 0 // rows [0, keep) stay as they are
	var rows [][]byte
	if known != nil && same == head.N {
		keep = head.N
		for i := keep; i < len(c.Events); i++ {
			v, err := encodeCaseEvent(c, i)
			if err != nil {
				return nil, err
			}
			rows = append(rows, v)
		}
	} else {
		// Encode and hash every row; an append that the store's lists do
		// not know of still writes only its new rows.
		rows = make([][]byte, len(c.Events))
		var prev [sha256.Size]byte
		for i := range c.Events {
			if rows[i], err = encodeCaseEvent(c, i); err != nil {
				return nil, err
			}
			prev = cases.ChainRow(prev, rows[i])
			if chained && i+1 == head.N && prev == sum {
				keep = head.N
			}
		}
		rows = rows[keep:]
		if keep == 0 {
			if err := t.deleteCaseEvents(b, c.ID, head.N); err != nil {
				return nil, err
			}
		}
	}
	if keep == 0 {
		sum = [sha256.Size]byte{}
	} // else the chain goes on from the head's hash
	tail := make([]cases.DocEvent, len(rows))
	for i, v := range rows {
		if err := b.Put(caseEventKey(c.ID, keep+i), v); err != nil {
			return nil, fmt.Errorf("put event %d of case %s: %w", keep+i, c.ID, err)
		}
		sum = cases.ChainRow(sum, v)
		// As a read decodes it (a time comes back in the zone it reads as).
		if err := json.Unmarshal(v, &tail[i]); err != nil {
			return nil, fmt.Errorf("decode event %d of case %s: %w", keep+i, c.ID, err)
		}
	}
	hv, err := json.Marshal(eventsHead{N: len(c.Events), Hash: hex.EncodeToString(sum[:]), Chain: chainVersion})
	if err != nil {
		return nil, err
	}
	if err := b.Put(caseEventsHeadKey(c.ID), hv); err != nil {
		return nil, fmt.Errorf("put event rows of case %s: %w", c.ID, err)
	}
	// Known by its hash, the list is right for whoever reads this head,
	// even if this transaction rolls back and another writes it.
	l := known.Extend(keep, same, tail)
	if l != nil && len(l.Unresolved()) > 0 {
		// The events a join adds are usually stored already (in the cache
		// of stored events): resolve them now rather than on the next read.
		if evs, ok := t.resolveCached(c.ID, l.Unresolved()); ok {
			l = l.WithResolved(evs, c.Events)
		}
	}
	t.lists.Put(c.ID, sum, l)
	d.EventRows = true
	return d, nil
}

// encodeCaseEvent is row i of c's event rows.
func encodeCaseEvent(c *cases.Case, i int) ([]byte, error) {
	de := cases.DocEventOf(&c.Events[i])
	v, err := json.Marshal(de)
	if err != nil {
		return nil, fmt.Errorf("encode event %s of case %s: %w", de.ID, c.ID, err)
	}
	return v, nil
}

// deleteCaseEvents drops the n rows of a case and its head.
func (t *tx) deleteCaseEvents(b *bbolt.Bucket, id string, n int) error {
	for i := 0; i < n; i++ {
		if err := b.Delete(caseEventKey(id, i)); err != nil {
			return fmt.Errorf("delete event %d of case %s: %w", i, id, err)
		}
	}
	for _, k := range [][]byte{caseEventsHeadKey(id), caseEventsPrefix(id)} {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete event rows of case %s: %w", id, err)
		}
	}
	return nil
}

// caseEvents gives the events of a case whose document keeps them in rows:
// from the store's list for the rows' head if it has one, so that reading
// a case of many events decodes none of their rows, else from the rows.
// The slice is shared with the list (see cases.EventList); forAppend asks
// for room to append one event in place (EventList.ForAppend).
func (t *tx) caseEvents(d *cases.CaseDoc, id string, forAppend bool) ([]cases.CaseEvent, error) {
	b, err := t.bucket(bucketCaseEvents)
	if err != nil {
		return nil, err
	}
	head, _, err := t.eventsHead(b, id)
	if err != nil {
		return nil, err
	}
	sum, chained := head.sum()
	if chained {
		if l := t.lists.Get(id, sum, head.N); l != nil {
			if len(l.Unresolved()) > 0 {
				more, err := t.resolve(id, l.Unresolved())
				if err != nil {
					return nil, err
				}
				l = l.WithResolved(more, nil)
				t.lists.Put(id, sum, l)
			}
			return give(l, forAppend), nil
		}
	}
	if err := t.readCaseEvents(d, id, head); err != nil {
		return nil, err
	}
	evs, err := t.resolve(id, d.Events)
	if err != nil {
		return nil, err
	}
	if chained && len(evs) == head.N {
		l := cases.NewEventList(evs)
		t.lists.Put(id, sum, l)
		return give(l, forAppend), nil
	}
	return evs, nil
}

// give is l's events as a read hands them out.
func give(l *cases.EventList, forAppend bool) []cases.CaseEvent {
	if forAppend {
		return l.ForAppend()
	}
	return l.Events()
}

// resolveCached is resolve for events all in the cache of stored events:
// false if one is not.
func (t *tx) resolveCached(id string, des []cases.DocEvent) ([]cases.CaseEvent, bool) {
	d := cases.CaseDoc{Case: &cases.Case{ID: id}, Events: des}
	refs := d.Refs()
	stored := make([]*cases.StoredEvent, len(refs))
	for i, r := range refs {
		if stored[i] = t.events.Get(r.Source, r.ID, r.Digest); stored[i] == nil {
			return nil, false
		}
	}
	c, err := d.Resolve(stored)
	if err != nil {
		return nil, false
	}
	return c.Events, true
}

// resolve gives back des as a case holds them: references from the cache
// of stored events or the events bucket.
func (t *tx) resolve(id string, des []cases.DocEvent) ([]cases.CaseEvent, error) {
	d := cases.CaseDoc{Case: &cases.Case{ID: id}, Events: des}
	refs := d.Refs()
	stored := make([]*cases.StoredEvent, len(refs))
	for i, r := range refs {
		if se := t.events.Get(r.Source, r.ID, r.Digest); se != nil {
			stored[i] = se
			continue
		}
		se, err := t.storedEvent(r.Source, r.ID)
		if err != nil && cases.KindOf(err) != cases.KindNotFound {
			return nil, fmt.Errorf("case %s: %w", id, err)
		}
		stored[i] = se
	}
	c, err := d.Resolve(stored)
	if err != nil {
		return nil, err
	}
	return c.Events, nil
}

// readCaseEvents fills the events of a document kept in rows.
func (t *tx) readCaseEvents(d *cases.CaseDoc, id string, head eventsHead) error {
	b, err := t.bucket(bucketCaseEvents)
	if err != nil {
		return err
	}
	prefix := caseEventsPrefix(id)
	if b.Get(caseEventsHeadKey(id)) == nil && b.Get(prefix) == nil {
		return fmt.Errorf("case %s: its event rows are missing", id)
	}
	d.Events = make([]cases.DocEvent, 0, head.N)
	cur := b.Cursor()
	k, v := cur.Seek(prefix)
	if bytes.Equal(k, prefix) {
		k, v = cur.Next() // schema 2's head
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, v = cur.Next() {
		var de cases.DocEvent
		if err := json.Unmarshal(v, &de); err != nil {
			return fmt.Errorf("decode event %d of case %s: %w", binary.BigEndian.Uint32(k[len(prefix):]), id, err)
		}
		d.Events = append(d.Events, de)
	}
	if len(d.Events) != head.N {
		return fmt.Errorf("case %s: %d event rows, its head says %d", id, len(d.Events), head.N)
	}
	return nil
}
