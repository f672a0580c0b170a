package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketReplay is the Slack replay memory: key → 8-byte expiry (Unix ns).
var bucketReplay = []byte("replay")

// SeenOnce remembers key until expires and reports whether this is its
// first sighting (or the first since an earlier memory of it expired by
// now). The memory is in the file, so a request replayed after a restart is
// still known; it commits before it answers.
func (s *Store) SeenOnce(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	first := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketReplay)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(key)); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now.UnixNano() {
			first = false
			return nil
		}
		first = true
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(expires.UnixNano()))
		return b.Put([]byte(key), v[:])
	})
	if err != nil {
		return false, fmt.Errorf("store %s: replay memory: %w", s.path, err)
	}
	return first, nil
}

// ForgetExpired drops the memories expired by now and returns how many.
func (s *Store) ForgetExpired(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketReplay)
		if b == nil {
			return nil
		}
		// Collect, then delete: deleting under a cursor can skip keys.
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= now.UnixNano() {
				expired = append(expired, append([]byte(nil), k...))
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store %s: forget replay memory: %w", s.path, err)
	}
	return n, nil
}
