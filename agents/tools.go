package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/exops/exops/cases"
)

// Question answering with a model that calls tools. The tools are the rules
// answerer's own lookups, so a tool result holds only what the store holds;
// the model's final answer is then checked against the tool results like a
// summary against its case, and refused (the rules answer instead) when it
// states anything they do not contain.

// maxToolRounds bounds the model's tool calls per question.
const maxToolRounds = 4

var caseFilterProps = map[string]any{
	"order":           map[string]any{"type": "string", "description": "sales order number, e.g. SO-1042"},
	"customer":        map[string]any{"type": "string", "description": "customer id or name (a single word of the name matches)"},
	"supplier":        map[string]any{"type": "string", "description": "supplier id or name (a single word of the name matches)"},
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

func answerTools() []llms.Tool {
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	decisionProps := map[string]any{"case_id": map[string]any{"type": "string"}, "actor": map[string]any{"type": "string", "description": "Slack user id"},
		"action": map[string]any{"type": "string", "description": "action name such as release_credit_hold"},
		"choice": map[string]any{"type": "string", "enum": []string{"approve", "reject"}},
		"days":   map[string]any{"type": "number", "description": "only decisions of the last this many days"}}
	for k, v := range caseFilterProps {
		if k != "older_than_days" && k != "newer_than_days" && k != "status" {
			decisionProps[k] = v
		}
	}
	return []llms.Tool{
		{Type: "function", Function: &llms.FunctionDefinition{Name: "find_cases",
			Description: "Find exception cases by what they concern, family, status and age. Returns how many match and the newest.",
			Parameters:  obj(caseFilterProps)}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: "show_case",
			Description: "Show one case by id (EX-000042): status, families, summary, pending recommendations, last decision.",
			Parameters:  obj(map[string]any{"case_id": map[string]any{"type": "string"}}, "case_id")}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: "list_decisions",
			Description: "List decisions (who approved or rejected which action, when), by case filters, actor, action, choice and period.",
			Parameters:  obj(decisionProps)}},
		{Type: "function", Function: &llms.FunctionDefinition{Name: "recurring_patterns",
			Description: "Top recurring patterns among resolved cases (shared supplier, SKU, warehouse, customer, family) with counts and time lost.",
			Parameters:  obj(map[string]any{"days": map[string]any{"type": "number", "description": "look back this many days (default 90)"}})}},
	}
}

type toolArgs struct {
	CaseID        string  `json:"case_id"`
	Order         string  `json:"order"`
	Customer      string  `json:"customer"`
	Supplier      string  `json:"supplier"`
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
}

func (a toolArgs) query(now time.Time) cases.CaseQuery {
	q := cases.CaseQuery{ID: a.CaseID, Order: a.Order, Customer: a.Customer, Supplier: a.Supplier, SKU: a.SKU, Warehouse: a.Warehouse,
		PO: a.PO, Shipment: a.Shipment, Invoice: a.Invoice, Family: cases.Family(a.Family), Status: cases.Status(a.Status)}
	day := 24 * float64(time.Hour)
	if a.OlderThanDays > 0 {
		q.OpenedBefore = now.Add(-time.Duration(a.OlderThanDays * day))
	}
	if a.NewerThanDays > 0 {
		q.OpenedAfter = now.Add(-time.Duration(a.NewerThanDays * day))
	}
	return q
}

// runTool executes one tool call and returns its result text.
func (q *Answerer) runTool(ctx context.Context, call llms.ToolCall) (string, []string) {
	if call.FunctionCall == nil {
		return "error: no function in the tool call", nil
	}
	var args toolArgs
	if s := strings.TrimSpace(call.FunctionCall.Arguments); s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			return "error: arguments are not a JSON object of the documented fields: " + err.Error(), nil
		}
	}
	now := q.now()
	var (
		text string
		ids  []string
		err  error
	)
	switch call.FunctionCall.Name {
	case "find_cases":
		text, ids, err = q.findCases(ctx, Intent{Kind: IntentFindCases, Query: args.query(now)})
	case "show_case":
		text, ids, err = q.showCase(ctx, strings.ToUpper(args.CaseID))
	case "list_decisions":
		in := Intent{Kind: IntentDecisions, Query: args.query(now), Actor: args.Actor, Action: args.Action, Choice: cases.Choice(args.Choice)}
		if args.Days > 0 {
			in.Since = now.Add(-time.Duration(args.Days * 24 * float64(time.Hour)))
		}
		text, ids, err = q.decisions(ctx, in)
	case "recurring_patterns":
		var since time.Time
		if args.Days > 0 {
			since = now.Add(-time.Duration(args.Days * 24 * float64(time.Hour)))
		}
		text, ids, err = q.patterns(ctx, since)
	default:
		return fmt.Sprintf("error: no tool %q", call.FunctionCall.Name), nil
	}
	if err != nil {
		return "error: " + err.Error(), nil
	}
	return text, ids
}

func (q *Answerer) askModel(ctx context.Context, question string) (Answer, error) {
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
	var results []string
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
			if len(results) == 0 {
				return Answer{}, &refusedError{"answered without reading the store"}
			}
			facts := NewFacts(append(results, question), nil)
			if w := facts.Ungrounded(ans); w != "" {
				return Answer{}, &refusedError{fmt.Sprintf("%q is not in what the store returned", w)}
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
		ai := llms.MessageContent{Role: llms.ChatMessageTypeAI}
		for _, c := range calls {
			ai.Parts = append(ai.Parts, c)
		}
		msgs = append(msgs, ai)
		for _, c := range calls {
			out, ids := q.runTool(ctx, c)
			results = append(results, out)
			if c.FunctionCall != nil {
				// Restating what was looked for is no new fact.
				results = append(results, c.FunctionCall.Arguments)
			}
			for _, id := range ids {
				if !cited[id] {
					cited[id] = true
					order = append(order, id)
				}
			}
			name := ""
			if c.FunctionCall != nil {
				name = c.FunctionCall.Name
			}
			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeTool,
				Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: c.ID, Name: name, Content: out}}})
		}
	}
}
