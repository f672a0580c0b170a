package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/exops/exops/cases"
)

// readSigned reads a request body within the size limit and checks Slack's
// signature; on failure it has answered and returns false.
func (b *Bot) readSigned(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if b.cfg.SigningSecret == "" {
		b.log.Error(what + " refused: no signing secret configured (set SLACK_SIGNING_SECRET)")
		http.Error(w, what+" are not configured", http.StatusServiceUnavailable)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "could not read body", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := b.verify(r.Header, body); err != nil {
		b.log.Warn(what+" refused", "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// CommandsHandler serves POST /slack/commands (the /exops slash command). It
// answers 200 at once and replies with an ephemeral message when done.
func (b *Bot) CommandsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.readSigned(w, r, "commands")
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("command") == "" {
			http.Error(w, "not a slash command", http.StatusBadRequest)
			return
		}
		sc := slack.SlashCommand{Command: form.Get("command"), Text: form.Get("text"), UserID: form.Get("user_id"),
			ChannelID: form.Get("channel_id"), TriggerID: form.Get("trigger_id"), TeamID: form.Get("team_id")}
		if b.replayed(r.Header.Get("X-Slack-Signature")) {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusOK)
		b.background(func(ctx context.Context) { b.command(ctx, sc) })
	})
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

// EventsHandler serves POST /slack/events: the url_verification handshake,
// then app mentions and direct messages (questions) and app_home_opened. A
// retried event (same event_id) is handled once.
func (b *Bot) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.readSigned(w, r, "events")
		if !ok {
			return
		}
		ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
		if err != nil {
			http.Error(w, "not an Events API payload", http.StatusBadRequest)
			return
		}
		if ev.Type == slackevents.URLVerification {
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil {
				http.Error(w, "bad challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, ch.Challenge)
			return
		}
		var outer struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(body, &outer)
		w.WriteHeader(http.StatusOK)
		if outer.EventID != "" && b.seenEvent(outer.EventID) {
			b.log.Info("event retry ignored", "event_id", outer.EventID, "retry", r.Header.Get("X-Slack-Retry-Num"))
			return
		}
		b.background(func(ctx context.Context) { b.handleEvent(ctx, ev) })
	})
}

// seenEvent remembers event ids for an hour (Slack retries within minutes).
func (b *Bot) seenEvent(id string) bool {
	return b.replayedKey("event:"+id, time.Hour)
}

func (b *Bot) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if e.BotID != "" {
			return
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		b.answerQuestion(ctx, e.Channel, thread, e.User, stripMention(e.Text))
	case *slackevents.MessageEvent:
		if e.BotID != "" || e.User == "" {
			return // bots, exops included, are not asking
		}
		if e.SubType == "file_share" && e.Message != nil && (e.ChannelType == "im" || e.ThreadTimeStamp != "") {
			b.readDocuments(ctx, e)
			return
		}
		// Direct messages only; mentions come as app_mention. Edits and
		// other subtypes are not questions.
		if e.ChannelType != "im" || e.SubType != "" {
			return
		}
		b.answerQuestion(ctx, e.Channel, e.ThreadTimeStamp, e.User, e.Text)
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab == "home" || e.Tab == "" {
			b.PublishHome(ctx, e.User)
		}
	}
}

var mentionPrefix = regexp.MustCompile(`<@[UW][A-Z0-9]+>\s*`)

func stripMention(s string) string { return strings.TrimSpace(mentionPrefix.ReplaceAllString(s, "")) }

// answerQuestion replies in the thread with what the agents found.
func (b *Bot) answerQuestion(ctx context.Context, channel, thread, user, question string) {
	if strings.TrimSpace(question) == "" {
		question = "help"
	}
	var answer string
	if b.svc.Asker == nil {
		answer = errNotHere.Error()
	} else if a, err := b.svc.Asker.Ask(ctx, user, truncate(question, 2000)); err != nil {
		b.log.Error("answer question", "user", user, "err", err)
		answer = "I could not look that up just now; try again in a minute."
	} else {
		answer = a
	}
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(answer, 3900), false), slack.MsgOptionDisableLinkUnfurl()}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel, opts...); err != nil {
		b.log.Error("post answer", "channel", channel, "err", slackError("post answer", err))
	}
}

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

// readDocuments downloads the PDFs of a message in a case thread or a DM and
// hands them to document extraction; the result goes to the thread.
func (b *Bot) readDocuments(ctx context.Context, e *slackevents.MessageEvent) {
	if b.svc.Documents == nil {
		return
	}
	thread := e.ThreadTimeStamp
	if thread == "" {
		thread = e.TimeStamp
	}
	n := 0
	for _, f := range e.Message.Files {
		if !strings.EqualFold(f.Filetype, "pdf") && f.Mimetype != "application/pdf" && !strings.HasSuffix(strings.ToLower(f.Name), ".pdf") {
			continue
		}
		if n++; n > 3 {
			b.reply(ctx, e.Channel, thread, "I read at most 3 PDFs per message; share the rest separately.")
			return
		}
		var reply string
		if f.Size > cases.MaxDocumentBytes {
			reply = fmt.Sprintf("%s is %d MB; I read PDFs up to %d MB.", escape(f.Name), f.Size>>20, cases.MaxDocumentBytes>>20)
		} else if data, err := b.download(ctx, f.URLPrivateDownload); err != nil {
			b.log.Error("download document", "file", f.ID, "err", err)
			reply = fmt.Sprintf("I could not download %s from Slack; try sharing it again.", escape(f.Name))
		} else {
			text, threaded, err := b.svc.Documents.Document(ctx, e.User, e.Channel, thread, f.Name, data)
			switch {
			case err != nil:
				b.log.Error("read document", "file", f.ID, "err", err)
				reply = genericFailure
			case threaded:
				continue
			default:
				reply = text
			}
		}
		b.reply(ctx, e.Channel, thread, reply)
	}
}

func (b *Bot) download(ctx context.Context, url string) ([]byte, error) {
	if url == "" {
		return nil, errors.New("file has no download URL")
	}
	var buf limitedBuffer
	buf.limit = cases.MaxDocumentBytes
	if err := b.api.GetFileContext(ctx, url, &buf); err != nil {
		return nil, slackError("download file", err)
	}
	return buf.Bytes(), nil
}

// limitedBuffer refuses to grow past its limit.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.Len()+len(p) > l.limit {
		return 0, fmt.Errorf("file over %d bytes", l.limit)
	}
	return l.Buffer.Write(p)
}

func (b *Bot) reply(ctx context.Context, channel, thread, text string) {
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(text, 3900), false), slack.MsgOptionDisableLinkUnfurl()}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel, opts...); err != nil {
		b.log.Error("post reply", "channel", channel, "err", slackError("post reply", err))
	}
}
