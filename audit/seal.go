package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/exops/exops/cases"
)

// DefaultCheckpointEvery is how many records a checkpoint follows by
// default: at a few records per event, about one checkpoint per few hundred
// events, small next to the log and frequent enough that a rewrite has
// little unsigned tail to hide in.
const DefaultCheckpointEvery = 1000

// Seal signs the head of the log as it stands before the record it
// appends, when due says that head is to be signed, and appends the
// signature to the chain as a record of KindCheckpoint; got is given the
// checkpoint. Nothing is signed while the log is empty: there is nothing to
// vouch for. On a store whose records take their place at commit
// (cases.LateAuditor) the head is known only then, so that is when the
// signing, due and got run; elsewhere they run before Seal returns.
func Seal(tx cases.Tx, s *Signer, now time.Time, due func(headSeq uint64) bool, got func(Checkpoint)) error {
	entry := func(seq uint64, hash string) (cases.AuditEntry, bool) {
		if seq == 0 || !due(seq) {
			return cases.AuditEntry{}, false
		}
		c := s.Sign(seq, hash, now)
		got(c)
		return cases.AuditEntry{Time: now, Kind: KindCheckpoint, Action: "sign_head", Actor: cases.ActorExops, Detail: c.Line()}, true
	}
	if la, ok := tx.(cases.LateAuditor); ok {
		if err := la.AuditLate(entry); err != nil {
			return fmt.Errorf("checkpoint: append: %w", err)
		}
		return nil
	}
	seq, hash, err := tx.AuditHead()
	if err != nil {
		return fmt.Errorf("checkpoint: read head: %w", err)
	}
	e, ok := entry(seq, hash)
	if !ok {
		return nil
	}
	if _, err := tx.Audit(e); err != nil {
		return fmt.Errorf("checkpoint: append: %w", err)
	}
	return nil
}

func always(uint64) bool { return true }

// Checkpointer seals the chain every Every records, inside the transaction
// that writes the Every-th record, so a checkpoint can never be lost or run
// ahead of what was committed.
type Checkpointer struct {
	Signer *Signer
	Every  uint64 // at least 2; the checkpoint record itself is one of them
	Now    cases.Clock
	// Published, when set, is given each checkpoint after its transaction
	// committed (to post it outside the database). It must not block.
	Published func(Checkpoint)
}

// Check says what is wrong with the configuration.
func (c *Checkpointer) Check() error {
	switch {
	case c.Signer == nil:
		return errors.New("checkpoints: no signing key")
	case c.Every < 2:
		return fmt.Errorf("checkpoints every %d records: want at least 2", c.Every)
	case c.Now == nil:
		return errors.New("checkpoints: no clock")
	}
	return nil
}

// Seal signs the head now, in a transaction of its own (an export, or
// `exops audit checkpoint`), and publishes it.
func (c *Checkpointer) Seal(ctx context.Context, store cases.Store) (Checkpoint, bool, error) {
	var (
		cp Checkpoint
		ok bool
	)
	err := store.Update(ctx, func(tx cases.Tx) error {
		ok = false // fn may run again; the last run's checkpoint is the one committed
		return Seal(tx, c.Signer, c.Now(), always, func(got Checkpoint) { cp, ok = got, true })
	})
	if err != nil {
		return Checkpoint{}, false, err
	}
	if ok && c.Published != nil {
		c.Published(cp)
	}
	return cp, ok, nil
}

// Wrap returns store with every Update sealing the chain after each Every-th
// record. Capabilities of store that the engine looks for (cases.JobClaimer)
// are kept.
func (c *Checkpointer) Wrap(store cases.Store) cases.Store {
	w := &sealingStore{Store: store, c: c}
	if jc, ok := store.(cases.JobClaimer); ok {
		return struct {
			*sealingStore
			cases.JobClaimer
		}{w, jc}
	}
	return w
}

type sealingStore struct {
	cases.Store
	c *Checkpointer
}

func (s *sealingStore) Update(ctx context.Context, fn func(tx cases.Tx) error) error {
	var last *sealingTx
	err := s.Store.Update(ctx, func(tx cases.Tx) error {
		// fn may run more than once (grouped commits): only the last run's
		// checkpoints were committed. They are known once the store has
		// placed its records, which may be after fn returns.
		st := &sealingTx{Tx: tx, c: s.c}
		last = st
		return fn(st)
	})
	if err == nil && s.c.Published != nil && last != nil {
		for _, cp := range last.made {
			s.c.Published(cp)
		}
	}
	return err
}

type sealingTx struct {
	cases.Tx
	c    *Checkpointer
	made []Checkpoint
}

func (t *sealingTx) Audit(e cases.AuditEntry) (uint64, error) {
	seq, err := t.Tx.Audit(e)
	if err != nil {
		return 0, err
	}
	// Where records are placed at commit, seq is provisional: whether the
	// record lands on a multiple of Every is decided then.
	if _, late := t.Tx.(cases.LateAuditor); !late && seq%t.c.Every != 0 {
		return seq, nil
	}
	due := func(head uint64) bool { return head%t.c.Every == 0 }
	if err := Seal(t.Tx, t.c.Signer, t.c.Now(), due, func(cp Checkpoint) { t.made = append(t.made, cp) }); err != nil {
		return 0, err
	}
	return seq, nil
}
