package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exops/exops/cases"
	"github.com/slack-go/slack"
)

// PublishHome renders the App Home tab for user: their pending approvals,
// their teams' backlog by severity and age, and what exops resolved alone
// today.
func (b *Bot) PublishHome(ctx context.Context, user string) {
	if b.svc.Cases == nil {
		return
	}
	open, err := b.svc.Cases.FindCases(ctx, cases.CaseQuery{Status: cases.StatusOpen, Limit: homeCases})
	if err != nil {
		b.log.Error("home: open cases", "err", err)
		return
	}
	now := b.now()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	done, err := b.svc.Cases.FindCases(ctx, cases.CaseQuery{Status: cases.StatusResolved, Limit: homeCases})
	if err != nil {
		b.log.Error("home: resolved cases", "err", err)
		return
	}
	var resolved []*cases.Case
	for _, c := range done.Cases {
		if c.ResolvedAt != nil && !c.ResolvedAt.Before(start) {
			resolved = append(resolved, c)
		}
	}
	view := HomeView(user, open.Cases, resolved, now)
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		b.log.Error("publish home", "user", user, "err", slackError("views.publish", err))
	}
}

// homeCases is how many of the newest open (and resolved) cases the Home
// tab reads through the index.
const homeCases = 500

// HomeView is the App Home for user.
func HomeView(user string, open, resolvedToday []*cases.Case, now time.Time) slack.HomeTabViewRequest {
	var blocks []slack.Block
	section := func(title string) {
		blocks = append(blocks, slack.NewHeaderBlock(plain(title, maxHeaderText)))
	}
	text := func(s string) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(s, maxSectionText), nil, nil))
	}
	section("Waiting for your approval")
	var mine []string
	for _, c := range open {
		if waitsFor(c, user) {
			mine = append(mine, caseLine(c, now))
		}
	}
	if len(mine) == 0 {
		text("Nothing waits for you.")
	} else {
		text(strings.Join(capLines(mine, 15), "\n"))
	}

	section("Backlog by severity and age")
	// The report's age bands (cases.AgeBands), so the Home tab and the
	// report never disagree about how old the backlog is.
	counts := map[cases.Severity]map[string]int{}
	for _, c := range open {
		if counts[c.Severity] == nil {
			counts[c.Severity] = map[string]int{}
		}
		counts[c.Severity][cases.AgeBandOf(now.Sub(c.OpenedAt))]++
	}
	var rows []string
	for sev := cases.SeverityCritical; sev >= cases.SeverityLow; sev-- {
		cells := make([]string, len(cases.AgeBands))
		for i, band := range cases.AgeBands {
			cells[i] = fmt.Sprintf("%d %s", counts[sev][band.Label], escape(band.Label))
		}
		rows = append(rows, fmt.Sprintf("*%s*: %s", sev, strings.Join(cells, " · ")))
	}
	text(strings.Join(rows, "\n"))

	section("Resolved by exops on its own today")
	var auto []string
	for _, c := range resolvedToday {
		alone := len(c.Decisions) > 0
		for _, d := range c.Decisions {
			if d.Actor != cases.ActorExops {
				alone = false
			}
		}
		if alone {
			auto = append(auto, caseLine(c, now))
		}
	}
	sort.Strings(auto)
	if len(auto) == 0 {
		text("None yet today.")
	} else {
		text(fmt.Sprintf("%s:\n%s", countText(len(auto), "case"), strings.Join(capLines(auto, 15), "\n")))
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func capLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("…and %d more.", len(lines)-n))
}

// ageText says how long ago: "under an hour", "5h", "3d".
func ageText(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "under an hour"
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// countText is "1 case", "3 cases".
func countText(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
