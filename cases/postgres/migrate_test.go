package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

func connect(t *testing.T, url, schema string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestMigrateFromEmpty(t *testing.T) {
	url := testURL(t)
	schema := testSchema(t, url)
	ctx := context.Background()
	from, to, err := Migrate(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if from != 0 || to != SchemaVersion() || to < 2 {
		t.Fatalf("Migrate of an empty schema: %d → %d, want 0 → %d", from, to, SchemaVersion())
	}
	// Again: nothing to do.
	if from, to, err = Migrate(ctx, url, Options{Schema: schema}); err != nil || from != to || to != SchemaVersion() {
		t.Fatalf("second Migrate: %d → %d, %v", from, to, err)
	}
	s, err := Open(ctx, url, Options{Schema: schema, NoMigrate: true})
	if err != nil {
		t.Fatalf("Open of a migrated schema with NoMigrate: %v", err)
	}
	s.Close()
}

func TestOpenMigratesOnceWithManyReplicas(t *testing.T) {
	url := testURL(t)
	schema := testSchema(t, url)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), url, Options{Schema: schema})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open of a new schema: %v", err)
		}
	}
	var n int
	if err := connect(t, url, schema).QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("schema_migrations holds %d rows (%v), want %d", n, err, SchemaVersion())
	}
}

// TestMigrateFromPreviousVersion writes data the way schema version 1 held
// it, then opens the store: the migration adds timers and the index, and
// the old cases are found by what they are about.
func TestMigrateFromPreviousVersion(t *testing.T) {
	url := testURL(t)
	schema := testSchema(t, url)
	ctx := context.Background()
	conn := connect(t, url, schema)
	if _, to, err := migrate(ctx, conn, schema, 1); err != nil || to != 1 {
		t.Fatalf("migrate to 1: %d %v", to, err)
	}
	opened := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	c := &cases.Case{ID: "EX-000001", Severity: cases.SeverityHigh, Status: cases.StatusOpen, OpenedAt: opened,
		Families: []cases.Family{cases.FamilySupplierDelay},
		Events: []cases.CaseEvent{{ID: "e1", Source: "tms", Type: "shipment.delayed", Family: cases.FamilySupplierDelay, Time: opened,
			Data: map[string]any{"shipment": "ASN-1", "supplier": "Northwind Fasteners", "orders": []any{"SO-9"}}}}}
	doc, _ := json.Marshal(c)
	if _, err := conn.Exec(ctx, "INSERT INTO cases (id, status, opened_s, opened_n, doc) VALUES ($1, $2, $3, $4, $5)",
		c.ID, string(c.Status), opened.Unix(), opened.Nanosecond(), doc); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE counters SET value = 1 WHERE name = 'case_number'"); err != nil {
		t.Fatal(err)
	}
	// A job waiting for a retry, as version 1 kept it: its case and next
	// try only in the document.
	jobDoc, _ := json.Marshal(cases.Job{Kind: "reply", Case: c.ID, NotBefore: opened.Add(time.Hour), Attempts: 2})
	if _, err := conn.Exec(ctx, "INSERT INTO jobs (queue, id, dedupe, doc) VALUES ('outbox', nextval('job_ids'), '', $1)", jobDoc); err != nil {
		t.Fatal(err)
	}

	if _, err := Open(ctx, url, Options{Schema: schema, NoMigrate: true}); cases.KindOf(err) != cases.KindConflict || !strings.Contains(err.Error(), "store migrate") {
		t.Fatalf("Open with NoMigrate of a version 1 schema = %v, want a conflict that says to run exops store migrate", err)
	}
	s, err := Open(ctx, url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []cases.CaseQuery{{Supplier: "northwind"}, {Order: "SO-9"}, {Shipment: "asn-1"}, {Family: cases.FamilySupplierDelay}} {
		got, err := s.FindCases(ctx, q)
		if err != nil || got.Total != 1 || len(got.Cases) != 1 || got.Cases[0].ID != c.ID {
			t.Errorf("after migration FindCases(%+v) = %+v, %v; want %s", q, got, err, c.ID)
		}
	}
	err = s.Update(ctx, func(tx cases.Tx) error {
		n, err := tx.NextCaseNumber()
		if err != nil || n != 2 {
			t.Errorf("NextCaseNumber after migration = %d %v, want 2", n, err)
		}
		return tx.SetTimer(c.ID, opened.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimJob(ctx, cases.QueueOutbox, "r1", time.Minute, opened.Add(time.Hour-time.Second)); ok || err != nil {
		t.Errorf("migrated job claimed before its next try (%v)", err)
	}
	if j, ok, err := s.ClaimJob(ctx, cases.QueueOutbox, "r1", time.Minute, opened.Add(time.Hour)); !ok || err != nil || j.Attempts != 2 || j.Case != c.ID {
		t.Errorf("migrated job at its next try: %+v %v %v", j, ok, err)
	}
	var due []string
	if err := s.View(ctx, func(tx cases.ReadTx) error {
		return tx.DueTimers(opened.Add(2*time.Hour), func(id string, at time.Time) error { due = append(due, id); return nil })
	}); err != nil || len(due) != 1 {
		t.Errorf("timers after migration: %v %v", due, err)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	s, url, schema := openTest(t)
	s.Close()
	ctx := context.Background()
	conn := connect(t, url, schema)
	if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer exops')", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	for _, noMigrate := range []bool{false, true} {
		_, err := Open(ctx, url, Options{Schema: schema, NoMigrate: noMigrate})
		if err == nil || !strings.Contains(err.Error(), "newer than this exops understands") {
			t.Errorf("Open (NoMigrate %v) of a newer schema = %v, want it refused", noMigrate, err)
		}
	}
	if _, _, err := Migrate(ctx, url, Options{Schema: schema}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Migrate of a newer schema = %v, want it refused", err)
	}
}

func TestBadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:secret@[::1", Options{})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of a malformed URL = %v, want an error that does not show the password", err)
	}
	if got := redact("postgres://u:secret@h/db?sslmode=disable"); strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %s", got)
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", Options{})
	if cases.KindOf(err) != cases.KindTransient {
		t.Errorf("Open of a database that does not answer = %v (kind %v), want a transient error", err, cases.KindOf(err))
	}
}
