package bolt

import (
	"context"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/cases"
)

// The secondary indexes are not written in the transaction that changes a
// case: that transaction is the event intake's, where every page written
// costs throughput. PutCase only marks the case in "index_pending"; the
// marked cases are indexed in batches, by a background loop every
// indexEvery and by every query before it reads, so a query always sees
// every committed case.

var bucketIndexPending = []byte("index_pending")

const (
	indexEvery = 500 * time.Millisecond
	indexBatch = 500
)

func (t *tx) markIndex(id string) error {
	b, err := t.btx.CreateBucketIfNotExists(bucketIndexPending)
	if err != nil {
		return fmt.Errorf("index pending bucket: %w", err)
	}
	return b.Put([]byte(id), nil)
}

// indexer runs the background catch-up until the store closes.
type indexer struct {
	mu   sync.Mutex // one catch-up at a time
	stop chan struct{}
	done chan struct{}
}

func (s *Store) startIndexer() {
	s.idx = &indexer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.idx.done)
		t := time.NewTicker(indexEvery)
		defer t.Stop()
		for {
			select {
			case <-s.idx.stop:
				return
			case <-t.C:
				_ = s.syncIndex(context.Background())
			}
		}
	}()
}

func (s *Store) stopIndexer() {
	if s.idx != nil {
		close(s.idx.stop)
		<-s.idx.done
	}
}

// syncIndex indexes every case marked since the last catch-up.
func (s *Store) syncIndex(ctx context.Context) error {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	for {
		pending := false
		if err := s.db.View(func(btx *bbolt.Tx) error {
			b := btx.Bucket(bucketIndexPending)
			pending = b != nil && b.Stats().KeyN > 0
			return nil
		}); err != nil {
			return fmt.Errorf("store %s: index: %w", s.path, err)
		}
		if !pending {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Through the committer, so index batches share commits (and
		// fsyncs) with the intake instead of adding their own.
		err := s.group.update(func(btx *bbolt.Tx) error {
			b := btx.Bucket(bucketIndexPending)
			t := &tx{btx: btx, events: s.events, lists: s.lists}
			var ids [][]byte
			c := b.Cursor()
			for k, _ := c.First(); k != nil && len(ids) < indexBatch; k, _ = c.Next() {
				ids = append(ids, append([]byte(nil), k...))
			}
			for _, id := range ids {
				cs, err := t.Case(string(id))
				if err == nil {
					if err := t.indexCase(cs); err != nil {
						return err
					}
				} else if cases.KindOf(err) != cases.KindNotFound {
					return err
				}
				if err := b.Delete(id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store %s: index: %w", s.path, err)
		}
	}
}
