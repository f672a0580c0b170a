package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// roundTrips counts the requests the store sends and waits for: a query, a
// statement, a batch (one however many statements it holds). It is how the
// intake's cost on PostgreSQL is measured apart from a loaded machine's
// noise (see cmd/exops BenchmarkReplicaIntake).
type roundTrips struct {
	n, statements atomic.Int64
	// seen, when a test sets it, is told every statement's text.
	seen atomic.Pointer[func(sql string)]
}

func (r *roundTrips) saw(sql string) {
	if f := r.seen.Load(); f != nil {
		(*f)(sql)
	}
}

var (
	_ pgx.QueryTracer = (*roundTrips)(nil)
	_ pgx.BatchTracer = (*roundTrips)(nil)
)

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	r.statements.Add(1)
	r.saw(d.SQL)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.statements.Add(1)
	r.saw(d.SQL)
}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// RoundTrips says how many requests the store has sent to the server.
func (s *Store) RoundTrips() int64 { return s.trips.n.Load() }

// Statements says how many statements the server was sent (a batch's
// each).
func (s *Store) Statements() int64 { return s.trips.statements.Load() }
