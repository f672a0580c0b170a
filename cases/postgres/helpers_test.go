package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testURL is the database the tests use; they skip (fail under CI) when it
// cannot be reached.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EXOPS_TEST_POSTGRES")
	if u == "" {
		u = defaultTestURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		conn.Close(ctx)
		return u
	}
	msg := "PostgreSQL not reachable at " + redact(u) + " (" + err.Error() + "); start it with " +
		"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set EXOPS_TEST_POSTGRES"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// testSchema makes a fresh schema name and drops the schema when the test
// ends, so that runs never see each other's data.
func testSchema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "exops_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openTest opens a store on a new schema of its own.
func openTest(t testing.TB) (*Store, string, string) {
	return openTestOpts(t, Options{})
}

func openTestOpts(t testing.TB, opts Options) (*Store, string, string) {
	t.Helper()
	url := testURL(t)
	schema := testSchema(t, url)
	opts.Schema, opts.MaxConns = schema, 16
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, url, schema
}
