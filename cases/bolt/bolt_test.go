package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/storetest"
)

func TestConformance(t *testing.T) {
	for _, noBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBatch=%v", noBatch), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) cases.Store {
				s, err := Open(filepath.Join(t.TempDir(), "exops.db"), Options{NoBatch: noBatch})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2025, 6, 2, 8, 30, 0, 0, time.UTC)

// fill writes n Updates of one case, key, event, job and audit record each.
func fill(t testing.TB, s *Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := s.Update(context.Background(), func(tx cases.Tx) error {
			num, err := tx.NextCaseNumber()
			if err != nil {
				return err
			}
			id := cases.FormatCaseID(num)
			if err := tx.PutCase(&cases.Case{ID: id, Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0, Keys: []string{"order:" + id}}); err != nil {
				return err
			}
			if err := tx.PutKey("order:"+id, cases.KeyRef{Case: id, LastSeen: t0}); err != nil {
				return err
			}
			if err := tx.PutEvent(&cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: id, Source: "erp", Type: "order.credit_hold", Time: t0}, Received: t0}); err != nil {
				return err
			}
			if err := tx.Enqueue(cases.QueueWork, &cases.Job{Kind: "summarize", Case: id, Dedupe: "sum:" + id, Created: t0}); err != nil {
				return err
			}
			_, err = tx.Audit(cases.AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), Case: id, Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: "opened " + id})
			return err
		})
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exops.db")
	s := openT(t, path)
	fill(t, s, 5)
	var head string
	if err := s.View(context.Background(), func(tx cases.ReadTx) (err error) { _, head, err = tx.AuditHead(); return err }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	defer s.Close()
	res, err := audit.Verify(context.Background(), s)
	if err != nil || res.Checked != 5 || res.Head != head {
		t.Fatalf("Verify after reopen = %+v, %v; want 5 records ending in %s", res, err, head)
	}
	err = s.Update(context.Background(), func(tx cases.Tx) error {
		for i := 1; i <= 5; i++ {
			id := cases.FormatCaseID(uint64(i))
			if _, err := tx.Case(id); err != nil {
				return err
			}
			if ref, err := tx.Key("order:" + id); err != nil || ref.Case != id {
				return fmt.Errorf("key of %s: %v %v", id, ref, err)
			}
			if _, err := tx.Event("erp", id); err != nil {
				return err
			}
		}
		// Every sequence continues where it stopped.
		if n, err := tx.NextCaseNumber(); n != 6 || err != nil {
			return fmt.Errorf("NextCaseNumber = %d %v, want 6", n, err)
		}
		if seq, err := tx.Audit(cases.AuditEntry{Time: t0, Detail: "after reopen"}); seq != 6 || err != nil {
			return fmt.Errorf("Audit = %d %v, want 6", seq, err)
		}
		dup := &cases.Job{Kind: "summarize", Dedupe: "sum:EX-000003"}
		if err := tx.Enqueue(cases.QueueWork, dup); err != nil || dup.ID != 0 {
			return fmt.Errorf("dedupe after reopen: id %d %v, want dropped", dup.ID, err)
		}
		j := &cases.Job{Kind: "summarize"}
		if err := tx.Enqueue(cases.QueueWork, j); err != nil || j.ID != 6 {
			return fmt.Errorf("Enqueue = id %d %v, want 6", j.ID, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := audit.Verify(context.Background(), s); err != nil || res.Checked != 6 {
		t.Fatalf("Verify = %+v %v", res, err)
	}
}

func TestSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exops.db")
	s := openT(t, path)
	defer s.Close()

	tests := []struct {
		name    string
		timeout time.Duration
		max     time.Duration
	}{
		{"short timeout", 100 * time.Millisecond, time.Second},
		{"default timeout", 0, DefaultTimeout + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.timeout == 0 && testing.Short() {
				t.Skip("waits DefaultTimeout")
			}
			start := time.Now()
			s2, err := Open(path, Options{Timeout: tt.timeout})
			took := time.Since(start)
			if err == nil {
				s2.Close()
				t.Fatal("second Open of a locked file succeeded")
			}
			if took > tt.max {
				t.Errorf("second Open took %v, want at most %v", took, tt.max)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "locked") {
				t.Errorf("error %q does not name the file and the lock", msg)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing", "exops.db"), Options{}); err == nil || !strings.Contains(err.Error(), "open store") {
		t.Errorf("Open in a missing directory = %v", err)
	}

	// A file from a newer exops is refused, not misread.
	path := filepath.Join(dir, "newer.db")
	s := openT(t, path)
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaSchema, []byte(fmt.Sprint(schemaVersion+1)))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", schemaVersion+1)) {
		t.Errorf("Open of a newer file = %v", err)
	}
}

func TestClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exops.db")
	s := openT(t, path)
	s.Close()
	err := s.Update(context.Background(), func(cases.Tx) error { return nil })
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Update after Close = %v, want an error naming the store", err)
	}
	if err := s.View(context.Background(), func(cases.ReadTx) error { return nil }); err == nil {
		t.Error("View after Close succeeded")
	}
}

// TestTamperDetected changes stored audit bytes behind the store's back and
// checks that audit.Verify names the record.
func TestTamperDetected(t *testing.T) {
	edit := func(seq uint64, f func(r *audit.Record)) func(b *bbolt.Bucket) error {
		return func(b *bbolt.Bucket) error {
			var r audit.Record
			if err := json.Unmarshal(b.Get(encodeSeq(seq)), &r); err != nil {
				return err
			}
			f(&r)
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return b.Put(encodeSeq(seq), v)
		}
	}
	tests := []struct {
		name    string
		tamper  func(b *bbolt.Bucket) error
		wantSeq uint64
	}{
		{"detail changed in place", func(b *bbolt.Bucket) error {
			v := append([]byte(nil), b.Get(encodeSeq(7))...)
			v = []byte(strings.Replace(string(v), "opened", "closed", 1))
			return b.Put(encodeSeq(7), v)
		}, 7},
		{"actor changed", edit(4, func(r *audit.Record) { r.Actor = "U-mallory" }), 4},
		{"changed and rehashed", edit(4, func(r *audit.Record) { r.Verdict = "auto"; r.Hash = r.ComputeHash() }), 5},
		{"prev_hash changed", edit(9, func(r *audit.Record) { r.PrevHash = audit.GenesisHash; r.Hash = r.ComputeHash() }), 9},
		{"record deleted", func(b *bbolt.Bucket) error { return b.Delete(encodeSeq(3)) }, 3},
		{"last record deleted", func(b *bbolt.Bucket) error { return b.Delete(encodeSeq(10)) }, 10},
		{"records swapped", func(b *bbolt.Bucket) error {
			v2, v3 := append([]byte(nil), b.Get(encodeSeq(2))...), append([]byte(nil), b.Get(encodeSeq(3))...)
			if err := b.Put(encodeSeq(2), v3); err != nil {
				return err
			}
			return b.Put(encodeSeq(3), v2)
		}, 2},
		{"bytes garbled", func(b *bbolt.Bucket) error { return b.Put(encodeSeq(6), []byte(`{"seq":6,"ti`)) }, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exops.db")
			s := openT(t, path)
			fill(t, s, 10)
			s.Close()

			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return tt.tamper(tx.Bucket(bucketAudit)) }); err != nil {
				t.Fatal(err)
			}
			db.Close()

			s = openT(t, path)
			defer s.Close()
			_, err = audit.Verify(context.Background(), s)
			var be *audit.BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("Verify = %v, want a *audit.BrokenError", err)
			}
			if be.Seq != tt.wantSeq {
				t.Errorf("Verify blames seq %d (%s), want %d", be.Seq, be.Reason, tt.wantSeq)
			}
		})
	}
}

// TestForEachRecordChunks walks more records than one read transaction holds
// and shows the walk stops at the records that existed when it began.
func TestForEachRecordChunks(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "exops.db"))
	defer s.Close()
	const n = 3*recordChunk + 5
	err := s.Update(context.Background(), func(tx cases.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := tx.Audit(cases.AuditEntry{Time: t0, Detail: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	err = s.ForEachRecord(context.Background(), recordChunk-1, func(r audit.Record) error {
		seqs = append(seqs, r.Seq)
		if len(seqs) == 1 {
			// Appended during the walk: not part of it.
			fill(t, s, 2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := n - recordChunk + 2; len(seqs) != want || seqs[0] != recordChunk-1 || seqs[len(seqs)-1] != n {
		t.Errorf("walk gave %d records %d..%d, want %d records %d..%d", len(seqs), seqs[0], seqs[len(seqs)-1], want, recordChunk-1, n)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("walk skipped from %d to %d", seqs[i-1], seqs[i])
		}
	}
	if res, err := audit.Verify(context.Background(), s); err != nil || res.Checked != n+2 {
		t.Errorf("Verify = %+v %v", res, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ForEachRecord(ctx, 1, func(audit.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ForEachRecord with a canceled context = %v", err)
	}
}

// BenchmarkUpdateParallel measures grouped commits: every op is one Update
// that writes a case, a key, an event and an audit record, from many
// goroutines at once.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, noBatch := range []bool{false, true} {
		name := "batch"
		if noBatch {
			name = "nobatch"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{NoBatch: noBatch})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchUpdateParallel(b, s)
		})
	}
}

// One bbolt file is one writer: the several-writers suite runs with three
// handles on one store, as concurrent callers in one process.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T, n int) []cases.Store {
		s, err := Open(filepath.Join(t.TempDir(), "exops.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]cases.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}

// BenchmarkJoin measures one event joining a case that holds 1 or 200
// events, and 1 in a store as big as the 200's (storetest.BenchJoin).
func BenchmarkJoin(b *testing.B) {
	for _, sz := range []struct{ held, beside int }{{1, 0}, {200, 0}, {1, 199}} {
		b.Run(joinName(sz.held, sz.beside), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchJoin(b, s, sz.held, sz.beside)
		})
	}
}

// joinName names a BenchmarkJoin case: held=1, held=200, held=1/beside=199.
func joinName(held, beside int) string {
	if beside == 0 {
		return fmt.Sprintf("held=%d", held)
	}
	return fmt.Sprintf("held=%d/beside=%d", held, beside)
}

// TestCaseDocumentRefersToEvents: the case document holds neither the
// events' data nor their list (a row each, referring to the stored event),
// so its size does not grow with the events; a file written by an older
// exops (whole events in the document, schema 1) still opens and reads.
func TestCaseDocumentRefersToEvents(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "exops.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	big := strings.Repeat("x", 4000)
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: t0}
	var evs []*cases.StoredEvent
	for i := 0; i < 20; i++ {
		se := &cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", ID: fmt.Sprint("e", i), Source: "erp", Type: "order.credit_hold", Time: t0,
			Data: map[string]any{"order": "SO-1", "note": big}}, Digest: fmt.Sprintf("%064d", i), Received: t0}
		evs = append(evs, se)
		c.Events = append(c.Events, cases.CaseEventOf(se, cases.FamilyCreditHold, t0))
	}
	err = s.Update(context.Background(), func(tx cases.Tx) error {
		for _, se := range evs {
			if err := tx.PutEvent(se); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	var doc []byte
	s.db.View(func(btx *bbolt.Tx) error { doc = bytes.Clone(btx.Bucket(bucketCases).Get([]byte(c.ID))); return nil })
	if len(doc) > 400 || bytes.Contains(doc, []byte(big)) || bytes.Contains(doc, []byte(`"e19"`)) {
		t.Errorf("case document of 20 events is %d bytes and holds their data or list: %s", len(doc), doc)
	}
	// A fresh store has an empty cache: the data comes from the events bucket.
	s.Close()
	s, err = Open(s.path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	read := func() *cases.Case {
		var got *cases.Case
		if err := s.View(context.Background(), func(tx cases.ReadTx) error {
			var err error
			got, err = tx.Case(c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); !reflect.DeepEqual(got, c) {
		t.Errorf("case read back from references differs:\n got %+v\nwant %+v", got.Events[0], c.Events[0])
	}
	// The shape older versions wrote: whole events, no digests.
	old := *c
	old.Events = []cases.CaseEvent{{ID: "e0", Source: "erp", Type: "order.credit_hold", Family: cases.FamilyCreditHold, Time: t0, Received: t0,
		Data: map[string]any{"order": "SO-1"}}}
	raw, _ := json.Marshal(&old)
	s.db.Update(func(btx *bbolt.Tx) error {
		if err := btx.Bucket(bucketMeta).Put(metaSchema, []byte("1")); err != nil {
			return err
		}
		return btx.Bucket(bucketCases).Put([]byte(c.ID), raw)
	})
	s.Close()
	if s, err = Open(s.path, Options{}); err != nil {
		t.Fatalf("Open of a schema 1 file: %v", err)
	}
	defer s.Close()
	if got := read(); !reflect.DeepEqual(got, &old) {
		t.Errorf("case document of an older version reads as %+v, want %+v", got, &old)
	}
	var version []byte
	s.db.View(func(btx *bbolt.Tx) error { version = bytes.Clone(btx.Bucket(bucketMeta).Get(metaSchema)); return nil })
	if string(version) != fmt.Sprint(schemaVersion) {
		t.Errorf("schema version after opening a schema 1 file = %s, want %d", version, schemaVersion)
	}
}
