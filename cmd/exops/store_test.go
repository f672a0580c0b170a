package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/cases/postgres"
)

// pgSchemaURL returns a URL whose search_path is a new schema of the test's
// own, dropped when the test ends; it skips (fails under CI) without
// PostgreSQL.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("EXOPS_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable (%v); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set EXOPS_TEST_POSTGRES", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "exops_cli_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func TestStoreMigrateCommand(t *testing.T) {
	url := pgSchemaURL(t)
	code, out, errOut := exops(t, "store", "migrate", "--store", url)
	want := fmt.Sprintf("schema migrated from version 0 to %d", postgres.SchemaVersion())
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("store migrate = %d %q %q, want %q", code, out, errOut, want)
	}
	if code, out, _ := exops(t, "store", "migrate", "--store", url); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("second store migrate = %d %q", code, out)
	}
	if code, _, _ := exops(t, "store", "migrate"); code != exitUsage {
		t.Errorf("store migrate without --store exited %d, want %d", code, exitUsage)
	}
	if code, _, errOut := exops(t, "store", "migrate", "--store", "postgres://u:hunter2@[::1"); code != exitFail || strings.Contains(errOut, "hunter2") {
		t.Errorf("store migrate of a bad URL = %d %q: want a failure that hides the password", code, errOut)
	}
}

func TestOpenStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*bolt.Store); !ok {
		t.Errorf("openStore(%s) = %T, want a bbolt store", path, s)
	}
	s.Close()
	url := pgSchemaURL(t)
	p, err := openStore(url)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.(*postgres.Store); !ok {
		t.Errorf("openStore(postgres URL) = %T", p)
	}
	if _, err := openStore(""); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("openStore(\"\") = %v, want invalid", err)
	}
}

// snapshot is everything a store holds, read through the interfaces.
type snapshot struct {
	Cases   []*cases.Case
	Events  []*cases.StoredEvent
	Keys    map[string]cases.KeyRef
	Jobs    map[cases.Queue][]cases.Job
	Timers  []string
	Records []audit.Record
	Found   []cases.CaseList
}

func snap(t *testing.T, s Storage, events []*cases.StoredEvent, keys []string) snapshot {
	t.Helper()
	ctx := context.Background()
	out := snapshot{Keys: map[string]cases.KeyRef{}, Jobs: map[cases.Queue][]cases.Job{}}
	err := s.View(ctx, func(tx cases.ReadTx) error {
		if err := tx.ForEachCase(func(c *cases.Case) error { out.Cases = append(out.Cases, c); return nil }); err != nil {
			return err
		}
		for _, ev := range events {
			got, err := tx.Event(ev.Event.Source, ev.Event.ID)
			if err != nil {
				return err
			}
			out.Events = append(out.Events, got)
		}
		for _, k := range keys {
			ref, err := tx.Key(k)
			if err != nil {
				return err
			}
			out.Keys[k] = ref
		}
		for _, q := range cases.Queues() {
			if err := tx.Jobs(q, func(j cases.Job) error { out.Jobs[q] = append(out.Jobs[q], j); return nil }); err != nil {
				return err
			}
		}
		return tx.DueTimers(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), func(id string, at time.Time) error {
			out.Timers = append(out.Timers, id+"@"+at.Format(time.RFC3339Nano))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ForEachRecord(ctx, 1, func(r audit.Record) error { out.Records = append(out.Records, r); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, q := range []cases.CaseQuery{{}, {Status: cases.StatusOpen}, {Customer: "acme"}, {Family: cases.FamilySupplierDelay}} {
		l, err := s.FindCases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out.Found = append(out.Found, l)
	}
	return out
}

// TestStoreCopy moves the demo's bbolt file into PostgreSQL: everything
// arrives, the chain verifies with the same head, a second copy into the
// same database is refused, and the copied store goes on numbering cases.
func TestStoreCopy(t *testing.T) {
	url := pgSchemaURL(t)
	db := runDemo(t)
	var events []*cases.StoredEvent
	var keys []string
	src, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Work still waiting when the file is moved: it must arrive in order,
	// with its dedupe keys.
	if err := src.Update(ctx, func(tx cases.Tx) error {
		for i, q := range []cases.Queue{cases.QueueOutbox, cases.QueueActions, cases.QueueOutbox, cases.QueueWork} {
			if err := tx.Enqueue(q, &cases.Job{Kind: "reply", Case: "EX-000001", Dedupe: fmt.Sprint("d", i), Text: "waiting", Created: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	src.ForEachEvent(ctx, func(ev *cases.StoredEvent) error { events = append(events, ev); return nil })
	src.ForEachKey(ctx, func(k string, _ cases.KeyRef) error { keys = append(keys, k); return nil })
	want := snap(t, src, events, keys)
	srcSeq, _ := src.CaseSequence(ctx)
	src.Close()
	if len(want.Cases) == 0 || len(events) == 0 || len(keys) == 0 || len(want.Records) == 0 {
		t.Fatalf("the demo left too little to test a copy: %d cases, %d events, %d keys, %d records", len(want.Cases), len(events), len(keys), len(want.Records))
	}

	code, out, errOut := exops(t, "store", "copy", "--from", db, "--to", url, "-q")
	if code != 0 || !strings.Contains(out, "audit chain verified on both sides") {
		t.Fatalf("store copy = %d\n%s\n%s", code, out, errOut)
	}
	t.Log(out)
	dst, err := openStore(url)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got := snap(t, dst, events, keys)
	if !reflect.DeepEqual(got, want) {
		for _, f := range []struct {
			name string
			g, w any
		}{{"cases", got.Cases, want.Cases}, {"events", got.Events, want.Events}, {"keys", got.Keys, want.Keys},
			{"jobs", got.Jobs, want.Jobs}, {"timers", got.Timers, want.Timers}, {"records", got.Records, want.Records}, {"found", got.Found, want.Found}} {
			if !reflect.DeepEqual(f.g, f.w) {
				t.Errorf("copied %s differ from the source's", f.name)
			}
		}
	}
	if res, err := audit.Verify(ctx, dst); err != nil || res.Checked != len(want.Records) {
		t.Errorf("audit.Verify of the copy: %+v %v", res, err)
	}
	// exops goes on where the file stopped.
	if err := dst.Update(ctx, func(tx cases.Tx) error {
		n, err := tx.NextCaseNumber()
		if err == nil && n != srcSeq+1 {
			t.Errorf("next case number after the copy = %d, want %d", n, srcSeq+1)
		}
		dup := &cases.Job{Kind: "reply", Dedupe: "d0"}
		fresh := &cases.Job{Kind: "reply", Dedupe: "new"}
		if err := tx.Enqueue(cases.QueueOutbox, dup); err != nil {
			return err
		}
		if err := tx.Enqueue(cases.QueueOutbox, fresh); err != nil {
			return err
		}
		last := want.Jobs[cases.QueueOutbox][len(want.Jobs[cases.QueueOutbox])-1].ID
		if dup.ID != 0 || fresh.ID <= last {
			t.Errorf("after the copy: duplicate got id %d (want 0), new job %d (want above %d)", dup.ID, fresh.ID, last)
		}
		return errors.New("roll back")
	}); err == nil {
		t.Fatal("rolled-back Update returned nil")
	}

	code, _, errOut = exops(t, "store", "copy", "--from", db, "--to", url, "-q")
	if code != exitFail || !strings.Contains(errOut, "already holds a finished copy") {
		t.Errorf("second copy = %d %q, want it refused", code, errOut)
	}
}

// TestStoreCopyRefusesTargetWithData and resumes an interrupted copy.
func TestStoreCopyResumeAndRefuse(t *testing.T) {
	url := pgSchemaURL(t)
	db := runDemo(t)
	ctx := context.Background()

	// Interrupted after the cases: the target holds part of the data.
	src, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	abs, _ := filepath.Abs(db)
	_, err = dst.CopyFrom(cctx, src, abs, func(stage string, n int) {
		if stage == "cases" {
			cancel()
		}
	})
	cancel()
	src.Close()
	dst.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy = %v, want context.Canceled", err)
	}

	// Another source may not be copied over it.
	other := filepath.Join(t.TempDir(), "other.db")
	o, err := bolt.Open(other, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	if code, _, errOut := exops(t, "store", "copy", "--from", other, "--to", url, "-q"); code != exitFail || !strings.Contains(errOut, "unfinished copy") {
		t.Errorf("copy of another file over an unfinished copy = %d %q, want it refused", code, errOut)
	}

	code, out, errOut := exops(t, "store", "copy", "--from", db, "--to", url, "-q")
	if code != 0 || !strings.Contains(out, "resumed an interrupted copy") || !strings.Contains(out, "verified on both sides") {
		t.Fatalf("resumed copy = %d\n%s\n%s", code, out, errOut)
	}

	// A database in use (data, no copy) is refused.
	url2 := pgSchemaURL(t)
	s, err := openStore(url2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx cases.Tx) error {
		_, err := tx.Audit(cases.AuditEntry{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Kind: cases.AuditCaseOpened})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if code, _, errOut := exops(t, "store", "copy", "--from", db, "--to", url2, "-q"); code != exitFail || !strings.Contains(errOut, "already holds data") {
		t.Errorf("copy into a database with data = %d %q, want it refused", code, errOut)
	}
}
