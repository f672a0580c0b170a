package postgres

import (
	"fmt"
	"sort"

	json "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// The intake reads every event, correlation key and case of a batch before
// it writes. One by one that is a round trip each, about a dozen per
// event; Prefetch and PrefetchCases read them in one round trip each and
// keep the rows in the transaction (tx.rows), where Event, Key and Case
// find them, and where the transaction's own writes replace them.

var _ cases.Prefetcher = (*tx)(nil)

// rowCache holds rows this transaction read or wrote: the encoded document,
// or nil for a row known not to exist.
type rowCache struct {
	events map[[2]string][]byte
	keys   map[string][]byte
	cases  map[string][]byte
}

func (t *tx) cache() *rowCache {
	if t.rows == nil {
		t.rows = &rowCache{events: map[[2]string][]byte{}, keys: map[string][]byte{}, cases: map[string][]byte{}}
	}
	return t.rows
}

// Prefetch locks and reads the events and correlation keys, in the order
// given (the caller sorts them, so that two batches lock in one order).
func (t *tx) Prefetch(events [][2]string, keys []string) error {
	rc := t.cache()
	var sources, ids, names []string
	for _, e := range events {
		if _, ok := rc.events[e]; ok || sqlText("event source", e[0]) != nil || sqlText("event id", e[1]) != nil {
			continue
		}
		sources, ids, names = append(sources, e[0]), append(ids, e[1]), append(names, e[0]+"\n"+e[1])
	}
	var ks []string
	for _, k := range keys {
		if _, ok := rc.keys[k]; ok || sqlText("correlation key", k) != nil {
			continue
		}
		ks = append(ks, k)
	}
	if len(sources) == 0 && len(ks) == 0 {
		return nil
	}
	t.materialize()
	b := t.pending
	if b == nil {
		b = &pgx.Batch{}
	}
	t.pending, t.sent = nil, true
	n := b.Len()
	if t.write {
		// Taken in array order, as the one-by-one reads took them.
		b.Queue("SELECT count(pg_advisory_xact_lock($1::int, hashtext(x))) FROM unnest($2::text[]) AS x", lockEvent, names)
	}
	b.Queue(`SELECT e.source, e.id, e.doc FROM events e
		JOIN unnest($1::text[], $2::text[]) AS r(source, id) ON e.source = r.source AND e.id = r.id`, sources, ids)
	if t.write {
		b.Queue("SELECT count(pg_advisory_xact_lock($1::int, hashtext(x))) FROM unnest($2::text[]) AS x", lockKey, ks)
	}
	b.Queue("SELECT key, doc FROM correlation_keys WHERE key = ANY($1::text[])", ks)
	br := t.ptx.SendBatch(t.ctx, b)
	defer br.Close()
	for i := 0; i < n; i++ {
		if _, err := br.Exec(); err != nil {
			return t.fail("write", err)
		}
	}
	if t.write {
		if _, err := br.Exec(); err != nil {
			return t.fail("lock events", err)
		}
	}
	for i := range sources {
		rc.events[[2]string{sources[i], ids[i]}] = nil
	}
	rows, err := br.Query()
	if err != nil {
		return t.fail("read events", err)
	}
	for rows.Next() {
		var s, id string
		var doc []byte
		if err := rows.Scan(&s, &id, &doc); err != nil {
			rows.Close()
			return t.fail("read events", err)
		}
		rc.events[[2]string{s, id}] = doc
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.fail("read events", err)
	}
	if t.nums != nil {
		// Each new event may open a case: take that many numbers at once.
		t.nums.hint = 0
		for i := range sources {
			if rc.events[[2]string{sources[i], ids[i]}] == nil {
				t.nums.hint++
			}
		}
	}
	if t.write {
		if _, err := br.Exec(); err != nil {
			return t.fail("lock correlation keys", err)
		}
	}
	for _, k := range ks {
		rc.keys[k] = nil
	}
	rows, err = br.Query()
	if err != nil {
		return t.fail("read correlation keys", err)
	}
	for rows.Next() {
		var k string
		var doc []byte
		if err := rows.Scan(&k, &doc); err != nil {
			rows.Close()
			return t.fail("read correlation keys", err)
		}
		rc.keys[k] = doc
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.fail("read correlation keys", err)
	}
	if err := br.Close(); err != nil {
		return t.fail("prefetch", err)
	}
	return nil
}

// PrefetchCases reads (and in an Update locks, in id order) the cases.
func (t *tx) PrefetchCases(ids []string) error {
	rc := t.cache()
	var want []string
	for _, id := range ids {
		if _, ok := rc.cases[id]; ok || sqlText("case id", id) != nil {
			continue
		}
		want = append(want, id)
	}
	if len(want) == 0 {
		return nil
	}
	sort.Strings(want)
	if err := t.flush("write"); err != nil {
		return err
	}
	rows, err := t.ptx.Query(t.ctx, "SELECT id, doc FROM cases WHERE id = ANY($1::text[]) ORDER BY id"+t.lockSuffix(), want)
	if err != nil {
		return t.fail("read cases", err)
	}
	var docs []caseDoc
	for _, id := range want {
		rc.cases[id] = nil
	}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			rows.Close()
			return t.fail("read cases", err)
		}
		rc.cases[id] = doc
		d, err := decodeDoc(id, doc)
		if err != nil {
			rows.Close()
			return err
		}
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.fail("read cases", err)
	}
	// Their events, into the store's cache, in one more round trip.
	_, err = t.resolve(docs)
	return err
}

// cachedEvent answers Event from the rows this transaction holds.
func (t *tx) cachedEvent(source, id string) (*cases.StoredEvent, bool, error) {
	if t.rows == nil {
		return nil, false, nil
	}
	doc, ok := t.rows.events[[2]string{source, id}]
	if !ok {
		return nil, false, nil
	}
	if doc == nil {
		return nil, true, notFound("event %s from %s", id, source)
	}
	var ev cases.StoredEvent
	if err := json.Unmarshal(doc, &ev); err != nil {
		return nil, true, fmt.Errorf("decode event %s from %s: %w", id, source, err)
	}
	return &ev, true, nil
}

func (t *tx) cachedKey(key string) (cases.KeyRef, bool, error) {
	if t.rows == nil {
		return cases.KeyRef{}, false, nil
	}
	doc, ok := t.rows.keys[key]
	if !ok {
		return cases.KeyRef{}, false, nil
	}
	if doc == nil {
		return cases.KeyRef{}, true, notFound("correlation key %s", key)
	}
	var ref cases.KeyRef
	if err := json.Unmarshal(doc, &ref); err != nil {
		return cases.KeyRef{}, true, fmt.Errorf("decode correlation key %s: %w", key, err)
	}
	return ref, true, nil
}

func (t *tx) cachedCase(id string, forAppend bool) (*cases.Case, bool, error) {
	if t.rows == nil {
		return nil, false, nil
	}
	doc, ok := t.rows.cases[id]
	if !ok {
		return nil, false, nil
	}
	if doc == nil {
		return nil, true, notFound("case %s", id)
	}
	d, err := decodeDoc(id, doc)
	if err != nil {
		return nil, true, err
	}
	d.forAppend = forAppend
	cs, err := t.resolve([]caseDoc{d})
	if err != nil {
		return nil, true, err
	}
	return cs[0], true, nil
}
