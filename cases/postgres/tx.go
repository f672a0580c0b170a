package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/exops/exops/cases"
)

// querier is what both a transaction and a connection offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx implements cases.Tx over one PostgreSQL transaction. It is made anew
// for every run of the caller's function.
type tx struct {
	ctx   context.Context
	ptx   pgx.Tx
	write bool // an Update: reads lock what they read
	// failed is the first database error: PostgreSQL aborts the whole
	// transaction after one, whatever the caller's function does with it.
	failed error
	// head is the audit chain head, once locked in this transaction
	// (lockHead: the store copy writes the chain itself).
	head *auditHead
	// chain gathers the audit records of the transaction (of all the
	// Updates of a group), placed in the chain at commit (see chain.go).
	chain *pendingChain
	// pending holds writes whose answer nobody waits for; they go to the
	// server with the next read or at the end, in one round trip.
	pending *pgx.Batch
	// sent says pending was sent at least once (so a savepoint queued
	// first in it exists on the server).
	sent bool
	// events is the store's cache of stored events that cases refer to.
	events *cases.EventCache
	// rows holds what Prefetch read, and this transaction's writes over it.
	rows *rowCache
	// nums holds the free case numbers the transaction has locked, and
	// casesUsed the ones this function took (see numbers.go).
	nums      *caseNumbers
	casesUsed []int64
	// enqueued holds the dedupe keys (queue NUL key) of the jobs this
	// transaction enqueued, with their ids: another job with one of them
	// is dropped without asking the server.
	enqueued map[string]uint64
	// bulk gathers rows for multi-row statements (see bulk.go).
	bulk *bulk
	// heads holds the heads of the event rows of the cases this
	// transaction read or wrote (and so holds locked), by case; terms
	// their index terms as read or written (see queueCaseTerms).
	heads map[string]rowsHead
	terms map[string]caseTerms
}

// finish queues what must follow the caller's function before its
// savepoint is released: the case numbers it took leave the free list.
func (t *tx) finish() {
	t.materialize()
	if len(t.casesUsed) > 0 {
		t.queue("DELETE FROM case_numbers_free WHERE n = ANY($1::bigint[])", t.casesUsed)
		t.casesUsed = nil
	}
}

// queue adds a write to the pending batch.
func (t *tx) queue(sql string, args ...any) {
	if t.pending == nil {
		t.pending = &pgx.Batch{}
	}
	t.pending.Queue(sql, args...)
}

// flush sends the pending writes. Reads call it first, so that a
// transaction reads its own writes.
func (t *tx) flush(what string) error {
	t.materialize()
	if t.pending == nil || t.pending.Len() == 0 {
		return nil
	}
	b := t.pending
	t.pending, t.sent = nil, true
	if err := t.ptx.SendBatch(t.ctx, b).Close(); err != nil {
		return t.fail(what, err)
	}
	return nil
}

// queryRow sends the pending writes and one query in one round trip and
// scans the query's row; found is false when it has none.
func (t *tx) queryRow(what, sql string, args []any, dest ...any) (found bool, err error) {
	t.materialize()
	b := t.pending
	if b == nil {
		b = &pgx.Batch{}
	}
	t.pending, t.sent = nil, true
	n := b.Len()
	b.Queue(sql, args...)
	br := t.ptx.SendBatch(t.ctx, b)
	for i := 0; i < n; i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return false, t.fail(what, err)
		}
	}
	err = br.QueryRow().Scan(dest...)
	cerr := br.Close()
	switch {
	case errors.Is(err, pgx.ErrNoRows) && cerr == nil:
		return false, nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return false, t.fail(what, err)
	case cerr != nil:
		return false, t.fail(what, cerr)
	}
	return true, nil
}

type auditHead struct {
	seq  uint64
	hash string
}

var _ cases.Tx = (*tx)(nil)

// Advisory lock namespaces (the first int of pg_advisory_xact_lock).
const (
	lockKey   = 1
	lockEvent = 2
)

// chunk bounds the rows a walk holds at once.
const chunk = 256

func notFound(format string, args ...any) error {
	return &cases.Error{Kind: cases.KindNotFound, Msg: fmt.Sprintf(format, args...), Err: cases.ErrNotFound}
}

func invalid(format string, args ...any) error {
	return cases.Errorf(cases.KindInvalid, format, args...)
}

// sqlText checks that s can be a PostgreSQL text value: valid UTF-8 without
// NUL. Names (ids, keys, queues) are refused otherwise, not mangled, so that
// two names never become one.
func sqlText(what, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return invalid("%s %q is not valid UTF-8 text without NUL bytes", what, s)
	}
	return nil
}

// fail records a database error and gives it context and a kind.
func (t *tx) fail(what string, err error) error {
	if t.failed == nil {
		t.failed = err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return dbError(what, err)
}

func (t *tx) lockSuffix() string {
	if t.write {
		return " FOR UPDATE"
	}
	return ""
}

// lockName takes the transaction's advisory lock on a name that may not
// have a row yet. A hash collision only makes two names wait for each other.
func (t *tx) lockName(ns int, name string) error {
	if t.write {
		t.queue("SELECT pg_advisory_xact_lock($1::int, hashtext($2))", ns, name) // sent with the read that follows
	}
	return nil
}

// caseDoc is one case row before its referenced events are read.
type caseDoc struct {
	id   string
	doc  *cases.CaseDoc
	head *rowsHead // the head of its event rows, if it has them
	// forAppend: the reader will append an event (cases.Appender).
	forAppend bool
}

func decodeDoc(id string, doc []byte) (caseDoc, error) {
	d := storedDoc{CaseDoc: &cases.CaseDoc{Case: &cases.Case{}}}
	if err := json.Unmarshal(doc, &d); err != nil {
		return caseDoc{}, fmt.Errorf("decode case %s: %w", id, err)
	}
	if d.EventRows && d.Head == nil {
		return caseDoc{}, fmt.Errorf("decode case %s: its events are rows, but it says nothing of them", id)
	}
	if !d.EventRows {
		d.Head = nil
	}
	return caseDoc{id: id, doc: d.CaseDoc, head: d.Head}, nil
}

// eventQuerier reads rows: a transaction, or a connection in a migration.
type eventQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryError marks a database error of resolveCases.
type queryError struct{ err error }

func (e queryError) Error() string { return e.err.Error() }
func (e queryError) Unwrap() error { return e.err }

// resolveCases gives the referenced events of the documents back, from the
// cache or, for all the others at once, in one query.
func resolveCases(ctx context.Context, q eventQuerier, cache *cases.EventCache, docs []caseDoc) ([]*cases.Case, error) {
	// Event rows: from the store's lists, else read (one query for all).
	lists := cache.Lists()
	known := make([]*cases.EventList, len(docs))
	var unknown []*caseDoc
	for i := range docs {
		d := &docs[i]
		if d.head == nil {
			continue
		}
		if sum, ok := d.head.sum(); ok {
			if l := lists.Get(d.id, sum, d.head.N); l != nil && len(l.Unresolved()) == 0 {
				known[i] = l
				continue
			}
		}
		unknown = append(unknown, d)
	}
	if err := readCaseRows(ctx, q, unknown); err != nil {
		return nil, err
	}
	type ref struct{ source, id string }
	stored := make([][]*cases.StoredEvent, len(docs))
	missing := map[ref][]*(*cases.StoredEvent){}
	var sources, ids []string
	for i, d := range docs {
		if known[i] != nil {
			continue
		}
		refs := d.doc.Refs()
		stored[i] = make([]*cases.StoredEvent, len(refs))
		for j, r := range refs {
			if se := cache.Get(r.Source, r.ID, r.Digest); se != nil {
				stored[i][j] = se
				continue
			}
			k := ref{r.Source, r.ID}
			if _, ok := missing[k]; !ok {
				sources, ids = append(sources, r.Source), append(ids, r.ID)
			}
			missing[k] = append(missing[k], &stored[i][j])
		}
	}
	if len(sources) > 0 {
		rows, err := q.Query(ctx, `SELECT e.source, e.id, e.doc FROM events e
			JOIN unnest($1::text[], $2::text[]) AS r(source, id) ON e.source = r.source AND e.id = r.id`, sources, ids)
		if err != nil {
			return nil, queryError{err}
		}
		for rows.Next() {
			var source, id string
			var doc []byte
			if err := rows.Scan(&source, &id, &doc); err != nil {
				rows.Close()
				return nil, queryError{err}
			}
			var se cases.StoredEvent
			if err := json.Unmarshal(doc, &se); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode event %s from %s: %w", id, source, err)
			}
			cache.Put(&se, len(doc))
			for _, dst := range missing[ref{source, id}] {
				*dst = &se
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, queryError{err}
		}
	}
	out := make([]*cases.Case, len(docs))
	for i, d := range docs {
		if known[i] != nil {
			d.doc.Case.Events = give(known[i], d.forAppend)
			out[i] = d.doc.Case
			continue
		}
		c, err := d.doc.Resolve(stored[i])
		if err != nil {
			return nil, err
		}
		if d.head != nil && lists != nil {
			if sum, ok := d.head.sum(); ok {
				// The caller gets the list's events, so that its write
				// after a join finds them the list's by identity.
				l := cases.NewEventList(c.Events)
				lists.Put(d.id, sum, l)
				c.Events = give(l, d.forAppend)
			}
		}
		out[i] = c
	}
	return out, nil
}

// give is l's events as a read hands them out.
func give(l *cases.EventList, forAppend bool) []cases.CaseEvent {
	if forAppend {
		return l.ForAppend()
	}
	return l.Events()
}

// resolve is resolveCases in this transaction.
func (t *tx) resolve(docs []caseDoc) ([]*cases.Case, error) {
	if err := t.flush("write"); err != nil {
		return nil, err
	}
	out, err := resolveCases(t.ctx, t.ptx, t.events, docs)
	var qe queryError
	if errors.As(err, &qe) {
		return nil, t.fail("read the events of cases", qe.err)
	}
	if err == nil && t.write {
		// Read with their locks: PutCase may append to these rows.
		if t.heads == nil {
			t.heads = map[string]rowsHead{}
		}
		if t.terms == nil {
			t.terms = map[string]caseTerms{}
		}
		for i, d := range docs {
			if d.head != nil {
				t.heads[d.id] = *d.head
			} else {
				t.heads[d.id] = rowsHead{}
			}
			var ct caseTerms
			ct.kinds, ct.values = indexTerms(out[i])
			t.terms[d.id] = ct
		}
	}
	return out, err
}

func (t *tx) Case(id string) (*cases.Case, error) { return t.readCase(id, false) }

// CaseForAppend is Case for a caller that will append one event to the
// case (see cases.Appender).
func (t *tx) CaseForAppend(id string) (*cases.Case, error) { return t.readCase(id, true) }

func (t *tx) readCase(id string, forAppend bool) (*cases.Case, error) {
	if sqlText("case id", id) != nil {
		return nil, notFound("case %s", id)
	}
	if c, ok, err := t.cachedCase(id, forAppend); ok {
		return c, err
	}
	var doc []byte
	found, err := t.queryRow("read case "+id, "SELECT doc FROM cases WHERE id = $1"+t.lockSuffix(), []any{id}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("case %s", id)
	}
	d, err := decodeDoc(id, doc)
	if err != nil {
		return nil, err
	}
	d.forAppend = forAppend
	cs, err := t.resolve([]caseDoc{d})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func (t *tx) ForEachCase(fn func(*cases.Case) error) error {
	after := ""
	first := true
	for {
		if err := t.flush("write"); err != nil {
			return err
		}
		rows, err := t.ptx.Query(t.ctx, "SELECT id, doc FROM cases WHERE $1 OR id > $2 ORDER BY id LIMIT $3"+t.lockSuffix(), first, after, chunk)
		if err != nil {
			return t.fail("read cases", err)
		}
		type row struct {
			id  string
			doc []byte
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.doc)
			return x, err
		})
		if err != nil {
			return t.fail("read cases", err)
		}
		docs := make([]caseDoc, len(batch))
		for i, r := range batch {
			if docs[i], err = decodeDoc(r.id, r.doc); err != nil {
				return err
			}
		}
		cs, err := t.resolve(docs)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(batch) < chunk {
			return nil
		}
		first, after = false, batch[len(batch)-1].id
	}
}

func (t *tx) PutCase(c *cases.Case) error {
	if c == nil || c.ID == "" {
		return invalid("case without an id")
	}
	if err := sqlText("case id", c.ID); err != nil {
		return err
	}
	// As in cases/bolt: an unknown severity is written as "unknown" but
	// cannot be read back.
	if _, err := cases.ParseSeverity(c.Severity.String()); err != nil {
		return invalid("case %s: severity %d is not low, medium, high or critical", c.ID, int(c.Severity))
	}
	d, err := t.queueCaseEvents(c)
	if err != nil {
		return err
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	t.rowsOf().putCase(c.ID, string(c.Status), c.OpenedAt.Unix(), int32(c.OpenedAt.Nanosecond()), doc)
	t.queueCaseTerms(c)
	if t.rows != nil {
		t.rows.cases[c.ID] = doc
	}
	return nil
}

func (t *tx) Event(source, id string) (*cases.StoredEvent, error) {
	if sqlText("event source", source) != nil || sqlText("event id", id) != nil {
		return nil, notFound("event %s from %s", id, source)
	}
	if ev, ok, err := t.cachedEvent(source, id); ok {
		return ev, err
	}
	// Only the hash of the lock name matters; a collision merely waits.
	if err := t.lockName(lockEvent, source+"\n"+id); err != nil {
		return nil, err
	}
	var doc []byte
	found, err := t.queryRow("read event", "SELECT doc FROM events WHERE source = $1 AND id = $2", []any{source, id}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("event %s from %s", id, source)
	}
	var ev cases.StoredEvent
	if err := json.Unmarshal(doc, &ev); err != nil {
		return nil, fmt.Errorf("decode event %s from %s: %w", id, source, err)
	}
	return &ev, nil
}

func (t *tx) PutEvent(ev *cases.StoredEvent) error {
	if ev == nil || ev.Event.Source == "" || ev.Event.ID == "" {
		return invalid("event without a source or id")
	}
	if err := sqlText("event source", ev.Event.Source); err != nil {
		return err
	}
	if err := sqlText("event id", ev.Event.ID); err != nil {
		return err
	}
	doc, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.Event.ID, err)
	}
	t.rowsOf().putEvent(ev.Event.Source, ev.Event.ID, doc)
	if t.rows != nil {
		t.rows.events[[2]string{ev.Event.Source, ev.Event.ID}] = doc
	}
	// A case that joins the event next finds it here. Decoded again, so
	// that the cache shares nothing with the caller's value.
	if t.events != nil {
		var kept cases.StoredEvent
		if json.Unmarshal(doc, &kept) == nil {
			t.events.Put(&kept, len(doc))
		}
	}
	return nil
}

func (t *tx) Key(key string) (cases.KeyRef, error) {
	if sqlText("correlation key", key) != nil {
		return cases.KeyRef{}, notFound("correlation key %s", key)
	}
	if ref, ok, err := t.cachedKey(key); ok {
		return ref, err
	}
	if err := t.lockName(lockKey, key); err != nil {
		return cases.KeyRef{}, err
	}
	var doc []byte
	found, err := t.queryRow("read correlation key", "SELECT doc FROM correlation_keys WHERE key = $1", []any{key}, &doc)
	if err != nil {
		return cases.KeyRef{}, err
	}
	if !found {
		return cases.KeyRef{}, notFound("correlation key %s", key)
	}
	var ref cases.KeyRef
	if err := json.Unmarshal(doc, &ref); err != nil {
		return cases.KeyRef{}, fmt.Errorf("decode correlation key %s: %w", key, err)
	}
	return ref, nil
}

func (t *tx) PutKey(key string, ref cases.KeyRef) error {
	if key == "" {
		return invalid("empty correlation key")
	}
	if err := sqlText("correlation key", key); err != nil {
		return err
	}
	doc, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("encode correlation key %s: %w", key, err)
	}
	t.rowsOf().putKey(key, doc)
	if t.rows != nil {
		t.rows.keys[key] = doc
	}
	return nil
}

// lockHead reads the audit head; in an Update it locks the row, which
// serialises appends across every replica until this transaction ends.
func (t *tx) lockHead() (auditHead, error) {
	if t.head != nil {
		return *t.head, nil
	}
	var h auditHead
	var seq int64
	found, err := t.queryRow("read audit head", "SELECT seq, hash FROM audit_head WHERE id = 1"+t.lockSuffix(), nil, &seq, &h.hash)
	if err == nil && !found {
		err = t.fail("read audit head", errors.New("head row missing"))
	}
	if err != nil {
		return auditHead{}, err
	}
	h.seq = uint64(seq)
	if t.write {
		t.head = &h
	}
	return h, nil
}

// AuditHead of an Update is provisional, like the seqs Audit returns: true
// within the transaction, placed for good at commit (see chain.go).
func (t *tx) AuditHead() (uint64, string, error) {
	if t.chain != nil {
		return t.chain.head.seq, t.chain.head.hash, nil
	}
	h, err := t.lockHead()
	return h.seq, h.hash, err
}

func (t *tx) Audit(e cases.AuditEntry) (uint64, error) {
	if math.IsNaN(e.Confidence) || math.IsInf(e.Confidence, 0) {
		return 0, invalid("audit confidence %v is not a finite number", e.Confidence)
	}
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		return 0, invalid("audit time %v is outside years 0 to 9999", e.Time)
	}
	if t.chain == nil {
		return 0, invalid("audit: not in an Update")
	}
	le, err := provisional(t.chain.head, e)
	if err != nil {
		return 0, err
	}
	t.chain.entries = append(t.chain.entries, le)
	t.chain.head = auditHead{seq: le.rec.Seq, hash: le.rec.Hash}
	return le.rec.Seq, nil
}

// AuditLate implements cases.LateAuditor.
func (t *tx) AuditLate(make func(seq uint64, hash string) (cases.AuditEntry, bool)) error {
	if t.chain == nil {
		return invalid("audit: not in an Update")
	}
	t.chain.entries = append(t.chain.entries, lateEntry{make: make})
	return nil
}

func checkQueue(q cases.Queue) error {
	if q == "" {
		return invalid("empty queue name")
	}
	return sqlText("queue", string(q))
}

// nanos is t in Unix nanoseconds, for the columns compared with an injected
// clock: zero is 0, and times outside 1678–2262 are clamped.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Year() < 1678:
		return 0
	case t.Year() > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// encodeJob stores the job without its id, which is the row's key.
func encodeJob(j cases.Job) ([]byte, error) {
	j.ID = 0
	return json.Marshal(j)
}

func decodeJob(q cases.Queue, id int64, doc []byte) (cases.Job, error) {
	var j cases.Job
	if err := json.Unmarshal(doc, &j); err != nil {
		return j, fmt.Errorf("decode job %d of queue %s: %w", id, q, err)
	}
	j.ID = uint64(id)
	return j, nil
}

func (t *tx) Jobs(q cases.Queue, fn func(cases.Job) error) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	var after int64
	for {
		if err := t.flush("write"); err != nil {
			return err
		}
		rows, err := t.ptx.Query(t.ctx, "SELECT id, doc FROM jobs WHERE queue = $1 AND id > $2 ORDER BY id LIMIT $3"+t.lockSuffix(), string(q), after, chunk)
		if err != nil {
			return t.fail("read queue "+string(q), err)
		}
		type row struct {
			id  int64
			doc []byte
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.doc)
			return x, err
		})
		if err != nil {
			return t.fail("read queue "+string(q), err)
		}
		for _, r := range batch {
			j, err := decodeJob(q, r.id, r.doc)
			if err != nil {
				return err
			}
			if err := fn(j); err != nil {
				return err
			}
		}
		if len(batch) < chunk {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}

func (t *tx) Enqueue(q cases.Queue, j *cases.Job) error {
	if j == nil {
		return invalid("nil job")
	}
	if err := checkQueue(q); err != nil {
		return err
	}
	if err := sqlText("dedupe key", j.Dedupe); err != nil {
		return err
	}
	doc, err := encodeJob(*j)
	if err != nil {
		return fmt.Errorf("encode job of queue %s: %w", q, err)
	}
	dk := string(q) + "\x00" + j.Dedupe
	if j.Dedupe != "" && t.enqueued[dk] != 0 {
		j.ID = 0 // this transaction's own job with that key is waiting
		return nil
	}
	var id int64
	// A waiting job with the same dedupe key wins; a concurrent one waits
	// for the other's commit on the unique index, then yields to it.
	found, err := t.queryRow("enqueue "+string(q), `INSERT INTO jobs (queue, id, dedupe, doc, case_id, not_before) VALUES ($1, nextval('job_ids'), $2, $3, $4, $5)
		ON CONFLICT (queue, dedupe) WHERE dedupe <> '' DO NOTHING RETURNING id`, []any{string(q), j.Dedupe, doc, j.Case, nanos(j.NotBefore)}, &id)
	if err != nil || !found {
		j.ID = 0
		return err
	}
	j.ID = uint64(id)
	if j.Dedupe != "" {
		if t.enqueued == nil {
			t.enqueued = map[string]uint64{}
		}
		t.enqueued[dk] = j.ID
	}
	return nil
}

var _ cases.LaterQueuer = (*tx)(nil)

// EnqueueLater queues the insert with the transaction's pending writes.
func (t *tx) EnqueueLater(q cases.Queue, j cases.Job) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if err := sqlText("dedupe key", j.Dedupe); err != nil {
		return err
	}
	dk := string(q) + "\x00" + j.Dedupe
	if j.Dedupe != "" && t.enqueued[dk] != 0 {
		return nil
	}
	doc, err := encodeJob(j)
	if err != nil {
		return fmt.Errorf("encode job of queue %s: %w", q, err)
	}
	b := t.rowsOf()
	b.jobQ, b.jobDedupe, b.jobDoc = append(b.jobQ, string(q)), append(b.jobDedupe, j.Dedupe), append(b.jobDoc, doc)
	b.jobCase, b.jobNotBefore = append(b.jobCase, j.Case), append(b.jobNotBefore, nanos(j.NotBefore))
	if j.Dedupe != "" {
		if t.enqueued == nil {
			t.enqueued = map[string]uint64{}
		}
		// Its id is unknown; it is only ever dropped with DeleteJob by id,
		// which then cannot match it: UpdateJob and DeleteJob forget all.
		t.enqueued[dk] = math.MaxUint64
	}
	return nil
}

func (t *tx) UpdateJob(q cases.Queue, j cases.Job) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if err := sqlText("dedupe key", j.Dedupe); err != nil {
		return err
	}
	if j.ID > math.MaxInt64 {
		return notFound("job %d in queue %s", j.ID, q)
	}
	t.enqueued = nil // a dedupe key may move: ask the server again
	var old string
	found, err := t.queryRow("update job", "SELECT dedupe FROM jobs WHERE queue = $1 AND id = $2 FOR UPDATE", []any{string(q), int64(j.ID)}, &old)
	if err != nil {
		return err
	}
	if !found {
		return notFound("job %d in queue %s", j.ID, q)
	}
	if old != j.Dedupe && j.Dedupe != "" {
		var other int64
		err := t.ptx.QueryRow(t.ctx, "SELECT id FROM jobs WHERE queue = $1 AND dedupe = $2", string(q), j.Dedupe).Scan(&other)
		if err == nil && uint64(other) != j.ID {
			return cases.Errorf(cases.KindConflict, "job %d in queue %s: dedupe key %q is held by job %d", j.ID, q, j.Dedupe, other)
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return t.fail("update job", err)
		}
	}
	doc, err := encodeJob(j)
	if err != nil {
		return fmt.Errorf("encode job %d of queue %s: %w", j.ID, q, err)
	}
	// A rewritten job keeps its lease: the engine marks a card job as
	// posting while it holds it, and releases it itself when it reschedules.
	if _, err := t.ptx.Exec(t.ctx, `UPDATE jobs SET dedupe = $3, doc = $4, case_id = $5, not_before = $6
		WHERE queue = $1 AND id = $2`, string(q), int64(j.ID), j.Dedupe, doc, j.Case, nanos(j.NotBefore)); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			// Taken by a job that committed meanwhile.
			t.failed = err
			return &cases.Error{Kind: cases.KindConflict, Msg: fmt.Sprintf("job %d in queue %s: dedupe key %q is held by another job", j.ID, q, j.Dedupe), Err: err}
		}
		return t.fail("update job", err)
	}
	return nil
}

func (t *tx) DeleteJob(q cases.Queue, id uint64) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if id > math.MaxInt64 {
		return nil
	}
	for k, v := range t.enqueued {
		if v == id || v == math.MaxUint64 {
			delete(t.enqueued, k)
		}
	}
	t.queue("DELETE FROM jobs WHERE queue = $1 AND id = $2", string(q), int64(id))
	return nil
}

func (t *tx) SetTimer(caseID string, at time.Time) error {
	if caseID == "" {
		return invalid("set timer: empty case id")
	}
	if err := sqlText("case id", caseID); err != nil {
		return err
	}
	if at.Before(time.Unix(0, 0)) {
		return invalid("set timer of %s: time %s before 1970", caseID, at)
	}
	t.rowsOf().putTimer(caseID, true, at.Unix(), int32(at.Nanosecond()))
	return nil
}

func (t *tx) ClearTimer(caseID string) error {
	if sqlText("case id", caseID) != nil {
		return nil // no such timer can exist
	}
	t.rowsOf().putTimer(caseID, false, 0, 0)
	return nil
}

func (t *tx) DueTimers(until time.Time, fn func(caseID string, at time.Time) error) error {
	us, un := until.Unix(), until.Nanosecond()
	var as int64
	var an int
	after := ""
	first := true
	for {
		if err := t.flush("write"); err != nil {
			return err
		}
		rows, err := t.ptx.Query(t.ctx, `SELECT case_id, at_s, at_n FROM timers
			WHERE (at_s, at_n) <= ($1, $2) AND ($3 OR (at_s, at_n, case_id) > ($4, $5, $6))
			ORDER BY at_s, at_n, case_id LIMIT $7`, us, un, first, as, an, after, chunk)
		if err != nil {
			return t.fail("read timers", err)
		}
		type row struct {
			id string
			s  int64
			n  int
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.s, &x.n)
			return x, err
		})
		if err != nil {
			return t.fail("read timers", err)
		}
		for _, r := range batch {
			if err := fn(r.id, time.Unix(r.s, int64(r.n)).UTC()); err != nil {
				return err
			}
		}
		if len(batch) < chunk {
			return nil
		}
		last := batch[len(batch)-1]
		first, as, an, after = false, last.s, last.n, last.id
	}
}
