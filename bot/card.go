package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

// Action ids of the card's buttons. The interaction handler routes on them,
// so they are part of the contract with messages already posted in Slack:
// renaming them would make old cards' buttons dead.
const (
	ActionApprove  = "exops_approve"
	ActionReject   = "exops_reject"
	ActionAssign   = "exops_assign"
	ActionSnooze   = "exops_snooze"
	ActionEscalate = "exops_escalate"
	ActionComment  = "exops_comment"
)

// Block Kit limits that Slack enforces by refusing the whole message
// (invalid_blocks). slack-go checks only the 3,000-character text limit, so
// the card builder enforces the rest itself.
const (
	maxBlocks        = 50
	maxHeaderText    = 150
	maxSectionText   = 3000
	maxFields        = 10
	maxFieldText     = 2000
	maxContextText   = 2000
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxID            = 255
	maxFallbackText  = 3000
	maxEvidenceShown = 12
)

// CaseCard renders a case as the Block Kit blocks of its card. It is pure:
// the same case always gives the same blocks, which the golden tests rely on.
func CaseCard(c *cases.Case) []slack.Block {
	var blocks []slack.Block

	blocks = append(blocks, slack.NewHeaderBlock(plain(cardTitle(c), maxHeaderText)))

	if line := statusLine(c); line != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(line, maxContextText)))
	}

	if c.Summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(escape(c.Summary), maxSectionText), nil, nil))
	}
	if c.SummaryBy != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Summary by "+escape(c.SummaryBy), maxContextText)))
	}

	if fields := factFields(c); len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	for _, line := range documentLines(c) {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(line, maxContextText)))
	}
	if line := ownerLine(c); line != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(line, maxContextText)))
	}
	// The case's own buttons come last; keep a block for them.
	tail := caseActions(c)
	limit := maxBlocks
	if tail != nil {
		limit--
	}
	finish := func(bs []slack.Block) []slack.Block {
		if tail != nil {
			bs = append(bs, tail)
		}
		return bs
	}

	if len(c.Recommendations) == 0 {
		return finish(blocks)
	}
	blocks = append(blocks, slack.NewDividerBlock())

	// Each recommendation costs one or two blocks. When they do not all fit
	// under Slack's 50-block limit, keep the first ones and end with a
	// pointer to the full list, reserving one block for that pointer.
	recBlocks := make([][]slack.Block, len(c.Recommendations))
	total := 0
	for i := range c.Recommendations {
		recBlocks[i] = recommendationBlocks(c, &c.Recommendations[i])
		total += len(recBlocks[i])
	}
	if len(blocks)+total <= limit {
		for _, rb := range recBlocks {
			blocks = append(blocks, rb...)
		}
		return finish(blocks)
	}
	room := limit - len(blocks) - 1
	shown := 0
	for _, rb := range recBlocks {
		if len(rb) > room {
			break
		}
		blocks = append(blocks, rb...)
		room -= len(rb)
		shown++
	}
	more := len(c.Recommendations) - shown
	noun := "recommendations"
	if more == 1 {
		noun = "recommendation"
	}
	blocks = append(blocks, slack.NewContextBlock("",
		mrkdwn(fmt.Sprintf("%d more %s: `/exops status %s`", more, noun, c.ID), maxContextText)))
	return finish(blocks)
}

// ownerLine says who owns the case and how much time is left.
func ownerLine(c *cases.Case) string {
	var parts []string
	if c.Team != "" {
		parts = append(parts, "Owner: "+escape(c.Team))
	}
	if c.Assignee != "" {
		parts = append(parts, "assigned to "+mention(c.Assignee))
	}
	if c.Status == cases.StatusOpen {
		if c.FirstTouchedAt == nil && !c.FirstTouchDue.IsZero() {
			parts = append(parts, "first touch due "+slackDate(c.FirstTouchDue))
		}
		if !c.SLADue.IsZero() {
			parts = append(parts, "resolve by "+slackDate(c.SLADue))
		}
		if c.SnoozedUntil != nil {
			parts = append(parts, "snoozed until "+slackDate(*c.SnoozedUntil))
		}
	}
	if n := len(c.Comments); n > 0 {
		parts = append(parts, fmt.Sprintf("%d comments in the thread", n))
	}
	return strings.Join(parts, " · ")
}

// caseActions are the buttons that act on the whole case; none once it is
// resolved or merged.
func caseActions(c *cases.Case) slack.Block {
	if c.Status != cases.StatusOpen {
		return nil
	}
	btn := func(id, text string) slack.BlockElement {
		return slack.NewButtonBlockElement(id, truncate(c.ID, maxButtonValue), plain(text, maxButtonText))
	}
	id := "case:" + c.ID
	if len(id) > maxID {
		sum := sha256.Sum256([]byte(id))
		id = "case:h:" + hex.EncodeToString(sum[:16])
	}
	return slack.NewActionBlock(id,
		btn(ActionAssign, "Assign to me"), btn(ActionSnooze, "Snooze"), btn(ActionEscalate, "Escalate"), btn(ActionComment, "Add comment"))
}

// CardText is the card's fallback text: what notifications, screen readers
// and clients without Block Kit show.
func CardText(c *cases.Case) string {
	var b strings.Builder
	b.WriteString(cardTitle(c))
	switch c.Status {
	case cases.StatusResolved:
		b.WriteString(" (resolved)")
	case cases.StatusMerged:
		b.WriteString(" (merged into " + c.MergedInto + ")")
	}
	if c.Summary != "" {
		b.WriteString(": ")
		b.WriteString(escape(c.Summary))
	}
	return truncate(b.String(), maxFallbackText)
}

// cardTitle is "EX-000001 · HIGH · credit hold, allocation conflict".
func cardTitle(c *cases.Case) string {
	labels := make([]string, 0, len(c.Families))
	for _, f := range c.Families {
		labels = append(labels, f.Label())
	}
	parts := []string{c.ID, strings.ToUpper(c.Severity.String())}
	if len(labels) > 0 {
		parts = append(parts, strings.Join(labels, ", "))
	}
	return strings.Join(parts, " · ")
}

func statusLine(c *cases.Case) string {
	switch c.Status {
	case cases.StatusResolved:
		line := "✅ Resolved"
		if actor := lastActor(c); actor != "" {
			line += " by " + actor
		}
		if c.ResolvedAt != nil {
			line += " · " + slackDate(*c.ResolvedAt)
		}
		return line
	case cases.StatusMerged:
		return "↪️ This case was merged into " + escape(c.MergedInto) + "; follow it there."
	}
	if len(c.MergedFrom) > 0 {
		return "Includes merged " + escape(strings.Join(c.MergedFrom, ", "))
	}
	return ""
}

// lastActor names who made the last decision, which for a resolved case is
// the decision that resolved it.
func lastActor(c *cases.Case) string {
	if len(c.Decisions) == 0 {
		return ""
	}
	d := c.Decisions[len(c.Decisions)-1]
	if d.Choice == cases.ChoiceAuto {
		return "exops"
	}
	return mention(d.Actor)
}

// factFields lists the key facts as "*Label*\nvalue" fields, at most ten.
func factFields(c *cases.Case) []*slack.TextBlockObject {
	var fields []*slack.TextBlockObject
	add := func(label, value string) {
		if value == "" || len(fields) >= maxFields {
			return
		}
		fields = append(fields, mrkdwn("*"+label+"*\n"+value, maxFieldText))
	}
	fact := func(name string) string { return escape(caseFact(c, name)) }

	add("Order", fact("order"))
	customer := fact("customer")
	if name := fact("customer_name"); name != "" && customer != "" {
		customer = name + " (" + customer + ")"
	}
	add("Customer", customer)
	add("Value", orderValue(c))
	add("PO", fact("po"))
	add("Invoice", fact("invoice"))
	add("Shipment", fact("shipment"))
	add("Priority", escape(c.Priority))
	add("Team", escape(c.Team))
	if !c.SLADue.IsZero() {
		add("SLA due", slackDate(c.SLADue))
	}
	if len(c.Missing) > 0 {
		add("Missing context", escape(strings.Join(c.Missing, "; ")))
	}
	return fields
}

// caseFact prefers what the events say and falls back to the context the
// enrichers looked up in the systems of record.
func caseFact(c *cases.Case, name string) string {
	if v := c.Fact(name); v != "" {
		return v
	}
	return c.Context[name]
}

// orderValue finds the latest monetary value in the events (the order's
// value, else the PO's; numbers or strings) with its currency.
func orderValue(c *cases.Case) string {
	var value string
	for i := len(c.Events) - 1; i >= 0 && value == ""; i-- {
		ev := c.Events[i].Event()
		for _, name := range valueFields {
			if n, ok := ev.Num(name); ok {
				value = cases.FormatMoney(n)
				break
			}
			if s := ev.Str(name); s != "" {
				value = escape(s)
				break
			}
		}
	}
	for _, name := range valueFields {
		if value == "" {
			value = escape(c.Context[name])
		}
	}
	if value == "" {
		return ""
	}
	if cur := caseFact(c, "currency"); cur != "" {
		value += " " + escape(cur)
	}
	return value
}

var valueFields = []string{"order_value", "po_value", "value", "amount"}

// recommendationBlocks is one section describing the recommendation and,
// while a person can still act on it, the Approve / Reject buttons.
func recommendationBlocks(c *cases.Case, r *cases.Recommendation) []slack.Block {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · %d%% confidence\n", escape(r.Title), int(math.Round(r.Confidence*100)))
	b.WriteString(verdictWords(c, r))
	if r.VerdictReason != "" && r.Verdict == cases.VerdictDeny {
		b.WriteString(" (" + escape(r.VerdictReason) + ")")
	}
	if len(r.Evidence) > 0 {
		b.WriteString("\n")
		checks := make([]string, 0, len(r.Evidence))
		for i, e := range r.Evidence {
			if i == maxEvidenceShown {
				checks = append(checks, fmt.Sprintf("+%d more", len(r.Evidence)-i))
				break
			}
			mark := "✗"
			if e.Passed {
				mark = "✓"
			}
			checks = append(checks, mark+" "+escape(e.Check))
		}
		b.WriteString(strings.Join(checks, "  "))
	}
	out := []slack.Block{slack.NewSectionBlock(mrkdwn(b.String(), maxSectionText), nil, nil)}

	if r.State == cases.RecPending && (r.Verdict == cases.VerdictApprove || r.Verdict == cases.VerdictRecommend) {
		value := truncate(c.ID+"|"+r.ID, maxButtonValue)
		approve := slack.NewButtonBlockElement(ActionApprove, value, plain("Approve", maxButtonText))
		approve.Style = slack.StylePrimary
		// Several cards' worth of identical "Approve" buttons are ambiguous
		// to a screen reader; the label says which action it approves.
		approve.AccessibilityLabel = truncate(cases.DisplayText("Approve: "+r.Title, false), maxButtonText)
		reject := slack.NewButtonBlockElement(ActionReject, value, plain("Reject", maxButtonText))
		reject.Style = slack.StyleDanger
		reject.AccessibilityLabel = truncate(cases.DisplayText("Reject: "+r.Title, false), maxButtonText)
		out = append(out, slack.NewActionBlock(blockID(c.ID, r.ID), approve, reject))
	}
	return out
}

// verdictWords says in plain words what the policy allows and where the
// recommendation stands.
func verdictWords(c *cases.Case, r *cases.Recommendation) string {
	switch r.State {
	case cases.RecExecuted:
		if r.Verdict == cases.VerdictAuto {
			return withOutcome("✅ Resolved by exops", r.Outcome)
		}
		return withOutcome("✅ Done"+approvedBy(r), r.Outcome)
	case cases.RecApproved:
		return "⏳ Approved" + approvedBy(r) + "; running now"
	case cases.RecFailed:
		return withOutcome("⚠️ Failed", strings.TrimPrefix(r.Outcome, "failed: "))
	case cases.RecRejected:
		// The engine's outcome for a rejection repeats who rejected it, with
		// a mention that escaping would garble: say it from the decision.
		d := rejection(c, r.ID)
		if d == nil {
			return "❌ Rejected"
		}
		line := "❌ Rejected by " + mention(d.Actor)
		if d.Reason != "" {
			line += ": " + escape(d.Reason)
		}
		return line
	case cases.RecSuperseded:
		if r.Outcome == "" {
			return "➖ Superseded: another action settled this"
		}
		return "➖ Superseded: " + escape(r.Outcome)
	}
	switch r.Verdict {
	case cases.VerdictAuto:
		return "exops will do this on its own"
	case cases.VerdictApprove:
		n := r.ApprovalsNeeded
		if n <= 0 {
			n = 1
		}
		noun := "approvals"
		if n == 1 {
			noun = "approval"
		}
		who := make([]string, 0, len(r.Approvers)+len(r.ApproverGroups))
		for _, a := range r.Approvers {
			who = append(who, mention(a))
		}
		for _, g := range r.ApproverGroups {
			who = append(who, "<!subteam^"+g+">")
		}
		line := fmt.Sprintf("needs %d %s", n, noun)
		if len(who) > 0 {
			line += " from " + strings.Join(who, ", ")
		}
		return line + fmt.Sprintf(": %d of %d so far", len(r.Approvals), n)
	case cases.VerdictRecommend:
		return "recommended: a person decides"
	case cases.VerdictDeny:
		return "not allowed by policy"
	}
	return "waiting for the policy"
}

func withOutcome(line, outcome string) string {
	if outcome == "" {
		return line
	}
	return line + ": " + escape(outcome)
}

func approvedBy(r *cases.Recommendation) string {
	if len(r.Approvals) == 0 {
		return ""
	}
	who := make([]string, 0, len(r.Approvals))
	for _, a := range r.Approvals {
		who = append(who, mention(a))
	}
	return " (approved by " + strings.Join(who, ", ") + ")"
}

func rejection(c *cases.Case, recID string) *cases.Decision {
	for i := len(c.Decisions) - 1; i >= 0; i-- {
		if d := &c.Decisions[i]; d.RecommendationID == recID && d.Choice == cases.ChoiceReject {
			return d
		}
	}
	return nil
}

// blockID is "rec:<case>:<rec>". Ids must stay unique within a message, so
// one over Slack's 255-character limit is replaced by a hash rather than cut
// (two cut ids could collide and Slack would refuse the whole card). The
// handler reads the button value, never the block id.
func blockID(caseID, recID string) string {
	id := "rec:" + caseID + ":" + recID
	if len(id) <= maxID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "rec:h:" + hex.EncodeToString(sum[:16])
}

// mention renders a Slack user id as a mention and anything else (a team
// name, "exops") as escaped text, so a value from the policy file cannot
// inject markup.
func mention(id string) string {
	if isUserID(id) {
		return "<@" + id + ">"
	}
	return escape(id)
}

func isUserID(s string) bool {
	if len(s) < 2 || len(s) > 32 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// slackDate renders a time that each reader's Slack client shows in their
// own time zone, with a UTC fallback for clients that cannot.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// plain and mrkdwn are where text enters Block Kit: control characters and
// bidirectional overrides from events or documents are shown as visible
// escapes there (cases.DisplayText), whatever built the text.
func plain(text string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(cases.DisplayText(text, true), limit), false, false)
}

func mrkdwn(text string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(cases.DisplayText(text, true), limit), false, false)
}

// escape makes untrusted text (event data, agent summaries, titles) inert in
// mrkdwn: Slack reads <...> as mentions and links, so a supplier note saying
// "<!channel>" would otherwise page the whole channel.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(cases.DisplayText(s, true))
}

// truncate cuts s to at most limit characters (Slack counts characters, not
// bytes), ending with "…". It never leaves half an HTML entity or half a
// <...> mention behind, which Slack would show as garbage.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	runes := []rune(s)[:limit-1]
	cut := string(runes)
	if i := strings.LastIndexAny(cut, "&<"); i >= 0 && !strings.ContainsAny(cut[i:], ";>") {
		cut = cut[:i]
	}
	return cut + "…"
}
