package report

import (
	"fmt"
	"strings"
	"time"
)

// Text renders the report for a terminal ("exops report").
func (r Report) Text() string {
	var b strings.Builder
	period := "all time"
	if !r.Since.IsZero() {
		period = "since " + r.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "exops report, %s (as of %s)\n\n", period, r.Now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Exception volume: %d cases opened, %d resolved, %d open\n", r.Opened, r.Resolved, r.Open)
	for _, f := range Families(r.ByFamily) {
		fmt.Fprintf(&b, "  %-32s %5d cases %5d events\n", f.Label(), r.ByFamily[f], r.EventsByFam[f])
	}
	fmt.Fprintf(&b, "\nTime to first touch: mean %s, median %s (%d cases)\n", Hours(r.FirstTouch.Mean), Hours(r.FirstTouch.Median), r.FirstTouch.N)
	fmt.Fprintf(&b, "Time to resolution (MTTR): mean %s, median %s, p90 %s (%d cases)\n", Hours(r.Resolution.Mean), Hours(r.Resolution.Median), Hours(r.Resolution.P90), r.Resolution.N)
	fmt.Fprintf(&b, "Invoice cycle time: mean %s, median %s (%d cases)\n", Hours(r.InvoiceCycle.Mean), Hours(r.InvoiceCycle.Median), r.InvoiceCycle.N)
	fmt.Fprintf(&b, "\nBacklog aging (%d open, oldest %s):\n", r.Open, Hours(r.OldestOpen))
	for _, a := range AgeBuckets {
		fmt.Fprintf(&b, "  %-6s %5d\n", a.Label, r.Backlog[a.Label])
	}
	fmt.Fprintf(&b, "\nOf %d resolved cases:\n", r.Resolved)
	fmt.Fprintf(&b, "  resolved by exops alone           %5d  %s\n", r.ByBot, pct(r.ShareByBot))
	fmt.Fprintf(&b, "  first-touch resolution            %5d  %s\n", r.FirstTouchResolve, pct(r.FirstTouchRate))
	fmt.Fprintf(&b, "  resolved by standard workflows    %5d  %s\n", r.Standard, pct(r.ShareStandard))
	fmt.Fprintf(&b, "  manual handoffs per case          %.2f\n", r.HandoffsPerCase)
	fmt.Fprintf(&b, "\nApprovals waiting: %d; failed actions: %d\n", r.ApprovalsWaiting, r.ActionsFailed)
	if len(r.Patterns) > 0 {
		b.WriteString("\nTop recurring patterns:\n")
		for i, p := range r.Patterns {
			fmt.Fprintf(&b, "  %d. %s %s: %d cases, %s open in all\n", i+1, p.Dimension, p.Value, p.Count, Hours(p.TimeLost))
		}
	}
	return b.String()
}

// Digest renders the daily digest for Slack (mrkdwn): the same figures,
// shortest first.
func (r Report) Digest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*exops daily digest* — %s\n", r.Now.UTC().Format("Mon 2 Jan 2006"))
	fmt.Fprintf(&b, "• *%d* new cases, *%d* resolved, *%d* open (oldest %s)\n", r.Opened, r.Resolved, r.Open, Hours(r.OldestOpen))
	if fams := Families(r.ByFamily); len(fams) > 0 {
		var parts []string
		for _, f := range fams {
			parts = append(parts, fmt.Sprintf("%s %d", f.Label(), r.ByFamily[f]))
		}
		fmt.Fprintf(&b, "• By category: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "• MTTR %s · first touch %s · invoice cycle %s\n", Hours(r.Resolution.Mean), Hours(r.FirstTouch.Mean), Hours(r.InvoiceCycle.Mean))
	if r.Resolved > 0 {
		fmt.Fprintf(&b, "• Resolved by exops alone %s · first-touch resolution %s · standard workflows %s · %.1f handoffs per case\n",
			pct(r.ShareByBot), pct(r.FirstTouchRate), pct(r.ShareStandard), r.HandoffsPerCase)
	}
	var aging []string
	for _, a := range AgeBuckets {
		if n := r.Backlog[a.Label]; n > 0 {
			aging = append(aging, fmt.Sprintf("%s %d", a.Label, n))
		}
	}
	if len(aging) > 0 {
		fmt.Fprintf(&b, "• Backlog by age: %s\n", strings.Join(aging, ", "))
	}
	if r.ApprovalsWaiting > 0 || r.ActionsFailed > 0 {
		fmt.Fprintf(&b, "• *%d* approvals waiting, *%d* failed actions\n", r.ApprovalsWaiting, r.ActionsFailed)
	}
	for i, p := range r.Patterns {
		if i == 3 {
			break
		}
		if i == 0 {
			b.WriteString("*Recurring:*\n")
		}
		fmt.Fprintf(&b, "  %d. %s %s — %d cases, %s lost\n", i+1, p.Dimension, p.Value, p.Count, Hours(p.TimeLost))
	}
	return strings.TrimRight(b.String(), "\n")
}
