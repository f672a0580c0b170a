package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func clock() time.Time { return t0 }

// TestCheckpointerSealsEveryN writes through a wrapped bbolt store and
// checks that the checkpoints land in the same transactions as the records
// they follow, are published only once committed, and verify.
func TestCheckpointerSealsEveryN(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "a.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer := audit.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)))
	var (
		mu        sync.Mutex
		published []audit.Checkpoint
	)
	cp := &audit.Checkpointer{Signer: signer, Every: 5, Now: clock, Published: func(c audit.Checkpoint) {
		mu.Lock()
		published = append(published, c)
		mu.Unlock()
	}}
	if err := cp.Check(); err != nil {
		t.Fatal(err)
	}
	w := cp.Wrap(st)
	appendN := func(n int) error {
		return w.Update(ctx, func(tx cases.Tx) error {
			for i := 0; i < n; i++ {
				if _, err := tx.Audit(cases.AuditEntry{Time: t0, Case: "EX-000001", Kind: cases.AuditEventJoined, Actor: "/erp"}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := 0; i < 7; i++ {
		if err := appendN(1); err != nil {
			t.Fatal(err)
		}
	}
	// seq 5 was written, then its checkpoint at 6, then 7 and 8; now 9,
	// then a transaction that reaches 10 but fails: no checkpoint at all.
	if err := appendN(1); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("later step failed")
	if err := w.Update(ctx, func(tx cases.Tx) error {
		tx.Audit(cases.AuditEntry{Time: t0, Kind: cases.AuditEventJoined})
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("failed update: %v", err)
	}
	if len(published) != 1 || published[0].Seq != 5 {
		t.Fatalf("published %+v, want only the checkpoint of seq 5", published)
	}
	if err := appendN(3); err != nil { // 10 (checkpoint 11 in the same commit), 12, 13
		t.Fatal(err)
	}
	var kinds []string
	if err := st.ForEachRecord(ctx, 1, func(r audit.Record) error { kinds = append(kinds, r.Kind); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 13 || kinds[5] != audit.KindCheckpoint || kinds[10] != audit.KindCheckpoint {
		t.Fatalf("kinds %v: want 13 records with checkpoints at 6 and 11", kinds)
	}
	if len(published) != 2 || published[1].Seq != 10 {
		t.Fatalf("published %+v", published)
	}
	res, err := audit.VerifySigned(ctx, st, []ed25519.PublicKey{signer.Public()}, nil)
	if err != nil || res.Checkpoints != 2 || res.LastGood.Seq != 10 || res.Unsigned != 3 {
		t.Fatalf("verify signed: %+v, %v", res, err)
	}
	// An explicit seal (an export) signs the head as it is.
	c, ok, err := cp.Seal(ctx, st)
	if err != nil || !ok || c.Seq != 13 || len(published) != 3 {
		t.Fatalf("seal: %+v %v %v (%d published)", c, ok, err, len(published))
	}
}

type claimer struct{ cases.Store }

func (claimer) ClaimJob(context.Context, cases.Queue, string, time.Duration, time.Time) (cases.Job, bool, error) {
	return cases.Job{}, false, nil
}
func (claimer) ReleaseJob(context.Context, cases.Queue, uint64, string) error { return nil }

// TestCheckpointerKeepsJobClaimer: the engine looks for cases.JobClaimer on
// its store; the wrapper must not hide it (replicas would all run every job).
func TestCheckpointerKeepsJobClaimer(t *testing.T) {
	cp := &audit.Checkpointer{Signer: audit.NewSigner(ed25519.NewKeyFromSeed(make([]byte, 32))), Every: 10, Now: clock}
	if _, ok := cp.Wrap(claimer{}).(cases.JobClaimer); !ok {
		t.Error("a JobClaimer store lost its JobClaimer when wrapped")
	}
	if _, ok := cp.Wrap(struct{ cases.Store }{}).(cases.JobClaimer); ok {
		t.Error("a plain store became a JobClaimer")
	}
	if err := (&audit.Checkpointer{Signer: cp.Signer, Every: 1, Now: clock}).Check(); err == nil {
		t.Error("a checkpoint after every record was accepted (it would follow itself)")
	}
}
