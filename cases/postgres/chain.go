package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// The audit chain is one sequence across every replica, so appends must
// take turns on its head row. A transaction that locked the head when it
// wrote its first record held it through all its other work (reading and
// locking events, keys and cases, writing them, the jobs) and its commit:
// the replicas' transactions ran one after another, and a second replica
// added no throughput. Records are placed at commit instead: a transaction
// gathers its audit entries, numbered and hashed provisionally from the
// head this replica last saw, and just before it commits it locks the head,
// places the entries after it (recomputing seq and hash when another
// replica appended meanwhile) and writes them, so the head is held for
// that one statement and the commit.
//
// The head is now the last lock a transaction takes, and once it holds it
// it waits for no other row: no deadlock can go through it.

// lateEntry is an audit record waiting for its place in the chain.
type lateEntry struct {
	entry cases.AuditEntry
	// make, for an AuditLate record, makes the entry from the head it
	// follows (and may decline).
	make func(seq uint64, hash string) (cases.AuditEntry, bool)
	// rec and doc are the record as provisionally placed (not for make).
	rec audit.Record
	doc []byte
}

// pendingChain is the audit records of one PostgreSQL transaction (a group
// of Updates), in the order they were appended.
type pendingChain struct {
	base    auditHead // the head the provisional numbering starts from
	head    auditHead // provisional head after entries
	entries []lateEntry
}

// knownHead is the newest chain head this replica has seen: the start of
// the next transaction's provisional numbering. When it is right (one
// replica, or no other append in between) nothing is recomputed at commit.
type knownHead struct {
	mu sync.Mutex
	h  auditHead
}

func (k *knownHead) get() auditHead {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.h
}

func (k *knownHead) set(h auditHead) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if h.seq >= k.h.seq {
		k.h = h
	}
}

func newPendingChain(base auditHead) *pendingChain {
	return &pendingChain{base: base, head: base}
}

func prevHash(h auditHead) string {
	if h.seq == 0 {
		return audit.GenesisHash
	}
	return h.hash
}

// provisional numbers and hashes e after head h. The encoding also checks
// that the entry can be stored at all, so that the caller hears of a bad
// entry from Audit, not from the commit.
func provisional(h auditHead, e cases.AuditEntry) (lateEntry, error) {
	rec := audit.NewRecord(h.seq+1, prevHash(h), e)
	doc, err := audit.EncodeRecord(rec)
	if err != nil {
		return lateEntry{}, fmt.Errorf("audit: encode: %w", err)
	}
	return lateEntry{entry: e, rec: rec, doc: doc}, nil
}

// place locks the chain head and queues the records of p after it in b;
// it returns the head they make. Records whose provisional place turns out
// to be theirs keep their encoding.
func (p *pendingChain) place(ctx context.Context, ptx pgx.Tx) (auditHead, error) {
	var h auditHead
	var seq int64
	if err := ptx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").Scan(&seq, &h.hash); err != nil {
		return auditHead{}, err
	}
	h.seq = uint64(seq)
	same := h == p.base
	var (
		seqs, secs []int64
		nanos      []int32
		docs       [][]byte
	)
	for _, le := range p.entries {
		if le.make != nil {
			e, ok := le.make(h.seq, h.hash)
			if !ok {
				continue
			}
			var err error
			if le, err = provisional(h, e); err != nil {
				return auditHead{}, err
			}
			same = false // what follows was numbered without this record
		} else if !same {
			var err error
			if le, err = provisional(h, le.entry); err != nil {
				return auditHead{}, err
			}
		}
		seqs, secs, nanos, docs = append(seqs, int64(le.rec.Seq)), append(secs, le.rec.Time.Unix()), append(nanos, int32(le.rec.Time.Nanosecond())), append(docs, le.doc)
		h = auditHead{seq: le.rec.Seq, hash: le.rec.Hash}
	}
	if len(seqs) == 0 {
		return h, nil
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO audit (seq, time_s, time_n, doc) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bytea[])",
		seqs, secs, nanos, docs)
	b.Queue("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", int64(h.seq), h.hash)
	if err := ptx.SendBatch(ctx, b).Close(); err != nil {
		return auditHead{}, err
	}
	return h, nil
}
