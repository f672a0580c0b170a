package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// AuditHead returns the newest audit record's seq and hash; it makes Store
// an audit.HeadReader, so audit.Verify notices records cut from the end.
func (s *Store) AuditHead(ctx context.Context) (seq uint64, hash string, err error) {
	err = s.View(ctx, func(rtx cases.ReadTx) error {
		seq, hash, err = rtx.AuditHead()
		return err
	})
	return seq, hash, err
}

type auditRow struct {
	seq int64
	doc []byte
}

// ForEachRecord calls fn for the audit records from fromSeq on, in seq order.
// It reads in chunks, each in its own query, and calls fn between them, so
// a slow export holds no transaction open; it stops at the head it found
// when it started, so it sees one consistent log (records never change).
func (s *Store) ForEachRecord(ctx context.Context, fromSeq uint64, fn func(audit.Record) error) error {
	return s.forEachRecord(ctx, fromSeq, time.Time{}, fn)
}

func (s *Store) forEachRecord(ctx context.Context, fromSeq uint64, since time.Time, fn func(audit.Record) error) error {
	if fromSeq == 0 {
		fromSeq = 1
	}
	last, _, err := s.AuditHead(ctx)
	if err != nil {
		return err
	}
	// Records above the head cannot exist in an intact store, but a walk
	// must still show them to Verify: read up to the highest stored seq.
	var maxSeq int64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM audit").Scan(&maxSeq); err != nil {
		return dbError("store "+s.name+": read audit log", err)
	}
	if uint64(maxSeq) > last {
		last = uint64(maxSeq)
	}
	sinceS, sinceN := int64(-1<<62), 0
	if !since.IsZero() {
		sinceS, sinceN = since.Unix(), since.Nanosecond()
	}
	next := int64(fromSeq)
	for next <= int64(last) {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, `SELECT seq, doc FROM audit WHERE seq >= $1 AND seq <= $2 AND (time_s, time_n) >= ($3, $4)
			ORDER BY seq LIMIT $5`, next, int64(last), sinceS, sinceN, chunk)
		if err != nil {
			return dbError("store "+s.name+": read audit log", err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditRow, error) {
			var x auditRow
			err := r.Scan(&x.seq, &x.doc)
			return x, err
		})
		if err != nil {
			return dbError("store "+s.name+": read audit log", err)
		}
		for _, row := range batch {
			r, err := audit.DecodeRecord(row.doc)
			if err != nil {
				return &audit.DecodeError{Seq: uint64(row.seq), Err: err}
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(batch) < chunk {
			return nil
		}
		next = batch[len(batch)-1].seq + 1
	}
	return nil
}

// ForEachAuditEntry calls fn for the audit records from the time since on
// (zero: all), oldest first; the agents' questions about decisions read it.
func (s *Store) ForEachAuditEntry(ctx context.Context, since time.Time, fn func(seq uint64, e cases.AuditEntry) error) error {
	err := s.forEachRecord(ctx, 1, since, func(r audit.Record) error {
		return fn(r.Seq, r.Entry())
	})
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	return nil
}
