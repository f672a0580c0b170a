package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `exops turns operational exceptions from ERP, WMS, TMS and CRM events into
composite cases in Slack, with summaries, recommendations and approvals.

Usage:
  exops serve   [--db PATH] --policy FILE [--addr HOST:PORT] [--nats URL]   run the bot
  exops demo    [--db PATH] [--policy FILE]                    play the demo scenario, no setup needed
  exops cases list [--db PATH] [--status open|resolved|merged]
  exops cases show ID [--db PATH] [--json]
  exops ask [--db PATH] [--policy FILE] [--as USER] [-v] "QUESTION"  answer a question from the cases and the audit log
  exops audit verify [--db PATH] [--pubkey FILE [--checkpoint FILE]...]
  exops audit checkpoint [--db PATH] [--out FILE]              sign the audit log's head (EXOPS_AUDIT_KEY)
  exops audit keygen --out FILE                                make an Ed25519 key pair for the checkpoints
  exops audit export [--db PATH] --format csv|ndjson [--since T] [--until T] [--case ID] [--actor A] [--out FILE]
  exops policy check FILE
  exops policy explain --db PATH --policy FILE CASE-ID
  exops policy diff OLD NEW [--db PATH]
  exops extract FILE... | exops extract --eval DIR              read supplier PDFs into fields (JSON)
  exops edi parse [--policy FILE] FILE...                       read X12/EDIFACT interchanges: sets and events (JSON)
  exops report  [--db PATH] [--since T] [--digest] [--json]    MTTR, backlog aging, first-touch resolution, patterns
  exops simulate --addr HOST:PORT                             serve a simulated ERP, WMS, TMS and CRM (REST contract)
  exops simulate --events N [--rate R] --to URL               send a signed stream of business events
  exops store migrate --store URL                              create or migrate a PostgreSQL schema
  exops store copy --from FILE.db --to postgres://…            move a bbolt installation into PostgreSQL
  exops version

Wherever a command takes --db PATH it also takes --store URL: a bbolt file path
or a postgres:// URL (default $EXOPS_STORE, else ./exops.db).
Run "exops COMMAND --help" for a command's flags. Secrets and endpoints come
from the environment: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET,
SLACK_API_URL, EXOPS_SOURCE_SECRETS (see README.md).
`

// exit codes
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

type cli struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// clock is the business clock of every command (EXOPS_CLOCK_OFFSET).
	clock cases.Clock
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr, getenv: getenv}
	clock, err := clockFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "exops:", err)
		return exitUsage
	}
	c.clock = clock
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return c.serve(args[1:])
	case "demo":
		return c.demo(args[1:])
	case "ask":
		return c.ask(args[1:])
	case "cases":
		if len(args) > 1 && args[1] == "list" {
			return c.casesList(args[2:])
		}
		if len(args) > 1 && args[1] == "show" {
			return c.casesShow(args[2:])
		}
		return c.usageError("cases needs list or show")
	case "audit":
		return c.audit(args[1:])
	case "policy":
		return c.policy(args[1:])
	case "extract":
		return c.extract(args[1:])
	case "edi":
		return c.ediCmd(args[1:])
	case "report":
		return c.reportCmd(args[1:])
	case "simulate":
		return c.simulate(args[1:])
	case "store":
		return c.store(args[1:])
	case "pdf-worker":
		return c.pdfWorker(args[1:])
	case "version", "--version":
		fmt.Fprintf(stdout, "exops %s (%s)\n", version, runtime.Version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	return c.usageError(fmt.Sprintf("unknown command %q", args[0]))
}

func (c *cli) usageError(msg string) int {
	fmt.Fprintf(c.stderr, "exops: %s\n\n%s", msg, usage)
	return exitUsage
}

func (c *cli) fail(err error) int {
	fmt.Fprintf(c.stderr, "exops: %v\n", err)
	return exitFail
}

// flags makes a flag set whose --help prints the command's synopsis.
func (c *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: exops %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; it returns an exit code when the command should stop.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

// dbFlag is where the data is: --store URL (a bbolt file path or a
// postgres:// URL; default $EXOPS_STORE, else ./exops.db), or --db PATH,
// its older name for a bbolt file.
func (c *cli) dbFlag(fs *flag.FlagSet) *string {
	def := c.getenv("EXOPS_STORE")
	if def == "" {
		def = "./exops.db"
	}
	v := new(string)
	fs.StringVar(v, "store", def, "the store: a bbolt `file` path or a postgres:// URL; $EXOPS_STORE when not given")
	fs.StringVar(v, "db", def, "path of the bbolt database `file` (the same as --store)")
	return v
}

func (c *cli) serve(args []string) int {
	fs := c.flags("serve", "serve [--store URL | --db PATH] --policy FILE [--addr HOST:PORT] [--nats URL]")
	db := c.dbFlag(fs)
	pol := fs.String("policy", "", "policy `file` (YAML)")
	addr := fs.String("addr", ":8080", "`host:port` for the event API and Slack's HTTP endpoints")
	natsURL := fs.String("nats", "", "NATS `URL` to consume events from JetStream (default $EXOPS_NATS_URL)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	getenv := c.getenv
	if *natsURL != "" {
		getenv = func(k string) string {
			if k == "EXOPS_NATS_URL" {
				return *natsURL
			}
			return c.getenv(k)
		}
	}
	secrets, err := parseSourceSecrets(c.getenv("EXOPS_SOURCE_SECRETS"))
	if err != nil {
		return c.fail(err)
	}
	llm, err := agents.ConfigFromEnv(c.getenv)
	if err != nil {
		return c.fail(err)
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, nil))
	m, err := NewMain(Config{
		DBPath: *db, PolicyPath: *pol, Addr: *addr,
		SlackBotToken: c.getenv("SLACK_BOT_TOKEN"), SlackAppToken: c.getenv("SLACK_APP_TOKEN"),
		SlackSigningSecret: c.getenv("SLACK_SIGNING_SECRET"), SlackAPIURL: c.getenv("SLACK_API_URL"),
		SourceSecrets: secrets, Logger: logger, LLM: llm, Getenv: getenv,
		DigestChannel: c.getenv("EXOPS_DIGEST_CHANNEL"), DigestSchedule: c.getenv("EXOPS_DIGEST_SCHEDULE"),
		Now: c.clock,
	})
	if err != nil {
		return c.fail(err)
	}
	if len(secrets) == 0 {
		logger.Warn("EXOPS_SOURCE_SECRETS is empty: the event API refuses every request")
	}
	if c.getenv("SLACK_SIGNING_SECRET") == "" {
		logger.Warn("SLACK_SIGNING_SECRET is not set: /slack/interactions, /slack/commands and /slack/events are not served (Socket Mode still works)")
	}
	runErr := m.Run(c.ctx)
	if err := errors.Join(runErr, m.Close()); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// parseSourceSecrets reads "source=secret,source2=secret2".
func parseSourceSecrets(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		src, secret, ok := strings.Cut(part, "=")
		if !ok || src == "" || secret == "" {
			return nil, fmt.Errorf("EXOPS_SOURCE_SECRETS: entry %d is not source=secret", len(out)+1)
		}
		out[src] = secret
	}
	return out, nil
}

// openStore opens an existing store for a command that reads it.
func (c *cli) openStore(url string) (Storage, error) {
	if !isPostgresURL(url) {
		if _, err := os.Stat(url); err != nil {
			return nil, fmt.Errorf("open database %s: %w", url, err)
		}
	}
	return openStore(url)
}

func (c *cli) casesList(args []string) int {
	fs := c.flags("cases list", "cases list [--db PATH] [--status open|resolved|merged]")
	db := c.dbFlag(fs)
	status := fs.String("status", "", "only cases with this `status`")
	if code, stop := parse(fs, args); stop {
		return code
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	tw := tabwriter.NewWriter(displayWriter{c.stdout}, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTATUS\tSEVERITY\tPRIORITY\tTEAM\tFAMILIES\tOPENED")
	n := 0
	err = s.View(c.ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(cs *cases.Case) error {
			if *status != "" && string(cs.Status) != *status {
				return nil
			}
			n++
			fams := make([]string, len(cs.Families))
			for i, f := range cs.Families {
				fams[i] = string(f)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cs.ID, cs.Status, cs.Severity, cs.Priority, cs.Team,
				strings.Join(fams, ","), cs.OpenedAt.UTC().Format(time.RFC3339))
			return nil
		})
	})
	if err != nil {
		return c.fail(err)
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "%d cases\n", n)
	return exitOK
}

func (c *cli) casesShow(args []string) int {
	fs := c.flags("cases show", "cases show ID [--db PATH] [--json]")
	db := c.dbFlag(fs)
	asJSON := fs.Bool("json", false, "print the case as JSON")
	// Go's flag stops at the first argument; accept the id before or after flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if code, stop := parse(fs, args); stop {
		return code
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if id == "" {
		return c.usageError("cases show needs a case id such as EX-000001")
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	var cs *cases.Case
	err = s.View(c.ctx, func(tx cases.ReadTx) error {
		var err error
		cs, err = tx.Case(strings.ToUpper(id))
		return err
	})
	if cases.KindOf(err) == cases.KindNotFound {
		return c.fail(fmt.Errorf("no case %s in %s", id, *db))
	} else if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cs); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	printCase(displayWriter{c.stdout}, cs)
	return exitOK
}

// displayWriter shows what it is given on a terminal safely: control
// characters and bidirectional overrides from event data become visible
// escapes (cases.DisplayText), so a case cannot rewrite the operator's
// screen. --json output keeps the exact data, JSON-escaped.
type displayWriter struct{ w io.Writer }

func (d displayWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(d.w, cases.DisplayText(string(p), true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func printCase(w io.Writer, cs *cases.Case) {
	fams := make([]string, len(cs.Families))
	for i, f := range cs.Families {
		fams[i] = f.Label()
	}
	fmt.Fprintf(w, "%s  %s  severity %s  priority %s\n", cs.ID, strings.ToUpper(string(cs.Status)), cs.Severity, cs.Priority)
	if cs.MergedInto != "" {
		fmt.Fprintf(w, "merged into %s\n", cs.MergedInto)
	}
	fmt.Fprintf(w, "families: %s\n", strings.Join(fams, ", "))
	fmt.Fprintf(w, "team: %s (%s)   SLA due: %s   opened: %s\n", cs.Team, cs.Channel, cs.SLADue.UTC().Format(time.RFC3339), cs.OpenedAt.UTC().Format(time.RFC3339))
	if cs.Slack.TS != "" {
		fmt.Fprintf(w, "slack: %s ts %s\n", cs.Slack.Channel, cs.Slack.TS)
	}
	fmt.Fprintf(w, "\nsummary (by %s):\n  %s\n", or(cs.SummaryBy, "nobody yet"), cs.Summary)
	if len(cs.Missing) > 0 {
		fmt.Fprintf(w, "missing context: %s\n", strings.Join(cs.Missing, "; "))
	}
	fmt.Fprintf(w, "\nrecommendations:\n")
	for _, r := range cs.Recommendations {
		fmt.Fprintf(w, "  %s  %s  [%s, confidence %.0f%%, verdict %s]\n", r.ID, r.Title, r.State, r.Confidence*100, r.Verdict)
		for _, e := range r.Evidence {
			mark := "✗"
			if e.Passed {
				mark = "✓"
			}
			fmt.Fprintf(w, "      %s %s %s\n", mark, e.Check, paren(e.Detail))
		}
		if r.Outcome != "" {
			fmt.Fprintf(w, "      → %s\n", r.Outcome)
		}
	}
	fmt.Fprintf(w, "\ndecisions:\n")
	for _, d := range cs.Decisions {
		fmt.Fprintf(w, "  %s  %s %s %s (verdict %s, confidence %.0f%%, policy %s) %s\n", d.Time.UTC().Format(time.RFC3339), d.Actor, d.Choice,
			d.Action, d.Verdict, d.Confidence*100, d.PolicyVersion, d.Reason)
	}
	fmt.Fprintf(w, "\nevents:\n")
	for _, e := range cs.Events {
		fmt.Fprintf(w, "  %s  %s  %s %s\n", e.Time.UTC().Format(time.RFC3339), e.Type, e.Source, e.ID)
	}
	keys := append([]string(nil), cs.Keys...)
	sort.Strings(keys)
	fmt.Fprintf(w, "\ncorrelation keys: %s\n", strings.Join(keys, ", "))
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *cli) auditVerify(args []string) int {
	fs := c.flags("audit verify", "audit verify [--db PATH] [--pubkey FILE [--checkpoint FILE]...]")
	db := c.dbFlag(fs)
	var signed checkpointFlags
	signed.register(fs)
	if code, stop := parse(fs, args); stop {
		return code
	}
	if len(signed.files) > 0 && signed.pubkey == "" {
		return c.usageError("audit verify: --checkpoint needs --pubkey to check its signatures")
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	if signed.pubkey != "" {
		return c.verifySigned(s, signed)
	}
	res, err := audit.Verify(c.ctx, s)
	var broken *audit.BrokenError
	var bad *audit.DecodeError
	switch {
	case errors.As(err, &broken):
		fmt.Fprintf(c.stdout, "audit log BROKEN at record %d: %s\n", broken.Seq, broken.Reason)
		return exitFail
	case errors.As(err, &bad):
		fmt.Fprintf(c.stdout, "audit log BROKEN at record %d: %v\n", bad.Seq, bad.Err)
		return exitFail
	case err != nil:
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "audit log intact: %d records checked, head %s\n", res.Checked, or(res.Head, "(empty)"))
	return exitOK
}

func (c *cli) auditExport(args []string) int {
	fs := c.flags("audit export", "audit export [--db PATH] --format csv|ndjson [--since T] [--until T] [--case ID] [--actor A] [--out FILE]")
	db := c.dbFlag(fs)
	format := fs.String("format", "", "csv or ndjson")
	since := fs.String("since", "", "only records at or after `T` (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "only records before `T` (RFC 3339 or YYYY-MM-DD)")
	caseID := fs.String("case", "", "only records of this case `ID`")
	actor := fs.String("actor", "", "only records by this actor (Slack user id, exops, or an event source)")
	out := fs.String("out", "", "write to this `file` instead of standard output")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *format != "csv" && *format != "ndjson" {
		return c.usageError("audit export needs --format csv or --format ndjson")
	}
	var f audit.Filter
	var err error
	if *since != "" {
		if f.Since, err = cases.ParseDate(*since); err != nil {
			return c.usageError("--since: " + err.Error())
		}
	}
	if *until != "" {
		if f.Until, err = cases.ParseDate(*until); err != nil {
			return c.usageError("--until: " + err.Error())
		}
	}
	f.Case, f.Actor = strings.ToUpper(*caseID), *actor
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	if err := c.sealExport(s, *out); err != nil {
		return c.fail(fmt.Errorf("export: %w", err))
	}
	w := c.stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return c.fail(fmt.Errorf("export: %w", err))
		}
		w = file
	}
	var n int
	if *format == "csv" {
		n, err = audit.ExportCSV(c.ctx, s, f, w)
	} else {
		n, err = audit.ExportNDJSON(c.ctx, s, f, w)
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return c.fail(fmt.Errorf("export: %w", err))
	}
	if *out != "" {
		fmt.Fprintf(c.stderr, "exported %d records to %s\n", n, *out)
	}
	return exitOK
}
