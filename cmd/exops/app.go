package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/agents/documents"
	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/desk"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/connectors/edi"
	"github.com/exops/exops/policies"
)

// Config is everything Main needs; secrets come from the environment.
type Config struct {
	DBPath     string // the store: a bbolt file path or a postgres:// URL
	PolicyPath string
	Policy     *policies.Policy // used instead of PolicyPath when set
	Addr       string           // event API and Slack HTTP endpoints; "" serves no HTTP

	SlackBotToken      string
	SlackAppToken      string // set: Socket Mode
	SlackSigningSecret string // required for the HTTP endpoints
	SlackAPIURL        string // another Slack API base (tests, demo)

	// LLM chooses the model behind summaries, recommendations and answers
	// (agents.ConfigFromEnv); the zero value is the rules agent alone.
	LLM agents.Config

	SourceSecrets map[string]string // event source → shared secret
	MaxBody       int64

	// Getenv reads the connector, pull and simulator settings (EXOPS_ERP_URL
	// and the like; docs/connectors.md); default os.Getenv.
	Getenv func(string) string
	// DigestChannel gets the daily digest ("" for none) on DigestSchedule
	// (cron, default "0 8 * * *").
	DigestChannel  string
	DigestSchedule string

	// TimerEvery is how often escalation timers are checked (default 15 s).
	TimerEvery time.Duration
	// PolicyCheckEvery is how often the policy file is checked for changes
	// (default 5 s); SIGHUP reloads it at once.
	PolicyCheckEvery time.Duration

	// Now is the business clock of the whole program; nil means the wall
	// clock (EXOPS_CLOCK_OFFSET moves it, for demos and tests).
	Now    cases.Clock
	Logger *slog.Logger
}

// Main is the whole program, wired: tests run it against a temp database and
// local servers exactly as the binary does.
type Main struct {
	cfg    Config
	log    *slog.Logger
	store  Storage
	policy *policies.Policy
	// current is the policy in force, for what reads it outside the engine
	// (the audit export's compliance team).
	current atomic.Pointer[policies.Policy]
	metrics *Metrics
	remote  *connectors.Remote // nil when the simulator stands in for the systems
	engine  *cases.Engine
	nats    *connectors.NATSIntake // nil without EXOPS_NATS_URL
	replica string                 // this process among several on one store (EXOPS_REPLICA)
	leading atomic.Bool            // holds the schedules' leader lease
	timing  timing                 // leases and the timers' tick
	bot     *bot.Bot
	sim     *connectors.Simulator
	mux     *http.ServeMux
	edi     *edi.Reader // EDI interchanges in: /v1/edi, the drop folder, overdue confirmations

	// checkpoints signs the audit head (nil without EXOPS_AUDIT_KEY);
	// checkpointPosts posts the signatures to a channel (nil without one).
	checkpoints     *audit.Checkpointer
	checkpointPosts *audit.Publisher

	mu       sync.Mutex
	listener net.Listener
	ready    chan struct{}
}

// NewMain opens the store, loads the policy and builds every part.
func NewMain(cfg Config) (*Main, error) {
	if cfg.Now == nil {
		// The one place a default clock is chosen: every part below gets
		// this one.
		cfg.Now = cases.WallClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pol := cfg.Policy
	if pol == nil {
		if cfg.PolicyPath == "" {
			return nil, errors.New("no policy file: pass --policy FILE (policies/examples/distributor.yaml is a start)")
		}
		var err error
		if pol, err = policies.Load(cfg.PolicyPath); err != nil {
			return nil, err
		}
	}
	if cfg.SlackBotToken == "" {
		return nil, errors.New("SLACK_BOT_TOKEN is not set: exops needs a bot token to post cases (or run \"exops demo\", which needs none)")
	}
	store, err := openStore(cfg.DBPath)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: cfg.Logger, store: store, policy: pol, sim: connectors.NewSimulator(cfg.Now), ready: make(chan struct{})}
	agent, err := agents.New(cfg.LLM, cfg.Logger, cfg.Now)
	if err != nil {
		store.Close()
		return nil, err
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
		m.cfg.Getenv = os.Getenv
	}
	if m.replica = cfg.Getenv("EXOPS_REPLICA"); m.replica == "" {
		host, _ := os.Hostname()
		m.replica = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	m.metrics = NewMetrics(store, cfg.Now, m.replica)
	enricher, executor, remote, err := connectorsFromEnv(cfg.Getenv, m.metrics, m.sim)
	if err != nil {
		store.Close()
		return nil, err
	}
	m.remote = remote
	m.current.Store(pol)
	// One pass: the bot's posting half first, the engine with it, the
	// application layer on the engine, then the bot's receiving half on the
	// application layer.
	notifier, err := bot.NewNotifier(bot.Config{
		BotToken: cfg.SlackBotToken, AppToken: cfg.SlackAppToken, SigningSecret: cfg.SlackSigningSecret,
		APIURL: cfg.SlackAPIURL, Logger: cfg.Logger, Clock: cfg.Now, Replay: store,
		TrustedTeams: strings.FieldsFunc(cfg.Getenv("EXOPS_SLACK_TRUSTED_TEAMS"), func(r rune) bool { return r == ',' || r == ' ' }),
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("slack: %w", err)
	}
	groups := notifier.Directory()
	extractor := &documents.Extractor{}
	if agent.Model() != "" {
		// With a model configured, it fills the document fields the rules
		// could not; its answer is checked like the rules' (documents.md).
		extractor.Model = agent
	}
	var orders desk.Orders = m.sim
	if remote != nil {
		orders = remote
	}
	rules := func() desk.Rules { return m.current.Load() }
	docs := &desk.Documents{Reader: documents.Reader{Extractor: extractor}, Orders: orders,
		Fetcher: connectors.NewDocumentFetcher(cfg.Getenv), Events: store, Policy: rules}
	tm, err := timingFromEnv(cfg.Getenv, cfg.TimerEvery)
	if err != nil {
		store.Close()
		return nil, err
	}
	m.timing = tm
	// Signed audit checkpoints (EXOPS_AUDIT_KEY): the engine writes through
	// a store that seals the chain every N records.
	engineStore, err := m.setupCheckpoints(store, notifier)
	if err != nil {
		store.Close()
		return nil, err
	}
	pacer, outboxWorkers, err := outboxSettings(cfg, notifier)
	if err != nil {
		store.Close()
		return nil, err
	}
	eng, err := cases.New(cases.Config{
		Store: engineStore, Policy: pol, Agents: agent, Enricher: enricher, Executor: executor, Notifier: m.metrics.CountSlackErrors(notifier),
		Directory: groups, Documents: docs, Now: cfg.Now, Logger: cfg.Logger, Replica: m.replica, JobLease: tm.JobLease,
		Pacer: pacer, OutboxWorkers: outboxWorkers,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	answers := agent.Answerer(store, store).WithVocabulary(func() agents.Vocabulary { return vocabularyOf(m.current.Load()) })
	dk, err := desk.New(desk.Config{Engine: eng, Store: store, Policy: rules, Groups: groups, Documents: docs, Now: cfg.Now,
		Asker: desk.AskFunc(func(ctx context.Context, actor, question string) (string, string, error) {
			a, err := answers.AskAs(ctx, actor, question)
			return a.Text, a.By, err
		}),
		Audit: func(ctx context.Context, f cases.AuditQuery, w io.Writer) (int, error) {
			if err := m.sealForExport(ctx); err != nil {
				return 0, err
			}
			return audit.ExportCSV(ctx, store, audit.Filter{Since: f.Since, Until: f.Until, Case: f.Case}, w)
		},
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	b, err := notifier.Serve(bot.Services{Decider: dk, Cases: dk, Operator: dk, Audit: dk, Asker: dk, Documents: dk})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("slack: %w", err)
	}
	m.engine, m.bot = eng, b
	natsCfg, useNATS, err := connectors.NATSConfigFromEnv(cfg.Getenv)
	if err != nil {
		store.Close()
		return nil, err
	}
	if useNATS {
		natsCfg.Name = "exops " + m.replica
		if m.nats, err = connectors.NewNATSIntake(natsCfg, eng, cfg.Logger); err != nil {
			store.Close()
			return nil, err
		}
	}
	m.mux = http.NewServeMux()
	m.mux.Handle("POST /v1/events", &connectors.Intake{Ingester: eng, Secrets: cfg.SourceSecrets, MaxBody: cfg.MaxBody, Logger: cfg.Logger})
	m.wireEDI(eng, store, docs)
	if cfg.SlackSigningSecret != "" {
		m.mux.Handle("POST /slack/interactions", b.InteractionsHandler())
		m.mux.Handle("POST /slack/commands", b.CommandsHandler())
		m.mux.Handle("POST /slack/events", b.EventsHandler())
	}
	m.mux.Handle("GET /metrics", m.metrics.Handler())
	m.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	ready := &connectors.Readiness{Logger: cfg.Logger, Checks: map[string]connectors.ReadyCheck{
		"store": func(ctx context.Context) error {
			return store.View(ctx, func(tx cases.ReadTx) error { _, _, err := tx.AuditHead(); return err })
		},
	}}
	if m.nats != nil {
		ready.Checks["nats"] = m.nats.Ready
	}
	m.mux.Handle("GET /readyz", ready)
	return m, nil
}

// Run serves until ctx ends: the HTTP endpoints, Socket Mode when an app
// token is set, and the engine's queues.
func (m *Main) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	var srv *http.Server
	if m.cfg.Addr != "" {
		ln, err := net.Listen("tcp", m.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", m.cfg.Addr, err)
		}
		m.mu.Lock()
		m.listener = ln
		m.mu.Unlock()
		srv = &http.Server{Handler: m.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http: %w", err)
			}
		}()
		m.log.Info("serving", "addr", ln.Addr().String())
	}
	if m.cfg.SlackAppToken != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.bot.RunSocketMode(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("socket mode: %w", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.engine.Run(ctx)
	}()
	if m.nats != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.nats.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("nats: %w", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.runCheckpointPosts(ctx)
	}()
	stopCron, err := m.startSchedules(ctx)
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	defer stopCron()
	if m.cfg.PolicyPath != "" && m.cfg.Policy == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.watchPolicy(ctx)
		}()
	}
	close(m.ready)
	err = nil
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(sctx)
		scancel()
	}
	m.bot.Wait()
	wg.Wait()
	return err
}

// Ready is closed when Run has started listening.
func (m *Main) Ready() <-chan struct{} { return m.ready }

// Addr is where the HTTP endpoints listen, once Ready.
func (m *Main) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Close releases the store. Call it after Run returns.
func (m *Main) Close() error {
	berr := m.bot.Close()
	var nerr error
	if m.nats != nil {
		nerr = m.nats.Close()
	}
	serr := m.store.Close()
	return errors.Join(berr, nerr, serr)
}
