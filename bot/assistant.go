package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/exops/exops/cases"
)

// Slack's assistant surface for AI apps: the pane a user opens from the
// top bar, where each conversation is a thread in the app's DM channel.
// Slack sends assistant_thread_started when the pane opens (exops answers
// with suggested prompts), assistant_thread_context_changed when the user
// looks at another channel, and message.im events for what the user writes
// in the thread. While exops looks an answer up the thread shows a status;
// the first question becomes the thread's title. Answers, here and for
// mentions and DMs, always go in the thread, and an answer that cites
// several cases comes as a Block Kit list with one line per case.

// assistantStatus is shown under the thread while exops answers ("exops is
// looking up cases…"); Slack clears it when the reply is posted.
const assistantStatus = "looking up cases…"

// assistantPromptsTitle heads the suggested prompts.
const assistantPromptsTitle = "Ask exops about cases"

// maxTitle bounds a thread title taken from a question.
const maxTitle = 60

// assistantThread says where a question was asked in the assistant pane.
type assistantThread struct{ channel, thread string }

// question is one question to answer: where, by whom, and whether it came
// from an assistant thread (which shows a status and gets a title).
type question struct {
	channel, thread, user, text string
	assistant                   bool
}

// assistantStarted answers assistant_thread_started with suggested prompts.
func (b *Bot) assistantStarted(ctx context.Context, th slackevents.AssistantThread) {
	if th.ChannelID == "" || th.ThreadTimeStamp == "" {
		return
	}
	params := slack.AssistantThreadsSetSuggestedPromptsParameters{Title: assistantPromptsTitle, ChannelID: th.ChannelID, ThreadTS: th.ThreadTimeStamp}
	for _, p := range b.suggestedPrompts(ctx) {
		params.AddPrompt(p[0], p[1])
	}
	if err := b.api.SetAssistantThreadsSuggestedPromptsContext(ctx, params); err != nil {
		b.log.Error("assistant: suggested prompts", "channel", th.ChannelID, "err", slackError("assistant.threads.setSuggestedPrompts", err))
	}
}

// suggestedPrompts are the pane's first prompts, [title, message] each.
// "Cases for supplier …" names the supplier of the newest open case that
// has one, so a click asks a question with an answer; without one it asks
// for old open cases instead.
func (b *Bot) suggestedPrompts(ctx context.Context) [][2]string {
	prompts := [][2]string{
		{"What is waiting for my approval?", "What is waiting for my approval?"},
		{"Open critical cases", "Open critical cases"},
	}
	supplier := ""
	if b.svc.Cases != nil {
		if l, err := b.svc.Cases.FindCases(ctx, cases.CaseQuery{Status: cases.StatusOpen, Limit: 20}); err == nil {
			for _, c := range l.Cases {
				if s := strings.TrimSpace(caseFact(c, "supplier")); s != "" && len(s) <= 60 {
					supplier = cases.DisplayText(s, false)
					break
				}
			}
		} else {
			b.log.Warn("assistant: newest open cases for the prompts", "err", err)
		}
	}
	if supplier != "" {
		prompts = append(prompts, [2]string{"Cases for supplier " + supplier, "Open cases for supplier " + supplier})
	} else {
		prompts = append(prompts, [2]string{"Open cases older than 2 days", "Which open cases are older than 2 days?"})
	}
	return prompts
}

// assistantContextChanged notes which channel the user now looks at.
// exops answers the same whatever the channel, so nothing else changes.
func (b *Bot) assistantContextChanged(_ context.Context, th slackevents.AssistantThread) {
	b.log.Info("assistant: context changed", "channel", th.ChannelID, "thread", th.ThreadTimeStamp, "viewing", th.Context.ChannelID)
}

// setStatus shows (or, with "", clears) the thread's status. A failure
// only loses the hint, so it is logged and the answer goes on.
func (b *Bot) setStatus(ctx context.Context, q question, status string) {
	err := b.api.SetAssistantThreadsStatusContext(ctx, slack.AssistantThreadsSetStatusParameters{ChannelID: q.channel, ThreadTS: q.thread, Status: status})
	if err != nil {
		b.log.Warn("assistant: status", "channel", q.channel, "err", slackError("assistant.threads.setStatus", err))
	}
}

// setTitle names a new assistant thread after its first question; the
// replay memory says which threads already have one, so a second question
// (or another replica) keeps it.
func (b *Bot) setTitle(ctx context.Context, q question) {
	if seen, err := b.replayedKey(ctx, "assistant-title:"+q.channel+"/"+q.thread, 30*24*time.Hour); seen || err != nil {
		return
	}
	title := truncate(strings.Join(strings.Fields(cases.DisplayText(q.text, false)), " "), maxTitle)
	err := b.api.SetAssistantThreadsTitleContext(ctx, slack.AssistantThreadsSetTitleParameters{ChannelID: q.channel, ThreadTS: q.thread, Title: title})
	if err != nil {
		b.log.Warn("assistant: title", "channel", q.channel, "err", slackError("assistant.threads.setTitle", err))
	}
}

// answerQuestion looks the question up and replies in its thread.
func (b *Bot) answerQuestion(ctx context.Context, q question) {
	if strings.TrimSpace(q.text) == "" {
		q.text = "help"
	}
	if q.assistant {
		b.setStatus(ctx, q, assistantStatus)
		b.setTitle(ctx, q)
	}
	var answer, by string
	if b.svc.Asker == nil {
		answer = errNotHere.Error()
	} else if a, who, err := b.svc.Asker.Ask(ctx, q.user, truncate(q.text, 2000)); err != nil {
		b.log.Error("answer question", "user", q.user, "err", err)
		answer = "I could not look that up just now; try again in a minute."
	} else {
		answer, by = a, who
	}
	opts := append(b.answerMessage(ctx, answer, by), slack.MsgOptionDisableLinkUnfurl())
	if q.thread != "" {
		opts = append(opts, slack.MsgOptionTS(q.thread))
	}
	if _, _, err := b.api.PostMessageContext(ctx, q.channel, opts...); err != nil {
		b.log.Error("post answer", "channel", q.channel, "err", slackError("post answer", err))
		if q.assistant {
			b.setStatus(ctx, q, "") // no reply to clear it
		}
	}
}

// Lists: an answer citing at least listMin cases lists them, at most
// maxListed, one line each.
const (
	listMin   = 2
	maxListed = 20
)

var citedCaseRe = regexp.MustCompile(`\bEX-\d{1,9}\b`)

// citedCases are the case ids an answer names, in order, once each.
func citedCases(text string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, id := range citedCaseRe.FindAllString(text, -1) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// answerMessage is the answer as Slack message options: the text (escaped,
// it holds what events said), and for an answer citing several cases a
// Block Kit list of them. The text stays the notification and the
// fallback for clients that show no blocks. When the asker says who
// answered (by), a context line under the answer says it too, so a
// reader knows whether a model or the rules spoke, and why not the model.
func (b *Bot) answerMessage(ctx context.Context, text, by string) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(escape(text), 3900), false)}
	var blocks []slack.Block
	if ids := citedCases(text); len(ids) >= listMin && b.svc.Cases != nil {
		blocks = b.caseList(ctx, text, ids)
	}
	if line := answeredBy(by); line != "" {
		if len(blocks) == 0 {
			blocks = textSections(truncate(escape(text), 3900))
		}
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, line, false, false)))
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	return opts
}

// answeredBy words an Asker's by for the context line under an answer:
// "rules", "rules (model unavailable: …)", or a model's name.
func answeredBy(by string) string {
	by = strings.TrimSpace(by)
	switch {
	case by == "":
		return ""
	case by == "rules":
		return "Answered by exops's rules from the case store."
	case strings.HasPrefix(by, "rules (") && strings.HasSuffix(by, ")"):
		why := strings.TrimSuffix(strings.TrimPrefix(by, "rules ("), ")")
		return "Answered by exops's rules from the case store; the language model was not used (" + escape(truncate(why, 200)) + ")."
	}
	return "Answered by the language model " + escape(truncate(by, 100)) + ", checked against the case store."
}

// textSections puts mrkdwn text into section blocks of at most
// maxSectionText characters each, cut at line ends where it can be.
func textSections(text string) []slack.Block {
	var blocks []slack.Block
	for text != "" {
		r := []rune(text)
		n := min(len(r), maxSectionText)
		if n < len(r) {
			if i := strings.LastIndexByte(string(r[:n]), '\n'); i > 0 {
				n = len([]rune(string(r[:n])[:i]))
			}
		}
		chunk := strings.TrimSpace(string(r[:n]))
		if chunk != "" {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil))
		}
		text = strings.TrimLeft(string(r[n:]), "\n")
	}
	return blocks
}

// caseList renders the answer's head and one line per cited case:
// "• <link|EX-000001> · critical · 5h · credit hold, allocation conflict ·
// order SO-1042". The head is the answer up to its list ("I found 3 open
// supplier delay cases:"), or the whole answer when it is prose.
func (b *Bot) caseList(ctx context.Context, text string, ids []string) []slack.Block {
	now := b.now()
	var lines []string
	for _, id := range ids[:min(len(ids), maxListed)] {
		c, err := b.svc.Cases.Case(ctx, id)
		if err != nil || c == nil {
			lines = append(lines, "• "+id+" · not found")
			continue
		}
		lines = append(lines, "• "+b.caseLine(ctx, c, now))
	}
	head := text
	if i := strings.Index(text, ids[0]); i > 0 {
		if h := strings.TrimSpace(text[:i]); strings.HasSuffix(h, ":") {
			head = h
		}
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(escape(head), maxSectionText), false, false), nil, nil)}
	// Lines go into sections of at most maxSectionText characters each.
	var chunk []string
	size := 0
	flush := func() {
		if len(chunk) > 0 {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Join(chunk, "\n"), false, false), nil, nil))
			chunk, size = nil, 0
		}
	}
	for _, l := range lines {
		l = truncate(l, maxSectionText)
		if size+len([]rune(l))+1 > maxSectionText {
			flush()
		}
		chunk = append(chunk, l)
		size += len([]rune(l)) + 1
	}
	flush()
	if n := len(ids) - maxListed; n > 0 {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("…and %d more cases.", n), false, false)))
	}
	return blocks
}

// caseLine is one case in a list, in mrkdwn; what events said is escaped.
func (b *Bot) caseLine(ctx context.Context, c *cases.Case, now time.Time) string {
	parts := []string{b.cardLink(ctx, c), c.Severity.String(), ageText(max(now.Sub(c.OpenedAt), 0))}
	if c.Status != cases.StatusOpen {
		parts = append(parts, string(c.Status))
	}
	labels := make([]string, 0, len(c.Families))
	for _, f := range c.Families {
		labels = append(labels, f.Label())
	}
	if len(labels) > 0 {
		parts = append(parts, strings.Join(labels, ", "))
	}
	for _, k := range []string{"order", "invoice", "po", "shipment", "supplier"} {
		if v := caseFact(c, k); v != "" {
			name := k
			if k == "po" {
				name = "PO"
			}
			parts = append(parts, escape(name+" "+truncate(v, 80)))
			break
		}
	}
	return strings.Join(parts, " · ")
}

// cardLink links a case id to its card: the card's permalink, or, when
// Slack gives none, the card's channel. A case without a card is its id.
func (b *Bot) cardLink(ctx context.Context, c *cases.Case) string {
	if c.Slack.Channel == "" || c.Slack.TS == "" {
		return "*" + c.ID + "*"
	}
	if link, ok := b.links.get(c.Slack); ok {
		return "<" + link + "|" + c.ID + ">"
	}
	link, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: c.Slack.Channel, Ts: c.Slack.TS})
	if err != nil || !strings.HasPrefix(link, "https://") {
		b.log.Warn("permalink of a card", "case", c.ID, "err", err)
		return fmt.Sprintf("*%s* (card in %s)", c.ID, channelRef(c.Slack.Channel))
	}
	b.links.put(c.Slack, link)
	return "<" + link + "|" + c.ID + ">"
}

// linkCache remembers card permalinks, which never change, so a list does
// not ask Slack again for every case it shows. It is bounded: when full it
// starts over.
type linkCache struct {
	mu sync.Mutex
	m  map[cases.SlackRef]string
}

const maxCachedLinks = 10000

func (l *linkCache) get(ref cases.SlackRef) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.m[ref]
	return s, ok
}

func (l *linkCache) put(ref cases.SlackRef, link string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= maxCachedLinks {
		l.m = map[cases.SlackRef]string{}
	}
	l.m[ref] = link
}

var channelIDRe = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// channelRef names a channel in mrkdwn: a mention for a channel id, the
// escaped name otherwise.
func channelRef(ch string) string {
	if channelIDRe.MatchString(ch) {
		return "<#" + ch + ">"
	}
	return escape(ch)
}
