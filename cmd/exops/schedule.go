package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/policies"
)

// startSchedules runs the periodic jobs on robfig/cron: escalation timers.
// cron does not recover panics by default, so the chain does; the stored
// timers make a missed or crashed run harmless, since the next one finds the
// same due steps.
func (m *Main) startSchedules(ctx context.Context) (stop func(), err error) {
	every := m.timing.TimerEvery
	logger := cronLogger{m.log}
	c := cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)), cron.WithLogger(logger))
	if _, err := c.AddFunc(fmt.Sprintf("@every %s", every), func() {
		if !m.leads(ctx) {
			return
		}
		n, err := m.engine.FireTimers(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Error("escalation timers", "err", err)
		} else if n > 0 {
			m.log.Info("escalation steps taken", "steps", n)
		}
		// Purchase orders whose EDI acknowledgment is overdue (edi.md).
		if n, err := m.edi.RaiseOverdue(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("edi confirmations", "err", err)
		} else if n > 0 {
			m.log.Info("edi confirmations missing", "orders", n)
		}
	}); err != nil {
		return nil, fmt.Errorf("schedule escalation timers: %w", err)
	}
	// The replay memory forgets what has expired, so it stays small; the
	// signature window keeps refusing those requests anyway.
	if _, err := c.AddFunc("@every 10m", func() {
		if !m.leads(ctx) {
			return
		}
		if _, err := m.store.ForgetExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			m.log.Error("forget expired replay memory", "err", err)
		}
	}); err != nil {
		return nil, fmt.Errorf("schedule replay memory upkeep: %w", err)
	}
	if err := m.schedulePulls(c, m.cfg.Getenv, m.remote, m.engine, m.metrics); err != nil {
		return nil, err
	}
	if m.cfg.DigestChannel != "" {
		spec := m.cfg.DigestSchedule
		if spec == "" {
			spec = "0 8 * * *"
		}
		if err := m.scheduleDigest(c, spec, func(ctx context.Context, text string) error {
			return m.bot.PostText(ctx, m.cfg.DigestChannel, text)
		}); err != nil {
			return nil, err
		}
	}
	c.Start()
	return func() { <-c.Stop().Done() }, nil
}

// leads reports whether this replica runs the schedules now (escalation
// timers, pulls, the digest, upkeep): always with a store of its own, and
// while it holds the leader lease with a shared one. Leases follow the
// real time, not the business clock. A leader that dies is replaced at most
// one leader lease (EXOPS_LEADER_LEASE, default 45 s) after its last
// renewal, and renewals come with every timer tick.
func (m *Main) leads(ctx context.Context) bool {
	ll, ok := m.store.(cases.LeaderLease)
	if !ok {
		return true
	}
	lead, err := ll.TryLead(ctx, "schedules", m.replica, m.timing.LeaderLease, time.Now())
	if err != nil {
		m.log.Error("leader lease", "err", err)
		return false
	}
	if lead != m.leading.Swap(lead) {
		m.log.Info("schedules leader", "replica", m.replica, "leads", lead)
	}
	return lead
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// watchPolicy reloads the policy file on SIGHUP and when it changes on disk.
// A file that does not load is refused and logged; the policy in force stays.
func (m *Main) watchPolicy(ctx context.Context) {
	every := m.cfg.PolicyCheckEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	last := fileStamp(m.cfg.PolicyPath)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			last = fileStamp(m.cfg.PolicyPath)
			m.reloadPolicy("SIGHUP")
		case <-t.C:
			if s := fileStamp(m.cfg.PolicyPath); s != last {
				last = s
				m.reloadPolicy("file changed")
			}
		}
	}
}

// ReloadPolicy loads the policy file again and puts it in force if it is
// valid. It returns the error that kept the old one in force.
func (m *Main) reloadPolicy(why string) error {
	old := m.engine.Policy().Version()
	p, err := policies.Load(m.cfg.PolicyPath)
	if err != nil {
		m.log.Error("policy reload refused; the old policy stays in force", "why", why, "version", old, "err", err)
		return err
	}
	if p.Version() == old {
		return nil
	}
	m.engine.SetPolicy(p)
	m.current.Store(p)
	m.log.Info("policy reloaded", "why", why, "old", old, "new", p.Version())
	return nil
}

type stamp struct {
	mod  time.Time
	size int64
	err  bool
}

func fileStamp(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{err: true}
	}
	return stamp{mod: fi.ModTime(), size: fi.Size()}
}
