// Package bolt keeps exops's cases, events, correlation keys, audit log and
// work queues in one bbolt file. It is the only package that imports bbolt.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// schemaVersion is the layout this package writes. Open refuses a newer file
// rather than misread it.
const schemaVersion = 3

// DefaultTimeout is how long Open waits for the file lock.
const DefaultTimeout = 2 * time.Second

// maxGroup bounds how many Updates share one commit.
const maxGroup = 1000

var (
	bucketEvents = []byte("events") // source "\x00" id → StoredEvent
	bucketCases  = []byte("cases")  // case id → Case; its sequence numbers cases
	bucketKeys   = []byte("keys")   // correlation key → KeyRef
	bucketAudit  = []byte("audit")  // 8-byte big-endian seq → audit.Record
	bucketMeta   = []byte("meta")

	metaSchema    = []byte("schema")
	metaAuditHead = []byte("audit_head")
)

// auditFillPercent packs the append-only audit bucket's pages full: keys only
// grow, so the free half a default split leaves would never be used.
const auditFillPercent = 1.0

func queueBucket(q cases.Queue) []byte  { return []byte("queue/" + string(q)) }
func dedupeBucket(q cases.Queue) []byte { return []byte("dedupe/" + string(q)) }

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock (DefaultTimeout if zero).
	// Another process, or another Open in this process, holds it while the
	// file is open.
	Timeout time.Duration
	// NoBatch makes every Update its own commit. By default concurrent
	// Updates are grouped into one commit, so they share one fsync.
	NoBatch bool
}

// eventCacheBytes bounds the cache of stored events that cases refer to.
const eventCacheBytes = 32 << 20

// Store is a cases.Store and an audit.Log on one bbolt file.
type Store struct {
	db      *bbolt.DB
	path    string
	noBatch bool
	group   *committer
	idx     *indexer
	events  *cases.EventCache
	lists   *cases.EventLists

	closeOnce sync.Once
	closeErr  error
}

var (
	_ cases.Store      = (*Store)(nil)
	_ audit.Log        = (*Store)(nil)
	_ audit.HeadReader = (*Store)(nil)
)

// Open opens or creates the store at path.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The free list is not written on every commit but rebuilt when the file
	// opens (as etcd runs bbolt): a commit then writes only the pages that
	// changed. The map free list keeps allocation fast in a large file.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another exops process or another open store (waited %s): %w", path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		names := [][]byte{bucketEvents, bucketCases, bucketCaseEvents, bucketKeys, bucketAudit, bucketMeta, bucketIdx, bucketIdxCase, bucketIdxCount}
		for _, q := range cases.Queues() {
			names = append(names, queueBucket(q), dedupeBucket(q))
		}
		for _, name := range names {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if err := ensureIndexes(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); v != nil {
			var got int
			if err := json.Unmarshal(v, &got); err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if got > schemaVersion {
				return fmt.Errorf("schema version %d is newer than this exops understands (%d): upgrade exops", got, schemaVersion)
			}
			if got == schemaVersion {
				return nil
			}
			// Older files read as they are (see caseevents.go); the
			// version says that they may now hold what older exops
			// cannot read.
		}
		return meta.Put(metaSchema, []byte(fmt.Sprint(schemaVersion)))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, noBatch: opts.NoBatch, group: newCommitter(db, maxGroup), events: cases.NewEventCache(eventCacheBytes),
		lists: cases.NewEventLists(cases.EventListBytes)}
	s.startIndexer()
	return s, nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close closes the file. Update and View fail afterwards.
// Closing again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.group.close()
		s.stopIndexer()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// fnError marks an error that came from the caller's function, so that it is
// returned as it is while the store's own errors get context.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Update runs fn in a read-write transaction and returns once it is durably
// committed. Unless NoBatch is set, concurrent Updates share one commit (see
// committer); fn runs again when another function of its group fails, which
// is why every call gets a fresh tx value with no state of its own.
func (s *Store) Update(ctx context.Context, fn func(tx cases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	run := func(btx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return fnError{err}
		}
		if err := fn(&tx{btx: btx, events: s.events, lists: s.lists}); err != nil {
			return fnError{err}
		}
		return nil
	}
	var err error
	if s.noBatch {
		err = s.db.Update(run)
	} else {
		err = s.group.update(run)
	}
	return s.txError("update", err)
}

// View runs fn in a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(tx cases.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.View(func(btx *bbolt.Tx) error {
		if err := fn(&tx{btx: btx, events: s.events, lists: s.lists}); err != nil {
			return fnError{err}
		}
		return nil
	})
	return s.txError("view", err)
}

func (s *Store) txError(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return fmt.Errorf("store %s: %s: %w", s.path, op, err)
}

// AuditHead returns the newest audit record's seq and hash; it makes Store an
// audit.HeadReader, so audit.Verify notices records cut from the end.
func (s *Store) AuditHead(ctx context.Context) (seq uint64, hash string, err error) {
	err = s.View(ctx, func(rtx cases.ReadTx) error {
		seq, hash, err = rtx.AuditHead()
		return err
	})
	return seq, hash, err
}

// recordChunk bounds how many audit records ForEachRecord holds in memory.
const recordChunk = 256

// ForEachRecord calls fn for the audit records from fromSeq on, in seq order.
//
// It reads in chunks, each in its own read transaction, and calls fn outside
// of them: an export streams to a client at the client's pace, and a read
// transaction held that long would stop writers from growing the file (bbolt
// remaps under a lock that open readers share). The walk stops at the last
// record that existed when it started, so it still sees one consistent log:
// records are never changed once written.
func (s *Store) ForEachRecord(ctx context.Context, fromSeq uint64, fn func(audit.Record) error) error {
	if fromSeq == 0 {
		fromSeq = 1
	}
	var last uint64
	if err := s.View(ctx, func(rtx cases.ReadTx) error {
		k, _ := rtx.(*tx).btx.Bucket(bucketAudit).Cursor().Last()
		if k != nil {
			last = decodeSeq(k)
		}
		return nil
	}); err != nil {
		return err
	}
	next := fromSeq
	buf := make([]audit.Record, 0, recordChunk)
	for next <= last {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = buf[:0]
		err := s.db.View(func(btx *bbolt.Tx) error {
			c := btx.Bucket(bucketAudit).Cursor()
			for k, v := c.Seek(encodeSeq(next)); k != nil && len(buf) < recordChunk; k, v = c.Next() {
				seq := decodeSeq(k)
				if seq > last {
					break
				}
				r, err := audit.DecodeRecord(v)
				if err != nil {
					// Hand over what decoded so far; the caller learns
					// where the log stops being readable.
					return &audit.DecodeError{Seq: seq, Err: err}
				}
				buf = append(buf, r)
				next = seq + 1
			}
			if len(buf) < recordChunk {
				next = last + 1 // nothing more up to last
			}
			return nil
		})
		var de *audit.DecodeError
		if err != nil && !errors.As(err, &de) {
			return fmt.Errorf("store %s: read audit log: %w", s.path, err)
		}
		for _, r := range buf {
			if err := fn(r); err != nil {
				return err
			}
		}
		if de != nil {
			return de
		}
	}
	return nil
}

func encodeSeq(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func decodeSeq(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
