package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/cases/postgres"
)

// Storage is what exops needs of its store: the engine's cases.Store, the
// question-answering indexes, and the audit log for verify, export and the
// agents. cases/bolt and cases/postgres both provide it.
type Storage interface {
	cases.Store
	cases.CaseFinder
	audit.Log
	audit.HeadReader
	agents.AuditReader
	cases.ReplayMemory
}

var (
	_ Storage = (*bolt.Store)(nil)
	_ Storage = (*postgres.Store)(nil)
)

// storeOpenTimeout bounds connecting to and migrating a PostgreSQL store.
const storeOpenTimeout = 30 * time.Second

// isPostgresURL tells a PostgreSQL URL from a bbolt file path.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// openStore opens the store that url names: a postgres:// URL (the schema
// is migrated to this build's; a newer one is refused), or else the path of
// a bbolt file (created when missing).
func openStore(url string) (Storage, error) {
	if url == "" {
		return nil, cases.Errorf(cases.KindInvalid, "no store: pass --store with a bbolt file path or a postgres:// URL")
	}
	if isPostgresURL(url) {
		ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
		defer cancel()
		url, opts, err := postgresOptions(url)
		if err != nil {
			return nil, err
		}
		return postgres.Open(ctx, url, opts)
	}
	return bolt.Open(url, bolt.Options{})
}

// storeFlag is --store, defaulting to EXOPS_STORE.
func (c *cli) storeFlag(fs *flag.FlagSet, name, usage string) *string {
	return fs.String(name, c.getenv("EXOPS_STORE"), usage)
}

func (c *cli) store(args []string) int {
	if len(args) == 0 {
		return c.usageError("store needs migrate or copy")
	}
	switch args[0] {
	case "migrate":
		return c.storeMigrate(args[1:])
	case "copy":
		return c.storeCopy(args[1:])
	}
	return c.usageError(fmt.Sprintf("unknown store command %q", args[0]))
}

func (c *cli) storeMigrate(args []string) int {
	fs := c.flags("store migrate", "store migrate --store URL")
	url := c.storeFlag(fs, "store", "the store: a postgres:// `URL` or a bbolt file path (default $EXOPS_STORE)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *url == "" {
		return c.usageError("store migrate needs --store URL (or EXOPS_STORE)")
	}
	if !isPostgresURL(*url) {
		// A bbolt file is brought up to date when it is opened.
		if _, err := os.Stat(*url); err != nil {
			return c.fail(fmt.Errorf("open database %s: %w", *url, err))
		}
		s, err := bolt.Open(*url, bolt.Options{})
		if err != nil {
			return c.fail(err)
		}
		if err := s.Close(); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "bbolt file %s is up to date\n", *url)
		return exitOK
	}
	pgURL, opts, err := postgresOptions(*url)
	if err != nil {
		return c.fail(err)
	}
	from, to, err := postgres.Migrate(c.ctx, pgURL, opts)
	if err != nil {
		return c.fail(err)
	}
	if from == to {
		fmt.Fprintf(c.stdout, "schema is at version %d, nothing to do\n", to)
		return exitOK
	}
	fmt.Fprintf(c.stdout, "schema migrated from version %d to %d\n", from, to)
	return exitOK
}

func (c *cli) storeCopy(args []string) int {
	fs := c.flags("store copy", "store copy --from FILE.db --to postgres://…")
	from := fs.String("from", "", "the bbolt `file` to copy (exops must not be running on it)")
	to := fs.String("to", "", "the PostgreSQL `URL` to copy into; it must hold no data")
	quiet := fs.Bool("q", false, "print no progress")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *from == "" || *to == "" {
		return c.usageError("store copy needs --from FILE.db and --to postgres://…")
	}
	if !isPostgresURL(*to) {
		return c.usageError("store copy: --to must be a postgres:// URL")
	}
	if _, err := os.Stat(*from); err != nil {
		return c.fail(fmt.Errorf("open database %s: %w", *from, err))
	}
	abs, err := filepath.Abs(*from)
	if err != nil {
		return c.fail(err)
	}
	src, err := bolt.Open(*from, bolt.Options{})
	if err != nil {
		return c.fail(err)
	}
	defer src.Close()
	pgURL, opts, err := postgresOptions(*to)
	if err != nil {
		return c.fail(err)
	}
	octx, cancel := context.WithTimeout(c.ctx, storeOpenTimeout)
	dst, err := postgres.Open(octx, pgURL, opts)
	cancel()
	if err != nil {
		return c.fail(err)
	}
	defer dst.Close()
	progress := func(stage string, n int) {
		if !*quiet {
			fmt.Fprintf(c.stderr, "copied %s: %d\n", stage, n)
		}
	}
	rep, err := dst.CopyFrom(c.ctx, src, abs, progress)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return c.fail(fmt.Errorf("copy interrupted; run the same command again to resume: %w", err))
		}
		return c.fail(err)
	}
	if rep.Resumed {
		fmt.Fprintln(c.stdout, "resumed an interrupted copy")
	}
	fmt.Fprintf(c.stdout, "copied %s to %s: %d cases, %d events, %d correlation keys, %d jobs, %d timers, %d audit records\n",
		abs, dst, rep.Cases, rep.Events, rep.Keys, rep.Jobs, rep.Timers, rep.Records)
	fmt.Fprintf(c.stdout, "audit chain verified on both sides: %d records, head %s\n", rep.Checked, or(rep.AuditHead, "(empty)"))
	return exitOK
}

// postgresOptions takes exops's own parameters off a PostgreSQL URL, which
// pgx would otherwise send to the server as settings:
//   - schema=NAME, the schema that holds exops's tables (created when
//     missing; default the connection's search_path), so one database can
//     hold several installations;
//   - commits=N, how many group transactions a replica runs at once
//     (default 2, see postgres.Options.Commits).
func postgresOptions(raw string) (string, postgres.Options, error) {
	var opts postgres.Options
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", opts, cases.Errorf(cases.KindInvalid, "the store URL is not a URL")
	}
	q := u.Query()
	if !q.Has("schema") && !q.Has("commits") {
		return raw, opts, nil
	}
	opts.Schema = q.Get("schema")
	for _, r := range opts.Schema {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "", opts, cases.Errorf(cases.KindInvalid, "schema %q: use lower-case letters, digits and _", opts.Schema)
		}
	}
	if v := q.Get("commits"); q.Has("commits") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return "", opts, cases.Errorf(cases.KindInvalid, "commits %q: use a number from 1 to 16", v)
		}
		opts.Commits = n
	}
	q.Del("schema")
	q.Del("commits")
	u.RawQuery = q.Encode()
	return u.String(), opts, nil
}
