package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// TestAuditNonCanonicalBytesRefused edits stored audit records in ways that
// leave every hashed value as it was (a key's case, an escape's spelling,
// an added key) and expects verify to name the record, as on bbolt.
func TestAuditNonCanonicalBytesRefused(t *testing.T) {
	s, url, schema := openTest(t)
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, func(tx cases.Tx) error {
		for i := 0; i < 3; i++ {
			if _, err := tx.Audit(cases.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Case: "EX-000001",
				Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: "Acme"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := audit.Verify(ctx, s); err != nil || res.Checked != 3 {
		t.Fatalf("untouched log: %+v, %v", res, err)
	}
	conn := connect(t, url, schema)
	var orig []byte
	if err := conn.QueryRow(ctx, "SELECT doc FROM audit WHERE seq = 2").Scan(&orig); err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"key case", func(b []byte) []byte { return bytes.Replace(b, []byte(`"detail"`), []byte(`"Detail"`), 1) }},
		{"escape spelling", func(b []byte) []byte { return bytes.Replace(b, []byte(`"Acme"`), []byte(`"\u0041cme"`), 1) }},
		{"added key", func(b []byte) []byte { return bytes.Replace(b, []byte(`{`), []byte(`{"note":"x",`), 1) }},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			edited := e.edit(orig)
			if bytes.Equal(edited, orig) {
				t.Fatal("the edit changed nothing; the record's layout moved")
			}
			if _, err := conn.Exec(ctx, "UPDATE audit SET doc = $1 WHERE seq = 2", edited); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(ctx, "UPDATE audit SET doc = $1 WHERE seq = 2", orig)
			_, err := audit.Verify(ctx, s)
			var broken *audit.BrokenError
			if !errors.As(err, &broken) || broken.Seq != 2 || !strings.Contains(broken.Reason, "canonical") {
				t.Errorf("verify after %s: %v; want the chain broken at record 2, not canonical", e.name, err)
			}
		})
	}
}
