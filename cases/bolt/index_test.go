package bolt

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/cases"
)

// A file written before the indexes existed (or whose indexes are from
// another layout) gets them rebuilt when it opens.
func TestIndexesRebuiltAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exops.db")
	s := openT(t, path)
	err := s.Update(context.Background(), func(tx cases.Tx) error {
		for i, o := range []string{"SO-1", "SO-2", "SO-1"} {
			c := &cases.Case{ID: cases.FormatCaseID(uint64(i + 1)), Severity: cases.SeverityLow, Status: cases.StatusOpen, OpenedAt: t0.Add(time.Duration(i) * time.Hour),
				Families: []cases.Family{cases.FamilyCreditHold}, Events: []cases.CaseEvent{{ID: "e", Data: map[string]any{"order": o}}}}
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Make it look like an old file: no index buckets, no index version.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketIdx, bucketIdxCase, bucketIdxCount} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaIndexVersion)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	defer s.Close()
	l, err := s.FindCases(context.Background(), cases.CaseQuery{Order: "SO-1"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != 2 || len(l.Cases) != 2 || l.Cases[0].ID != "EX-000003" {
		t.Errorf("after rebuild: %+v, want EX-000003 and EX-000001", l)
	}
}

func TestForEachAuditEntrySince(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "exops.db"))
	defer s.Close()
	err := s.Update(context.Background(), func(tx cases.Tx) error {
		for i := 0; i < 500; i++ {
			if _, err := tx.Audit(cases.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Case: "EX-000001", Kind: cases.AuditDecision, Actor: "U1"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		since     time.Time
		n         int
		firstSeq  uint64
		firstTime time.Time
	}{
		{time.Time{}, 500, 1, t0},
		{t0.Add(100 * time.Minute), 400, 101, t0.Add(100 * time.Minute)},
		{t0.Add(100*time.Minute + time.Second), 399, 102, t0.Add(101 * time.Minute)},
		{t0.Add(499 * time.Minute), 1, 500, t0.Add(499 * time.Minute)},
		{t0.Add(1000 * time.Minute), 0, 0, time.Time{}},
	} {
		var n int
		var first uint64
		var firstTime time.Time
		err := s.ForEachAuditEntry(context.Background(), tt.since, func(seq uint64, e cases.AuditEntry) error {
			if n == 0 {
				first, firstTime = seq, e.Time
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.n || first != tt.firstSeq || !firstTime.Equal(tt.firstTime) {
			t.Errorf("since %v: %d records from %d at %v, want %d from %d at %v", tt.since, n, first, firstTime, tt.n, tt.firstSeq, tt.firstTime)
		}
	}
}
