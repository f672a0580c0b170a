package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema: its SQL, then an optional Go step in
// the same transaction for what SQL cannot compute (index terms).
type migration struct {
	version int
	name    string
	sql     string
	after   func(ctx context.Context, tx pgx.Tx) error
}

// goSteps are the Go parts of migrations, by version.
var goSteps = map[int]func(ctx context.Context, tx pgx.Tx) error{
	2: reindexAll,
	3: fillJobColumns,
	4: reindexAll,
}

// fillJobColumns copies each waiting job's case and next try into the
// columns a claim filters on.
func fillJobColumns(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, "SELECT queue, id, doc FROM jobs")
	if err != nil {
		return err
	}
	type row struct {
		q   string
		id  int64
		doc []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.q, &x.id, &x.doc)
		return x, err
	})
	if err != nil {
		return err
	}
	for _, r := range all {
		j, err := decodeJob(cases.Queue(r.q), r.id, r.doc)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE jobs SET case_id = $3, not_before = $4 WHERE queue = $1 AND id = $2", r.q, r.id, j.Case, nanos(j.NotBefore)); err != nil {
			return err
		}
	}
	return nil
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name does not start with a version number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b), after: goSteps[v]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: version %d missing (found %s)", i+1, m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema this build understands.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		panic(err) // embedded at build time: a bad name is a build mistake
	}
	return len(ms)
}

// migrateLock is the advisory lock that keeps two replicas from migrating
// at once (the second waits, then finds nothing left to do).
const migrateLock = 0x65786f70 // "exop"

// migrate brings the schema up to target (0: the newest). It refuses a
// database whose schema is newer than this build, and returns the version
// the database had before and has now.
func migrate(ctx context.Context, conn *pgx.Conn, schema string, target int) (from, to int, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, 0, err
	}
	if target <= 0 || target > len(ms) {
		target = len(ms)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return 0, 0, fmt.Errorf("migrate: lock: %w", err)
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return 0, 0, fmt.Errorf("migrate: create schema %s: %w", schema, err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("migrate: read version: %w", err)
	}
	if from > len(ms) {
		return from, from, newerError(from, len(ms))
	}
	for _, m := range ms[from:target] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return from, from, fmt.Errorf("migrate: %s: %w", m.name, err)
		}
		if m.after != nil {
			if err := m.after(ctx, tx); err != nil {
				return from, from, fmt.Errorf("migrate: %s: %w", m.name, err)
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return from, from, fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return from, from, fmt.Errorf("migrate: commit: %w", err)
	}
	return from, max(from, target), nil
}

func newerError(got, known int) error {
	return fmt.Errorf("database schema version %d is newer than this exops understands (%d): upgrade exops", got, known)
}

// schemaVersionOf reads the version without changing anything (0: no schema).
func schemaVersionOf(ctx context.Context, q querier) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// reindexAll writes the question-answering index rows of every case.
func reindexAll(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, "SELECT id, doc FROM cases ORDER BY id")
	if err != nil {
		return err
	}
	type doc struct {
		id  string
		doc []byte
	}
	var all []doc
	for rows.Next() {
		var d doc
		if err := rows.Scan(&d.id, &d.doc); err != nil {
			rows.Close()
			return err
		}
		all = append(all, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range all {
		doc, err := decodeDoc(d.id, d.doc)
		if err != nil {
			return err
		}
		cs, err := resolveCases(ctx, tx, nil, []caseDoc{doc})
		if err != nil {
			return err
		}
		if err := writeTerms(ctx, tx, cs[0]); err != nil {
			return err
		}
	}
	return nil
}
