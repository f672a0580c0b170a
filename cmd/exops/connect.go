package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

// connectorsFromEnv returns the Enricher and Executor: the REST adapters
// when any EXOPS_<SYSTEM>_URL is set, else the in-process simulator (the
// default, so "exops demo" and the tests need no setup). remote is nil in
// the simulator case.
func connectorsFromEnv(getenv func(string) string, obs connectors.Observer, sim *connectors.Simulator) (cases.Enricher, cases.Executor, *connectors.Remote, error) {
	rc, err := connectors.ConfigFromEnv(getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if !rc.Configured() {
		return sim, sim, nil, nil
	}
	for i := range rc.Systems {
		rc.Systems[i].Observer = obs
	}
	r, err := connectors.NewRemote(rc)
	if err != nil {
		return nil, nil, nil, err
	}
	return r, r, r, nil
}

// puller is a drop folder or an HTTP feed.
type puller interface {
	Poll(ctx context.Context) (connectors.PullResult, error)
}

// schedulePulls adds the configured pulls to c:
//
//	EXOPS_PULL_DIR, EXOPS_PULL_SOURCE     a CSV drop folder and the source its rows claim
//	EXOPS_PULL_FEEDS=ERP,WMS              systems whose GET /v1/events feed is polled (needs their URLs)
//	EXOPS_PULL_SCHEDULE                   cron spec, default "@every 1m"
//
// Checkpoints live beside the database (PATH.pull-NAME.checkpoint).
func (m *Main) schedulePulls(c *cron.Cron, getenv func(string) string, remote *connectors.Remote, ing connectors.Ingester, metrics *Metrics) error {
	spec := getenv("EXOPS_PULL_SCHEDULE")
	if spec == "" {
		spec = "@every 1m"
	}
	checkpoint := func(name string) connectors.Checkpoint {
		return connectors.Checkpoint{Path: m.cfg.DBPath + ".pull-" + strings.ToLower(name) + ".checkpoint"}
	}
	pulls := map[string]puller{}
	if dir := getenv("EXOPS_PULL_DIR"); dir != "" {
		src := getenv("EXOPS_PULL_SOURCE")
		if src == "" {
			return fmt.Errorf("EXOPS_PULL_DIR is set but EXOPS_PULL_SOURCE is not: name the source the rows come from")
		}
		pulls["drop"] = &connectors.DropFolder{Dir: filepath.Clean(dir), Source: src, Ingester: ing, Checkpoint: checkpoint("drop"), EDI: m.edi}
	}
	if feeds := getenv("EXOPS_PULL_FEEDS"); feeds != "" {
		for _, name := range strings.Split(feeds, ",") {
			name = strings.ToUpper(strings.TrimSpace(name))
			var cl *connectors.Client
			if remote != nil {
				cl = remote.Client(name)
			}
			if cl == nil {
				return fmt.Errorf("EXOPS_PULL_FEEDS names %s, but EXOPS_%s_URL is not set", name, name)
			}
			pulls[name] = &connectors.HTTPPoller{Client: cl, Ingester: ing, Checkpoint: checkpoint(name)}
		}
	}
	for name, p := range pulls {
		if _, err := c.AddFunc(spec, func() {
			ctx := context.Background()
			if !m.leads(ctx) {
				return
			}
			res, err := p.Poll(ctx)
			if metrics != nil {
				metrics.Pulled(name, res.Events, err)
			}
			for _, r := range res.Rejected {
				m.log.Warn("pull: event refused", "pull", name, "why", r)
			}
			if err != nil {
				m.log.Error("pull failed; the next run resumes from the checkpoint", "pull", name, "err", err)
			} else if res.Events > 0 {
				m.log.Info("pulled events", "pull", name, "events", res.Events, "duplicates", res.Duplicates, "files", res.Files)
			}
		}); err != nil {
			return fmt.Errorf("EXOPS_PULL_SCHEDULE %q: %w", spec, err)
		}
	}
	return nil
}

// scheduleDigest posts the daily digest with post (the bot) on spec, e.g.
// "CRON_TZ=Europe/Berlin 0 8 * * *".
func (m *Main) scheduleDigest(c *cron.Cron, spec string, post func(ctx context.Context, text string) error) error {
	_, err := c.AddFunc(spec, func() {
		ctx := context.Background()
		if !m.leads(ctx) {
			return
		}
		cs, err := loadCases(ctx, m.store)
		if err != nil {
			m.log.Error("daily digest: read cases", "err", err)
			return
		}
		if err := post(ctx, DailyDigest(cs, m.cfg.Now())); err != nil {
			m.log.Error("daily digest: post", "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("digest schedule %q: %w", spec, err)
	}
	return nil
}
