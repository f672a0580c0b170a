package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Case timers: each case has at most one, its next escalation step. The
// "timers" bucket is keyed by due time then case id, so the due ones are a
// prefix of the bucket; "timer_by_case" finds a case's entry to replace it.
// Both are made on first use, so files written before timers existed open
// as they are.
var (
	bucketTimers      = []byte("timers")
	bucketTimerByCase = []byte("timer_by_case")
)

func timerKey(at time.Time, caseID string) []byte {
	k := make([]byte, 8, 8+len(caseID))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	return append(k, caseID...)
}

func (t *tx) timerBuckets() (byTime, byCase *bbolt.Bucket, err error) {
	if byTime, err = t.btx.CreateBucketIfNotExists(bucketTimers); err != nil {
		return nil, nil, fmt.Errorf("timers bucket: %w", err)
	}
	if byCase, err = t.btx.CreateBucketIfNotExists(bucketTimerByCase); err != nil {
		return nil, nil, fmt.Errorf("timers bucket: %w", err)
	}
	return byTime, byCase, nil
}

func (t *tx) SetTimer(caseID string, at time.Time) error {
	if caseID == "" {
		return invalid("set timer: empty case id")
	}
	if at.Before(time.Unix(0, 0)) {
		return invalid("set timer of %s: time %s before 1970", caseID, at)
	}
	byTime, byCase, err := t.timerBuckets()
	if err != nil {
		return err
	}
	k := timerKey(at, caseID)
	if bytes.Equal(byCase.Get([]byte(caseID)), k) {
		return nil // most changes leave the next step where it was
	}
	if err := t.ClearTimer(caseID); err != nil {
		return err
	}
	if err := byTime.Put(k, nil); err != nil {
		return fmt.Errorf("set timer of %s: %w", caseID, err)
	}
	if err := byCase.Put([]byte(caseID), k); err != nil {
		return fmt.Errorf("set timer of %s: %w", caseID, err)
	}
	return nil
}

func (t *tx) ClearTimer(caseID string) error {
	byTime, byCase, err := t.timerBuckets()
	if err != nil {
		return err
	}
	old := byCase.Get([]byte(caseID))
	if old == nil {
		return nil
	}
	old = append([]byte(nil), old...) // bbolt's slice dies with the next write
	if err := byTime.Delete(old); err != nil {
		return fmt.Errorf("clear timer of %s: %w", caseID, err)
	}
	if err := byCase.Delete([]byte(caseID)); err != nil {
		return fmt.Errorf("clear timer of %s: %w", caseID, err)
	}
	return nil
}

func (t *tx) DueTimers(until time.Time, fn func(caseID string, at time.Time) error) error {
	b := t.btx.Bucket(bucketTimers)
	if b == nil {
		return nil // no timer was ever set
	}
	limit := uint64(until.UnixNano())
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < 8 {
			return fmt.Errorf("timers: malformed key %q", k)
		}
		at := binary.BigEndian.Uint64(k[:8])
		if at > limit {
			return nil
		}
		if err := fn(string(k[8:]), time.Unix(0, int64(at)).UTC()); err != nil {
			return err
		}
	}
	return nil
}
