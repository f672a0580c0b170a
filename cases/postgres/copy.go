package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// Source is a store to move into PostgreSQL (cases/bolt.Store is one).
type Source interface {
	cases.Store
	audit.Log
	audit.HeadReader
	ForEachEvent(ctx context.Context, fn func(*cases.StoredEvent) error) error
	ForEachKey(ctx context.Context, fn func(key string, ref cases.KeyRef) error) error
	CaseSequence(ctx context.Context) (uint64, error)
}

// CopyReport says what CopyFrom moved.
type CopyReport struct {
	Resumed                 bool // an interrupted copy of the same source was continued
	Cases, Events, Keys     int
	Jobs, Timers, Records   int
	AuditHead               string // the chain head, the same on both sides
	SourceVerified, Checked int    // audit records verified in the source and in the target
}

// copyChunk is how many rows one target transaction writes.
const copyChunk = 500

// CopyFrom moves everything src holds into this store: cases (with their
// index), events, correlation keys, jobs with their ids, timers, the case
// and job numbering, and the audit chain record for record, so its hashes
// stay what they were. It verifies the chain in the source before and in
// the target after. The target must be empty, or hold an unfinished copy of
// the same source in the same state (name and audit head): then the copy
// resumes, since every step is idempotent. progress, if not nil, is called
// after each committed chunk.
func (s *Store) CopyFrom(ctx context.Context, src Source, name string, progress func(stage string, n int)) (CopyReport, error) {
	var rep CopyReport
	if progress == nil {
		progress = func(string, int) {}
	}
	res, err := audit.Verify(ctx, src)
	if err != nil {
		return rep, fmt.Errorf("copy: the source's audit chain does not verify, nothing copied: %w", err)
	}
	rep.SourceVerified = res.Checked
	srcSeq, srcHash, err := src.AuditHead(ctx)
	if err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	state := fmt.Sprintf("%d:%s", srcSeq, srcHash)
	if rep.Resumed, err = s.claimCopy(ctx, name, state); err != nil {
		return rep, err
	}

	// Cases, in chunks of one transaction each.
	var buf []*cases.Case
	flushCases := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := s.Update(ctx, func(tx cases.Tx) error {
			for _, c := range buf {
				if err := tx.PutCase(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy cases: %w", err)
		}
		rep.Cases += len(buf)
		buf = buf[:0]
		progress("cases", rep.Cases)
		return nil
	}
	var timers []struct {
		id string
		at time.Time
	}
	err = src.View(ctx, func(rtx cases.ReadTx) error {
		if err := rtx.ForEachCase(func(c *cases.Case) error {
			if buf = append(buf, c); len(buf) == copyChunk {
				return flushCases()
			}
			return nil
		}); err != nil {
			return err
		}
		return rtx.DueTimers(time.Unix(0, math.MaxInt64), func(id string, at time.Time) error {
			timers = append(timers, struct {
				id string
				at time.Time
			}{id, at})
			return nil
		})
	})
	if err == nil {
		err = flushCases()
	}
	if err != nil {
		return rep, err
	}

	var events []*cases.StoredEvent
	flushEvents := func() error {
		if len(events) == 0 {
			return nil
		}
		if err := s.Update(ctx, func(tx cases.Tx) error {
			for _, ev := range events {
				if err := tx.PutEvent(ev); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
		rep.Events += len(events)
		events = events[:0]
		progress("events", rep.Events)
		return nil
	}
	if err := src.ForEachEvent(ctx, func(ev *cases.StoredEvent) error {
		if events = append(events, ev); len(events) == copyChunk {
			return flushEvents()
		}
		return nil
	}); err != nil {
		return rep, err
	}
	if err := flushEvents(); err != nil {
		return rep, err
	}

	type keyRef struct {
		key string
		ref cases.KeyRef
	}
	var keys []keyRef
	flushKeys := func() error {
		if len(keys) == 0 {
			return nil
		}
		if err := s.Update(ctx, func(tx cases.Tx) error {
			for _, k := range keys {
				if err := tx.PutKey(k.key, k.ref); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("copy correlation keys: %w", err)
		}
		rep.Keys += len(keys)
		keys = keys[:0]
		progress("keys", rep.Keys)
		return nil
	}
	if err := src.ForEachKey(ctx, func(k string, ref cases.KeyRef) error {
		if keys = append(keys, keyRef{k, ref}); len(keys) == copyChunk {
			return flushKeys()
		}
		return nil
	}); err != nil {
		return rep, err
	}
	if err := flushKeys(); err != nil {
		return rep, err
	}

	// Jobs keep their ids (their order), timers their times, and the
	// numbering goes on where the source's stopped.
	caseSeq, err := src.CaseSequence(ctx)
	if err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	type queued struct {
		q cases.Queue
		j cases.Job
	}
	var jobs []queued
	if err := src.View(ctx, func(rtx cases.ReadTx) error {
		for _, q := range cases.Queues() {
			if err := rtx.Jobs(q, func(j cases.Job) error { jobs = append(jobs, queued{q, j}); return nil }); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return rep, fmt.Errorf("copy jobs: %w", err)
	}
	err = s.Update(ctx, func(ctx2 cases.Tx) error {
		t := ctx2.(*tx)
		var maxID uint64
		for _, qj := range jobs {
			if qj.j.ID > math.MaxInt64 {
				return invalid("job %d of queue %s: id out of range", qj.j.ID, qj.q)
			}
			doc, err := encodeJob(qj.j)
			if err != nil {
				return err
			}
			t.queue(`INSERT INTO jobs (queue, id, dedupe, doc, case_id, not_before) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (queue, id) DO NOTHING`, string(qj.q), int64(qj.j.ID), qj.j.Dedupe, doc, qj.j.Case, nanos(qj.j.NotBefore))
			maxID = max(maxID, qj.j.ID)
		}
		for _, tm := range timers {
			if err := t.SetTimer(tm.id, tm.at); err != nil {
				return err
			}
		}
		if maxID > 0 {
			t.queue("SELECT setval('job_ids', greatest($1, (SELECT last_value FROM job_ids)))", int64(maxID))
		}
		t.queue("UPDATE counters SET value = greatest(value, $1) WHERE name = 'case_number'", int64(caseSeq))
		return t.flush("copy jobs and timers")
	})
	if err != nil {
		return rep, fmt.Errorf("copy jobs and timers: %w", err)
	}
	rep.Jobs, rep.Timers = len(jobs), len(timers)
	progress("jobs", rep.Jobs)

	if err := s.copyAudit(ctx, src, &rep, progress); err != nil {
		return rep, err
	}

	check, err := audit.Verify(ctx, s)
	if err != nil {
		return rep, fmt.Errorf("copy: the copied audit chain does not verify: %w", err)
	}
	rep.Checked, rep.AuditHead = check.Checked, check.Head
	if uint64(check.Checked) != srcSeq || check.Head != srcHash {
		return rep, fmt.Errorf("copy: the copied chain ends at %d %s, the source's at %d %s", check.Checked, check.Head, srcSeq, srcHash)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE store_copy SET done = true WHERE id = 1"); err != nil {
		return rep, dbError("copy: mark done", err)
	}
	return rep, nil
}

// claimCopy refuses a target that holds data, unless it is an unfinished
// copy of the same source in the same state, and records the copy.
func (s *Store) claimCopy(ctx context.Context, name, state string) (resumed bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(ptx pgx.Tx) error {
		resumed = false
		var src, head string
		var done bool
		err := ptx.QueryRow(ctx, "SELECT source, source_head, done FROM store_copy WHERE id = 1 FOR UPDATE").Scan(&src, &head, &done)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return dbError("copy: read progress", err)
		case done:
			return cases.Errorf(cases.KindConflict, "copy refused: %s already holds a finished copy of %s", s.name, src)
		case src != name || head != state:
			return cases.Errorf(cases.KindConflict, "copy refused: %s holds an unfinished copy of %s (at audit head %s), not of %s as it is now (%s)", s.name, src, head, name, state)
		default:
			resumed = true
			return nil
		}
		var used bool
		if err := ptx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM correlation_keys)
			OR EXISTS (SELECT 1 FROM jobs) OR EXISTS (SELECT 1 FROM timers) OR EXISTS (SELECT 1 FROM audit)
			OR (SELECT value FROM counters WHERE name = 'case_number') > 0`).Scan(&used); err != nil {
			return dbError("copy: look at the target", err)
		}
		if used {
			return cases.Errorf(cases.KindConflict, "copy refused: %s already holds data; copy into an empty database or schema", s.name)
		}
		_, err = ptx.Exec(ctx, "INSERT INTO store_copy (id, source, source_head) VALUES (1, $1, $2)", name, state)
		if err != nil {
			return dbError("copy: record progress", err)
		}
		return nil
	})
	return resumed, err
}

// copyAudit appends the source's records after the target's head, each
// checked to continue the chain, in chunks of one transaction each.
func (s *Store) copyAudit(ctx context.Context, src Source, rep *CopyReport, progress func(string, int)) error {
	tseq, thash, err := s.AuditHead(ctx)
	if err != nil {
		return err
	}
	if tseq > 0 {
		// A resumed copy: the target's head must be the source's record.
		var same bool
		stop := errors.New("stop")
		if err := src.ForEachRecord(ctx, tseq, func(r audit.Record) error {
			same = r.Seq == tseq && r.Hash == thash
			return stop
		}); err != nil && !errors.Is(err, stop) {
			return fmt.Errorf("copy audit: %w", err)
		}
		if !same {
			return fmt.Errorf("copy audit: the target's chain head %d %s is not the source's record %d", tseq, thash, tseq)
		}
	}
	var buf []audit.Record
	head := auditHead{seq: tseq, hash: thash}
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := s.Update(ctx, func(ctx2 cases.Tx) error {
			t := ctx2.(*tx)
			h, err := t.lockHead()
			if err != nil {
				return err
			}
			if h != head {
				return fmt.Errorf("copy audit: the target's chain moved while copying (head %d): is exops running on it?", h.seq)
			}
			for _, r := range buf {
				doc, err := audit.EncodeRecord(r)
				if err != nil {
					return err
				}
				t.queue("INSERT INTO audit (seq, time_s, time_n, doc) VALUES ($1, $2, $3, $4)", int64(r.Seq), r.Time.Unix(), r.Time.Nanosecond(), doc)
			}
			last := buf[len(buf)-1]
			t.queue("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", int64(last.Seq), last.Hash)
			t.head = &auditHead{seq: last.Seq, hash: last.Hash}
			return t.flush("copy audit")
		})
		if err != nil {
			return err
		}
		last := buf[len(buf)-1]
		head = auditHead{seq: last.Seq, hash: last.Hash}
		rep.Records += len(buf)
		buf = buf[:0]
		progress("audit", int(head.seq))
		return nil
	}
	prev := thash
	if tseq == 0 {
		prev = audit.GenesisHash
	}
	want := tseq + 1
	err = src.ForEachRecord(ctx, tseq+1, func(r audit.Record) error {
		if r.Seq != want || r.PrevHash != prev || r.ComputeHash() != r.Hash {
			return fmt.Errorf("copy audit: source record %d does not continue the chain", r.Seq)
		}
		want, prev = r.Seq+1, r.Hash
		if buf = append(buf, r); len(buf) == copyChunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
