package postgres

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// TestReplicaCheckpoints: three replicas append at once, every one sealing
// the chain each 7th record. Their records are placed at commit, after
// whatever the others appended meanwhile, so each checkpoint must sign the
// head it really follows (not the provisional one its transaction saw), and
// the signed chain verifies with a checkpoint after every 7th record.
func TestReplicaCheckpoints(t *testing.T) {
	for _, noBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBatch=%v", noBatch), func(t *testing.T) {
			first, url, schema := openTestOpts(t, Options{NoBatch: noBatch})
			signer := audit.NewSigner(ed25519.NewKeyFromSeed(make([]byte, 32)))
			const every = 7
			var mu sync.Mutex
			var published []audit.Checkpoint
			cp := &audit.Checkpointer{Signer: signer, Every: every, Now: func() time.Time { return t0 },
				Published: func(c audit.Checkpoint) { mu.Lock(); published = append(published, c); mu.Unlock() }}
			raw := []*Store{first}
			for len(raw) < 3 {
				s, err := Open(context.Background(), url, Options{Schema: schema, MaxConns: 16, NoBatch: noBatch})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				raw = append(raw, s)
			}
			const writers, perWriter = 6, 12
			var wg sync.WaitGroup
			errs := make(chan error, len(raw)*writers*perWriter)
			for r, s := range raw {
				st := cp.Wrap(s)
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < perWriter; i++ {
							errs <- st.Update(context.Background(), func(tx cases.Tx) error {
								for k := 0; k < 2; k++ {
									if _, err := tx.Audit(cases.AuditEntry{Time: t0, Case: "EX-1", Kind: cases.AuditDecision,
										Actor: cases.ActorExops, Detail: fmt.Sprintf("r%d w%d i%d #%d", r, w, i, k)}); err != nil {
										return err
									}
								}
								return nil
							})
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			res, err := audit.VerifySigned(ctx, first, []ed25519.PublicKey{signer.Public()}, nil)
			if err != nil {
				t.Fatalf("verify signed: %v", err)
			}
			const records = 3 * writers * perWriter * 2
			// Each checkpoint follows a record whose seq is a multiple of
			// every (it is one of the records counted too).
			var kinds []string
			var checkpointsAt []uint64
			if err := first.ForEachRecord(ctx, 1, func(r audit.Record) error {
				kinds = append(kinds, r.Kind)
				if r.Kind == audit.KindCheckpoint {
					checkpointsAt = append(checkpointsAt, r.Seq)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(kinds)-len(checkpointsAt) != records {
				t.Errorf("%d records besides checkpoints, want %d", len(kinds)-len(checkpointsAt), records)
			}
			for _, at := range checkpointsAt {
				if (at-1)%every != 0 {
					t.Errorf("checkpoint at %d: it should follow a multiple of %d", at, every)
				}
			}
			if want := len(kinds) / every; len(checkpointsAt) != want || res.Checkpoints != want {
				t.Errorf("%d checkpoints in the chain, %d verified; want %d (one per %d of %d records)", len(checkpointsAt), res.Checkpoints, want, every, len(kinds))
			}
			if len(published) != len(checkpointsAt) {
				t.Errorf("%d checkpoints published, %d in the chain", len(published), len(checkpointsAt))
			}
		})
	}
}
