package agents

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/llms"

	"github.com/exops/exops/cases"
)

// Prompts are files, versioned by name: a change of wording is a new file
// (summary.v2.txt) and a new golden test, so the prompt in force is always
// known from the code and visible in review.
//
//go:embed prompts/*.txt
var promptFS embed.FS

// Prompt versions in force.
const (
	SummaryPrompt   = "summary.v1"
	RecommendPrompt = "recommend.v1"
	AnswerPrompt    = "answer.v1"
)

// Prompt returns the text of a prompt file by name (such as "summary.v1").
func Prompt(name string) (string, error) {
	b, err := promptFS.ReadFile("prompts/" + name + ".txt")
	if err != nil {
		return "", fmt.Errorf("prompt %s: %w", name, err)
	}
	return string(b), nil
}

func mustPrompt(name string) string {
	p, err := Prompt(name)
	if err != nil {
		panic(err) // embedded at build time: a missing file is a build mistake
	}
	return p
}

// ModelSuggestion is the action of a recommendation a model proposed that
// the rules know no evidence for. It has no system action behind it, and the
// name matches no policy rule, so it is never executed automatically: it is
// advice for people.
const ModelSuggestion = "model_suggestion"

// Agent writes summaries and recommendations with a language model when one
// is configured, and with the rules agent otherwise or whenever the model
// fails. It implements cases.Agents.
type Agent struct {
	rules  *Rules
	model  *model // nil: rules only
	log    *slog.Logger
	now    func() time.Time
	budget int

	mu    sync.Mutex
	spent map[string]int // model requests per case
}

var _ cases.Agents = (*Agent)(nil)

// maxTrackedCases bounds the budget table; when full it starts over, which
// at worst gives old cases a fresh budget.
const maxTrackedCases = 50000

// New builds the agent for cfg. With ProviderNone it is the rules agent.
func New(cfg Config, logger *slog.Logger, now cases.Clock) (*Agent, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if now == nil {
		return nil, errors.New("agents: no business clock")
	}
	rules := NewRules(now)
	a := &Agent{rules: rules, log: logger, now: now, budget: cfg.CaseBudget, spent: map[string]int{}}
	if cfg.Provider == "" || cfg.Provider == ProviderNone {
		return a, nil
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CaseBudget <= 0 {
		cfg.CaseBudget = DefaultCaseBudget
		a.budget = cfg.CaseBudget
	}
	m, err := newModel(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("language model: %w", err)
	}
	a.model = m
	logger.Info("language model configured", "config", cfg)
	return a, nil
}

// Model names the model in use ("openai:gpt-4o-mini"), or "" for rules only.
func (a *Agent) Model() string {
	if a.model == nil {
		return ""
	}
	return a.model.name
}

// Rules returns the rules agent behind a.
func (a *Agent) Rules() *Rules { return a.rules }

// spender returns the budget check for one case's model requests.
func (a *Agent) spender(caseID string) func() error {
	return func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.spent[caseID] >= a.budget {
			return &ModelError{Reason: "model call budget spent"}
		}
		if len(a.spent) >= maxTrackedCases {
			a.spent = map[string]int{}
		}
		a.spent[caseID]++
		return nil
	}
}

// fallbackBy credits the rules with why the model's text was not used.
func fallbackBy(why string) string { return Name + " (" + why + ")" }

// Summarize writes the case's summary with the model, checked against the
// case facts; the rules write it when there is no model, the model fails, or
// its summary states anything the case does not hold.
func (a *Agent) Summarize(ctx context.Context, c *cases.Case) (string, string, error) {
	rulesText, by, err := a.rules.Summarize(ctx, c)
	if err != nil || a.model == nil {
		return rulesText, by, err
	}
	text, err := a.modelSummary(ctx, c)
	if err != nil {
		var why string
		var refused *refusedError
		if errors.As(err, &refused) {
			why = "model summary refused: " + refused.reason
		} else {
			why = "model unavailable: " + reasonOf(err)
		}
		a.log.Warn("summary by rules", "case", c.ID, "model", a.model.name, "why", why)
		return rulesText, fallbackBy(why), nil
	}
	return text, a.model.name, nil
}

// refusedError is a model answer exops would not use.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "refused: " + e.reason }

func (a *Agent) modelSummary(ctx context.Context, c *cases.Case) (string, error) {
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, mustPrompt(SummaryPrompt)),
		llms.TextParts(llms.ChatMessageTypeHuman, CaseFactsPrompt(c)),
	}
	resp, err := a.model.generate(ctx, a.spender(c.ID), msgs, llms.WithJSONMode(), llms.WithTemperature(0), llms.WithMaxTokens(400))
	if err != nil {
		return "", err
	}
	var out struct {
		Summary string `json:"summary"`
	}
	if err := decodeJSON(text(resp), &out); err != nil {
		return "", &refusedError{"malformed JSON"}
	}
	s := strings.Join(strings.Fields(out.Summary), " ")
	if err := checkSummary(s, caseFacts(c, a.now())); err != nil {
		return "", &refusedError{err.Error()}
	}
	return s, nil
}

// decodeJSON reads one JSON object from a model's text, tolerating a code
// fence around it (some servers ignore JSON mode).
func decodeJSON(s string, v any) error {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "```json")
	s = strings.TrimPrefix(s, "```")
	s = strings.TrimSuffix(s, "```")
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("text after the JSON object")
	}
	return nil
}

// Recommend proposes the rules' actions and, with a model, the model's
// explanations and proposals. A model never sets a confidence:
//   - an action the rules chose keeps its evidence and confidence; the
//     model may add a rationale (grounded in the case facts, or dropped);
//   - another action the rules know for that family is scored by the rules
//     (Rules.Score), so its confidence comes from the same checks;
//   - an action the rules do not know becomes a ModelSuggestion with
//     confidence 0 and one failed check, which no policy rule matches and no
//     system can execute: a person reads it and decides.
func (a *Agent) Recommend(ctx context.Context, c *cases.Case) ([]cases.Recommendation, error) {
	recs, err := a.rules.Recommend(ctx, c)
	if err != nil || a.model == nil {
		return recs, err
	}
	props, err := a.modelProposals(ctx, c, recs)
	if err != nil {
		a.log.Warn("recommendations by rules alone", "case", c.ID, "model", a.model.name, "why", reasonOf(err))
		return recs, nil
	}
	return a.merge(c, recs, props), nil
}

// Proposal is one action a model proposed.
type Proposal struct {
	Family    cases.Family `json:"family"`
	Action    string       `json:"action"`
	Title     string       `json:"title"`
	Rationale string       `json:"rationale"`
}

// maxProposals bounds what one model answer can add to a case.
const maxProposals = 3

func (a *Agent) modelProposals(ctx context.Context, c *cases.Case, recs []cases.Recommendation) ([]Proposal, error) {
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, RecommendSystemPrompt(c)),
		llms.TextParts(llms.ChatMessageTypeHuman, CaseFactsPrompt(withRecs(c, recs))),
	}
	resp, err := a.model.generate(ctx, a.spender(c.ID), msgs, llms.WithJSONMode(), llms.WithTemperature(0), llms.WithMaxTokens(700))
	if err != nil {
		return nil, err
	}
	var out struct {
		Proposals []Proposal `json:"proposals"`
	}
	if err := decodeJSON(text(resp), &out); err != nil {
		return nil, &ModelError{Reason: "malformed JSON", Err: err}
	}
	if len(out.Proposals) > maxProposals {
		out.Proposals = out.Proposals[:maxProposals]
	}
	return out.Proposals, nil
}

// withRecs is the case as the model sees it when asked for proposals: with
// the rules' fresh recommendations.
func withRecs(c *cases.Case, recs []cases.Recommendation) *cases.Case {
	cp := c.Clone()
	cp.Recommendations = recs
	return cp
}

func (a *Agent) merge(c *cases.Case, recs []cases.Recommendation, props []Proposal) []cases.Recommendation {
	facts := caseFacts(withRecs(c, recs), a.now())
	grounded := func(s string, max int) string {
		s = strings.Join(strings.Fields(s), " ")
		if s == "" || len(s) > max || facts.Ungrounded(s) != "" {
			return ""
		}
		return s
	}
	out := append([]cases.Recommendation(nil), recs...)
	for _, p := range props {
		if !c.HasFamily(p.Family) {
			if len(c.Families) == 0 {
				continue
			}
			p.Family = c.Families[0]
		}
		action := strings.ToLower(strings.TrimSpace(p.Action))
		rationale := grounded(p.Rationale, 600)
		idx := -1
		for i := range out {
			if out[i].Family == p.Family && out[i].Action == action {
				idx = i
			}
		}
		switch {
		case idx >= 0:
			// Already proposed: the model may only explain it.
			if rationale != "" && out[idx].Rationale == "" {
				out[idx].Rationale = rationale
				out[idx].By = out[idx].By + "+" + a.model.name
			}
		case a.rules.Score(c, p.Family, action) != nil:
			r := *a.rules.Score(c, p.Family, action)
			r.Rationale = rationale
			r.By = a.model.name + " (scored by " + Name + ")"
			out = append(out, r)
		default:
			title := grounded(p.Title, 150)
			if title == "" {
				continue // an ungrounded suggestion is not shown at all
			}
			ev := []cases.Evidence{check("action known to the evidence model", false, 1, "proposed by "+a.model.name+"; exops has no checks for "+truncate(action, 60))}
			r := cases.Recommendation{Action: ModelSuggestion, Family: p.Family, Title: title, Rationale: rationale,
				Params: map[string]string{"proposed_action": truncate(action, 60)}, Evidence: ev, Confidence: Confidence(ev), By: a.model.name}
			out = append(out, r)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// maxFactString bounds each string of the facts a prompt carries, and
// maxPromptEvents the events: a prompt's size must not be up to a sender.
const (
	maxFactString   = 300
	maxPromptEvents = 20
)

// CaseFactsPrompt renders a case as the data part of a prompt: JSON between
// <case_facts> tags, with keys sorted so that the same case gives the same
// prompt. Every string is cut to a bound.
func CaseFactsPrompt(c *cases.Case) string {
	type ev struct {
		Type string         `json:"type"`
		Time string         `json:"time"`
		Data map[string]any `json:"data"`
	}
	type rec struct {
		Family     cases.Family `json:"family"`
		Action     string       `json:"action"`
		Title      string       `json:"title"`
		Confidence float64      `json:"confidence"`
		State      string       `json:"state,omitempty"`
		Evidence   []string     `json:"evidence,omitempty"`
	}
	type dec struct {
		Time   string `json:"time"`
		Actor  string `json:"actor"`
		Action string `json:"action"`
		Choice string `json:"choice"`
	}
	facts := struct {
		ID              string            `json:"id"`
		Status          cases.Status      `json:"status"`
		Families        []cases.Family    `json:"families"`
		Severity        string            `json:"severity"`
		Priority        string            `json:"priority,omitempty"`
		Team            string            `json:"team,omitempty"`
		OpenedAt        string            `json:"opened_at,omitempty"`
		SLADue          string            `json:"sla_due,omitempty"`
		Events          []ev              `json:"events"`
		Context         map[string]string `json:"context,omitempty"`
		Missing         []string          `json:"missing_context,omitempty"`
		Recommendations []rec             `json:"recommendations,omitempty"`
		Decisions       []dec             `json:"decisions,omitempty"`
	}{ID: c.ID, Status: c.Status, Families: c.Families, Severity: c.Severity.String(), Priority: c.Priority, Team: c.Team,
		OpenedAt: timeText(c.OpenedAt), SLADue: timeText(c.SLADue)}
	events := c.Events
	if len(events) > maxPromptEvents {
		events = events[len(events)-maxPromptEvents:]
	}
	for _, e := range events {
		data := map[string]any{}
		for k, v := range e.Data {
			data[truncate(k, 64)] = boundValue(v, 0)
		}
		facts.Events = append(facts.Events, ev{Type: e.Type, Time: timeText(e.Time), Data: data})
	}
	if len(c.Context) > 0 {
		facts.Context = map[string]string{}
		for _, k := range sortedKeys(c.Context) {
			facts.Context[truncate(k, 128)] = truncate(c.Context[k], maxFactString)
		}
	}
	for _, m := range c.Missing {
		facts.Missing = append(facts.Missing, truncate(m, maxFactString))
	}
	for _, r := range c.Recommendations {
		x := rec{Family: r.Family, Action: r.Action, Title: truncate(r.Title, maxFactString), Confidence: r.Confidence, State: string(r.State)}
		for _, e := range r.Evidence {
			mark := "failed"
			if e.Passed {
				mark = "passed"
			}
			x.Evidence = append(x.Evidence, truncate(mark+": "+e.Check+" "+paren(e.Detail), maxFactString))
		}
		facts.Recommendations = append(facts.Recommendations, x)
	}
	for _, d := range c.Decisions {
		facts.Decisions = append(facts.Decisions, dec{Time: timeText(d.Time), Actor: d.Actor, Action: d.Action, Choice: string(d.Choice)})
	}
	b, err := json.MarshalIndent(facts, "", "  ")
	if err != nil {
		// Every value above is a string, number or list of them.
		panic(fmt.Sprintf("case facts: %v", err))
	}
	return "<case_facts>\n" + string(b) + "\n</case_facts>"
}

func boundValue(v any, depth int) any {
	switch x := v.(type) {
	case string:
		return truncate(x, maxFactString)
	case []any:
		if depth > 3 {
			return nil
		}
		out := make([]any, 0, min(len(x), 50))
		for i, e := range x {
			if i == 50 {
				break
			}
			out = append(out, boundValue(e, depth+1))
		}
		return out
	case map[string]any:
		if depth > 3 {
			return nil
		}
		out := map[string]any{}
		for k, e := range x {
			out[truncate(k, 64)] = boundValue(e, depth+1)
		}
		return out
	}
	return v
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// RecommendSystemPrompt is the recommend prompt with the catalog of known
// actions for the case's families filled in.
func RecommendSystemPrompt(c *cases.Case) string {
	known := KnownActions()
	var lines []string
	fams := append([]cases.Family(nil), c.Families...)
	sort.Slice(fams, func(i, j int) bool { return fams[i] < fams[j] })
	for _, f := range fams {
		if acts := known[f]; len(acts) > 0 {
			lines = append(lines, "- "+string(f)+": "+strings.Join(acts, ", "))
		} else {
			lines = append(lines, "- "+string(f)+": (none known)")
		}
	}
	return strings.Replace(mustPrompt(RecommendPrompt), "{{catalog}}", strings.Join(lines, "\n"), 1)
}
