package audit

import (
	"context"
	"errors"
	"fmt"
)

// Log is a readable audit log.
type Log interface {
	// ForEachRecord calls fn for every record whose seq is at least fromSeq
	// (1 = all), in seq order, until fn returns an error, which it returns.
	// A stored record that cannot be decoded is reported as a *DecodeError.
	ForEachRecord(ctx context.Context, fromSeq uint64, fn func(Record) error) error
}

// HeadReader is implemented by logs that keep the newest record's seq and
// hash apart from the records. Verify uses it to notice records removed from
// the end of the log, which the chain alone cannot show.
type HeadReader interface {
	// AuditHead returns the newest record's seq and hash (0 and "" for
	// an empty log).
	AuditHead(ctx context.Context) (seq uint64, hash string, err error)
}

// DecodeError says a stored record's bytes are not a record any more.
type DecodeError struct {
	Seq uint64 // the storage key it was found under
	Err error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("audit record %d: decode: %v", e.Seq, e.Err) }
func (e *DecodeError) Unwrap() error { return e.Err }

// BrokenError says the chain is not intact from Seq on: Seq is the first
// sequence number at which the stored log differs from what an untouched log
// holds. For a changed record that is the record's seq; for a removed or
// moved record it is the seq that should have come next.
type BrokenError struct {
	Seq    uint64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Result is what Verify checked.
type Result struct {
	Checked int    // records checked
	Head    string // hash of the last record ("" for an empty log)
}

// Verify walks the whole log and checks that seqs run 1, 2, 3, … without
// gaps, that each record's prev_hash is its predecessor's hash (GenesisHash
// for the first) and that each record's hash matches its content. It stops at
// the first problem and returns it as a *BrokenError; other errors come from
// reading the log.
//
// Verify proves the log is consistent with itself. Someone able to rewrite
// the file can still rewrite a whole tail and its hashes; publishing Head
// somewhere else from time to time (a Slack message, a ticket) closes that.
func Verify(ctx context.Context, log Log) (Result, error) {
	return verify(ctx, log, nil)
}

// verify is Verify; observe, when set, sees each record once the chain up to
// and including it has been checked.
func verify(ctx context.Context, log Log, observe func(Record)) (Result, error) {
	var (
		headSeq  uint64
		headHash string
		hasHead  bool
	)
	if hr, ok := log.(HeadReader); ok {
		// Read before the records: records appended meanwhile only extend
		// the walk past the head, which is fine.
		var err error
		if headSeq, headHash, err = hr.AuditHead(ctx); err != nil {
			return Result{}, fmt.Errorf("verify audit log: read head: %w", err)
		}
		hasHead = true
	}

	var (
		res     Result
		prevSeq uint64
		prev    = GenesisHash
	)
	err := log.ForEachRecord(ctx, 1, func(r Record) error {
		want := prevSeq + 1
		switch {
		case r.Seq < want:
			return &BrokenError{Seq: want, Reason: fmt.Sprintf("found seq %d where seq %d belongs: record repeated or moved", r.Seq, want)}
		case r.Seq > want:
			// Missing or moved cannot be told apart here: look on.
			return &gapError{want: want, found: r.Seq, after: prevSeq}
		case r.PrevHash != prev:
			return &BrokenError{Seq: r.Seq, Reason: "prev_hash is not the hash of the record before: a record was removed, replaced or moved"}
		}
		if h := r.ComputeHash(); h != r.Hash {
			return &BrokenError{Seq: r.Seq, Reason: "hash does not match the record's content: the record was changed"}
		}
		if hasHead && r.Seq == headSeq && r.Hash != headHash {
			return &BrokenError{Seq: r.Seq, Reason: "hash differs from the stored head: the log was rewritten from here or earlier"}
		}
		if observe != nil {
			observe(r)
		}
		prevSeq, prev = r.Seq, r.Hash
		res.Checked++
		res.Head = r.Hash
		return nil
	})
	var gap *gapError
	if errors.As(err, &gap) {
		return res, gap.diagnose(ctx, log)
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return res, &BrokenError{Seq: de.Seq, Reason: fmt.Sprintf("record cannot be decoded: %v", de.Err)}
	}
	if err != nil {
		var be *BrokenError
		if errors.As(err, &be) {
			return res, be
		}
		return res, fmt.Errorf("verify audit log: %w", err)
	}
	if hasHead && prevSeq < headSeq {
		return res, &BrokenError{Seq: prevSeq + 1, Reason: fmt.Sprintf("log ends at seq %d but the stored head is seq %d: records removed from the end", prevSeq, headSeq)}
	}
	return res, nil
}

// gapError is Verify's first finding when a seq is skipped; diagnose turns it
// into a BrokenError that says whether the skipped record is stored later in
// the log (moved, for example two records swapped) or nowhere (missing).
type gapError struct{ want, found, after uint64 }

func (g *gapError) Error() string { return fmt.Sprintf("seq %d follows seq %d", g.found, g.after) }

func (g *gapError) diagnose(ctx context.Context, log Log) error {
	errFound := errors.New("found")
	pos, at := 0, 0
	err := log.ForEachRecord(ctx, 1, func(r Record) error {
		pos++
		if r.Seq == g.want {
			at = pos
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return &BrokenError{Seq: g.want, Reason: fmt.Sprintf("record moved: seq %d follows seq %d, and seq %d is stored later (position %d)", g.found, g.after, g.want, at)}
	case err != nil && !errors.As(err, new(*DecodeError)):
		return fmt.Errorf("verify audit log: %w", err)
	}
	return &BrokenError{Seq: g.want, Reason: fmt.Sprintf("record missing: seq %d follows seq %d", g.found, g.after)}
}
