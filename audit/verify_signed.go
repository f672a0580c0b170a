package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
)

// SignedResult is what VerifySigned checked.
type SignedResult struct {
	Result
	Checkpoints int     // checkpoints whose signature and hash both matched
	LastGood    Sourced // the newest of them (zero Seq: none)
	Unsigned    uint64  // records after LastGood, vouched for by no signature yet
}

// RewriteError says a checkpoint with a good signature does not match the
// stored chain: the log was rewritten (hashes recomputed, or records cut)
// after LastGood. FirstUntrusted is the first record after the last good
// checkpoint: from it on, nothing in the log is vouched for.
type RewriteError struct {
	Bad            Sourced
	LastGood       uint64 // 0: no checkpoint before Bad matched
	FirstUntrusted uint64
	Reason         string
}

func (e *RewriteError) Error() string {
	return fmt.Sprintf("audit log rewritten: %s; the last good checkpoint is %s, so records from seq %d on cannot be trusted",
		e.Reason, lastGoodWords(e.LastGood), e.FirstUntrusted)
}

func lastGoodWords(seq uint64) string {
	if seq == 0 {
		return "none (not one checkpoint before it matches)"
	}
	return fmt.Sprintf("at seq %d", seq)
}

// ForgedError says a checkpoint's signature does not verify: it was forged,
// altered, or made with a key that was not given.
type ForgedError struct {
	Checkpoint Sourced
	Err        error
}

func (e *ForgedError) Error() string {
	return fmt.Sprintf("checkpoint for seq %d (%s) refused: %v", e.Checkpoint.Seq, e.Checkpoint.From, e.Err)
}

// ErrNoCheckpoint says the log holds records but no signed checkpoint was
// found in it or given: nothing vouches for it beyond its own consistency.
var ErrNoCheckpoint = errors.New("no signed checkpoint found in the log or the checkpoint files: only the chain's own consistency was checked")

// VerifySigned is Verify plus the signed checkpoints: those stored in the
// chain (records of KindCheckpoint) and those kept elsewhere (external, read
// with ParseCheckpoints). Every checkpoint must carry a good signature by one
// of keys, and must match the stored record it signs. A rewrite that
// recomputed every later hash passes Verify but not this, unless the
// rewriter also removed every checkpoint, which only the external ones
// (outside the rewriter's reach) rule out.
//
// Errors, most telling first: *ForgedError, *RewriteError, *BrokenError
// (with the result's LastGood saying which checkpoint still holds), and
// ErrNoCheckpoint.
func VerifySigned(ctx context.Context, log Log, keys []ed25519.PublicKey, external []Sourced) (SignedResult, error) {
	if len(keys) == 0 {
		return SignedResult{}, errors.New("verify signed: no public key")
	}
	for _, c := range external {
		if err := c.Check(keys); err != nil {
			return SignedResult{}, &ForgedError{Checkpoint: c, Err: err}
		}
	}
	want := map[uint64]bool{}
	for _, c := range external {
		want[c.Seq] = true
	}
	hashAt := map[uint64]string{}
	var (
		inChain  []Sourced
		prevSeq  uint64
		prevHash string
		late     bool // an in-chain checkpoint signs a record before the one just before it
		firstErr error
	)
	res, err := verify(ctx, log, func(r Record) {
		if want[r.Seq] {
			hashAt[r.Seq] = r.Hash
		}
		if r.Kind == KindCheckpoint && firstErr == nil {
			from := fmt.Sprintf("record %d", r.Seq)
			c, perr := ParseCheckpoint(r.Detail)
			if perr != nil {
				firstErr = &ForgedError{Checkpoint: Sourced{Checkpoint: Checkpoint{Seq: r.Seq}, From: from}, Err: perr}
			} else {
				inChain = append(inChain, Sourced{Checkpoint: c, From: from})
				if c.Seq == prevSeq {
					hashAt[c.Seq] = prevHash
				} else {
					want[c.Seq], late = true, true
				}
			}
		}
		prevSeq, prevHash = r.Seq, r.Hash
	})
	out := SignedResult{Result: res}
	if firstErr != nil {
		return out, firstErr
	}
	var broken *BrokenError
	if err != nil && !errors.As(err, &broken) {
		return out, err
	}
	end := uint64(res.Checked) // seqs 1..end were checked and are consistent
	if late && broken == nil {
		// An in-chain checkpoint signs an older record: read those hashes.
		err := log.ForEachRecord(ctx, 1, func(r Record) error {
			if r.Seq > end {
				return errStop
			}
			if want[r.Seq] {
				hashAt[r.Seq] = r.Hash
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return out, fmt.Errorf("verify signed: %w", err)
		}
	}
	for _, c := range inChain {
		if err := c.Check(keys); err != nil {
			return out, &ForgedError{Checkpoint: c, Err: err}
		}
	}
	all := append(append([]Sourced(nil), external...), inChain...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	var (
		bad    *Sourced
		reason string
	)
	for i := range all {
		c := &all[i]
		switch h, ok := hashAt[c.Seq]; {
		case c.Seq > end && broken == nil:
			bad, reason = c, fmt.Sprintf("%s signs seq %d, but the log ends at seq %d: records were removed", c.From, c.Seq, end)
		case c.Seq > end || !ok:
			continue // beyond the break: cannot be compared
		case h != c.Hash:
			bad, reason = c, fmt.Sprintf("%s signs hash %.12s… for seq %d, the stored record has %.12s…", c.From, c.Hash, c.Seq, h)
		default:
			out.Checkpoints++
			if c.Seq >= out.LastGood.Seq {
				out.LastGood = *c
			}
			continue
		}
		break
	}
	if bad != nil {
		// Checkpoints are sorted, so LastGood is the newest below bad.
		return out, &RewriteError{Bad: *bad, LastGood: out.LastGood.Seq, FirstUntrusted: out.LastGood.Seq + 1, Reason: reason}
	}
	out.Unsigned = end - out.LastGood.Seq
	if broken != nil {
		return out, broken
	}
	if out.Checkpoints == 0 && end > 0 {
		return out, ErrNoCheckpoint
	}
	return out, nil
}

var errStop = errors.New("stop")
