package bolt

import (
	"errors"
	"fmt"
	"time"

	"github.com/exops/exops/cases"
	bbolt "go.etcd.io/bbolt"
)

// committer groups concurrent Updates into one bbolt transaction and one
// commit (one pair of fsyncs). Unlike bbolt's own Batch it waits for nothing:
// a lone Update commits at once, and the Updates that arrive while a commit
// is on disk all go into the next one. Under load batches grow by themselves
// to what the disk allows, without a timer.
type committer struct {
	db *bbolt.DB
	g  *cases.Grouper[*call]
}

type call struct {
	fn  func(*bbolt.Tx) error
	err chan error
}

var errClosed = errors.New("store is closed")

func newCommitter(db *bbolt.DB, max int) *committer {
	c := &committer{db: db}
	c.g = cases.NewGrouper(max, 4096, c.run)
	return c
}

// update runs fn in a grouped transaction and returns once it is committed.
// fn may run more than once: when another function of its group fails, the
// rest of the group runs again without it.
func (c *committer) update(fn func(*bbolt.Tx) error) error {
	cl := &call{fn: fn, err: make(chan error, 1)}
	if !c.g.Submit(cl) {
		return errClosed
	}
	return <-cl.err
}

// maxTxTime bounds how long one grouped transaction runs its functions. A
// very large transaction costs more per function than several smaller ones
// (more dirty pages to sort, spill and hold in memory), so a group that runs
// over it is committed and its rest goes into the next transaction.
const maxTxTime = 25 * time.Millisecond

// run commits a group. A function that fails gets its own error and is
// dropped; the others run again in a fresh transaction, since the failed
// one's transaction was rolled back with theirs.
func (c *committer) run(group []*call) {
	for len(group) > 0 {
		failed, ran := -1, 0
		err := c.db.Update(func(tx *bbolt.Tx) error {
			start := time.Now()
			for i, cl := range group {
				if err := safely(cl.fn, tx); err != nil {
					failed = i
					return err
				}
				ran = i + 1
				if time.Since(start) > maxTxTime {
					break
				}
			}
			return nil
		})
		if failed < 0 {
			for _, cl := range group[:ran] {
				cl.err <- err // nil, or the commit's own error for all of them
			}
			group = group[ran:]
			continue
		}
		group[failed].err <- err
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// safely turns a panic in fn into an error, so one bad function cannot take
// the whole group, or the committer, down.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in update: %v", p)
		}
	}()
	return fn(tx)
}

// close finishes the Updates already handed in and stops the loop.
func (c *committer) close() { c.g.Close() }
