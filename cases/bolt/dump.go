package bolt

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/exops/exops/cases"
)

// What moving an installation to another store needs beyond cases.ReadTx:
// walks over the events and correlation keys, and the case-number sequence.
// Used by "exops store copy".

// ForEachEvent calls fn for every stored event, in (source, id) order, in
// one read snapshot.
func (s *Store) ForEachEvent(ctx context.Context, fn func(*cases.StoredEvent) error) error {
	return s.View(ctx, func(rtx cases.ReadTx) error {
		b := rtx.(*tx).btx.Bucket(bucketEvents)
		return b.ForEach(func(k, v []byte) error {
			var ev cases.StoredEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %q: %w", k, err)
			}
			return fn(&ev)
		})
	})
}

// ForEachKey calls fn for every correlation key, in key order, in one read
// snapshot.
func (s *Store) ForEachKey(ctx context.Context, fn func(key string, ref cases.KeyRef) error) error {
	return s.View(ctx, func(rtx cases.ReadTx) error {
		b := rtx.(*tx).btx.Bucket(bucketKeys)
		return b.ForEach(func(k, v []byte) error {
			var ref cases.KeyRef
			if err := json.Unmarshal(v, &ref); err != nil {
				return fmt.Errorf("decode correlation key %q: %w", k, err)
			}
			return fn(string(k), ref)
		})
	})
}

// CaseSequence returns the last case number given out (0 if none).
func (s *Store) CaseSequence(ctx context.Context) (uint64, error) {
	var n uint64
	err := s.View(ctx, func(rtx cases.ReadTx) error {
		n = rtx.(*tx).btx.Bucket(bucketCases).Sequence()
		return nil
	})
	return n, err
}
