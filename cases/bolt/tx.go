package bolt

import (
	"bytes"
	"fmt"
	json "github.com/goccy/go-json"
	"math"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// tx implements cases.Tx over one bbolt transaction. It must hold nothing but
// the bbolt tx: Batch may run the caller's function again on a new one.
type tx struct {
	btx *bbolt.Tx
	// events is the store's cache of stored events (nil: read them all).
	events *cases.EventCache
	// lists is the store's cache of cases' event lists (nil: read rows).
	lists *cases.EventLists
}

var _ cases.Tx = (*tx)(nil)

func notFound(format string, args ...any) error {
	return &cases.Error{Kind: cases.KindNotFound, Msg: fmt.Sprintf(format, args...), Err: cases.ErrNotFound}
}

func invalid(format string, args ...any) error {
	return cases.Errorf(cases.KindInvalid, format, args...)
}

func (t *tx) bucket(name []byte) (*bbolt.Bucket, error) {
	b := t.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing: store not opened by bolt.Open", name)
	}
	return b, nil
}

func (t *tx) get(bucket, key []byte, v any) (bool, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return false, err
	}
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s %q: %w", bucket, key, err)
	}
	return true, nil
}

func (t *tx) put(bucket, key []byte, v any) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", bucket, key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put %s %q: %w", bucket, key, err)
	}
	return nil
}

// forEach walks b in key order from start. It seeks again after every call
// so that fn may write to the same bucket in a read-write transaction; a
// bbolt cursor is not valid across writes.
func forEach(b *bbolt.Bucket, start []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	k, v := c.Seek(start)
	for k != nil {
		// Copy: k and v point into pages a write may recycle.
		key := bytes.Clone(k)
		if err := fn(key, v); err != nil {
			return err
		}
		k, v = c.Seek(append(key, 0))
	}
	return nil
}

func (t *tx) Case(id string) (*cases.Case, error) { return t.readCase(id, false) }

// CaseForAppend is Case for a caller that will append one event to the
// case (see cases.Appender).
func (t *tx) CaseForAppend(id string) (*cases.Case, error) { return t.readCase(id, true) }

func (t *tx) readCase(id string, forAppend bool) (*cases.Case, error) {
	b, err := t.bucket(bucketCases)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, notFound("case %s", id)
	}
	return t.decodeCase(id, v, forAppend)
}

// decodeCase reads a case document and gives its referenced events back
// from the cache or the events bucket (see cases.CaseDoc).
func (t *tx) decodeCase(id string, v []byte, forAppend bool) (*cases.Case, error) {
	var d cases.CaseDoc
	d.Case = &cases.Case{}
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("decode case %s: %w", id, err)
	}
	if d.EventRows {
		evs, err := t.caseEvents(&d, id, forAppend)
		if err != nil {
			return nil, err
		}
		d.Case.Events = evs
		return d.Case, nil
	}
	evs, err := t.resolve(id, d.Events)
	if err != nil {
		return nil, err
	}
	d.Case.Events = evs
	return d.Case, nil
}

func (t *tx) ForEachCase(fn func(*cases.Case) error) error {
	b, err := t.bucket(bucketCases)
	if err != nil {
		return err
	}
	return forEach(b, nil, func(k, v []byte) error {
		c, err := t.decodeCase(string(k), v, false)
		if err != nil {
			return err
		}
		return fn(c)
	})
}

func (t *tx) PutCase(c *cases.Case) error {
	if c == nil || c.ID == "" {
		return invalid("case without an id")
	}
	// cases.Severity writes an unknown value as "unknown" but cannot read
	// that back: refuse it now rather than store a case nobody can load.
	if _, err := cases.ParseSeverity(c.Severity.String()); err != nil {
		return invalid("case %s: severity %d is not low, medium, high or critical", c.ID, int(c.Severity))
	}
	d, err := t.putCaseEvents(c)
	if err != nil {
		return err
	}
	if err := t.put(bucketCases, []byte(c.ID), d); err != nil {
		return err
	}
	return t.markIndex(c.ID) // indexed in batches: see indexlag.go
}

func (t *tx) NextCaseNumber() (uint64, error) {
	b, err := t.bucket(bucketCases)
	if err != nil {
		return 0, err
	}
	n, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next case number: %w", err)
	}
	return n, nil
}

// eventKey joins source and id with a NUL, which PutEvent refuses in a
// source so that no two pairs share a key.
func eventKey(source, id string) []byte { return []byte(source + "\x00" + id) }

func (t *tx) Event(source, id string) (*cases.StoredEvent, error) {
	return t.storedEvent(source, id)
}

// storedEvent reads an event and remembers it in the cache.
func (t *tx) storedEvent(source, id string) (*cases.StoredEvent, error) {
	b, err := t.bucket(bucketEvents)
	if err != nil {
		return nil, err
	}
	v := b.Get(eventKey(source, id))
	if v == nil || strings.IndexByte(source, 0) >= 0 {
		return nil, notFound("event %s from %s", id, source)
	}
	var ev cases.StoredEvent
	if err := json.Unmarshal(v, &ev); err != nil {
		return nil, fmt.Errorf("decode %s %q: %w", bucketEvents, eventKey(source, id), err)
	}
	// The cache keeps its own copy: the caller may change the one it gets.
	var kept cases.StoredEvent
	if t.events != nil && json.Unmarshal(v, &kept) == nil {
		t.events.Put(&kept, len(v))
	}
	return &ev, nil
}

func (t *tx) PutEvent(ev *cases.StoredEvent) error {
	switch {
	case ev == nil || ev.Event.Source == "" || ev.Event.ID == "":
		return invalid("event without a source or id")
	case strings.IndexByte(ev.Event.Source, 0) >= 0:
		return invalid("event source contains a NUL byte")
	}
	b, err := t.bucket(bucketEvents)
	if err != nil {
		return err
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.Event.ID, err)
	}
	key := eventKey(ev.Event.Source, ev.Event.ID)
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put %s %q: %w", bucketEvents, key, err)
	}
	// A case that joins the event next reads it from here. Decoded again,
	// so that the cache shares nothing with the caller's value.
	if t.events != nil {
		var kept cases.StoredEvent
		if json.Unmarshal(data, &kept) == nil {
			t.events.Put(&kept, len(data))
		}
	}
	return nil
}

func (t *tx) Key(key string) (cases.KeyRef, error) {
	var ref cases.KeyRef
	ok, err := t.get(bucketKeys, []byte(key), &ref)
	if err != nil {
		return cases.KeyRef{}, err
	}
	if !ok {
		return cases.KeyRef{}, notFound("correlation key %s", key)
	}
	return ref, nil
}

func (t *tx) PutKey(key string, ref cases.KeyRef) error {
	if key == "" {
		return invalid("empty correlation key")
	}
	return t.put(bucketKeys, []byte(key), ref)
}

// auditHead is the newest audit record, kept in meta so that appending reads
// one small value instead of the last record.
type auditHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func (t *tx) AuditHead() (uint64, string, error) {
	var h auditHead
	if _, err := t.get(bucketMeta, metaAuditHead, &h); err != nil {
		return 0, "", err
	}
	return h.Seq, h.Hash, nil
}

func (t *tx) Audit(e cases.AuditEntry) (uint64, error) {
	if math.IsNaN(e.Confidence) || math.IsInf(e.Confidence, 0) {
		return 0, invalid("audit confidence %v is not a finite number", e.Confidence)
	}
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		return 0, invalid("audit time %v is outside years 0 to 9999", e.Time)
	}
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return 0, err
	}
	b.FillPercent = auditFillPercent
	var head auditHead
	if _, err := t.get(bucketMeta, metaAuditHead, &head); err != nil {
		return 0, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("audit: next sequence: %w", err)
	}
	if seq != head.Seq+1 {
		return 0, fmt.Errorf("audit: sequence %d does not follow head %d: store damaged", seq, head.Seq)
	}
	prev := head.Hash
	if head.Seq == 0 {
		prev = audit.GenesisHash
	}
	rec := audit.NewRecord(seq, prev, e)
	raw, err := audit.EncodeRecord(rec)
	if err != nil {
		return 0, fmt.Errorf("audit: encode record %d: %w", seq, err)
	}
	if err := b.Put(encodeSeq(seq), raw); err != nil {
		return 0, fmt.Errorf("audit: put record %d: %w", seq, err)
	}
	if err := t.put(bucketMeta, metaAuditHead, auditHead{Seq: seq, Hash: rec.Hash}); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	return seq, nil
}

func (t *tx) queue(q cases.Queue, create bool) (jobs, dedupe *bbolt.Bucket, err error) {
	if q == "" {
		return nil, nil, invalid("empty queue name")
	}
	jobs, dedupe = t.btx.Bucket(queueBucket(q)), t.btx.Bucket(dedupeBucket(q))
	if jobs != nil && dedupe != nil || !create {
		return jobs, dedupe, nil
	}
	// Queues beyond cases.Queues() get their buckets on first use.
	if jobs, err = t.btx.CreateBucketIfNotExists(queueBucket(q)); err != nil {
		return nil, nil, fmt.Errorf("queue %s: %w", q, err)
	}
	if dedupe, err = t.btx.CreateBucketIfNotExists(dedupeBucket(q)); err != nil {
		return nil, nil, fmt.Errorf("queue %s: %w", q, err)
	}
	return jobs, dedupe, nil
}

func (t *tx) Jobs(q cases.Queue, fn func(cases.Job) error) error {
	jobs, _, err := t.queue(q, false)
	if err != nil || jobs == nil {
		return err
	}
	return forEach(jobs, nil, func(k, v []byte) error {
		var j cases.Job
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("decode job %d of queue %s: %w", decodeSeq(k), q, err)
		}
		return fn(j)
	})
}

func (t *tx) job(jobs *bbolt.Bucket, q cases.Queue, id uint64) (*cases.Job, error) {
	v := jobs.Get(encodeSeq(id))
	if v == nil {
		return nil, nil
	}
	var j cases.Job
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, fmt.Errorf("decode job %d of queue %s: %w", id, q, err)
	}
	return &j, nil
}

// waiting returns the id of the job in the queue that holds dedupe key d.
func waiting(jobs, dedupe *bbolt.Bucket, d string) uint64 {
	v := dedupe.Get([]byte(d))
	if v == nil {
		return 0
	}
	id := decodeSeq(v)
	if jobs.Get(v) == nil {
		return 0 // stale entry; cannot happen while DeleteJob keeps the index
	}
	return id
}

func (t *tx) Enqueue(q cases.Queue, j *cases.Job) error {
	if j == nil {
		return invalid("nil job")
	}
	jobs, dedupe, err := t.queue(q, true)
	if err != nil {
		return err
	}
	if j.Dedupe != "" && waiting(jobs, dedupe, j.Dedupe) != 0 {
		j.ID = 0
		return nil
	}
	id, err := jobs.NextSequence()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", q, err)
	}
	j.ID = id
	if err := t.putJob(jobs, dedupe, q, *j); err != nil {
		j.ID = 0
		return err
	}
	return nil
}

func (t *tx) putJob(jobs, dedupe *bbolt.Bucket, q cases.Queue, j cases.Job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job %d of queue %s: %w", j.ID, q, err)
	}
	if err := jobs.Put(encodeSeq(j.ID), data); err != nil {
		return fmt.Errorf("put job %d of queue %s: %w", j.ID, q, err)
	}
	if j.Dedupe != "" {
		if err := dedupe.Put([]byte(j.Dedupe), encodeSeq(j.ID)); err != nil {
			return fmt.Errorf("put dedupe key of job %d of queue %s: %w", j.ID, q, err)
		}
	}
	return nil
}

func (t *tx) UpdateJob(q cases.Queue, j cases.Job) error {
	jobs, dedupe, err := t.queue(q, false)
	if err != nil {
		return err
	}
	if jobs == nil {
		return notFound("job %d in queue %s", j.ID, q)
	}
	old, err := t.job(jobs, q, j.ID)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound("job %d in queue %s", j.ID, q)
	}
	if old.Dedupe != j.Dedupe {
		if j.Dedupe != "" {
			if other := waiting(jobs, dedupe, j.Dedupe); other != 0 && other != j.ID {
				return cases.Errorf(cases.KindConflict, "job %d in queue %s: dedupe key %q is held by job %d", j.ID, q, j.Dedupe, other)
			}
		}
		if err := unindex(dedupe, old.Dedupe, j.ID); err != nil {
			return fmt.Errorf("update job %d of queue %s: %w", j.ID, q, err)
		}
	}
	return t.putJob(jobs, dedupe, q, j)
}

func (t *tx) DeleteJob(q cases.Queue, id uint64) error {
	jobs, dedupe, err := t.queue(q, false)
	if err != nil || jobs == nil {
		return err
	}
	old, err := t.job(jobs, q, id)
	if err != nil || old == nil {
		return err
	}
	if err := unindex(dedupe, old.Dedupe, id); err != nil {
		return fmt.Errorf("delete job %d of queue %s: %w", id, q, err)
	}
	if err := jobs.Delete(encodeSeq(id)); err != nil {
		return fmt.Errorf("delete job %d of queue %s: %w", id, q, err)
	}
	return nil
}

// unindex drops dedupe key d if it still points at job id.
func unindex(dedupe *bbolt.Bucket, d string, id uint64) error {
	if d == "" {
		return nil
	}
	if v := dedupe.Get([]byte(d)); v != nil && decodeSeq(v) == id {
		return dedupe.Delete([]byte(d))
	}
	return nil
}
