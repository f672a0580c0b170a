// Package policies loads the policy file and turns it into verdicts: what
// exops may do on its own, what needs whose approval, what it only shows,
// how severe a case is, who owns it, how fast, and whom to remind.
package policies

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/exops/exops/cases"
)

// HumanOnly lists actions the bot never runs alone, whatever a policy file or
// a confidence says: the approval boundaries the article names (credit
// overrides, margin-sensitive substitutions, contractual service exceptions,
// regulatory documentation).
var HumanOnly = map[string]string{
	"release_credit_hold":              "credit override",
	"substitute_item":                  "margin-sensitive substitution",
	"grant_service_exception":          "contractual service exception",
	"approve_regulatory_documentation": "regulatory documentation",
}

// File is the policy file as written.
type File struct {
	Version           string                `yaml:"version" json:"version"`
	CorrelationWindow string                `yaml:"correlation_window" json:"correlation_window"`
	DefaultTeam       string                `yaml:"default_team" json:"default_team"`
	Teams             map[string]TeamSpec   `yaml:"teams" json:"teams"`
	Severity          []SeverityRule        `yaml:"severity" json:"severity,omitempty"`
	Routing           []RouteSpec           `yaml:"routing" json:"routing"`
	SLA               map[string]SLASpec    `yaml:"sla" json:"sla"`
	Escalation        []EscalationSpec      `yaml:"escalation" json:"escalation,omitempty"`
	Actions           map[string]ActionSpec `yaml:"actions" json:"actions"`
	// ComplianceTeam names the team whose approvers and approver groups may
	// export the audit trail from Slack.
	ComplianceTeam string `yaml:"compliance_team" json:"compliance_team,omitempty"`
	// Tolerances of the three-way match of supplier invoices, in percent.
	Tolerances Tolerances `yaml:"tolerances" json:"tolerances"`
	// ConfirmationDue is how long a supplier has to acknowledge a purchase
	// order exops saw (EDI 850 or ORDERS) before supplier.confirmation_missing
	// is raised; default 48h.
	ConfirmationDue string `yaml:"confirmation_due" json:"confirmation_due,omitempty"`
}

// Tolerances say how far an invoice may be from its PO and goods receipt
// before the difference is a variance: price, quantity and total, percent.
type Tolerances struct {
	PricePct    *float64 `yaml:"price_pct" json:"price_pct,omitempty"`
	QuantityPct *float64 `yaml:"quantity_pct" json:"quantity_pct,omitempty"`
	TotalPct    *float64 `yaml:"total_pct" json:"total_pct,omitempty"`
}

// TeamSpec is a team: its channel, who may approve, who is escalated to.
type TeamSpec struct {
	Channel        string   `yaml:"channel" json:"channel"`
	Approvers      []string `yaml:"approvers" json:"approvers"`
	ApproverGroups []string `yaml:"approver_groups" json:"approver_groups,omitempty"`
	Managers       []string `yaml:"managers" json:"managers,omitempty"`
	ManagerChannel string   `yaml:"manager_channel" json:"manager_channel,omitempty"`
}

// SeverityRule raises a case's severity when its condition holds: to at
// least AtLeast, or by Raise levels.
type SeverityRule struct {
	When    Expr   `yaml:"when" json:"when"`
	AtLeast string `yaml:"at_least" json:"at_least,omitempty"`
	Raise   int    `yaml:"raise" json:"raise,omitempty"`
	atLeast cases.Severity
}

// RouteSpec sends cases to a team. Family and When may both be given; the
// first rule that matches wins.
type RouteSpec struct {
	Family string `yaml:"family" json:"family,omitempty"`
	When   *Expr  `yaml:"when" json:"when,omitempty"`
	Team   string `yaml:"team" json:"team"`
}

// SLASpec is the time to first touch and to resolve. A plain duration in the
// file ("8h") is the time to resolve; first touch is then a quarter of it.
type SLASpec struct {
	FirstTouch string `yaml:"first_touch" json:"first_touch,omitempty"`
	Resolve    string `yaml:"resolve" json:"resolve"`
}

func (s *SLASpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Resolve = n.Value
		return nil
	}
	type plain SLASpec
	var p plain
	dec := n.Decode(&p)
	*s = SLASpec(p)
	return dec
}

// EscalationSpec is one reminder or escalation step.
type EscalationSpec struct {
	Name          string `yaml:"name" json:"name"`
	After         string `yaml:"after" json:"after"` // first_touch, resolve, a duration, or first_touch+30m / resolve+4h
	To            string `yaml:"to" json:"to"`       // thread, manager, or team:NAME
	UnlessTouched bool   `yaml:"unless_touched" json:"unless_touched,omitempty"`
	Text          string `yaml:"text" json:"text,omitempty"`
	base          string
	offset        time.Duration
}

// ActionSpec sets what exops may do with one action.
type ActionSpec struct {
	// AutoAt: at or above this confidence, and when When holds, exops acts
	// alone. Absent: never.
	AutoAt *float64 `yaml:"auto_at" json:"auto_at,omitempty"`
	// ApproveAt: at or above this confidence the approvers are asked. Below
	// it the action is only shown (recommend). Absent: 0.
	ApproveAt *float64 `yaml:"approve_at" json:"approve_at,omitempty"`
	// When guards the automatic path: exops acts alone only when it holds.
	When      *Expr `yaml:"when" json:"when,omitempty"`
	HumanOnly bool  `yaml:"human_only" json:"human_only,omitempty"`
	Forbidden bool  `yaml:"forbidden" json:"forbidden,omitempty"`
	// Team whose approvers decide; default the team that owns the case.
	Team           string   `yaml:"team" json:"team,omitempty"`
	Approvers      []string `yaml:"approvers" json:"approvers,omitempty"`
	ApproverGroups []string `yaml:"approver_groups" json:"approver_groups,omitempty"`
	// Approvals needed: a number, or rules whose first match gives it.
	Approvals   Approvals `yaml:"approvals" json:"approvals"`
	ApprovalTTL string    `yaml:"approval_ttl" json:"approval_ttl,omitempty"`
	ttl         time.Duration
}

// Approvals is "approvals: 2" or a list of {when, count} with a last rule
// that has no condition.
type Approvals struct {
	Count int            `json:"count,omitempty"`
	Rules []ApprovalRule `json:"rules,omitempty"`
}

// ApprovalRule needs Count approvals when When holds (always, without When).
type ApprovalRule struct {
	When  *Expr `yaml:"when" json:"when,omitempty"`
	Count int   `yaml:"count" json:"count"`
}

func (a *Approvals) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&a.Count)
	}
	return n.Decode(&a.Rules)
}

// Policy is a checked policy file, ready to judge.
type Policy struct {
	file     File
	version  string
	window   time.Duration
	confirm  time.Duration
	sla      map[cases.Severity]cases.SLA
	severity []SeverityRule
}

// DefaultWindow is the correlation window of a file that sets none.
const DefaultWindow = 72 * time.Hour

var defaultSLA = map[cases.Severity]cases.SLA{
	cases.SeverityCritical: {FirstTouch: 30 * time.Minute, Resolve: 4 * time.Hour},
	cases.SeverityHigh:     {FirstTouch: 2 * time.Hour, Resolve: 8 * time.Hour},
	cases.SeverityMedium:   {FirstTouch: 6 * time.Hour, Resolve: 24 * time.Hour},
	cases.SeverityLow:      {FirstTouch: 18 * time.Hour, Resolve: 72 * time.Hour},
}

// DefaultSeverityRules apply when a file has no severity section: money at
// stake, days late, variance, and a strategic customer (docs/cases.md).
var DefaultSeverityRules = []SeverityRule{
	{When: Expr{Src: "amount >= 10000.0"}, AtLeast: "medium"},
	{When: Expr{Src: "amount >= 50000.0"}, AtLeast: "high"},
	{When: Expr{Src: "amount >= 250000.0"}, AtLeast: "critical"},
	{When: Expr{Src: "days_late >= 2.0"}, AtLeast: "medium"},
	{When: Expr{Src: "days_late >= 5.0"}, AtLeast: "high"},
	{When: Expr{Src: "variance_pct >= 10.0"}, AtLeast: "medium"},
	{When: Expr{Src: `customer_tier == "strategic"`}, Raise: 1},
}

// MaxPolicyBytes bounds a policy document. The largest real policy is a few
// KiB; a file far larger is a mistake (the wrong path, a log) and would cost
// the YAML decoder a hundred times its size in memory.
const MaxPolicyBytes = 1 << 20

// Load reads and checks a policy file.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	p, err := ParseFile(path, b)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	return p, nil
}

// Parse checks a policy document; errors name lines as "policy:LINE".
func Parse(b []byte) (*Policy, error) { return ParseFile("policy", b) }

// ParseFile checks a policy document read from name. Every problem is
// reported, not just the first; a condition's problem is reported as
// name:LINE with the expression.
func ParseFile(name string, b []byte) (*Policy, error) {
	if len(b) > MaxPolicyBytes {
		return nil, fmt.Errorf("parse: the policy is over %d bytes; is this the policy file?", MaxPolicyBytes)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	p := &Policy{file: f, window: DefaultWindow, sla: map[cases.Severity]cases.SLA{}}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	cond := func(key string, e *Expr) {
		if e == nil {
			return
		}
		if err := e.compile(); err != nil {
			bad("%s:%d: %s: condition `%s` %v", name, e.Line, key, e.Src, err)
		}
	}
	if strings.TrimSpace(f.Version) == "" {
		bad("version: required (a label such as 2026-11-27.1)")
	}
	if f.CorrelationWindow != "" {
		d, err := time.ParseDuration(f.CorrelationWindow)
		if err != nil || d <= 0 {
			bad("correlation_window: %q is not a positive duration such as 72h", f.CorrelationWindow)
		}
		p.window = d
	}
	p.confirm = DefaultConfirmationDue
	if f.ConfirmationDue != "" {
		d, err := time.ParseDuration(f.ConfirmationDue)
		if err != nil || d <= 0 {
			bad("confirmation_due: %q is not a positive duration such as 48h", f.ConfirmationDue)
		}
		p.confirm = d
	}
	if len(f.Teams) == 0 {
		bad("teams: at least one team is required")
	}
	for _, name := range sortedKeys(f.Teams) {
		if strings.TrimSpace(f.Teams[name].Channel) == "" {
			bad("teams.%s.channel: required", name)
		}
	}
	if _, ok := f.Teams[f.DefaultTeam]; !ok {
		bad("default_team: %q is not one of the teams", f.DefaultTeam)
	}
	if f.ComplianceTeam != "" {
		if _, ok := f.Teams[f.ComplianceTeam]; !ok {
			bad("compliance_team: %q is not one of the teams", f.ComplianceTeam)
		}
	}
	for _, t := range []struct {
		key string
		v   *float64
	}{{"price_pct", f.Tolerances.PricePct}, {"quantity_pct", f.Tolerances.QuantityPct}, {"total_pct", f.Tolerances.TotalPct}} {
		if t.v != nil && !(*t.v >= 0 && *t.v <= 100) {
			bad("tolerances.%s: %v is not a percentage between 0 and 100", t.key, *t.v)
		}
	}
	p.severity = f.Severity
	if len(p.severity) == 0 {
		p.severity = append([]SeverityRule(nil), DefaultSeverityRules...)
	}
	for i := range p.severity {
		r := &p.severity[i]
		cond(fmt.Sprintf("severity[%d].when", i), &r.When)
		switch {
		case r.AtLeast != "" && r.Raise != 0:
			bad("severity[%d]: at_least and raise exclude each other", i)
		case r.AtLeast != "":
			s, err := cases.ParseSeverity(r.AtLeast)
			if err != nil {
				bad("severity[%d].at_least: %v", i, err)
			}
			r.atLeast = s
		case r.Raise <= 0:
			bad("severity[%d]: needs at_least (low … critical) or raise (a positive number of levels)", i)
		}
	}
	known := map[string]bool{}
	for _, fam := range cases.Families() {
		known[string(fam)] = true
	}
	for i := range f.Routing {
		r := &f.Routing[i]
		if r.Family == "" && r.When == nil {
			bad("routing[%d]: needs family or when", i)
		}
		if r.Family != "" && !known[r.Family] {
			bad("routing[%d].family: unknown family %q", i, r.Family)
		}
		cond(fmt.Sprintf("routing[%d].when", i), r.When)
		if _, ok := f.Teams[r.Team]; !ok {
			bad("routing[%d].team: %q is not one of the teams", i, r.Team)
		}
	}
	for k, v := range defaultSLA {
		p.sla[k] = v
	}
	for _, sev := range sortedKeys(f.SLA) {
		spec := f.SLA[sev]
		s, err := cases.ParseSeverity(sev)
		if err != nil {
			bad("sla.%s: %v", sev, err)
			continue
		}
		resolve, err := time.ParseDuration(spec.Resolve)
		if err != nil || resolve <= 0 {
			bad("sla.%s: %q is not a positive duration", sev, spec.Resolve)
			continue
		}
		sla := cases.SLA{Resolve: resolve, FirstTouch: resolve / 4}
		if spec.FirstTouch != "" {
			ft, err := time.ParseDuration(spec.FirstTouch)
			if err != nil || ft <= 0 || ft > resolve {
				bad("sla.%s.first_touch: %q is not a positive duration up to the time to resolve", sev, spec.FirstTouch)
				continue
			}
			sla.FirstTouch = ft
		}
		p.sla[s] = sla
	}
	seen := map[string]bool{}
	for i := range f.Escalation {
		s := &f.Escalation[i]
		key := fmt.Sprintf("escalation[%d]", i)
		if s.Name == "" {
			bad("%s.name: required", key)
		} else if seen[s.Name] {
			bad("%s.name: %q is used twice; names keep a restart from repeating a step", key, s.Name)
		}
		seen[s.Name] = true
		base, off, err := parseAfter(s.After)
		if err != nil {
			bad("%s.after: %v", key, err)
		}
		s.base, s.offset = base, off
		switch {
		case s.To == "thread" || s.To == "manager":
		case strings.HasPrefix(s.To, "team:"):
			if _, ok := f.Teams[strings.TrimPrefix(s.To, "team:")]; !ok {
				bad("%s.to: %q is not one of the teams", key, strings.TrimPrefix(s.To, "team:"))
			}
		default:
			bad("%s.to: %q: want thread, manager or team:NAME", key, s.To)
		}
	}
	for _, name := range sortedKeys(f.Actions) {
		a := f.Actions[name]
		key := "actions." + name
		in01 := func(field string, v *float64) {
			if v != nil && !(*v >= 0 && *v <= 1) { // also refuses NaN
				bad("%s.%s: %v is not between 0 and 1", key, field, *v)
			}
		}
		in01("auto_at", a.AutoAt)
		in01("approve_at", a.ApproveAt)
		if a.AutoAt != nil && a.ApproveAt != nil && *a.ApproveAt > *a.AutoAt {
			bad("%s: approve_at %v is above auto_at %v", key, *a.ApproveAt, *a.AutoAt)
		}
		if why, ok := HumanOnly[name]; ok && a.AutoAt != nil {
			bad("%s.auto_at: %s is human-only (%s); exops never runs it alone", key, name, why)
		}
		if a.HumanOnly && a.AutoAt != nil {
			bad("%s: human_only and auto_at contradict each other", key)
		}
		cond(key+".when", a.When)
		if a.Team != "" {
			if _, ok := f.Teams[a.Team]; !ok {
				bad("%s.team: %q is not one of the teams", key, a.Team)
			}
		}
		if a.ApprovalTTL != "" {
			d, err := time.ParseDuration(a.ApprovalTTL)
			if err != nil || d <= 0 {
				bad("%s.approval_ttl: %q is not a positive duration", key, a.ApprovalTTL)
			}
			a.ttl = d
		}
		counts := []int{a.Approvals.Count}
		for j := range a.Approvals.Rules {
			r := &a.Approvals.Rules[j]
			cond(fmt.Sprintf("%s.approvals[%d].when", key, j), r.When)
			if r.Count < 1 {
				bad("%s.approvals[%d].count: must be 1 or more", key, j)
			}
			counts = append(counts, r.Count)
		}
		if n := len(a.Approvals.Rules); n > 0 && a.Approvals.Rules[n-1].When != nil {
			bad("%s.approvals: the last rule must have no when, so every case gets a number", key)
		}
		for _, n := range counts {
			if n < 0 {
				bad("%s.approvals: must not be negative", key)
				continue
			}
			// n of m needs m ≥ n for every team that may have to approve, or
			// approvals would stall for ever. User groups are counted at
			// decision time, so a spec with groups is not checked here.
			if n > 1 && len(a.ApproverGroups) == 0 {
				for _, t := range approvingTeams(f, a) {
					if m := len(approversOf(f, a, t)); m < n && len(f.Teams[t].ApproverGroups) == 0 {
						bad("%s.approvals: %d approvals needed but team %s has %d approvers", key, n, t, m)
					}
				}
			}
		}
		f.Actions[name] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.file = f
	canon, err := json.Marshal(f) // map keys sorted: the same policy always hashes the same
	if err != nil {
		return nil, fmt.Errorf("canonical form: %w", err)
	}
	sum := sha256.Sum256(canon)
	p.version = f.Version + "+sha256:" + hex.EncodeToString(sum[:])[:12]
	return p, nil
}

func parseAfter(s string) (string, time.Duration, error) {
	base, rest, hasPlus := strings.Cut(strings.ReplaceAll(s, " ", ""), "+")
	switch base {
	case "first_touch", "resolve":
		if !hasPlus {
			return base, 0, nil
		}
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return "", 0, fmt.Errorf("%q: the part after + must be a duration such as 4h", s)
		}
		return base, d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", 0, fmt.Errorf("%q: want first_touch, resolve, first_touch+DURATION, resolve+DURATION or a duration since the case opened", s)
	}
	return "opened", d, nil
}

func approvingTeams(f File, a ActionSpec) []string {
	if a.Team != "" || len(a.Approvers) > 0 {
		return []string{a.Team}
	}
	return sortedKeys(f.Teams)
}

func approversOf(f File, a ActionSpec, team string) []string {
	if len(a.Approvers) > 0 {
		return a.Approvers
	}
	return f.Teams[team].Approvers
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Version names the policy and its content hash.
func (p *Policy) Version() string { return p.version }

// DefaultConfirmationDue is the confirmation_due of a file that sets none.
const DefaultConfirmationDue = 48 * time.Hour

// ConfirmationDue is how long after a purchase order its supplier has to
// acknowledge it.
func (p *Policy) ConfirmationDue() time.Duration { return p.confirm }

// CorrelationWindow is how long a correlation key keeps joining events.
func (p *Policy) CorrelationWindow() time.Duration { return p.window }

// SLA is the time to first touch and to resolve a case of severity s.
func (p *Policy) SLA(s cases.Severity) cases.SLA {
	if d, ok := p.sla[s]; ok {
		return d
	}
	return p.sla[cases.SeverityLow]
}

// Severity applies the severity rules in order to a case whose event types
// give at least base.
func (p *Policy) Severity(c *cases.Case, base cases.Severity, now time.Time) cases.Severity {
	f := caseFacts(c, now)
	sev := max(base, cases.SeverityLow)
	for i := range p.severity {
		r := &p.severity[i]
		f.severity = int64(sev)
		if ok, _ := r.When.eval(&f); !ok {
			continue
		}
		if r.Raise > 0 {
			sev = min(sev+cases.Severity(r.Raise), cases.SeverityCritical)
		} else {
			sev = max(sev, r.atLeast)
		}
	}
	return sev
}

// Route returns the team and channel owning a case: the first routing rule
// that matches (by family and condition), else the default team.
func (p *Policy) Route(c *cases.Case, now time.Time) (string, string) {
	f := caseFacts(c, now)
	f.team = ""
	for i := range p.file.Routing {
		if p.routeMatches(&p.file.Routing[i], c, &f) {
			r := p.file.Routing[i]
			return r.Team, p.file.Teams[r.Team].Channel
		}
	}
	return p.file.DefaultTeam, p.file.Teams[p.file.DefaultTeam].Channel
}

func (p *Policy) routeMatches(r *RouteSpec, c *cases.Case, f *facts) bool {
	if r.Family != "" && !c.HasFamily(cases.Family(r.Family)) {
		return false
	}
	if r.When != nil {
		ok, _ := r.When.eval(f)
		return ok
	}
	return true
}

// Compliance returns who may export the audit trail: the compliance team's
// approvers and approver groups (none when the file names no such team).
func (p *Policy) Compliance() (users, groups []string) {
	if p.file.ComplianceTeam == "" {
		return nil, nil
	}
	t := p.file.Teams[p.file.ComplianceTeam]
	return append([]string(nil), t.Approvers...), append([]string(nil), t.ApproverGroups...)
}

// MatchTolerances returns the three-way match tolerances in percent:
// price, quantity and total (defaults 1, 2 and 1).
func (p *Policy) MatchTolerances() (price, quantity, total float64) {
	get := func(v *float64, def float64) float64 {
		if v == nil {
			return def
		}
		return *v
	}
	t := p.file.Tolerances
	return get(t.PricePct, 1), get(t.QuantityPct, 2), get(t.TotalPct, 1)
}

// Teams lists team names, sorted.
func (p *Policy) Teams() []string { return sortedKeys(p.file.Teams) }

// Escalation works out a case's reminder and escalation steps and when each
// is due, in time order.
func (p *Policy) Escalation(c *cases.Case) []cases.EscalationStep {
	var out []cases.EscalationStep
	team := p.file.Teams[c.Team]
	for _, s := range p.file.Escalation {
		var at time.Time
		switch s.base {
		case "first_touch":
			at = c.FirstTouchDue.Add(s.offset)
		case "resolve":
			at = c.SLADue.Add(s.offset)
		default:
			at = c.OpenedAt.Add(s.offset)
		}
		step := cases.EscalationStep{Name: s.Name, At: at, UnlessTouched: s.UnlessTouched}
		switch {
		case s.To == "manager":
			step.Channel = team.ManagerChannel
			if step.Channel == "" {
				step.Channel = team.Channel
			}
			step.Mention = team.Managers
			if len(step.Mention) == 0 {
				step.Mention = team.Approvers
			}
		case strings.HasPrefix(s.To, "team:"):
			t := p.file.Teams[strings.TrimPrefix(s.To, "team:")]
			step.Channel = t.Channel
			step.Mention = t.Managers
			if len(step.Mention) == 0 {
				step.Mention = t.Approvers
			}
		}
		step.Text = s.Text
		if step.Text == "" {
			step.Text = defaultEscalationText(s, c)
		}
		out = append(out, step)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func defaultEscalationText(s EscalationSpec, c *cases.Case) string {
	due := c.SLADue.UTC().Format("2006-01-02 15:04 MST")
	switch {
	case s.To == "thread" && s.base == "first_touch":
		return fmt.Sprintf("Reminder: no one has acted on %s yet (first touch was due %s). It is due to be resolved by %s.",
			c.ID, c.FirstTouchDue.UTC().Format("2006-01-02 15:04 MST"), due)
	case s.To == "thread":
		return fmt.Sprintf("Reminder: %s is due to be resolved by %s.", c.ID, due)
	default:
		return fmt.Sprintf("Escalation (%s): %s (%s, %s, owned by %s) is not resolved; it was due %s.",
			s.Name, c.ID, c.Severity, familiesText(c), c.Team, due)
	}
}

func familiesText(c *cases.Case) string {
	out := make([]string, len(c.Families))
	for i, f := range c.Families {
		out[i] = f.Label()
	}
	return strings.Join(out, ", ")
}

// Judge gives the verdict for one recommendation, with the rules it read.
func (p *Policy) Judge(c *cases.Case, r cases.Recommendation, now time.Time) cases.Judgement {
	spec, listed := p.file.Actions[r.Action]
	team := c.Team
	if spec.Team != "" {
		team = spec.Team
	}
	if _, ok := p.file.Teams[team]; !ok {
		team = p.file.DefaultTeam
	}
	approvers := spec.Approvers
	if len(approvers) == 0 {
		approvers = p.file.Teams[team].Approvers
	}
	groups := spec.ApproverGroups
	if len(groups) == 0 {
		groups = p.file.Teams[team].ApproverGroups
	}
	f := caseFacts(c, now).withRecommendation(r)
	j := cases.Judgement{
		Approvers:      append([]string(nil), approvers...),
		ApproverGroups: append([]string(nil), groups...),
		ApprovalTTL:    spec.ttl,
	}
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }
	explain := func(format string, args ...any) { j.Explain = append(j.Explain, fmt.Sprintf(format, args...)) }
	explain("policy %s, action %s, confidence %s, owner team %s", p.version, r.Action, pct(r.Confidence), team)
	j.ApprovalsNeeded = p.approvalsNeeded(spec, &f, explain)
	_, builtinHuman := HumanOnly[r.Action]
	humanOnly := spec.HumanOnly || builtinHuman
	guard := true
	if spec.When != nil {
		ok, err := spec.When.eval(&f)
		guard = ok
		if err != nil {
			explain("auto guard `%s` could not be evaluated (%v): counts as false", spec.When.Src, err)
		} else {
			explain("auto guard `%s` → %v (amount %.2f %s, tier %q, variance %.2f%%)", spec.When.Src, ok, f.amount, f.currency, f.tier, f.variance)
		}
	}
	// A document read with low confidence never lets an action go alone:
	// the fields its variances rest on must be certain.
	uncertain := uncertainFields(c, r.Family)
	if len(uncertain) > 0 {
		explain("document fields read with low confidence: %s", strings.Join(uncertain, ", "))
	}
	switch {
	case !listed:
		j.Verdict = cases.VerdictRecommend
		j.Reason = fmt.Sprintf("%s is not in policy %s: shown, a person from %s decides", r.Action, p.file.Version, team)
	case spec.AutoAt != nil && !humanOnly && r.Confidence >= *spec.AutoAt && guard && len(uncertain) > 0:
		j.Verdict = cases.VerdictApprove
		j.Reason = fmt.Sprintf("confidence %s reaches auto_at, but the document's %s were read with low confidence; %d of %s's approvers",
			pct(r.Confidence), strings.Join(uncertain, ", "), j.ApprovalsNeeded, team)
	case spec.Forbidden:
		j.Verdict = cases.VerdictDeny
		j.Reason = fmt.Sprintf("policy forbids %s", r.Action)
		j.Approvers, j.ApproverGroups = nil, nil
	case spec.AutoAt != nil && !humanOnly && r.Confidence >= *spec.AutoAt && guard:
		j.Verdict = cases.VerdictAuto
		j.Reason = fmt.Sprintf("confidence %s is at or above auto_at %s", pct(r.Confidence), pct(*spec.AutoAt))
		if spec.When != nil {
			j.Reason += " and " + spec.When.Src
		}
		j.Approvers, j.ApproverGroups = nil, nil
	case r.Confidence >= deref(spec.ApproveAt):
		j.Verdict = cases.VerdictApprove
		switch {
		case humanOnly:
			j.Reason = "human-only action: needs approval whatever the confidence"
		case spec.AutoAt != nil && r.Confidence >= *spec.AutoAt && !guard:
			j.Reason = fmt.Sprintf("confidence %s reaches auto_at but `%s` does not hold", pct(r.Confidence), spec.When.Src)
		default:
			j.Reason = fmt.Sprintf("confidence %s is at or above approve_at %s", pct(r.Confidence), pct(deref(spec.ApproveAt)))
			if spec.AutoAt != nil {
				j.Reason += fmt.Sprintf(" and below auto_at %s", pct(*spec.AutoAt))
			}
		}
		j.Reason += fmt.Sprintf("; %d of %s's approvers", j.ApprovalsNeeded, team)
	default:
		j.Verdict = cases.VerdictRecommend
		j.Reason = fmt.Sprintf("confidence %s is below approve_at %s: shown, a person decides", pct(r.Confidence), pct(deref(spec.ApproveAt)))
	}
	if spec.AutoAt != nil {
		explain("auto_at %s, approve_at %s, human-only %v", pct(*spec.AutoAt), pct(deref(spec.ApproveAt)), humanOnly)
	} else if listed {
		explain("no auto_at (never alone), approve_at %s, human-only %v", pct(deref(spec.ApproveAt)), humanOnly)
	}
	explain("verdict %s: %s", j.Verdict, j.Reason)
	return j
}

func (p *Policy) approvalsNeeded(spec ActionSpec, f *facts, explain func(string, ...any)) int {
	for i, r := range spec.Approvals.Rules {
		if r.When == nil {
			explain("approvals rule %d (no condition) → %d", i+1, r.Count)
			return r.Count
		}
		ok, _ := r.When.eval(f)
		explain("approvals rule %d `%s` → %v", i+1, r.When.Src, ok)
		if ok {
			return r.Count
		}
	}
	return max(spec.Approvals.Count, 1)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// uncertainFields lists the document fields, read with low confidence, that
// the events of family on c rest on (data.uncertain_fields of the events a
// document's three-way match raised).
func uncertainFields(c *cases.Case, family cases.Family) []string {
	var out []string
	for _, ce := range c.Events {
		if family != "" && ce.Family != family {
			continue
		}
		for _, f := range ce.Event().Strs("uncertain_fields") {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}
