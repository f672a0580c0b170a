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

// Seal signs the head of the log as tx sees it and appends the signature to
// the chain as a record of KindCheckpoint (at head+1). ok is false when the
// log is empty: there is nothing to vouch for.
func Seal(tx cases.Tx, s *Signer, now time.Time) (c Checkpoint, ok bool, err error) {
	seq, hash, err := tx.AuditHead()
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint: read head: %w", err)
	}
	if seq == 0 {
		return Checkpoint{}, false, nil
	}
	c = s.Sign(seq, hash, now)
	if _, err := tx.Audit(cases.AuditEntry{Time: now, Kind: KindCheckpoint, Action: "sign_head", Actor: cases.ActorExops,
		Detail: c.Line()}); err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint: append: %w", err)
	}
	return c, true, nil
}

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
		var err error
		cp, ok, err = Seal(tx, c.Signer, c.Now())
		return err
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
	var made []Checkpoint
	err := s.Store.Update(ctx, func(tx cases.Tx) error {
		// fn may run more than once (grouped commits): only the last run's
		// checkpoints were committed.
		st := &sealingTx{Tx: tx, c: s.c}
		err := fn(st)
		made = st.made
		return err
	})
	if err == nil && s.c.Published != nil {
		for _, cp := range made {
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
	if err != nil || seq%t.c.Every != 0 {
		return seq, err
	}
	cp, ok, err := Seal(t.Tx, t.c.Signer, t.c.Now())
	if err != nil {
		return 0, err
	}
	if ok {
		t.made = append(t.made, cp)
	}
	return seq, nil
}
