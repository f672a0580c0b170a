package agents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// AuditReader reads the audit log. The storage package implements it
// (cases/bolt.Store); its types are the domain's, so agents needs no storage
// or audit package.
type AuditReader interface {
	// ForEachAuditEntry calls fn for the records from the time since on
	// (zero: all), oldest first.
	ForEachAuditEntry(ctx context.Context, since time.Time, fn func(seq uint64, e cases.AuditEntry) error) error
}

// Answer is the reply to an operator's question.
type Answer struct {
	Text  string
	Cases []string // the case ids the answer rests on, in the order cited
	By    string   // "rules", a model name, or "rules (why the model was not used)"
}

// Answerer answers operators' questions from the case store and the audit
// log. Every fact in an answer comes from what the store returned; when the
// store holds nothing that matches, the answer says so.
type Answerer struct {
	finder cases.CaseFinder
	audit  AuditReader // nil: decision questions use the cases' own records
	model  *model      // a model that reads tools, or nil for the rules
	budget int         // model requests per question
	now    func() time.Time
	vocab  func() Vocabulary // the policy's teams; nil: none
	log    *slog.Logger
}

// NewAnswerer answers with the rules-based intent parser alone. audit may
// be nil.
func NewAnswerer(finder cases.CaseFinder, audit AuditReader, now cases.Clock) *Answerer {
	if now == nil {
		panic("agents: NewAnswerer needs the business clock")
	}
	return &Answerer{finder: finder, audit: audit, now: now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// Answerer answers with the agent's model when it supports tool calling
// (openai, anthropic), and with the rules otherwise: Ollama's client in
// langchaingo v0.1.14 drops tool definitions, so a model behind it could
// only guess.
func (a *Agent) Answerer(finder cases.CaseFinder, audit AuditReader) *Answerer {
	ans := NewAnswerer(finder, audit, a.now)
	ans.log = a.log
	if a.model != nil && a.model.tools {
		ans.model = a.model
		ans.budget = max(a.budget, maxToolRounds+1)
	}
	return ans
}

// Ask answers one question from someone unknown.
func (q *Answerer) Ask(ctx context.Context, question string) (Answer, error) {
	return q.AskAs(ctx, "", question)
}

// AskAs answers one question of the Slack user actor ("waiting for my
// approval", "assigned to me" are theirs).
func (q *Answerer) AskAs(ctx context.Context, actor, question string) (Answer, error) {
	question = strings.TrimSpace(question)
	if question == "" {
		return Answer{}, cases.Errorf(cases.KindInvalid, "ask a question, such as \"status of order SO-1042?\"")
	}
	if len(question) > 1000 {
		return Answer{}, cases.Errorf(cases.KindInvalid, "the question is %d characters; keep it under 1,000", len(question))
	}
	if verb, ok := commandVerb(question); ok {
		// A command typed as a question ("approve EX-000042") is not
		// answered as a question about the case, which would read as done.
		return Answer{Text: commandText(verb), By: Name}, nil
	}
	if q.model != nil {
		ans, err := q.askModel(ctx, actor, question)
		if err == nil {
			return ans, nil
		}
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		why := "model unavailable: " + reasonOf(err)
		var refused *refusedError
		if errors.As(err, &refused) {
			why = "model answer refused: " + refused.reason
		}
		q.log.Warn("answer by rules", "model", q.model.name, "why", why)
		ans, err = q.askRules(ctx, actor, question)
		ans.By = fallbackBy(why)
		return ans, err
	}
	return q.askRules(ctx, actor, question)
}

// commandVerbs are the changes people may ask of exops in words; questions
// change nothing, so each is pointed to where it is done.
var commandVerbs = map[string]string{
	"approve": "decide", "reject": "decide", "decline": "decide", "deny": "decide", "accept": "decide",
	"execute": "decide", "release": "decide", "cancel": "decide", "retry": "decide",
	"assign": "assign", "reassign": "assign",
	"snooze": "snooze", "escalate": "escalate",
	"close": "close", "resolve": "close", "reopen": "close", "merge": "close", "delete": "close",
}

// politeLead is what people put before a command ("please", "can you").
var politeLead = map[string]bool{"please": true, "pls": true, "plz": true, "kindly": true, "can": true, "could": true,
	"would": true, "will": true, "you": true, "hey": true, "hi": true, "exops": true, "bot": true, "go": true, "ahead": true, "and": true}

// commandTarget is a case, order or document a command names.
var commandTarget = regexp.MustCompile(`(?i)\b(ex|so|po|inv|asn|sku)[-# ]?\d+`)

// commandObjects are the words that, right after a command verb, say what
// it is to act on when no case or document is named ("approve all pending
// credit holds", "release the hold").
var commandObjects = map[string]bool{"all": true, "every": true, "everything": true, "the": true, "these": true, "those": true,
	"them": true, "it": true, "this": true, "that": true, "my": true, "our": true, "any": true, "pending": true}

// commandVerb reports the verb of a question that is a command: its first
// word after polite padding and mentions is one of commandVerbs, and it
// names what to act on, a case or document or a word such as "all" or
// "the" ("close to breach?" is a question).
func commandVerb(question string) (string, bool) {
	words := strings.FieldsFunc(strings.ToLower(question), func(r rune) bool {
		return r == ' ' || r == ',' || r == '!' || r == '?' || r == '.' || r == ':' || r == '\t' || r == '\n'
	})
	for i, w := range words {
		if strings.HasPrefix(w, "<@") || politeLead[w] {
			continue
		}
		kind, ok := commandVerbs[w]
		if ok && !commandTarget.MatchString(question) && (i+1 >= len(words) || !commandObjects[words[i+1]]) {
			return "", false
		}
		return kind, ok
	}
	return "", false
}

func commandText(kind string) string {
	s := "I answer questions and change nothing from them. "
	switch kind {
	case "decide":
		s += "Approve, reject or run an action with the buttons on the case's card in its channel (the approvers the policy names only)."
	case "assign":
		s += "Assign a case with `/exops assign EX-000123 @person`, or the Assign button on its card."
	case "snooze":
		s += "Snooze a case with `/exops snooze EX-000123 2d`, or the Snooze button on its card."
	case "escalate":
		s += "Escalate a case with the Escalate button on its card; the policy escalates on its own when a case waits too long."
	default:
		s += "A case is resolved when every recommendation on it is settled, on its card; exops does not close, reopen or merge cases on request."
	}
	return s + " Ask me about a case with \"status of EX-000123?\"."
}

// --- rendering: plain sentences, every fact from a stored case or record.

func dayText(t time.Time) string { return t.UTC().Format("2006-01-02") }

func stampText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func familiesText(c *cases.Case) string {
	var fams []string
	for _, f := range c.Families {
		fams = append(fams, f.Label())
	}
	return joinAnd(fams)
}

// aboutText names what a case concerns: order, customer, supplier, or the
// document it is about.
func aboutText(c *cases.Case) string {
	var parts []string
	if o := c.Fact("order"); o != "" {
		parts = append(parts, "order "+o)
	}
	if cu := c.Fact("customer"); cu != "" {
		name := or(c.Context[cases.CtxCustomerName(cu)], c.Fact("customer_name"))
		if name != "" {
			cu = name + " (" + cu + ")"
		}
		parts = append(parts, "customer "+cu)
	}
	if s := c.Fact("supplier"); s != "" {
		parts = append(parts, "supplier "+s)
	}
	if len(parts) == 0 {
		for _, f := range []string{"invoice", "po", "shipment", "sku"} {
			if v := c.Fact(f); v != "" {
				parts = append(parts, f+" "+v)
				break
			}
		}
	}
	return strings.Join(parts, ", ")
}

func caseLine(c *cases.Case) string {
	s := fmt.Sprintf("%s (%s; %s", c.ID, c.Status, familiesText(c))
	if a := aboutText(c); a != "" {
		s += "; " + a
	}
	s += "; opened " + dayText(c.OpenedAt)
	if c.MergedInto != "" {
		s += "; merged into " + c.MergedInto
	}
	return s + ")"
}

func caseDetail(c *cases.Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is %s: %s", c.ID, c.Status, familiesText(c))
	if a := aboutText(c); a != "" {
		fmt.Fprintf(&b, " on %s", a)
	}
	fmt.Fprintf(&b, "; severity %s, priority %s, team %s; opened %s", c.Severity, or(c.Priority, "none"), or(c.Team, "none"), stampText(c.OpenedAt))
	switch {
	case c.MergedInto != "":
		fmt.Fprintf(&b, "; merged into %s", c.MergedInto)
	case c.ResolvedAt != nil:
		fmt.Fprintf(&b, ", resolved %s", stampText(*c.ResolvedAt))
	case !c.SLADue.IsZero():
		fmt.Fprintf(&b, ", SLA due %s", stampText(c.SLADue))
	}
	b.WriteString(".")
	if c.Summary != "" {
		fmt.Fprintf(&b, " Summary (by %s): %s", or(c.SummaryBy, "unknown"), c.Summary)
		if !strings.HasSuffix(c.Summary, ".") {
			b.WriteString(".")
		}
	}
	var pending []string
	for _, r := range c.Pending() {
		pending = append(pending, fmt.Sprintf("%s (confidence %.0f%%, verdict %s)", r.Title, r.Confidence*100, r.Verdict))
	}
	if len(pending) > 0 {
		fmt.Fprintf(&b, " Waiting for a decision: %s.", strings.Join(pending, "; "))
	}
	if n := len(c.Decisions); n > 0 {
		fmt.Fprintf(&b, " Last decision: %s.", decisionText(c.ID, c.Decisions[n-1]))
	}
	return b.String()
}

func choiceText(ch cases.Choice) string {
	switch ch {
	case cases.ChoiceApprove:
		return "approved"
	case cases.ChoiceReject:
		return "rejected"
	case cases.ChoiceAuto:
		return "ran automatically"
	}
	return string(ch)
}

func decisionText(caseID string, d cases.Decision) string {
	return fmt.Sprintf("%s %s %s on %s at %s (confidence %.0f%%, policy %s)", d.Actor, choiceText(d.Choice), d.Action, caseID,
		stampText(d.Time), d.Confidence*100, or(d.PolicyVersion, "unknown"))
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	// "open supplier delay case for X" → "open supplier delay cases for X"
	return strings.Replace(s, "case", "cases", 1)
}

func (q *Answerer) showCase(ctx context.Context, id string) (string, []string, error) {
	l, err := q.finder.FindCases(ctx, cases.CaseQuery{ID: id, Limit: 1})
	if err != nil {
		return "", nil, err
	}
	if len(l.Cases) == 0 {
		return fmt.Sprintf("I found no case %s.", id), nil, nil
	}
	c := l.Cases[0]
	return caseDetail(c), []string{c.ID}, nil
}

// find runs a query; a party of unknown role is looked for as a customer,
// then as a supplier, and a key of unknown kind as each key kind in turn.
// The reading taken is returned for the answer to say.
func (q *Answerer) find(ctx context.Context, in Intent, limit int) (cases.CaseList, cases.CaseQuery, error) {
	l, used, _, err := q.findReading(ctx, in, limit)
	return l, used, err
}

func (q *Answerer) findReading(ctx context.Context, in Intent, limit int) (cases.CaseList, cases.CaseQuery, string, error) {
	qq := in.Query
	qq.Limit = limit
	if qq.At.IsZero() {
		qq.At = q.now()
	}
	type try struct {
		q       cases.CaseQuery
		reading string
	}
	var tries []try
	switch {
	case in.Party != "":
		c, s := qq, qq
		c.Customer, s.Supplier = in.Party, in.Party
		tries = []try{{c, fmt.Sprintf("I read %q as a customer", in.Party)}, {s, fmt.Sprintf("I read %q as a supplier (no customer matches)", in.Party)}}
	case in.Key != "":
		for _, k := range []string{"order", "po", "invoice", "shipment", "sku", "customer"} {
			t := qq
			setKey(&t, k, in.Key)
			tries = append(tries, try{t, fmt.Sprintf("I read %s as %s", in.Key, keyNoun(k))})
		}
	default:
		l, err := q.finder.FindCases(ctx, qq)
		return l, qq, "", err
	}
	var l cases.CaseList
	for _, t := range tries {
		var err error
		if l, err = q.finder.FindCases(ctx, t.q); err != nil {
			return l, t.q, "", err
		}
		if l.Total > 0 {
			return l, t.q, t.reading, nil
		}
	}
	return l, qq, "", nil
}

func keyNoun(k string) string {
	switch k {
	case "order":
		return "an order"
	case "po":
		return "a PO"
	case "invoice":
		return "an invoice"
	case "shipment":
		return "a shipment"
	case "sku":
		return "a SKU"
	}
	return "a customer id"
}

// listLimit is how many cases an answer lists; detailLimit how many it
// describes in full.
const (
	listLimit   = 10
	detailLimit = 3
)

func (q *Answerer) findCases(ctx context.Context, in Intent) (string, []string, error) {
	l, used, reading, err := q.findReading(ctx, in, listLimit)
	if err != nil {
		return "", nil, err
	}
	desc := describe(used, unresolved(in, used))
	why := readingsText(in, reading)
	if l.Total == 0 {
		return "I found no " + desc + "." + why, nil, nil
	}
	var ids []string
	for _, c := range l.Cases {
		ids = append(ids, c.ID)
	}
	total := fmt.Sprint(l.Total)
	if l.TotalCapped {
		total = "more than " + total
	}
	specific := used.Order != "" || used.Invoice != "" || used.Shipment != "" || used.PO != ""
	if specific && l.Total <= detailLimit && !in.Count {
		var parts []string
		for _, c := range l.Cases {
			parts = append(parts, caseDetail(c))
		}
		return fmt.Sprintf("I found %s %s.%s %s", total, plural(l.Total, desc), why, strings.Join(parts, " ")), ids, nil
	}
	var lines []string
	for _, c := range l.Cases {
		lines = append(lines, caseLine(c))
	}
	head := fmt.Sprintf("I found %s %s", total, plural(l.Total, desc))
	if l.Total > len(l.Cases) {
		head += fmt.Sprintf("; the %d newest", len(l.Cases))
	}
	return head + ": " + strings.Join(lines, "; ") + "." + why, ids, nil
}

// decisionsWindow is how far back a decision question without a case or a
// time looks in the audit log.
const decisionsWindow = 30 * 24 * time.Hour

type foundDecision struct {
	caseID string
	d      cases.Decision
}

func (in Intent) wantsDecision(d cases.Decision) bool {
	switch {
	case in.Action != "" && d.Action != in.Action:
		return false
	case in.Actor != "" && d.Actor != in.Actor:
		return false
	case in.Choice == cases.ChoiceApprove && d.Choice != cases.ChoiceApprove && d.Choice != cases.ChoiceAuto:
		return false
	case in.Choice == cases.ChoiceReject && d.Choice != cases.ChoiceReject:
		return false
	case !in.Since.IsZero() && d.Time.Before(in.Since):
		return false
	case !in.Until.IsZero() && !d.Time.Before(in.Until):
		return false
	case in.ExopsAlone && d.Actor != cases.ActorExops:
		return false
	}
	return true
}

func (in Intent) decisionWords() string {
	what := "decision"
	switch in.Choice {
	case cases.ChoiceApprove:
		what = "approval"
	case cases.ChoiceReject:
		what = "rejection"
	}
	if in.Action != "" {
		what += " of " + in.Action
	}
	if in.Actor != "" {
		what += " by " + in.Actor
	}
	if in.ExopsAlone {
		what += " made by exops on its own"
	}
	if !in.Since.IsZero() {
		what += " since " + stampText(in.Since)
	}
	if !in.Until.IsZero() {
		what += " before " + stampText(in.Until)
	}
	return what
}

func (q *Answerer) decisions(ctx context.Context, in Intent) (string, []string, error) {
	probe := in.Query
	probe.At = time.Time{} // set by Run: not a condition on cases
	byCase := probe != (cases.CaseQuery{Family: probe.Family}) || in.Party != "" || in.Key != "" || q.audit == nil
	var found []foundDecision
	var ids []string
	scope := ""
	if byCase {
		l, used, err := q.find(ctx, in, 50)
		if err != nil {
			return "", nil, err
		}
		party := ""
		if in.Party != "" && used.Customer == "" && used.Supplier == "" {
			party = in.Party
		}
		desc := describe(used, party)
		if l.Total == 0 {
			return "I found no " + desc + ", so no decisions on one.", nil, nil
		}
		var looked []string
		for _, c := range l.Cases {
			looked = append(looked, c.ID)
			for _, d := range c.Decisions {
				if in.wantsDecision(d) {
					found = append(found, foundDecision{c.ID, d})
				}
			}
		}
		scope = fmt.Sprintf(" on the %s (%s)", plural(len(l.Cases), desc), strings.Join(looked, ", "))
		if l.Total > len(l.Cases) {
			scope = fmt.Sprintf(" on the %d newest of %d %s (%s)", len(l.Cases), l.Total, plural(l.Total, desc), strings.Join(looked, ", "))
		}
		if len(found) == 0 {
			return "I found no " + in.decisionWords() + scope + ".", looked, nil
		}
	} else {
		since := in.Since
		if since.IsZero() {
			since = q.now().Add(-decisionsWindow)
		}
		in.Since = since
		err := q.audit.ForEachAuditEntry(ctx, since, func(_ uint64, e cases.AuditEntry) error {
			if e.Kind != cases.AuditDecision {
				return nil
			}
			choice := e.Choice
			if choice == "" {
				// Written before decisions kept their choice as a field.
				c, _, _ := strings.Cut(e.Detail, ":")
				choice = cases.Choice(c)
			}
			d := cases.Decision{Time: e.Time, Actor: e.Actor, Action: e.Action, Choice: choice,
				Verdict: cases.Verdict(e.Verdict), Confidence: e.Confidence, PolicyVersion: e.PolicyVersion}
			if in.Query.Family != "" && actionFamily(d.Action) != in.Query.Family {
				return nil
			}
			if in.wantsDecision(d) {
				found = append(found, foundDecision{e.Case, d})
			}
			return nil
		})
		if err != nil {
			return "", nil, fmt.Errorf("read the audit log: %w", err)
		}
		scope = " in the audit log"
		if len(found) == 0 {
			return "I found no " + in.decisionWords() + scope + ".", nil, nil
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].d.Time.After(found[j].d.Time) })
	n := len(found)
	if len(found) > listLimit {
		found = found[:listLimit]
	}
	seen := map[string]bool{}
	var lines []string
	ids = nil
	for _, f := range found {
		lines = append(lines, decisionText(f.caseID, f.d))
		if !seen[f.caseID] {
			seen[f.caseID] = true
			ids = append(ids, f.caseID)
		}
	}
	head := fmt.Sprintf("I found %d %s%s", n, pluralWord(n, in.decisionWords()), scope)
	if n > len(found) {
		head += fmt.Sprintf("; the %d newest", len(found))
	}
	return head + ": " + strings.Join(lines, "; ") + ".", ids, nil
}

func pluralWord(n int, s string) string {
	if n == 1 {
		return s
	}
	first, rest, _ := strings.Cut(s, " ")
	if rest != "" {
		return first + "s " + rest
	}
	return first + "s"
}

// patternWindow and patternCases bound what a patterns question reads:
// resolved cases of the last 90 days, at most 5,000 of them.
const (
	patternWindow = 90 * 24 * time.Hour
	patternCases  = 5000
	patternTop    = 5
)

// until, when not zero, ends the period ("last month").
func (q *Answerer) patterns(ctx context.Context, in Intent) (string, []string, error) {
	since, until := in.Since, in.Until
	if since.IsZero() {
		since = q.now().Add(-patternWindow)
	}
	// What the question names ("what keeps going wrong with Northwind",
	// "at DAL") narrows the cases the patterns are looked for in.
	in.Query.Status, in.Query.OpenedAfter, in.Query.OpenedBefore = cases.StatusResolved, since, until
	l, used, _, err := q.findReading(ctx, in, patternCases)
	if err != nil {
		return "", nil, err
	}
	party := ""
	if in.Party != "" && used.Customer == "" && used.Supplier == "" {
		party = in.Party
	}
	narrowed := used
	narrowed.Status, narrowed.OpenedAfter, narrowed.OpenedBefore, narrowed.Limit, narrowed.At = "", time.Time{}, time.Time{}, 0, time.Time{}
	what := plural(len(l.Cases), "resolved "+describe(narrowed, party))
	ps := cases.Patterns(l.Cases, patternTop)
	if len(ps) == 0 {
		return fmt.Sprintf("I found no recurring pattern among %d %s opened %s: no supplier, SKU, warehouse, customer or family comes back in two of them.",
			len(l.Cases), what, patternPeriod(since, until)), nil, nil
	}
	var lines []string
	var ids []string
	seen := map[string]bool{}
	for i, p := range ps {
		lines = append(lines, fmt.Sprintf("%d. %s %s: %d cases, %s open in all (%s)", i+1, p.Dimension, p.Value, p.Count,
			hoursText(p.TimeLost), strings.Join(p.Cases, ", ")))
		for _, id := range p.Cases {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	scope := fmt.Sprintf("%d %s opened %s", len(l.Cases), what, patternPeriod(since, until))
	if l.Total > len(l.Cases) {
		scope = fmt.Sprintf("the %d newest of %d %s opened %s", len(l.Cases), l.Total, what, patternPeriod(since, until))
	}
	return "Top recurring patterns among " + scope + ": " + strings.Join(lines, "; ") + ".", ids, nil
}

func hoursText(d time.Duration) string {
	h := d.Hours()
	if h >= 48 {
		return fmt.Sprintf("%.1f days", h/24)
	}
	return fmt.Sprintf("%.1f hours", h)
}

// patternPeriod says a period from since, to until when it is set.
func patternPeriod(since, until time.Time) string {
	if until.IsZero() {
		return "since " + dayText(since)
	}
	return "from " + dayText(since) + " to before " + dayText(until)
}
