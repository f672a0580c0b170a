package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// Secondary indexes for cases.CaseFinder. Questions such as "open supplier
// delays older than 2 days" or "cases for Acme" must not read every case: at
// 100,000 cases a scan that decodes each one takes seconds.
//
// Layout:
//
//	idx:      kind 0x00 value 0x00 opened(8) case-id → times(4×8) status
//	idxcase:  case id → the idx keys written for it (to remove stale ones)
//	idxcount: kind 0x00 value → number of cases under it (8-byte big-endian)
//
// opened is the case's OpenedAt in seconds, sign-flipped big-endian, so that
// within one value the keys run oldest to newest and an age bound is a seek.
// The entry's value repeats the status and the case's cases.CaseTimes
// (resolved, SLA due, snoozed until, first-touch due, each as
// cases.TimeKey, 0 for none), so residual status and time conditions
// ("resolved this week", "past its SLA") need no second lookup. Every entry is written by PutCase in the case's own
// transaction, so an index never disagrees with a committed case.
var (
	bucketIdx      = []byte("idx")
	bucketIdxCase  = []byte("idxcase")
	bucketIdxCount = []byte("idxcount")

	metaIndexVersion = []byte("index_version")
)

// indexVersion names the index layout and what it indexes; a store opened
// with a different one rebuilds its indexes from the cases.
const indexVersion = "3" // 2: team, assignee, severity, priority, approver and state terms; times in entries. 3: the escalation time in entries

// index kinds
const (
	ixAll    = cases.TermAll
	ixStatus = cases.TermStatus
)

var _ cases.CaseFinder = (*Store)(nil)

func openedKey(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.Unix())^(1<<63))
	return b[:]
}

func openedFrom(b []byte) time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(b)^(1<<63)), 0).UTC()
}

func indexPrefix(kind, value string) []byte {
	return []byte(kind + "\x00" + value + "\x00")
}

func countKey(kind, value string) []byte { return []byte(kind + "\x00" + value) }

// indexTerms lists the (kind, value) pairs a case is found by: the
// domain's cases.CaseTerms, the one rule FindCases and CaseQuery.Match share.
func indexTerms(c *cases.Case) [][2]string {
	ts := cases.CaseTerms(c)
	out := make([][2]string, len(ts))
	for i, t := range ts {
		out[i] = [2]string{t.Kind, t.Value}
	}
	return out
}

// entryValue is what every index entry of a case holds: its times and its
// status.
func entryValue(c *cases.Case) []byte {
	ts := cases.TimesOf(c)
	v := make([]byte, entryTimes, entryTimes+len(c.Status))
	for i, t := range []time.Time{ts.Resolved, ts.SLADue, ts.SnoozedUntil, ts.FirstTouchDue, ts.Escalated} {
		if !t.IsZero() {
			binary.BigEndian.PutUint64(v[8*i:], cases.TimeKey(t))
		}
	}
	return append(v, c.Status...)
}

// entryTimes is the length of the times at the start of an entry's value.
const entryTimes = 5 * 8

func entryStatus(v []byte) cases.Status {
	if len(v) < entryTimes {
		return ""
	}
	return cases.Status(v[entryTimes:])
}

func entryCaseTimes(v []byte) cases.CaseTimes {
	if len(v) < entryTimes {
		return cases.CaseTimes{}
	}
	at := func(i int) time.Time { return cases.TimeOfKey(binary.BigEndian.Uint64(v[8*i:])) }
	return cases.CaseTimes{Resolved: at(0), SLADue: at(1), SnoozedUntil: at(2), FirstTouchDue: at(3), Escalated: at(4)}
}

// hasTimeConditions reports whether q has conditions matched on an entry's
// times.
func hasTimeConditions(q cases.CaseQuery) bool {
	return !q.ResolvedAfter.IsZero() || !q.ResolvedBefore.IsZero() || !q.EscalatedAfter.IsZero() || !q.EscalatedBefore.IsZero() ||
		!q.SLADueAfter.IsZero() || !q.SLADueBefore.IsZero() ||
		q.PastSLA || q.Snoozed || q.FirstTouchOverdue
}

// encodeKeys and decodeKeys store the list of a case's index keys as
// uvarint-length-prefixed byte strings: keys hold NUL and binary bytes, which
// a JSON string would mangle.
func encodeKeys(keys [][]byte) []byte {
	var out []byte
	for _, k := range keys {
		out = binary.AppendUvarint(out, uint64(len(k)))
		out = append(out, k...)
	}
	return out
}

func decodeKeys(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, errors.New("corrupt index key list")
		}
		out = append(out, bytes.Clone(b[w:w+int(n)]))
		b = b[w+int(n):]
	}
	return out, nil
}

type indexBuckets struct {
	idx, byCase, count *bbolt.Bucket
}

func (t *tx) indexBuckets() (indexBuckets, error) {
	var ib indexBuckets
	var err error
	if ib.idx, err = t.bucket(bucketIdx); err != nil {
		return ib, err
	}
	if ib.byCase, err = t.bucket(bucketIdxCase); err != nil {
		return ib, err
	}
	ib.count, err = t.bucket(bucketIdxCount)
	return ib, err
}

func addCount(b *bbolt.Bucket, key []byte, delta int64) error {
	var n uint64
	if v := b.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n = uint64(int64(n) + delta)
	if int64(n) <= 0 {
		return b.Delete(key)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], n)
	return b.Put(key, v[:])
}

// countKeyOf recovers kind 0x00 value from an index key.
func countKeyOf(key []byte) []byte {
	// The key is kind 0 value 0 opened(8) id: the second NUL ends the value.
	first := bytes.IndexByte(key, 0)
	if first < 0 {
		return nil
	}
	second := bytes.IndexByte(key[first+1:], 0)
	if second < 0 {
		return nil
	}
	return key[:first+1+second]
}

// indexCase brings the indexes of c up to date: entries the case no longer
// has are removed, new ones added, and all of them rewritten when its
// status or resolution time changed.
func (t *tx) indexCase(c *cases.Case) error {
	ib, err := t.indexBuckets()
	if err != nil {
		return err
	}
	id := []byte(c.ID)
	old, err := decodeKeys(ib.byCase.Get(id))
	if err != nil {
		return fmt.Errorf("index case %s: %w", c.ID, err)
	}
	opened := openedKey(c.OpenedAt)
	var keys [][]byte
	for _, term := range indexTerms(c) {
		k := append(indexPrefix(term[0], term[1]), opened...)
		keys = append(keys, append(k, id...))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	isNew := make(map[string]bool, len(keys))
	for _, k := range keys {
		isNew[string(k)] = true
	}
	for _, k := range old {
		if isNew[string(k)] {
			continue
		}
		if ib.idx.Get(k) != nil {
			if err := ib.idx.Delete(k); err != nil {
				return fmt.Errorf("index case %s: %w", c.ID, err)
			}
			if err := addCount(ib.count, countKeyOf(k), -1); err != nil {
				return fmt.Errorf("index case %s: %w", c.ID, err)
			}
		}
	}
	val := entryValue(c)
	for _, k := range keys {
		cur := ib.idx.Get(k)
		if cur != nil && bytes.Equal(cur, val) {
			continue
		}
		if err := ib.idx.Put(k, val); err != nil {
			return fmt.Errorf("index case %s: %w", c.ID, err)
		}
		if cur == nil {
			if err := addCount(ib.count, countKeyOf(k), 1); err != nil {
				return fmt.Errorf("index case %s: %w", c.ID, err)
			}
		}
	}
	enc := encodeKeys(keys)
	if bytes.Equal(ib.byCase.Get(id), enc) {
		return nil // the same terms as before: nothing to rewrite
	}
	if err := ib.byCase.Put(id, enc); err != nil {
		return fmt.Errorf("index case %s: %w", c.ID, err)
	}
	return nil
}

// ensureIndexes creates the index buckets and, when the file was written by
// an exops without them (or with another layout), rebuilds them from the
// cases, in the Open transaction.
func ensureIndexes(btx *bbolt.Tx) error {
	meta := btx.Bucket(bucketMeta)
	if string(meta.Get(metaIndexVersion)) == indexVersion {
		return nil
	}
	for _, name := range [][]byte{bucketIdx, bucketIdxCase, bucketIdxCount} {
		if btx.Bucket(name) != nil {
			if err := btx.DeleteBucket(name); err != nil {
				return fmt.Errorf("rebuild indexes: %w", err)
			}
		}
		if _, err := btx.CreateBucket(name); err != nil {
			return fmt.Errorf("rebuild indexes: %w", err)
		}
	}
	t := &tx{btx: btx}
	if err := t.ForEachCase(t.indexCase); err != nil {
		return fmt.Errorf("rebuild indexes: %w", err)
	}
	return meta.Put(metaIndexVersion, []byte(indexVersion))
}

// term is one equality condition of a query.
type term struct{ kind, value string }

func queryTerms(q cases.CaseQuery) []term {
	ts := q.Terms()
	out := make([]term, len(ts))
	for i, t := range ts {
		out[i] = term{t.Kind, t.Value}
	}
	return out
}

// FindCases answers a cases.CaseQuery from the indexes: it walks the entries
// of the most selective condition, newest first within the opening-time
// bounds, and checks the other conditions with one lookup each. Only the
// cases returned are decoded.
func (s *Store) FindCases(ctx context.Context, q cases.CaseQuery) (cases.CaseList, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = cases.DefaultCaseLimit
	}
	if err := s.syncIndex(ctx); err != nil {
		return cases.CaseList{}, err
	}
	var out cases.CaseList
	err := s.View(ctx, func(rtx cases.ReadTx) error {
		t := rtx.(*tx)
		ib, err := t.indexBuckets()
		if err != nil {
			return err
		}
		terms := queryTerms(q)
		if id := strings.ToUpper(strings.TrimSpace(q.ID)); id != "" {
			return t.findOne(id, q, &out)
		}
		if len(terms) == 0 {
			terms = []term{{ixAll, ""}}
		}
		// Walk the condition with the fewest cases.
		best, bestN := 0, uint64(1<<63)
		for i, tm := range terms {
			var n uint64
			if v := ib.count.Get(countKey(tm.kind, tm.value)); len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			if n < bestN {
				best, bestN = i, n
			}
		}
		if bestN == 0 {
			return nil
		}
		walk := terms[best]
		rest := append(append([]term(nil), terms[:best]...), terms[best+1:]...)
		prefix := indexPrefix(walk.kind, walk.value)
		lower := prefix
		if !q.OpenedAfter.IsZero() {
			lower = append(append([]byte(nil), prefix...), openedKey(q.OpenedAfter)...)
		}
		upper := append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		if !q.OpenedBefore.IsZero() {
			// Whole seconds: a case opened within the bound's second is
			// checked exactly below.
			upper = append(append([]byte(nil), prefix...), openedKey(q.OpenedBefore.Add(time.Second))...)
		}
		// With one condition and no time bounds the counter is the total:
		// walk only as far as the cases returned.
		exact := len(rest) == 0 && q.OpenedBefore.IsZero() && q.OpenedAfter.IsZero() && !hasTimeConditions(q)
		timed := hasTimeConditions(q)
		if exact {
			out.Total = int(bestN)
		}
		var ids [][]byte
		cur := ib.idx.Cursor()
		k, v := cur.Seek(upper)
		if k == nil {
			k, v = cur.Last()
		}
		for ; k != nil && bytes.Compare(k, upper) >= 0; k, v = cur.Prev() {
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, lower) >= 0; k, v = cur.Prev() {
			suffix := k[len(prefix):]
			if len(suffix) < 9 {
				continue
			}
			opened, id := suffix[:8], suffix[8:]
			if !q.OpenedBefore.IsZero() && !openedFrom(opened).Before(q.OpenedBefore.Truncate(time.Second)) {
				// Opened in the bound's own second: the key holds whole
				// seconds, so decide on the case's exact time.
				c, err := t.Case(string(id))
				if err != nil || !c.OpenedAt.Before(q.OpenedBefore) {
					continue
				}
			}
			if !q.OpenedAfter.IsZero() && openedFrom(opened).Equal(q.OpenedAfter.Truncate(time.Second)) {
				c, err := t.Case(string(id))
				if err != nil || c.OpenedAt.Before(q.OpenedAfter) {
					continue
				}
			}
			if timed && !q.MatchTimes(entryCaseTimes(v)) {
				continue
			}
			if !matchRest(ib.idx, rest, opened, id, v) {
				continue
			}
			if exact {
				ids = append(ids, bytes.Clone(id))
				if len(ids) == limit {
					break
				}
				continue
			}
			out.Total++
			if len(ids) < limit {
				ids = append(ids, bytes.Clone(id))
			}
			if out.Total >= cases.MaxCaseCount {
				out.TotalCapped = true
				break
			}
			if out.Total%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		for _, id := range ids {
			c, err := t.Case(string(id))
			if err != nil {
				return fmt.Errorf("find cases: index names %s: %w", id, err)
			}
			out.Cases = append(out.Cases, c)
		}
		return nil
	})
	if err != nil {
		return cases.CaseList{}, fmt.Errorf("find cases: %w", err)
	}
	return out, nil
}

// matchRest checks the conditions not walked: status from the entry's
// value, the others by looking up their own entry for the same case.
func matchRest(idx *bbolt.Bucket, rest []term, opened, id, v []byte) bool {
	for _, tm := range rest {
		if tm.kind == ixStatus {
			if string(entryStatus(v)) != tm.value {
				return false
			}
			continue
		}
		k := append(append(indexPrefix(tm.kind, tm.value), opened...), id...)
		if idx.Get(k) == nil {
			return false
		}
	}
	return true
}

func (t *tx) findOne(id string, q cases.CaseQuery, out *cases.CaseList) error {
	c, err := t.Case(id)
	if cases.KindOf(err) == cases.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	// The case is decoded already: the domain's rule decides.
	if !q.Match(c) {
		return nil
	}
	out.Cases, out.Total = []*cases.Case{c}, 1
	return nil
}

// auditSlack is how far out of time order audit records may be: grouped
// commits append records in the order their functions ran, which can differ
// from the order their clocks were read by about one commit's duration.
const auditSlack = time.Minute

// ForEachAuditEntry calls fn for the audit records from the time since on,
// oldest first (since zero: the whole log). It finds where to start by a
// binary search over the log's sequence numbers, so a question about the
// last day does not read the years before it.
func (s *Store) ForEachAuditEntry(ctx context.Context, since time.Time, fn func(seq uint64, e cases.AuditEntry) error) error {
	from := uint64(1)
	if !since.IsZero() {
		err := s.View(ctx, func(rtx cases.ReadTx) error {
			b := rtx.(*tx).btx.Bucket(bucketAudit)
			k, _ := b.Cursor().Last()
			if k == nil {
				return nil
			}
			target := since.Add(-auditSlack)
			lo, hi := uint64(1), decodeSeq(k)+1 // first seq whose time >= target is in [lo, hi]
			for lo < hi {
				mid := lo + (hi-lo)/2
				var r struct {
					Time time.Time `json:"time"`
				}
				v := b.Get(encodeSeq(mid))
				if v == nil || json.Unmarshal(v, &r) != nil || r.Time.Before(target) {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			from = lo
			return nil
		})
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
	}
	return s.ForEachRecord(ctx, from, func(r audit.Record) error {
		if !since.IsZero() && r.Time.Before(since) {
			return nil
		}
		return fn(r.Seq, r.Entry())
	})
}
