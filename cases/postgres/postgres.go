// Package postgres keeps exops's cases, events, correlation keys, audit
// chain, work queues and timers in PostgreSQL, so that several replicas can
// share them. It is the only package that imports pgx, and it passes the
// same conformance suite (cases/storetest) as the bbolt store.
//
// Transactions: an Update is one READ COMMITTED transaction in which every
// read that a decision rests on takes a lock: cases and jobs are read FOR
// UPDATE, correlation keys and events (which may not exist yet) under a
// transaction-scoped advisory lock on their name. Two replicas that race
// to open a case for one key or to take a case number therefore run one
// after the other, each seeing what the other committed. Audit records are
// placed in the one chain at commit, under a lock of its head row held for
// that last statement alone (chain.go). A deadlock or a
// serialisation failure rolls the transaction back and runs fn again, which
// the cases.Store contract allows.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// Options tune Open.
type Options struct {
	// Schema is the PostgreSQL schema that holds exops's tables; it is
	// created when missing. Empty: the connection's search_path (public).
	Schema string
	// NoMigrate makes Open refuse a database whose schema is older than
	// this build instead of migrating it ("exops store migrate" does it).
	NoMigrate bool
	// NoBatch makes every Update its own transaction. By default the
	// concurrent Updates of one process share a transaction (see
	// committer), and so one commit and one turn at the audit chain.
	NoBatch bool
	// MaxConns bounds the connection pool (default: pgxpool's, 4 per CPU
	// and at least 4).
	MaxConns int32
	// Commits is how many group transactions run at once (default 2).
	// One replica's Updates otherwise wait for each other's round trips
	// and commits; more than a few only adds row lock waits.
	Commits int
}

// defaultCommits: one group runs its functions while the other waits for
// its commit (BenchmarkReplicaIntake: 1.7x the events/s of one for one
// replica, docs/benchmarks.md).
const defaultCommits = 2

// Store is a cases.Store, a cases.CaseFinder and an audit.Log on PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	name   string // the URL without its password, for messages
	schema string
	group  *committer // nil with Options.NoBatch
	// events caches the stored events that cases refer to.
	events *cases.EventCache
	trips  *roundTrips
	// numbers is the connection that refills the free case numbers
	// (numbers.go).
	numbers *pgxpool.Pool
	// known is the newest audit chain head this replica saw (chain.go).
	known knownHead
	// commits is Options.Commits.
	commits int
}

// eventCacheBytes bounds Store.events.
const eventCacheBytes = 32 << 20

var (
	_ cases.Store      = (*Store)(nil)
	_ cases.CaseFinder = (*Store)(nil)
	_ audit.Log        = (*Store)(nil)
	_ audit.HeadReader = (*Store)(nil)
)

// maxAttempts bounds how often Update runs fn when PostgreSQL reports a
// deadlock or a serialisation failure.
const maxAttempts = 12

// Open connects to the database at url (postgres://…), migrates its schema
// to this build's (unless opts.NoMigrate) and refuses a schema newer than
// this build understands.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	name := redact(url)
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unreachable(name, err)
	}
	s := &Store{pool: pool, name: name, schema: opts.Schema, events: cases.NewEventCache(eventCacheBytes), trips: trips, commits: opts.Commits}
	if s.commits <= 0 {
		s.commits = defaultCommits
	}
	// Refills of the free case numbers run beside transactions that hold
	// the main pool's connections (every one of them, under load): from a
	// connection of their own, or they would wait for each other forever.
	ncfg := cfg.Copy()
	ncfg.MaxConns, ncfg.MinConns = 1, 0
	if s.numbers, err = pgxpool.NewWithConfig(ctx, ncfg); err != nil {
		pool.Close()
		return nil, unreachable(name, err)
	}
	if err := s.prepare(ctx, opts); err != nil {
		pool.Close()
		s.numbers.Close()
		return nil, err
	}
	if !opts.NoBatch {
		s.group = newCommitter(s)
	}
	return s, nil
}

func poolConfig(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, cases.Errorf(cases.KindInvalid, "store URL %s is not a PostgreSQL connection URL", redact(url))
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	return cfg, nil
}

func (s *Store) prepare(ctx context.Context, opts Options) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return unreachable(s.name, err)
	}
	defer conn.Release()
	latest := SchemaVersion()
	if opts.NoMigrate {
		v, err := schemaVersionOf(ctx, conn)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
		switch {
		case v > latest:
			return fmt.Errorf("store %s: %w", s.name, newerError(v, latest))
		case v < latest:
			return cases.Errorf(cases.KindConflict, "store %s: schema version %d, this exops needs %d: run \"exops store migrate --store URL\"", s.name, v, latest)
		}
		return nil
	}
	if _, _, err := migrate(ctx, conn.Conn(), opts.Schema, 0); err != nil {
		return fmt.Errorf("store %s: %w", s.name, err)
	}
	return nil
}

// Migrate applies the migrations this build holds to the database at url
// and returns the schema version before and after.
func Migrate(ctx context.Context, url string, opts Options) (from, to int, err error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return 0, 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return 0, 0, unreachable(redact(url), err)
	}
	defer conn.Close(context.Background())
	from, to, err = migrate(ctx, conn, opts.Schema, 0)
	if err != nil {
		return from, to, fmt.Errorf("store %s: %w", redact(url), err)
	}
	return from, to, nil
}

// Close closes the connections. Update and View fail afterwards.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close()
	}
	s.pool.Close()
	s.numbers.Close()
	return nil
}

// String names the store (its URL without the password).
func (s *Store) String() string { return s.name }

// Ping checks that the database answers (for readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unreachable(s.name, err)
	}
	return nil
}

// fnError marks an error that came from the caller's function.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }
func (e fnError) Unwrap() error { return e.err }

// Update runs fn in one transaction and returns once it is committed. fn
// runs again when PostgreSQL aborts the transaction for a deadlock or a
// serialisation failure, so it must change nothing but tx.
func (s *Store) Update(ctx context.Context, fn func(tx cases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.group != nil {
		return s.group.update(ctx, fn)
	}
	for attempt := 1; ; attempt++ {
		err := s.updateOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return s.txError("update", err)
		}
		// Back off a little, at random, so the transactions that collided
		// do not collide again.
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

func (s *Store) updateOnce(ctx context.Context, fn func(tx cases.Tx) error) (err error) {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return unreachable(s.name, err)
	}
	defer func() {
		if err != nil {
			_ = ptx.Rollback(context.Background())
		}
	}()
	t := &tx{ctx: ctx, ptx: ptx, write: true, events: s.events, chain: newPendingChain(s.known.get()),
		nums: &caseNumbers{store: s}}
	err = safely(fn, t)
	if err == nil {
		t.finish()
		err = t.flush("write") // the writes nobody has read yet
	}
	if err != nil {
		if t.failed != nil && retryable(t.failed) {
			return t.failed // fn may have wrapped or dropped it
		}
		return fnError{err}
	}
	if t.failed != nil {
		// fn went on after a statement failed; PostgreSQL has aborted the
		// transaction, so nothing can commit.
		return t.failed
	}
	head, err := t.chain.place(ctx, ptx)
	if err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return err
	}
	s.known.set(head)
	return nil
}

// View runs fn in a read-only snapshot (REPEATABLE READ).
func (s *Store) View(ctx context.Context, fn func(tx cases.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.txError("view", unreachable(s.name, err))
	}
	defer ptx.Rollback(context.Background())
	t := &tx{ctx: ctx, ptx: ptx, events: s.events}
	if err := safely(func(t cases.Tx) error { return fn(t) }, t); err != nil {
		return s.txError("view", fnError{err})
	}
	return nil
}

func (s *Store) txError(op string, err error) error {
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ce *cases.Error
	if errors.As(err, &ce) {
		return err
	}
	return dbError(fmt.Sprintf("store %s: %s", s.name, op), err)
}

// safely turns a panic in fn into an error, so that the transaction is
// rolled back and its connection returned.
func safely(fn func(cases.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in store transaction: %v", p)
		}
	}()
	return fn(t)
}

// retryable says PostgreSQL aborted the transaction so that it can run again:
// serialization_failure or deadlock_detected.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// dbError gives a database error a kind: a lost or refused connection is
// transient (the caller may try again), bad input is invalid, the rest is
// internal.
func dbError(what string, err error) error {
	var pe *pgconn.PgError
	kind := cases.KindInternal
	switch {
	case errors.As(err, &pe):
		switch pe.Code[:2] {
		case "08", "53", "57": // connection, resources, operator intervention (shutdown)
			kind = cases.KindTransient
		case "22": // data exception
			kind = cases.KindInvalid
		case "40":
			kind = cases.KindTransient
		}
	case pgconn.Timeout(err), isConnErr(err):
		kind = cases.KindTransient
	}
	return &cases.Error{Kind: kind, Msg: what, Err: err}
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.Is(err, pgx.ErrTxClosed) || pgconn.SafeToRetry(err)
}

func unreachable(name string, err error) error {
	if _, ok := err.(*cases.Error); ok {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return dbError("store "+name, err)
	}
	return &cases.Error{Kind: cases.KindTransient, Msg: "store " + name + ": database unreachable", Err: err}
}

// redact drops the password from a connection URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "(unparsable PostgreSQL URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
