package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/report"
)

// reportCmd prints the process-intelligence figures of a database.
func (c *cli) reportCmd(args []string) int {
	fs := c.flags("report", "report [--db PATH] [--since T] [--digest] [--json]")
	db := c.dbFlag(fs)
	since := fs.String("since", "", "only cases opened or resolved at or after `T`: RFC 3339, YYYY-MM-DD, or an age such as 24h or 7d")
	digest := fs.Bool("digest", false, "print the daily digest text (Slack mrkdwn) instead")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError("report takes no arguments")
	}
	now := c.clock()
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseSince(*since, now); err != nil {
			return c.usageError("--since: " + err.Error())
		}
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	cs, err := loadCases(c.ctx, s)
	if err != nil {
		return c.fail(fmt.Errorf("read cases: %w", err))
	}
	r := report.Compute(cs, reportOptions(now, from))
	switch {
	case *asJSON:
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return c.fail(err)
		}
	case *digest:
		fmt.Fprintln(c.stdout, r.Digest())
	default:
		fmt.Fprint(c.stdout, r.Text())
	}
	return exitOK
}

// reportOptions are the report's options at now, from since.
func reportOptions(now, since time.Time) report.Options {
	return report.Options{Now: now, Since: since}
}

// parseSince reads an instant (RFC 3339 or YYYY-MM-DD) or an age back from
// now ("24h", "90m", "7d").
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := cases.ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339, YYYY-MM-DD or an age such as 24h or 7d, got %q", s)
	}
	return t, nil
}

// DailyDigest is the text of the digest for the day before now: the same
// figures as "exops report --since 24h --digest". Post it with the bot.
func DailyDigest(cs []*cases.Case, now time.Time) string {
	return report.Compute(cs, reportOptions(now, now.Add(-24*time.Hour))).Digest()
}
