package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// committer groups concurrent Updates of one replica into one PostgreSQL
// transaction, as cases/bolt does with its file: each function runs in a
// savepoint of its own, so one that fails is rolled back alone, and the
// group shares one commit (one WAL flush) and one turn at the audit head
// row. A lone Update commits at once: groups grow only under load.
type committer struct {
	s *Store
	g *cases.Grouper[*call]
}

type call struct {
	ctx context.Context
	fn  func(cases.Tx) error
	err chan error
}

var errClosed = errors.New("store is closed")

// maxGroup bounds how many Updates share one transaction, and maxTxTime how
// long one runs functions: a long group holds its case and key locks from
// other replicas.
const (
	maxGroup  = 256
	maxTxTime = 25 * time.Millisecond
)

func newCommitter(s *Store) *committer {
	c := &committer{s: s}
	c.g = cases.NewGrouperLoops(s.commits, maxGroup, 4096, c.run)
	return c
}

func (c *committer) update(ctx context.Context, fn func(cases.Tx) error) error {
	cl := &call{ctx: ctx, fn: fn, err: make(chan error, 1)}
	if !c.g.Submit(cl) {
		return errClosed
	}
	return <-cl.err
}

// run commits a group, in as many transactions as maxTxTime asks for.
func (c *committer) run(group []*call) {
	attempt := 0
	for len(group) > 0 {
		ran, results, err := c.runOnce(group)
		if err != nil && retryable(err) && attempt < maxAttempts {
			// PostgreSQL aborted the transaction (a deadlock with another
			// replica, say): run the group again.
			attempt++
			time.Sleep(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6))))
			continue
		}
		for i, cl := range group[:ran] {
			switch {
			case err != nil:
				cl.err <- c.s.txError("update", err)
			default:
				cl.err <- results[i]
			}
		}
		group, attempt = group[ran:], 0
	}
}

// runOnce runs functions of the group until the time budget is spent and
// commits them. It returns how many it ran, each one's own error, and the
// transaction's error, which concerns all of them.
func (c *committer) runOnce(group []*call) (ran int, results []error, err error) {
	// Statements run under the store's context, not a caller's: one caller
	// giving up must not break the transaction of the others.
	ctx := context.Background()
	ptx, err := c.s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return len(group), nil, unreachable(c.s.name, err)
	}
	defer func() {
		if err != nil {
			_ = ptx.Rollback(context.Background())
		}
	}()
	results = make([]error, len(group))
	// The audit records of the whole group are placed in the chain when it
	// commits (chain.go), numbered until then from the head this replica
	// saw last.
	chain := newPendingChain(c.s.known.get())
	nums := &caseNumbers{store: c.s}
	start := time.Now()
	for i, cl := range group {
		ran = i + 1
		if err := cl.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		t := &tx{ctx: ctx, ptx: ptx, write: true, events: c.s.events, chain: chain, nums: nums}
		mark, markHead, markNums := len(chain.entries), chain.head, nums.mark()
		// The savepoint goes to the server with the function's first
		// statements, and its release with its last: no round trips of
		// their own.
		t.queue("SAVEPOINT exops_update")
		fnErr := safely(cl.fn, t)
		if fnErr == nil && t.failed == nil {
			t.finish()
			t.queue("RELEASE SAVEPOINT exops_update")
			fnErr = t.flush("write")
		}
		if t.failed != nil && retryable(t.failed) {
			return ran, nil, t.failed
		}
		if fnErr != nil || t.failed != nil {
			// Undo this function alone, with its audit records. Nothing
			// reached the server if its batch was never sent.
			chain.entries, chain.head = chain.entries[:mark], markHead
			nums.restore(markNums)
			if t.sent {
				if _, err := ptx.Exec(ctx, "ROLLBACK TO SAVEPOINT exops_update"); err != nil {
					return ran, nil, err
				}
			}
			if fnErr != nil {
				results[i] = fnErr
			} else {
				results[i] = c.s.txError("update", t.failed)
			}
		}
		if time.Since(start) > maxTxTime {
			break
		}
	}
	head, err := chain.place(ctx, ptx)
	if err != nil {
		return ran, nil, err
	}
	if err := ptx.Commit(ctx); err != nil {
		return ran, nil, err
	}
	c.s.known.set(head)
	return ran, results, nil
}

// close finishes the Updates already handed in and stops the loop.
func (c *committer) close() { c.g.Close() }
