package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"
	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/cases"
)

// A case's events are rows of their own, not part of the case document:
// joining an event then writes one short row and a document whose size
// does not depend on how many events the case holds. The rows of a case
// sit under "case id NUL": first a head (how many rows and a hash chained
// over them), then one row per event (4-byte big-endian index → a
// cases.DocEvent: a reference to the stored event, or a whole event). A
// document without rows (from before schema 2, or of a case without
// events) keeps its events inline and is read as it is.

var bucketCaseEvents = []byte("case_events")

// eventsHead is the head row of a case's event rows.
type eventsHead struct {
	N    int    `json:"n"`
	Hash string `json:"hash"`
}

func caseEventsPrefix(id string) []byte { return append([]byte(id), 0) }

func caseEventKey(id string, i int) []byte {
	return binary.BigEndian.AppendUint32(caseEventsPrefix(id), uint32(i))
}

// chain returns the hash of every prefix of des: chain[i] covers des[:i].
// PutCase compares it with the head to tell an append (the usual join:
// write the new rows only) from any other change (write them all).
func chain(des []cases.DocEvent) ([]string, error) {
	out := make([]string, len(des)+1)
	var prev [sha256.Size]byte
	var buf []byte
	for i, de := range des {
		buf = append(buf[:0], prev[:]...)
		if de.Digest != "" {
			buf = append(buf, de.ID...)
			buf = append(buf, 0)
			buf = append(buf, de.Source...)
			buf = append(buf, 0)
			buf = append(buf, de.Family...)
			buf = append(buf, 0)
			buf = strconv.AppendInt(buf, de.Received.UnixNano(), 10)
			buf = append(buf, 0)
			buf = append(buf, de.Received.Location().String()...)
			buf = append(buf, 0)
			buf = append(buf, de.Digest...)
		} else {
			b, err := json.Marshal(de)
			if err != nil {
				return nil, fmt.Errorf("encode event %s: %w", de.ID, err)
			}
			buf = append(append(buf, 1), b...)
		}
		prev = sha256.Sum256(buf)
		out[i+1] = hex.EncodeToString(prev[:16])
	}
	return out, nil
}

// putCaseEvents writes the event rows of c and returns its document.
func (t *tx) putCaseEvents(c *cases.Case) (*cases.CaseDoc, error) {
	b, err := t.bucket(bucketCaseEvents)
	if err != nil {
		return nil, err
	}
	d := cases.NewCaseDoc(c)
	var head eventsHead
	if v := b.Get(caseEventsPrefix(c.ID)); v != nil {
		if err := json.Unmarshal(v, &head); err != nil {
			return nil, fmt.Errorf("decode event rows of case %s: %w", c.ID, err)
		}
	}
	if len(d.Events) == 0 {
		// Inline (an empty list and a nil one stay apart); drop old rows.
		return d, t.deleteCaseEvents(b, c.ID, 0, head.N)
	}
	hashes, err := chain(d.Events)
	if err != nil {
		return nil, err
	}
	from := 0
	if head.N <= len(d.Events) && hashes[head.N] == head.Hash {
		from = head.N
	} else if err := t.deleteCaseEvents(b, c.ID, 0, head.N); err != nil {
		return nil, err
	}
	for i := from; i < len(d.Events); i++ {
		v, err := json.Marshal(d.Events[i])
		if err != nil {
			return nil, fmt.Errorf("encode event %s of case %s: %w", d.Events[i].ID, c.ID, err)
		}
		if err := b.Put(caseEventKey(c.ID, i), v); err != nil {
			return nil, fmt.Errorf("put event %d of case %s: %w", i, c.ID, err)
		}
	}
	hv, err := json.Marshal(eventsHead{N: len(d.Events), Hash: hashes[len(d.Events)]})
	if err != nil {
		return nil, err
	}
	if err := b.Put(caseEventsPrefix(c.ID), hv); err != nil {
		return nil, fmt.Errorf("put event rows of case %s: %w", c.ID, err)
	}
	d.Events, d.EventRows = nil, true
	return d, nil
}

func (t *tx) deleteCaseEvents(b *bbolt.Bucket, id string, from, n int) error {
	if n == 0 && from == 0 {
		if b.Get(caseEventsPrefix(id)) == nil {
			return nil
		}
	}
	for i := from; i < n; i++ {
		if err := b.Delete(caseEventKey(id, i)); err != nil {
			return fmt.Errorf("delete event %d of case %s: %w", i, id, err)
		}
	}
	if from == 0 {
		if err := b.Delete(caseEventsPrefix(id)); err != nil {
			return fmt.Errorf("delete event rows of case %s: %w", id, err)
		}
	}
	return nil
}

// readCaseEvents fills the events of a document kept in rows.
func (t *tx) readCaseEvents(d *cases.CaseDoc, id string) error {
	b, err := t.bucket(bucketCaseEvents)
	if err != nil {
		return err
	}
	prefix := caseEventsPrefix(id)
	cur := b.Cursor()
	k, v := cur.Seek(prefix)
	if k == nil || !bytes.Equal(k, prefix) {
		return fmt.Errorf("case %s: its event rows are missing", id)
	}
	var head eventsHead
	if err := json.Unmarshal(v, &head); err != nil {
		return fmt.Errorf("decode event rows of case %s: %w", id, err)
	}
	d.Events = make([]cases.DocEvent, 0, head.N)
	for k, v = cur.Next(); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, v = cur.Next() {
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
