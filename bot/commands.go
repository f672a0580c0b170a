package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

// CommandsHandler serves POST /slack/commands (the /exops slash command). It
// answers 200 at once and replies with an ephemeral message when done.
func (b *Bot) CommandsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsignedSSLCheck(r) {
			// Slack checks the certificate of a command's URL with
			// ssl_check=1 and wants a 200. Nothing is done, so answering
			// one without a signature gives nothing away.
			w.WriteHeader(http.StatusOK)
			return
		}
		body, ok := b.readSigned(w, r, "commands")
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err == nil && form.Get("ssl_check") == "1" && form.Get("command") == "" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if err != nil || form.Get("command") == "" {
			http.Error(w, "not a slash command", http.StatusBadRequest)
			return
		}
		sc := slack.SlashCommand{Command: form.Get("command"), Text: form.Get("text"), UserID: form.Get("user_id"),
			ChannelID: form.Get("channel_id"), TriggerID: form.Get("trigger_id"), TeamID: form.Get("team_id"),
			ResponseURL: form.Get("response_url"), EnterpriseID: form.Get("enterprise_id")}
		if seen, err := b.replayed(r.Context(), r.Header.Get("X-Slack-Signature")); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		} else if seen {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusOK)
		b.background(func(ctx context.Context) { b.command(ctx, sc) })
	})
}

// maxSSLCheckBody bounds what is read of an unsigned request to see
// whether it is Slack's certificate check ("ssl_check=1&token=…").
const maxSSLCheckBody = 1 << 10

// unsignedSSLCheck reports whether r is an unsigned ssl_check. Any other
// unsigned request is left, body intact, for readSigned to refuse.
func unsignedSSLCheck(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("X-Slack-Signature") != "" || r.Header.Get("X-Slack-Request-Timestamp") != "" {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxSSLCheckBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil || len(head) > maxSSLCheckBody {
		return false
	}
	form, err := url.ParseQuery(string(head))
	return err == nil && form.Get("ssl_check") == "1" && form.Get("command") == ""
}

// background runs work after an acknowledgement, bounded and recovered.
func (b *Bot) background(work func(ctx context.Context)) {
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("handler panicked", "panic", fmt.Sprint(p))
			}
		}()
		ctx, cancel := context.WithTimeout(b.ctx, handleTimeout)
		defer cancel()
		work(ctx)
	}()
}

const commandHelp = "*/exops* commands:\n" +
	"• `/exops status EX-000123` — a case's state, summary and what waits\n" +
	"• `/exops list [family] [--mine] [--older 2d]` — open cases\n" +
	"• `/exops assign EX-000123 @person` — who works the case\n" +
	"• `/exops snooze EX-000123 2026-12-01` (or `4h`, `2d`, `2026-12-01T09:00Z`) — hold reminders\n" +
	"• `/exops export audit [--since 2026-11-01] [--until 2026-12-01] [--case EX-000123]` — CSV to your DMs (compliance only)\n" +
	"• `/exops help`\n" +
	"Or ask in plain words: mention @exops or write to it directly."

var userRef = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)

// command runs one /exops command and answers the person privately.
func (b *Bot) command(ctx context.Context, sc slack.SlashCommand) {
	ctx = withResponseURL(ctx, sc.ResponseURL)
	user, channel := sc.UserID, sc.ChannelID
	args := strings.Fields(sc.Text)
	if len(args) == 0 || args[0] == "help" {
		b.ephemeral(ctx, channel, user, commandHelp)
		return
	}
	caseArg := func() (string, bool) {
		if len(args) < 2 || !strings.HasPrefix(strings.ToUpper(args[1]), "EX-") {
			b.ephemeral(ctx, channel, user, "Say which case, such as `/exops "+args[0]+" EX-000123`.")
			return "", false
		}
		return strings.ToUpper(args[1]), true
	}
	switch args[0] {
	case "status":
		id, ok := caseArg()
		if !ok || !b.offers(ctx, channel, user, b.svc.Cases != nil) {
			return
		}
		c, err := b.svc.Cases.Case(ctx, id)
		if err != nil {
			b.answerErr(ctx, channel, user, err)
			return
		}
		b.ephemeral(ctx, channel, user, CaseStatusText(c))
	case "list":
		if b.offers(ctx, channel, user, b.svc.Cases != nil) {
			b.listCommand(ctx, channel, user, args[1:])
		}
	case "assign":
		id, ok := caseArg()
		if !ok || !b.offers(ctx, channel, user, b.svc.Operator != nil) {
			return
		}
		m := []string(nil)
		if len(args) >= 3 {
			m = userRef.FindStringSubmatch(args[2])
		}
		if m == nil {
			b.ephemeral(ctx, channel, user, "Say whom to assign to, such as `/exops assign "+id+" @dana`.")
			return
		}
		_, err := b.svc.Operator.Assign(ctx, id, user, m[1])
		b.answer(ctx, channel, user, err, fmt.Sprintf("%s is assigned to <@%s>.", id, m[1]))
	case "snooze":
		id, ok := caseArg()
		if !ok || !b.offers(ctx, channel, user, b.svc.Operator != nil) {
			return
		}
		if len(args) < 3 {
			b.ephemeral(ctx, channel, user, "Say until when, such as `/exops snooze "+id+" 2d` or `2026-12-01`.")
			return
		}
		until, err := parseUntil(args[2], b.now())
		if err != nil {
			b.ephemeral(ctx, channel, user, err.Error())
			return
		}
		_, err = b.svc.Operator.Snooze(ctx, id, user, until)
		b.answer(ctx, channel, user, err, fmt.Sprintf("%s is snoozed until %s.", id, until.Format("2006-01-02 15:04 MST")))
	case "export":
		if b.offers(ctx, channel, user, b.svc.Audit != nil) {
			b.exportCommand(ctx, channel, user, args[1:])
		}
	default:
		b.ephemeral(ctx, channel, user, fmt.Sprintf("I don't know `%s`.\n%s", escape(truncate(args[0], 40)), commandHelp))
	}
}

// parseUntil reads 4h, 2d, 2026-12-01 (09:00 UTC) or an RFC 3339 time.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if n, unit := strings.TrimRight(s, "dh"), strings.TrimLeft(s, "0123456789"); n != "" && (unit == "d" || unit == "h") {
		var k int
		if _, err := fmt.Sscanf(n, "%d", &k); err == nil && k > 0 {
			d := time.Duration(k) * time.Hour
			if unit == "d" {
				d *= 24
			}
			return now.Add(d).UTC(), nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Add(9 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04Z", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("`%s` is not a time: use 4h, 2d, 2026-12-01 or 2026-12-01T09:00Z", escape(truncate(s, 40)))
}

// listShown is how many cases /exops list shows; mineScanned how many of
// the newest open cases --mine looks through.
const (
	listShown   = 20
	mineScanned = 500
)

func (b *Bot) listCommand(ctx context.Context, channel, user string, args []string) {
	var family string
	var mine bool
	var older time.Duration
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--mine":
			mine = true
		case a == "--older" && i+1 < len(args):
			t, err := parseUntil(args[i+1], time.Time{})
			if err != nil {
				b.ephemeral(ctx, channel, user, "`--older` takes 4h or 2d.")
				return
			}
			older = t.Sub(time.Time{})
			i++
		case !strings.HasPrefix(a, "--"):
			family = strings.ReplaceAll(strings.ToLower(a), " ", "_")
		default:
			b.ephemeral(ctx, channel, user, fmt.Sprintf("I don't know `%s`. %s", escape(truncate(a, 40)), "Try `/exops list credit_hold --mine --older 2d`."))
			return
		}
	}
	now := b.now()
	q := cases.CaseQuery{Status: cases.StatusOpen, Family: cases.Family(family), Limit: listShown}
	if older > 0 {
		q.OpenedBefore = now.Add(-older)
	}
	if mine {
		// Whose a case is, or whose approval it waits for, is not indexed:
		// take the newest open cases the index gives and keep the person's.
		q.Limit = mineScanned
	}
	found, err := b.svc.Cases.FindCases(ctx, q)
	if err != nil {
		b.answerErr(ctx, channel, user, err)
		return
	}
	var lines []string
	for _, c := range found.Cases {
		if mine && c.Assignee != user && !waitsFor(c, user) {
			continue
		}
		lines = append(lines, caseLine(c, now))
	}
	if len(lines) == 0 {
		b.ephemeral(ctx, channel, user, "No open case matches.")
		return
	}
	total := found.Total
	if mine {
		total = len(lines)
	}
	more := ""
	if len(lines) > listShown {
		lines = lines[:listShown]
	}
	if total > len(lines) {
		more = fmt.Sprintf("\n…and %d more.", total-len(lines))
	}
	b.ephemeral(ctx, channel, user, fmt.Sprintf("%s:\n%s%s", countText(total, "open case"), strings.Join(lines, "\n"), more))
}

// waitsFor reports whether a pending recommendation on c names user as approver.
func waitsFor(c *cases.Case, user string) bool {
	for _, r := range c.Recommendations {
		if r.State == cases.RecPending && r.Verdict != cases.VerdictDeny {
			for _, a := range r.Approvers {
				if a == user {
					return true
				}
			}
		}
	}
	return false
}

func caseLine(c *cases.Case, now time.Time) string {
	fams := make([]string, len(c.Families))
	for i, f := range c.Families {
		fams[i] = f.Label()
	}
	return fmt.Sprintf("• *%s* %s · %s · %s · open %s · %s", c.ID, strings.ToUpper(c.Severity.String()), c.Priority,
		escape(strings.Join(fams, ", ")), ageText(now.Sub(c.OpenedAt)), escape(c.Team))
}

// CaseStatusText is /exops status: the case in a few lines.
func CaseStatusText(c *cases.Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · %s", escape(cardTitle(c)), c.Status)
	if c.MergedInto != "" {
		fmt.Fprintf(&b, " into %s", c.MergedInto)
	}
	b.WriteString("\n")
	if c.Summary != "" {
		b.WriteString(escape(truncate(c.Summary, 1500)) + "\n")
	}
	if line := ownerLine(c); line != "" {
		b.WriteString(line + "\n")
	}
	for _, r := range c.Recommendations {
		fmt.Fprintf(&b, "• %s (%.0f%%): %s\n", escape(r.Title), r.Confidence*100, verdictWords(c, &r))
	}
	return truncate(b.String(), 3900)
}

func (b *Bot) exportCommand(ctx context.Context, channel, user string, args []string) {
	if len(args) == 0 || args[0] != "audit" {
		b.ephemeral(ctx, channel, user, "Try `/exops export audit --since 2026-11-01`.")
		return
	}
	var q cases.AuditQuery
	for i := 1; i < len(args); i++ {
		if i+1 >= len(args) {
			b.ephemeral(ctx, channel, user, "`"+escape(args[i])+"` needs a value.")
			return
		}
		v := args[i+1]
		var err error
		switch args[i] {
		case "--since":
			q.Since, err = cases.ParseDate(v)
		case "--until":
			q.Until, err = cases.ParseDate(v)
		case "--case":
			q.Case = strings.ToUpper(v)
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			b.ephemeral(ctx, channel, user, fmt.Sprintf("`%s %s`: %v", escape(args[i]), escape(truncate(v, 40)), escape(err.Error())))
			return
		}
		i++
	}
	data, n, err := b.svc.Audit.ExportAudit(ctx, user, q)
	if err != nil {
		b.answerErr(ctx, channel, user, err)
		return
	}
	if n == 0 {
		b.ephemeral(ctx, channel, user, "No audit records match.")
		return
	}
	dm, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		b.answerErr(ctx, channel, user, slackError("open DM", err))
		return
	}
	name := fmt.Sprintf("exops-audit-%s.csv", b.now().UTC().Format("20060102-150405"))
	_, err = b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: name, Title: "exops audit trail", FileSize: len(data), Reader: bytes.NewReader(data),
		Channel: dm.ID, InitialComment: fmt.Sprintf("%d audit records. Verify the chain with `exops audit verify`.", n),
	})
	if err != nil {
		b.answerErr(ctx, channel, user, slackError("upload audit export", err))
		return
	}
	b.ephemeral(ctx, channel, user, fmt.Sprintf("Sent %d audit records to your direct messages as %s.", n, name))
}
