package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	json "github.com/goccy/go-json"

	"github.com/exops/exops/cases"
)

// A case's events are rows of case_events (schema 5), not part of its
// document: joining an event inserts one short row and rewrites a document
// whose size does not depend on how many events the case holds. The
// document keeps the head of the rows (how many, and a hash chained over
// their bytes, cases.ChainRow); a read whose head the store's lists know
// (cases.EventLists, by case and hash, right whichever replica wrote the
// rows) reads no row at all. Documents that hold their events (written
// before schema 5, or of a case without events) are read as they are.

// rowsHead is the head of a case's event rows, in its document.
type rowsHead struct {
	N    int    `json:"n"`
	Hash string `json:"hash"`
}

func (h rowsHead) sum() (sum [sha256.Size]byte, ok bool) {
	if hex.DecodedLen(len(h.Hash)) != sha256.Size {
		return sum, false
	}
	_, err := hex.Decode(sum[:], []byte(h.Hash))
	return sum, err == nil
}

// storedDoc is a case document as this store writes it.
type storedDoc struct {
	*cases.CaseDoc
	Head *rowsHead `json:"event_head,omitempty"`
}

// sqlPutCaseEvents writes rows from $2 on; rows past the head are never
// read, and a later write replaces them.
const sqlPutCaseEvents = `INSERT INTO case_events (case_id, idx, doc) SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[])
	ON CONFLICT (case_id, idx) DO UPDATE SET doc = excluded.doc`

// readCaseRows fills the events of the documents that keep them in rows,
// in one query.
func readCaseRows(ctx context.Context, q eventQuerier, docs []*caseDoc) error {
	if len(docs) == 0 {
		return nil
	}
	byID := map[string][]*caseDoc{}
	var ids []string
	for _, d := range docs {
		if _, ok := byID[d.id]; !ok {
			ids = append(ids, d.id)
		}
		byID[d.id] = append(byID[d.id], d)
		d.doc.Events = make([]cases.DocEvent, 0, d.head.N)
	}
	rows, err := q.Query(ctx, "SELECT case_id, idx, doc FROM case_events WHERE case_id = ANY($1::text[]) ORDER BY case_id, idx", ids)
	if err != nil {
		return queryError{err}
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var idx int32
		var raw []byte
		if err := rows.Scan(&id, &idx, &raw); err != nil {
			return queryError{err}
		}
		var de cases.DocEvent
		decoded := false
		for _, d := range byID[id] {
			if int(idx) >= d.head.N {
				continue // left by a write that rewrote fewer rows
			}
			if int(idx) != len(d.doc.Events) {
				return fmt.Errorf("case %s: event row %d is missing", id, len(d.doc.Events))
			}
			if !decoded {
				if err := json.Unmarshal(raw, &de); err != nil {
					return fmt.Errorf("decode event %d of case %s: %w", idx, id, err)
				}
				decoded = true
			}
			d.doc.Events = append(d.doc.Events, de)
		}
	}
	if err := rows.Err(); err != nil {
		return queryError{err}
	}
	for _, d := range docs {
		if len(d.doc.Events) != d.head.N {
			return fmt.Errorf("case %s: %d event rows, its document says %d", d.id, len(d.doc.Events), d.head.N)
		}
	}
	return nil
}

// queueCaseEvents queues the event rows of c and returns its document. A
// join appends one event: when this transaction read the case (and so
// holds its row lock) and the store's list for the head it read shows that
// c's first events are those rows unchanged, only the new rows are
// encoded, hashed and written. Any other change writes them all.
func (t *tx) queueCaseEvents(c *cases.Case) (*storedDoc, error) {
	b := t.rowsOf()
	if t.heads == nil {
		t.heads = map[string]rowsHead{}
	}
	head, read := t.heads[c.ID]
	if len(c.Events) == 0 {
		if !read || head.N > 0 {
			b.dropRows(c.ID, 0)
		}
		t.heads[c.ID] = rowsHead{}
		return &storedDoc{CaseDoc: cases.NewCaseDoc(c)}, nil // inline: an empty list and a nil one stay apart
	}
	lists := t.events.Lists()
	sum, chained := head.sum()
	var known *cases.EventList
	if read && chained {
		known = lists.Get(c.ID, sum, head.N)
	}
	same := known.SamePrefix(c.Events)
	keep := 0
	if known != nil && same == head.N {
		keep = head.N
	} else {
		sum = [sha256.Size]byte{}
		if !read || head.N > len(c.Events) {
			b.dropRows(c.ID, len(c.Events))
		}
	}
	tail := make([]cases.DocEvent, len(c.Events)-keep)
	for i := keep; i < len(c.Events); i++ {
		de := cases.DocEventOf(&c.Events[i])
		v, err := json.Marshal(de)
		if err != nil {
			return nil, fmt.Errorf("encode event %s of case %s: %w", de.ID, c.ID, err)
		}
		sum = cases.ChainRow(sum, v)
		// As a read decodes it (a time comes back in the zone it reads as).
		if err := json.Unmarshal(v, &tail[i-keep]); err != nil {
			return nil, fmt.Errorf("decode event %d of case %s: %w", i, c.ID, err)
		}
		b.putRow(c.ID, int32(i), v)
	}
	head = rowsHead{N: len(c.Events), Hash: hex.EncodeToString(sum[:])}
	t.heads[c.ID] = head
	l := known.Extend(keep, same, tail)
	if l != nil && len(l.Unresolved()) > 0 {
		if evs, ok := resolveCached(t.events, c.ID, l.Unresolved()); ok {
			l = l.WithResolved(evs, c.Events)
		} else {
			l = nil // kept only whole: reads of this store resolve nothing
		}
	}
	if l != nil {
		lists.Put(c.ID, sum, l)
	}
	return &storedDoc{CaseDoc: &cases.CaseDoc{Case: c, EventRows: true}, Head: &head}, nil
}

// resolveCached resolves des from the cache of stored events alone: false
// if one is not there.
func resolveCached(cache *cases.EventCache, id string, des []cases.DocEvent) ([]cases.CaseEvent, bool) {
	d := cases.CaseDoc{Case: &cases.Case{ID: id}, Events: des}
	refs := d.Refs()
	stored := make([]*cases.StoredEvent, len(refs))
	for i, r := range refs {
		if stored[i] = cache.Get(r.Source, r.ID, r.Digest); stored[i] == nil {
			return nil, false
		}
	}
	c, err := d.Resolve(stored)
	if err != nil {
		return nil, false
	}
	return c.Events, true
}

// caseTerms is a case's index rows (see indexTerms).
type caseTerms struct{ kinds, values []string }

// queueCaseTerms writes c's index rows, unless they are the ones this
// transaction read (under the case's lock) or wrote; when it knows those,
// only the rows that differ: a join seldom brings a term the case lacks,
// and rewriting the rows on every join costs the server eighteen or so
// index entries, and leaves as many dead rows to vacuum. (What it knows is
// computed from the case it read: the migrations rewrite every case's rows
// when the terms a case has change.)
func (t *tx) queueCaseTerms(c *cases.Case) {
	var ct caseTerms
	ct.kinds, ct.values = indexTerms(c)
	old, known := t.terms[c.ID]
	if known && slices.Equal(old.kinds, ct.kinds) && slices.Equal(old.values, ct.values) {
		return
	}
	t.rowsOf().putTerms(c.ID, ct, old, known)
	if t.terms == nil {
		t.terms = map[string]caseTerms{}
	}
	t.terms[c.ID] = ct
}
