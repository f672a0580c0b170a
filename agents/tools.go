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
)

// Question answering with a model that calls tools. Each tool call is
// turned into an Intent, the parsed form of a question, and answered by
// (*Answerer).Run: the very query functions the rules parser's questions
// run through, with the report's definitions (cases/report) for figures.
// So the model and the rules cite the same cases and figures, and a tool
// result holds only what the store holds: the rules' answer sentence (which
// says what it understood) and the case ids it rests on. The model's final
// answer is then checked against the tool results like a summary against
// its case, and refused (the rules answer instead) when it states anything
// they do not contain: every case id must be one a tool returned, every
// number one a tool gave or the model asked for.

// maxToolRounds bounds the model's tool calls per question.
const maxToolRounds = 4

// maxAnswerChars bounds a model's answer; a longer one is refused.
const maxAnswerChars = 2000

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

// Tool states: the states of the parser's table (stateWords), by name.
// "mine" and "my approval" are the asking user's.
const (
	stateUnassigned     = "unassigned"
	stateAssigned       = "assigned"
	stateAssignedToMe   = "assigned_to_me"
	stateEscalated      = "escalated"
	stateSnoozed        = "snoozed"
	stateAwaiting       = "waiting_for_approval"
	stateAwaitingMine   = "waiting_for_my_approval"
	stateByExops        = "resolved_by_exops_alone"
	statePastSLA        = "past_sla"
	stateFirstTouchLate = "first_touch_overdue"
	stateSLASoon        = "sla_due_soon"
)

var toolStates = []string{stateUnassigned, stateAssigned, stateAssignedToMe, stateEscalated, stateSnoozed, stateAwaiting,
	stateAwaitingMine, stateByExops, statePastSLA, stateFirstTouchLate, stateSLASoon}

func familyNames() []string {
	var out []string
	for _, f := range cases.Families() {
		out = append(out, string(f))
	}
	return out
}

// caseFilterProps are the slots of a case question, as tool arguments.
func caseFilterProps() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	return map[string]any{
		"order":     str("sales order number, e.g. SO-1042"),
		"customer":  str("customer id or name (a single word of the name matches)"),
		"supplier":  str("supplier id or name (a single word of the name matches)"),
		"party":     str("a customer or supplier name when the question does not say which"),
		"key":       str("an id when the question does not say what it is: looked up as order, PO, invoice, shipment, SKU and customer"),
		"sku":       str("item number"),
		"warehouse": str("warehouse code, e.g. DAL"),
		"po":        str("purchase order number"),
		"shipment":  str("shipment or ASN number"),
		"invoice":   str("invoice number"),
		"team":      str("the owning team, by the policy's name or its channel, e.g. accounts-payable or #ap-exceptions"),
		"family":    map[string]any{"type": "string", "enum": familyNames()},
		"severity":  map[string]any{"type": "string", "enum": []string{"low", "medium", "high", "critical"}},
		"priority":  str("priority such as P1"),
		"status":    map[string]any{"type": "string", "enum": []string{"open", "resolved", "merged"}},
		"states": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": toolStates},
			"description": "each must hold; assigned_to_me and waiting_for_my_approval are the asking user's"},
		"assignee": str("Slack user id of the person working the case"),
		"approver": str("Slack user id or group whose approval a case waits for"),
		"since":    str("start of the period, YYYY-MM-DD (inclusive)"),
		"until":    str("end of the period, YYYY-MM-DD (exclusive)"),
		"days":     map[string]any{"type": "number", "description": "the period is the last this many days"},
		"period_of": map[string]any{"type": "string", "enum": []string{"opened", "resolved", "escalated"},
			"description": "what the period bounds: when cases were opened (default), resolved, or last escalated"},
		"older_than_days": map[string]any{"type": "number", "description": "only cases opened more than this many days ago (open ones unless status says otherwise)"},
	}
}

func answerTools() []llms.Tool {
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	decisionProps := caseFilterProps()
	decisionProps["case_id"] = map[string]any{"type": "string"}
	decisionProps["actor"] = map[string]any{"type": "string", "description": "Slack user id of who decided; me for the asking user"}
	decisionProps["exops_alone"] = map[string]any{"type": "boolean", "description": "only what exops decided on its own"}
	decisionProps["action"] = map[string]any{"type": "string", "description": "action name such as release_credit_hold"}
	decisionProps["choice"] = map[string]any{"type": "string", "enum": []string{"approve", "reject"}}
	delete(decisionProps, "period_of") // the period bounds when decisions were made
	aggProps := caseFilterProps()
	aggProps["metric"] = map[string]any{"type": "string", "enum": []string{metricResolution, metricBacklog, metricOldest},
		"description": "resolution_time: mean and median time from opened to resolved of cases resolved in the period (default the last 30 days); backlog_by_age: open cases per age band; oldest_open: the oldest open case"}
	aggProps["figures"] = map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{"mean", "median"}},
		"description": "resolution_time: which figures (default both)"}
	aggProps["group_by"] = map[string]any{"type": "string", "enum": []string{"family", "team"}, "description": "resolution_time: one figure per family or team"}
	return []llms.Tool{
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolFindCases,
			Description: "Find exception cases by what they concern, team, family, severity, priority, status, states and period. Returns a sentence saying what was looked for, how many match and the newest, with their ids.",
			Parameters:  obj(caseFilterProps())}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: toolCount,
			Description: "Count the cases that match, with the same filters as find_cases.",
			Parameters:  obj(caseFilterProps())}},
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
	CaseID        string   `json:"case_id"`
	Order         string   `json:"order"`
	Customer      string   `json:"customer"`
	Supplier      string   `json:"supplier"`
	Party         string   `json:"party"`
	Key           string   `json:"key"`
	SKU           string   `json:"sku"`
	Warehouse     string   `json:"warehouse"`
	PO            string   `json:"po"`
	Shipment      string   `json:"shipment"`
	Invoice       string   `json:"invoice"`
	Team          string   `json:"team"`
	Family        string   `json:"family"`
	Severity      string   `json:"severity"`
	Priority      string   `json:"priority"`
	Status        string   `json:"status"`
	States        []string `json:"states"`
	Assignee      string   `json:"assignee"`
	Approver      string   `json:"approver"`
	Since         string   `json:"since"`
	Until         string   `json:"until"`
	Days          float64  `json:"days"`
	PeriodOf      string   `json:"period_of"`
	OlderThanDays float64  `json:"older_than_days"`
	Actor         string   `json:"actor"`
	ExopsAlone    bool     `json:"exops_alone"`
	Action        string   `json:"action"`
	Choice        string   `json:"choice"`
	Metric        string   `json:"metric"`
	Figures       []string `json:"figures"`
	GroupBy       string   `json:"group_by"`
}

// maxToolArg bounds one text argument of a tool call; the store's terms are
// cut at the same length.
const maxToolArg = cases.MaxTermValue

// toolIntent checks a tool call's arguments and turns them into the Intent
// the rules would have parsed, for the Slack user actor. It refuses what no
// question needs: a family, status, state or team the product does not
// have, text beyond the store's term length, periods of more than ten
// years. The error goes back to the model, which may correct its call.
func (q *Answerer) toolIntent(name string, a toolArgs, actor string, now time.Time) (Intent, error) {
	for _, s := range []string{a.CaseID, a.Order, a.Customer, a.Supplier, a.Party, a.Key, a.SKU, a.Warehouse, a.PO, a.Shipment,
		a.Invoice, a.Team, a.Priority, a.Assignee, a.Approver, a.Actor, a.Action, a.Since, a.Until} {
		if len(s) > maxToolArg {
			return Intent{}, fmt.Errorf("an argument is %d characters; at most %d", len(s), maxToolArg)
		}
	}
	if len(a.States) > len(toolStates) || len(a.Figures) > 2 {
		return Intent{}, fmt.Errorf("%d states and %d figures; at most %d and 2", len(a.States), len(a.Figures), len(toolStates))
	}
	for _, d := range []float64{a.OlderThanDays, a.Days} {
		if d < 0 || d > 3660 || math.IsNaN(d) {
			return Intent{}, fmt.Errorf("a number of days must be between 0 and 3660, got %v", d)
		}
	}
	in := Intent{Party: a.Party, Key: strings.ToUpper(a.Key)}
	qq := &in.Query
	*qq = cases.CaseQuery{ID: strings.ToUpper(a.CaseID), Order: a.Order, Customer: a.Customer, Supplier: a.Supplier, SKU: a.SKU,
		Warehouse: a.Warehouse, PO: a.PO, Shipment: a.Shipment, Invoice: a.Invoice, Priority: strings.ToUpper(a.Priority),
		Assignee: a.Assignee, Approver: a.Approver, Family: cases.Family(a.Family), Status: cases.Status(a.Status)}
	if a.Family != "" && !slices.Contains(cases.Families(), qq.Family) {
		return Intent{}, fmt.Errorf("family %q is not one of %s", a.Family, strings.Join(familyNames(), ", "))
	}
	switch qq.Status {
	case "", cases.StatusOpen, cases.StatusResolved, cases.StatusMerged:
	default:
		return Intent{}, fmt.Errorf("status %q is not open, resolved or merged", a.Status)
	}
	if a.Severity != "" {
		sev, err := cases.ParseSeverity(a.Severity)
		if err != nil {
			return Intent{}, fmt.Errorf("severity %q is not low, medium, high or critical", a.Severity)
		}
		qq.Severity = sev
	}
	if a.Team != "" {
		team, err := q.toolTeam(a.Team)
		if err != nil {
			return Intent{}, err
		}
		qq.Team = team
	}
	for _, st := range a.States {
		switch st {
		case stateUnassigned:
			qq.Unassigned = true
		case stateAssigned:
			qq.Assigned = true
		case stateAssignedToMe:
			if actor == "" {
				qq.Assigned = true
				in.Readings = append(in.Readings, "I do not know who is asking, so this is assigned to anyone")
			} else {
				qq.Assignee = actor
			}
		case stateEscalated:
			qq.Escalated = true
		case stateSnoozed:
			qq.Snoozed = true
		case stateAwaiting:
			qq.AwaitingApproval = true
		case stateAwaitingMine:
			qq.AwaitingApproval = true
			if actor == "" {
				in.Readings = append(in.Readings, "I do not know who is asking, so this is waiting for anyone's approval")
			} else {
				qq.Approver = actor
			}
		case stateByExops:
			qq.ByExops = true
		case statePastSLA:
			qq.PastSLA = true
		case stateFirstTouchLate:
			qq.FirstTouchOverdue = true
		case stateSLASoon:
			qq.SLADueAfter, qq.SLADueBefore = now, now.Add(SLASoon)
		default:
			return Intent{}, fmt.Errorf("state %q is not one of %s", st, strings.Join(toolStates, ", "))
		}
	}
	var from, to time.Time
	for _, d := range []struct {
		s string
		t *time.Time
	}{{a.Since, &from}, {a.Until, &to}} {
		if d.s == "" {
			continue
		}
		t, err := cases.ParseDate(d.s)
		if err != nil {
			return Intent{}, fmt.Errorf("%q is not a date such as 2026-11-23", d.s)
		}
		*d.t = t
	}
	if a.Days > 0 && from.IsZero() {
		from = now.Add(-days(a.Days))
	}
	if a.OlderThanDays > 0 {
		qq.OpenedBefore = now.Add(-days(a.OlderThanDays))
		in.olderText = fmt.Sprintf("older than %v days", a.OlderThanDays)
		if qq.Status == "" {
			qq.Status = cases.StatusOpen // as the parser: an age is asked of what is still open
			in.Readings = append(in.Readings, "an age is asked of open cases")
		}
	}
	in.Kind = IntentFindCases
	switch name {
	case toolCount:
		in.Count = true
	case toolShowCase:
		if qq.ID == "" {
			return Intent{}, fmt.Errorf("show_case needs a case_id such as EX-000042")
		}
		in.Kind = IntentShowCase
	case toolDecisions:
		in.Kind = IntentDecisions
		in.Since, in.Until = from, to
		in.Action, in.Choice, in.ExopsAlone = a.Action, cases.Choice(a.Choice), a.ExopsAlone
		switch strings.ToLower(a.Actor) {
		case "":
		case "me":
			if actor == "" {
				return Intent{}, fmt.Errorf("the asking user is not known: give a Slack user id as actor")
			}
			in.Actor = actor
		case cases.ActorExops:
			in.ExopsAlone = true
		default:
			in.Actor = a.Actor
		}
		if in.Choice != "" && in.Choice != cases.ChoiceApprove && in.Choice != cases.ChoiceReject {
			return Intent{}, fmt.Errorf("choice %q is not approve or reject", a.Choice)
		}
		return in, nil
	case toolPatterns:
		in.Kind = IntentPatterns
		in.Query = cases.CaseQuery{}
		in.Since, in.Until = from, to
		return in, nil
	case toolAggregate:
		switch a.Metric {
		case metricResolution:
			in.Kind = IntentTimeToResolve
			in.Mean = len(a.Figures) == 0 || slices.Contains(a.Figures, "mean")
			in.Median = len(a.Figures) == 0 || slices.Contains(a.Figures, "median")
			if !in.Mean && !in.Median {
				return Intent{}, fmt.Errorf("figures must be mean, median or both")
			}
			switch a.GroupBy {
			case "", "family", "team":
				in.GroupBy = a.GroupBy
			default:
				return Intent{}, fmt.Errorf("group_by %q is not family or team", a.GroupBy)
			}
			a.PeriodOf = "resolved"
		case metricBacklog:
			in.Kind = IntentBacklog
			qq.Status = cases.StatusOpen
		case metricOldest:
			in.Kind = IntentOldest
			qq.Status = cases.StatusOpen
		default:
			return Intent{}, fmt.Errorf("metric %q is not one of %s, %s, %s", a.Metric, metricResolution, metricBacklog, metricOldest)
		}
	}
	switch a.PeriodOf {
	case "", "opened":
		qq.OpenedAfter = from
		if !to.IsZero() && (qq.OpenedBefore.IsZero() || to.Before(qq.OpenedBefore)) {
			qq.OpenedBefore = to
		}
		in.timeOf = "opened"
	case "resolved":
		qq.ResolvedAfter, qq.ResolvedBefore = from, to
		in.timeOf = "resolved"
	case "escalated":
		qq.EscalatedAfter, qq.EscalatedBefore = from, to
		in.timeOf = "escalated"
	default:
		return Intent{}, fmt.Errorf("period_of %q is not opened, resolved or escalated", a.PeriodOf)
	}
	if !from.IsZero() || !to.IsZero() {
		in.period = periodText(from, to)
	}
	return in, nil
}

func periodText(from, to time.Time) string {
	switch {
	case to.IsZero():
		return "since " + stampText(from)
	case from.IsZero():
		return "before " + stampText(to)
	}
	return "from " + stampText(from) + " to " + stampText(to)
}

// toolTeam finds a team of the policy in force by name or channel. With no
// policy known, the name is taken as given.
func (q *Answerer) toolTeam(s string) (string, error) {
	teams := q.vocabulary().Teams
	if len(teams) == 0 {
		return s, nil
	}
	var names []string
	for _, t := range teams {
		if strings.EqualFold(t.Name, s) || t.Channel != "" && strings.EqualFold(strings.TrimPrefix(t.Channel, "#"), strings.TrimPrefix(s, "#")) {
			return t.Name, nil
		}
		names = append(names, t.Name)
	}
	return "", fmt.Errorf("team %q is not one of the policy's teams: %s", s, strings.Join(names, ", "))
}

func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

// toolResult is what one tool call gave: the JSON the model reads and the
// case ids in it.
type toolResult struct {
	text string
	ids  []string
}

// runTool executes one tool call for the Slack user actor ("" unknown)
// through Run, and gives the model the rules' answer and its case ids.
func (q *Answerer) runTool(ctx context.Context, actor string, call llms.ToolCall) toolResult {
	if call.FunctionCall == nil {
		return toolResult{text: "error: no function in the tool call"}
	}
	switch call.FunctionCall.Name {
	case toolFindCases, toolCount, toolAggregate, toolShowCase, toolDecisions, toolPatterns:
	default:
		return toolResult{text: fmt.Sprintf("error: no tool %q", call.FunctionCall.Name)}
	}
	var args toolArgs
	if s := strings.TrimSpace(call.FunctionCall.Arguments); s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			return toolResult{text: "error: arguments are not a JSON object of the documented fields: " + err.Error()}
		}
	}
	now := q.now()
	in, err := q.toolIntent(call.FunctionCall.Name, args, actor, now)
	if err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	ans, err := q.Run(ctx, in)
	if err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	ids := ans.Cases
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(map[string]any{"answer": ans.Text, "case_ids": ids})
	if err != nil {
		return toolResult{text: "error: " + err.Error()}
	}
	return toolResult{text: string(b), ids: ans.Cases}
}

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

func (q *Answerer) askModel(ctx context.Context, actor, question string) (Answer, error) {
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
			res := q.runTool(ctx, actor, c)
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
