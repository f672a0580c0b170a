// Package policies loads the policy file and turns it into verdicts: what
// exops may do on its own, what needs whose approval, and what it only shows.
package policies

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	Routing           []RouteSpec           `yaml:"routing" json:"routing"`
	SLA               map[string]string     `yaml:"sla" json:"sla"`
	Actions           map[string]ActionSpec `yaml:"actions" json:"actions"`
}

// TeamSpec is a team: its Slack channel and the people who may approve.
type TeamSpec struct {
	Channel   string   `yaml:"channel" json:"channel"`
	Approvers []string `yaml:"approvers" json:"approvers"`
}

// RouteSpec sends cases with a family to a team; the first rule that matches
// one of a case's families wins.
type RouteSpec struct {
	Family string `yaml:"family" json:"family"`
	Team   string `yaml:"team" json:"team"`
}

// ActionSpec sets the thresholds for one action.
type ActionSpec struct {
	// AutoAt: at or above this confidence exops acts alone. Absent: never.
	AutoAt *float64 `yaml:"auto_at" json:"auto_at,omitempty"`
	// ApproveAt: at or above this confidence the team's approvers are asked.
	// Below it the action is only shown (recommend). Absent: 0.
	ApproveAt *float64 `yaml:"approve_at" json:"approve_at,omitempty"`
	HumanOnly bool     `yaml:"human_only" json:"human_only,omitempty"`
	Forbidden bool     `yaml:"forbidden" json:"forbidden,omitempty"`
	// Team whose approvers decide; default the team that owns the case.
	Team string `yaml:"team" json:"team,omitempty"`
	// Approvals needed (n of the approvers); default 1.
	Approvals int `yaml:"approvals" json:"approvals,omitempty"`
}

// Policy is a checked policy file, ready to judge.
type Policy struct {
	file    File
	version string
	window  time.Duration
	sla     map[cases.Severity]time.Duration
}

// Defaults for what a file leaves out.
const (
	DefaultWindow = 72 * time.Hour
)

var defaultSLA = map[cases.Severity]time.Duration{
	cases.SeverityCritical: 4 * time.Hour,
	cases.SeverityHigh:     8 * time.Hour,
	cases.SeverityMedium:   24 * time.Hour,
	cases.SeverityLow:      72 * time.Hour,
}

// Load reads and checks a policy file.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	return p, nil
}

// Parse checks a policy document. Every problem is reported, not just the first.
func Parse(b []byte) (*Policy, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	p := &Policy{file: f, window: DefaultWindow, sla: map[cases.Severity]time.Duration{}}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
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
	if len(f.Teams) == 0 {
		bad("teams: at least one team is required")
	}
	for name, t := range f.Teams {
		if strings.TrimSpace(t.Channel) == "" {
			bad("teams.%s.channel: required", name)
		}
	}
	if _, ok := f.Teams[f.DefaultTeam]; !ok {
		bad("default_team: %q is not one of the teams", f.DefaultTeam)
	}
	known := map[string]bool{}
	for _, fam := range cases.Families() {
		known[string(fam)] = true
	}
	for i, r := range f.Routing {
		if !known[r.Family] {
			bad("routing[%d].family: unknown family %q", i, r.Family)
		}
		if _, ok := f.Teams[r.Team]; !ok {
			bad("routing[%d].team: %q is not one of the teams", i, r.Team)
		}
	}
	for k, v := range defaultSLA {
		p.sla[k] = v
	}
	for name, v := range f.SLA {
		s, err := cases.ParseSeverity(name)
		if err != nil {
			bad("sla.%s: %v", name, err)
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("sla.%s: %q is not a positive duration", name, v)
			continue
		}
		p.sla[s] = d
	}
	for name, a := range f.Actions {
		in01 := func(field string, v *float64) {
			if v != nil && !(*v >= 0 && *v <= 1) { // also refuses NaN
				bad("actions.%s.%s: %v is not between 0 and 1", name, field, *v)
			}
		}
		in01("auto_at", a.AutoAt)
		in01("approve_at", a.ApproveAt)
		if a.AutoAt != nil && a.ApproveAt != nil && *a.ApproveAt > *a.AutoAt {
			bad("actions.%s: approve_at %v is above auto_at %v", name, *a.ApproveAt, *a.AutoAt)
		}
		if why, ok := HumanOnly[name]; ok && a.AutoAt != nil {
			bad("actions.%s.auto_at: %s is human-only (%s); exops never runs it alone", name, name, why)
		}
		if a.HumanOnly && a.AutoAt != nil {
			bad("actions.%s: human_only and auto_at contradict each other", name)
		}
		if a.Team != "" {
			if _, ok := f.Teams[a.Team]; !ok {
				bad("actions.%s.team: %q is not one of the teams", name, a.Team)
			}
		}
		if a.Approvals < 0 {
			bad("actions.%s.approvals: must not be negative", name)
		}
		// n of m needs m ≥ n in every team that may have to approve, or
		// approvals would stall for ever.
		if a.Approvals > 1 {
			teams := []string{a.Team}
			if a.Team == "" {
				teams = nil
				for t := range f.Teams {
					teams = append(teams, t)
				}
				sort.Strings(teams)
			}
			for _, t := range teams {
				if ts, ok := f.Teams[t]; ok && len(ts.Approvers) < a.Approvals {
					bad("actions.%s.approvals: %d approvals needed but team %s has %d approvers", name, a.Approvals, t, len(ts.Approvers))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	canon, err := json.Marshal(f) // map keys sorted: the same policy always hashes the same
	if err != nil {
		return nil, fmt.Errorf("canonical form: %w", err)
	}
	sum := sha256.Sum256(canon)
	p.version = f.Version + "+sha256:" + hex.EncodeToString(sum[:])[:12]
	return p, nil
}

// Version names the policy and its content hash.
func (p *Policy) Version() string { return p.version }

// CorrelationWindow is how long a correlation key keeps joining events.
func (p *Policy) CorrelationWindow() time.Duration { return p.window }

// SLA is the time to resolve a case of severity s.
func (p *Policy) SLA(s cases.Severity) time.Duration {
	if d, ok := p.sla[s]; ok {
		return d
	}
	return defaultSLA[cases.SeverityLow]
}

// Route returns the team and channel owning a case: the first routing rule
// that names one of its families, else the default team.
func (p *Policy) Route(c *cases.Case) (string, string) {
	for _, r := range p.file.Routing {
		if c.HasFamily(cases.Family(r.Family)) {
			return r.Team, p.file.Teams[r.Team].Channel
		}
	}
	return p.file.DefaultTeam, p.file.Teams[p.file.DefaultTeam].Channel
}

// Teams lists team names, sorted.
func (p *Policy) Teams() []string {
	var out []string
	for n := range p.file.Teams {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Judge gives the verdict for one recommendation.
func (p *Policy) Judge(c *cases.Case, r cases.Recommendation) cases.Judgement {
	spec, listed := p.file.Actions[r.Action]
	team := c.Team
	if spec.Team != "" {
		team = spec.Team
	}
	if _, ok := p.file.Teams[team]; !ok {
		team = p.file.DefaultTeam
	}
	j := cases.Judgement{Approvers: append([]string(nil), p.file.Teams[team].Approvers...), ApprovalsNeeded: max(spec.Approvals, 1)}
	conf := r.Confidence
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }
	_, builtinHuman := HumanOnly[r.Action]
	humanOnly := spec.HumanOnly || builtinHuman
	switch {
	case !listed:
		j.Verdict = cases.VerdictRecommend
		j.Reason = fmt.Sprintf("%s is not in policy %s: shown, a person from %s decides", r.Action, p.file.Version, team)
	case spec.Forbidden:
		j.Verdict = cases.VerdictDeny
		j.Reason = fmt.Sprintf("policy forbids %s", r.Action)
		j.Approvers = nil
	case spec.AutoAt != nil && !humanOnly && conf >= *spec.AutoAt:
		j.Verdict = cases.VerdictAuto
		j.Reason = fmt.Sprintf("confidence %s is at or above auto_at %s", pct(conf), pct(*spec.AutoAt))
		j.Approvers = nil
	case conf >= deref(spec.ApproveAt):
		j.Verdict = cases.VerdictApprove
		j.Reason = fmt.Sprintf("confidence %s is at or above approve_at %s", pct(conf), pct(deref(spec.ApproveAt)))
		if spec.AutoAt != nil {
			j.Reason += fmt.Sprintf(" and below auto_at %s", pct(*spec.AutoAt))
		}
		if humanOnly {
			j.Reason = "human-only action: needs approval whatever the confidence"
		}
		j.Reason += fmt.Sprintf("; %d of %s's approvers", j.ApprovalsNeeded, team)
	default:
		j.Verdict = cases.VerdictRecommend
		j.Reason = fmt.Sprintf("confidence %s is below approve_at %s: shown, a person decides", pct(conf), pct(deref(spec.ApproveAt)))
	}
	return j
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
