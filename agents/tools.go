package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/report"
)

// Question answering with a model that calls tools. The tools are a thin
// adapter over the rules answerer's own lookups (Answerer.find, showCase,
// decisions, patterns) and the report's definitions (cases/report), so a
// tool result holds only what the store holds. Each result is a small JSON
// object of case ids and figures. The model's final answer is then checked
// against the tool results like a summary against its case, and refused
// (the rules answer instead) when it states anything they do not contain:
// every case id must be one a tool returned, every number one a tool gave
// or the model asked for.

// maxToolRounds bounds the model's tool calls per question.
const maxToolRounds = 4

// maxAnswerChars bounds a model's answer; a longer one is refused.
const maxAnswerChars = 2000

// toolAggregateLimit bounds the cases one aggregate reads, like patternCases.
const toolAggregateLimit = 5000

var caseFilterProps = map[string]any{
	"order":           map[string]any{"type": "string", "description": "sales order number, e.g. SO-1042"},
	"customer":        map[string]any{"type": "string", "description": "customer id or name (a single word of the name matches)"},
	"supplier":        map[string]any{"type": "string", "description": "supplier id or name (a single word of the name matches)"},
	"party":           map[string]any{"type": "string", "description": "a customer or supplier name when the question does not say which"},
	"sku":             map[string]any{"type": "string"},
	"warehouse":       map[string]any{"type": "string", "description": "warehouse code, e.g. DAL"},
	"po":              map[string]any{"type": "string", "description": "purchase order number"},
	"shipment":        map[string]any{"type": "string"},
	"invoice":         map[string]any{"type": "string"},
	"family":          map[string]any{"type": "string", "enum": familyNames()},
	"status":          map[string]any{"type": "string", "enum": []string{"open", "resolved", "merged"}},
	"older_than_days": map[string]any{"type": "number", "description": "only cases opened more than this many days ago"},
	"newer_than_days": map[string]any{"type": "number", "description": "only cases opened within this many days"},
}

func familyNames() []string {
	var out []string
	for _, f := range cases.Families() {
		out = append(out, string(f))
	}
	return out
}

// Tool names, as the model calls them.
const (
	toolFindCases = "find_cases"
	toolCount     = "count_cases"
	toolAggregate = "aggregate"
	toolShowCase  = "show_case"
	toolDecisions = "list_decisions"
	toolPatterns  = "recurring_patterns"
)

// Aggregate metrics, with the definitions of `exops report`.
const (
	metricResolution = "resolution_time" // opened → resolved, over cases resolved in the period
	metricBacklog    = "backlog_by_age"  // open cases per age band
	metricOldest     = "oldest_open"     // the open case opened first
)

func answerTools() []llms.Tool {
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	decisionProps := map[string]any{"case_id": map[string]any{"type": "string"},
		"actor":  map[string]any{"type": "string", "description": "Slack user id, or exops for what exops decided on its own"},
		"action": map[string]any{"type": "string", "description": "action name such as release_credit_hold"},
		"choice": map[string]any{"type": "string", "enum": []string{"approve", "reject"}},
		"days":   map[string]any{"type": "number", "description": "only decisions of the last this many days"}}
	aggProps := map[string]any{
		"metric": map[string]any{"type": "string", "enum": []string{metricResolution, metricBacklog, metricOldest},
			"description": "resolution_time: mean and median time from opened to resolved of cases resolved in the period; backlog_by_age: open cases per age band; oldest_open: the oldest open case"},
		"since": map[string]any{"type": "string", "description": "start of the period, YYYY-MM-DD (resolution_time only)"},
		"days":  map[string]any{"type": "number", "description": "the period is the last this many days (resolution_time only)"},
	}
	for k, v := range caseFilterProps {
		if k != "older_than_days" && k != "newer_than_days" && k != "status" {
			decisionProps[k] = v
			aggProps[k] = v
		}
	}
	return []llms.Tool{
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolFindCases,
			Description: "Find exception cases by what they concern, family, status and age. Returns how many match and the newest, each with id, status, severity, age and what it is about.",
			Parameters:  obj(caseFilterProps)}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolCount,
			Description: "Count the cases that match, with the same filters as find_cases.",
			Parameters:  obj(caseFilterProps)}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolAggregate,
			Description: "Figures over cases, with the definitions of the exops report: time to resolve (mean, median), backlog by age band, oldest open case.",
			Parameters:  obj(aggProps, "metric")}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolShowCase,
			Description: "Show one case by id (EX-000042): status, families, summary, pending recommendations, last decision.",
			Parameters:  obj(map[string]any{"case_id": map[string]any{"type": "string"}}, "case_id")}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolDecisions,
			Description: "List decisions (who approved or rejected which action, when), by case filters, actor, action, choice and period.",
			Parameters:  obj(decisionProps)}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolPatterns,
			Description: "Top recurring patterns among resolved cases (shared supplier, SKU, warehouse, customer, family) with counts and time lost.",
			Parameters:  obj(map[string]any{"days": map[string]any{"type": "number", "description": "look back this many days (default 90)"}})}},
	}
}

type toolArgs struct {
	CaseID        string  `json:"case_id"`
	Order         string  `json:"order"`
	Customer      string  `json:"customer"`
	Supplier      string  `json:"supplier"`
	Party         string  `json:"party"`
	SKU           string  `json:"sku"`
	Warehouse     string  `json:"warehouse"`
	PO            string  `json:"po"`
	Shipment      string  `json:"shipment"`
	Invoice       string  `json:"invoice"`
	Family        string  `json:"family"`
	Status        string  `json:"status"`
	OlderThanDays float64 `json:"older_than_days"`
	NewerThanDays float64 `json:"newer_than_days"`
	Actor         string  `json:"actor"`
	Action        string  `json:"action"`
	Choice        string  `json:"choice"`
	Days          float64 `json:"days"`
	Metric        string  `json:"metric"`
	Since         string  `json:"since"`
}

// maxToolArg bounds one text argument of a tool call; the store's terms are
// cut at the same length.
const maxToolArg = cases.MaxTermValue

// check refuses arguments no question needs: a family or status the
// product does not have, text beyond the store's term length, or periods
// of more than ten years.
func (a toolArgs) check() error {
	for _, s := range []string{a.CaseID, a.Order, a.Customer, a.Supplier, a.Party, a.SKU, a.Warehouse, a.PO, a.Shipment,
		a.Invoice, a.Actor, a.Action, a.Since} {
		if len(s) > maxToolArg {
			return fmt.Errorf("an argument is %d characters; at most %d", len(s), maxToolArg)
		}
	}
	if a.Family != "" && !slices.Contains(cases.Families(), cases.Family(a.Family)) {
		return fmt.Errorf("family %q is not one of %s", a.Family, strings.Join(familyNames(), ", "))
	}
	switch cases.Status(a.Status) {
	case "", cases.StatusOpen, cases.StatusResolved, cases.StatusMerged:
	default:
		return fmt.Errorf("status %q is not open, resolved or merged", a.Status)
	}
	for _, d := range []float64{a.OlderThanDays, a.NewerThanDays, a.Days} {
		if d < 0 || d > 3660 || math.IsNaN(d) {
			return fmt.Errorf("a number of days must be between 0 and 3660, got %v", d)
		}
	}
	return nil
}

func (a toolArgs) query(now time.Time) cases.CaseQuery {
	q := cases.CaseQuery{ID: strings.ToUpper(a.CaseID), Order: a.Order, Customer: a.Customer, Supplier: a.Supplier, SKU: a.SKU, Warehouse: a.Warehouse,
		PO: a.PO, Shipment: a.Shipment, Invoice: a.Invoice, Family: cases.Family(a.Family), Status: cases.Status(a.Status)}
	if a.OlderThanDays > 0 {
		q.OpenedBefore = now.Add(-days(a.OlderThanDays))
	}
	if a.NewerThanDays > 0 {
		q.OpenedAfter = now.Add(-days(a.NewerThanDays))
	}
	return q
}

func (a toolArgs) intent(kind IntentKind, now time.Time) Intent {
	return Intent{Kind: kind, Query: a.query(now), Party: a.Party}
}

func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

// toolResult is what one tool call gave: the JSON the model reads and the
// case ids in it.
type toolResult struct {
	text string
	ids  []string
}

func jsonResult(v any, ids []string) toolResult {
	b, err := json.Marshal(v)
	if err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	return toolResult{text: string(b), ids: ids}
}

// caseRow is one case in a tool result: what a list line shows.
type caseRow struct {
	ID       string   `json:"id"`
	Status   string   `json:"status"`
	Severity string   `json:"severity"`
	Priority string   `json:"priority,omitempty"`
	Team     string   `json:"team,omitempty"`
	Families []string `json:"families"`
	About    string   `json:"about,omitempty"`
	Opened   string   `json:"opened"`
	Age      string   `json:"age"`
	Resolved string   `json:"resolved,omitempty"`
}

func rowOf(c *cases.Case, now time.Time) caseRow {
	r := caseRow{ID: c.ID, Status: string(c.Status), Severity: c.Severity.String(), Priority: c.Priority, Team: c.Team,
		About: aboutText(c), Opened: stampText(c.OpenedAt), Age: report.Hours(max(now.Sub(c.OpenedAt), 0))}
	for _, f := range c.Families {
		r.Families = append(r.Families, f.Label())
	}
	if c.ResolvedAt != nil {
		r.Resolved = stampText(*c.ResolvedAt)
	}
	return r
}

// runTool executes one tool call.
func (q *Answerer) runTool(ctx context.Context, call llms.ToolCall) toolResult {
	if call.FunctionCall == nil {
		return toolResult{text: "error: no function in the tool call"}
	}
	var args toolArgs
	if s := strings.TrimSpace(call.FunctionCall.Arguments); s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			return toolResult{text: "error: arguments are not a JSON object of the documented fields: " + err.Error()}
		}
	}
	if err := args.check(); err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	now := q.now()
	var (
		res toolResult
		err error
	)
	switch call.FunctionCall.Name {
	case toolFindCases, toolCount:
		res, err = q.toolFind(ctx, args, now, call.FunctionCall.Name == toolCount)
	case toolAggregate:
		res, err = q.toolAggregate(ctx, args, now)
	case toolShowCase:
		var text string
		var ids []string
		text, ids, err = q.showCase(ctx, strings.ToUpper(args.CaseID))
		res = jsonResult(map[string]any{"answer": text, "case_ids": ids}, ids)
	case toolDecisions:
		in := args.intent(IntentDecisions, now)
		in.Actor, in.Action, in.Choice = args.Actor, args.Action, cases.Choice(args.Choice)
		if args.Days > 0 {
			in.Since = now.Add(-days(args.Days))
		}
		var text string
		var ids []string
		text, ids, err = q.decisions(ctx, in)
		res = jsonResult(map[string]any{"answer": text, "case_ids": ids}, ids)
	case toolPatterns:
		var since time.Time
		if args.Days > 0 {
			since = now.Add(-days(args.Days))
		}
		var text string
		var ids []string
		text, ids, err = q.patterns(ctx, since)
		res = jsonResult(map[string]any{"answer": text, "case_ids": ids}, ids)
	default:
		return toolResult{text: fmt.Sprintf("error: no tool %q", call.FunctionCall.Name)}
	}
	if err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	return res
}

// toolFind lists (or only counts) the cases of a query through the rules'
// own finder, party fallback included.
func (q *Answerer) toolFind(ctx context.Context, args toolArgs, now time.Time, countOnly bool) (toolResult, error) {
	limit := listLimit
	if countOnly {
		limit = 1
	}
	in := args.intent(IntentFindCases, now)
	l, used, err := q.find(ctx, in, limit)
	if err != nil {
		return toolResult{}, err
	}
	party := ""
	if in.Party != "" && used.Customer == "" && used.Supplier == "" {
		party = in.Party
	}
	out := map[string]any{"looked_for": plural(l.Total, describe(used, party)), "total": l.Total}
	if l.TotalCapped {
		out["total_is_at_least"] = true
	}
	if countOnly {
		return jsonResult(out, nil), nil
	}
	var ids []string
	rows := []caseRow{}
	for _, c := range l.Cases {
		ids = append(ids, c.ID)
		rows = append(rows, rowOf(c, now))
	}
	out["cases"] = rows
	if l.Total > len(rows) {
		out["listed"] = fmt.Sprintf("the %d newest", len(rows))
	}
	return jsonResult(out, ids), nil
}

// toolAggregate computes one figure with cases/report's definitions over
// the cases of a query (at most toolAggregateLimit of them, newest first; the
// result says when there were more).
func (q *Answerer) toolAggregate(ctx context.Context, args toolArgs, now time.Time) (toolResult, error) {
	args.Status, args.OlderThanDays, args.NewerThanDays = "", 0, 0
	var since time.Time
	switch args.Metric {
	case metricResolution:
		args.Status = string(cases.StatusResolved)
		if args.Since != "" {
			t, err := cases.ParseDate(args.Since)
			if err != nil {
				return toolResult{text: fmt.Sprintf("error: since %q is not a date such as 2026-11-23", args.Since)}, nil
			}
			since = t
		} else if args.Days > 0 {
			since = now.Add(-days(args.Days))
		}
	case metricBacklog, metricOldest:
		args.Status = string(cases.StatusOpen)
	default:
		return toolResult{text: fmt.Sprintf("error: metric %q is not one of %s, %s, %s", args.Metric, metricResolution, metricBacklog, metricOldest)}, nil
	}
	in := args.intent(IntentFindCases, now)
	l, used, err := q.find(ctx, in, toolAggregateLimit)
	if err != nil {
		return toolResult{}, err
	}
	party := ""
	if in.Party != "" && used.Customer == "" && used.Supplier == "" {
		party = in.Party
	}
	out := map[string]any{"looked_for": plural(2, describe(used, party)), "metric": args.Metric}
	if l.Total > len(l.Cases) {
		out["read"] = fmt.Sprintf("the %d newest of %d cases", len(l.Cases), l.Total)
	}
	var ids []string
	switch args.Metric {
	case metricResolution:
		var measured []*cases.Case
		for _, c := range l.Cases {
			if c.ResolvedAt != nil && !c.ResolvedAt.Before(since) {
				measured = append(measured, c)
				ids = append(ids, c.ID)
			}
		}
		r := report.Compute(measured, report.Options{Now: now, Since: since})
		if !since.IsZero() {
			out["resolved_since"] = stampText(since)
		}
		out["cases_measured"] = r.Resolution.N
		if r.Resolution.N > 0 {
			out["mean"], out["median"] = report.Hours(r.Resolution.Mean), report.Hours(r.Resolution.Median)
			out["mean_hours"], out["median_hours"] = round1(r.Resolution.Mean.Hours()), round1(r.Resolution.Median.Hours())
		}
		if len(ids) > listLimit {
			ids = ids[:listLimit]
		}
		out["case_ids"] = ids
	case metricBacklog:
		r := report.Compute(l.Cases, report.Options{Now: now})
		var bands []map[string]any
		for _, b := range report.AgeBuckets {
			bands = append(bands, map[string]any{"age": b.Label, "open": r.Backlog[b.Label]})
		}
		out["open"], out["bands"], out["oldest_age"] = r.Open, bands, report.Hours(r.OldestOpen)
	case metricOldest:
		var oldest *cases.Case
		for _, c := range l.Cases {
			if oldest == nil || c.OpenedAt.Before(oldest.OpenedAt) {
				oldest = c
			}
		}
		out["open"] = l.Total
		if oldest != nil {
			out["oldest"] = rowOf(oldest, now)
			ids = []string{oldest.ID}
		}
	}
	return jsonResult(out, ids), nil
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// ToolCalling reports whether questions are answered by the provider's
// model calling tools; otherwise (Ollama, or no model) the rules answer.
func ToolCalling(p Provider) bool { return p == ProviderOpenAI || p == ProviderAnthropic }

// noToolsReason says why a model cannot answer questions itself, or "" when
// it can: langchaingo v0.1.14's Ollama client sends no tool definitions and
// reads no tool calls, so a model behind it could only guess.
func (m *model) noToolsReason() string {
	if !ToolCalling(m.cfg.Provider) {
		return m.name + " gets no tools from langchaingo v0.1.14"
	}
	return ""
}

func (q *Answerer) askModel(ctx context.Context, question string) (Answer, error) {
	if why := q.model.noToolsReason(); why != "" {
		return Answer{}, &ModelError{Reason: why}
	}
	now := q.now()
	system := strings.Replace(mustPrompt(AnswerPrompt), "{{today}}", now.UTC().Format("2006-01-02"), 1)
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, system),
		llms.TextParts(llms.ChatMessageTypeHuman, question),
	}
	spent := 0
	spend := func() error {
		if spent >= q.budget {
			return &ModelError{Reason: "model call budget spent"}
		}
		spent++
		return nil
	}
	// results are what the tools returned; asked is what the model asked
	// for (restating the question's filters is no new fact, but a case id
	// must come from a result).
	var results, asked []string
	cited := map[string]bool{}
	var order []string
	tools := answerTools()
	for round := 0; ; round++ {
		opts := []llms.CallOption{llms.WithTemperature(0), llms.WithMaxTokens(600)}
		if round < maxToolRounds {
			opts = append(opts, llms.WithTools(tools))
		}
		resp, err := q.model.generate(ctx, spend, msgs, opts...)
		if err != nil {
			return Answer{}, err
		}
		var calls []llms.ToolCall
		for _, ch := range resp.Choices {
			calls = append(calls, ch.ToolCalls...)
		}
		if len(calls) == 0 {
			ans := text(resp)
			if err := checkAnswer(ans, results, asked); err != nil {
				return Answer{}, err
			}
			var ids []string
			for _, id := range order {
				if strings.Contains(ans, id) {
					ids = append(ids, id)
				}
			}
			return Answer{Text: ans, Cases: ids, By: q.model.name}, nil
		}
		if round >= maxToolRounds {
			return Answer{}, &refusedError{"too many tool calls"}
		}
		// Each call goes back as its own pair, the call then its result:
		// langchaingo's Anthropic client sends only the first part of an
		// AI message, and Anthropic refuses a tool_result whose tool_use is
		// not in the message before it. OpenAI takes pairs as well.
		for _, c := range calls {
			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{c}})
			res := q.runTool(ctx, c)
			results = append(results, res.text)
			name := ""
			if c.FunctionCall != nil {
				name = c.FunctionCall.Name
				asked = append(asked, c.FunctionCall.Arguments)
			}
			for _, id := range res.ids {
				if !cited[id] {
					cited[id] = true
					order = append(order, id)
				}
			}
			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeTool,
				Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: c.ID, Name: name, Content: res.text}}})
		}
	}
}

// checkAnswer refuses a model's final answer that is empty, too long, given
// without reading the store, or not grounded in the tool results.
func checkAnswer(ans string, results, asked []string) error {
	switch {
	case len(results) == 0:
		return &refusedError{"answered without reading the store"}
	case strings.TrimSpace(ans) == "":
		return &refusedError{"empty answer"}
	case len(ans) > maxAnswerChars:
		return &refusedError{fmt.Sprintf("%d characters, over %d", len(ans), maxAnswerChars)}
	}
	if id := ungroundedCaseID(ans, results); id != "" {
		return &refusedError{fmt.Sprintf("%q is not in what the store returned", id)}
	}
	facts := NewFacts(append(append([]string(nil), results...), asked...), nil)
	if w := facts.Ungrounded(ans); w != "" {
		return &refusedError{fmt.Sprintf("%q is not in what the store returned", w)}
	}
	return nil
}
