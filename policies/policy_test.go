package policies_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/policies"
)

// header is a valid policy start that error cases extend.
const header = `version: "t1"
default_team: ops
teams:
  ops: {channel: "#ops", approvers: [U1, U2]}
  credit: {channel: "#credit", approvers: [UC1]}
`

func mustParse(t *testing.T, doc string) *policies.Policy {
	t.Helper()
	p, err := policies.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return p
}

var versionRE = regexp.MustCompile(`^(.+)\+sha256:[0-9a-f]{12}$`)

func TestParseExample(t *testing.T) {
	p := mustParse(t, string(policies.Example))
	m := versionRE.FindStringSubmatch(p.Version())
	if m == nil {
		t.Fatalf("Version() = %q, want <version>+sha256:<12 hex>", p.Version())
	}
	if m[1] != "2026-11-27.2" {
		t.Errorf("Version() label = %q, want the file's version 2026-11-27.2", m[1])
	}
	if got := p.CorrelationWindow(); got != 72*time.Hour {
		t.Errorf("CorrelationWindow() = %v, want 72h", got)
	}
	want := []string{"accounts-payable", "compliance", "credit", "customer-service", "ops-leadership", "procurement", "warehouse"}
	if got := p.Teams(); !reflect.DeepEqual(got, want) {
		t.Errorf("Teams() = %v, want %v", got, want)
	}
}

func TestVersionHash(t *testing.T) {
	base := header + `actions:
  reallocate_order: {auto_at: 0.95, approve_at: 0.6}
  split_shipment: {approve_at: 0.5}
`
	baseVersion := mustParse(t, base).Version()
	if !versionRE.MatchString(baseVersion) {
		t.Fatalf("Version() = %q, want <version>+sha256:<12 hex>", baseVersion)
	}
	tests := []struct {
		name string
		doc  string
		same bool
	}{
		{"same bytes", base, true},
		{"comments and layout only", "# a comment\n" + strings.ReplaceAll(base, "{auto_at: 0.95, approve_at: 0.6}", "\n    approve_at: 0.6   # ask\n    auto_at: 0.95"), true},
		{"map keys reordered", `version: "t1"
default_team: ops
teams:
  credit: {channel: "#credit", approvers: [UC1]}
  ops: {channel: "#ops", approvers: [U1, U2]}
actions:
  split_shipment: {approve_at: 0.5}
  reallocate_order: {approve_at: 0.6, auto_at: 0.95}
`, true},
		{"threshold changed", strings.Replace(base, "auto_at: 0.95", "auto_at: 0.9", 1), false},
		{"approver added", strings.Replace(base, "[U1, U2]", "[U1, U2, U3]", 1), false},
		{"channel changed", strings.Replace(base, `"#ops"`, `"#ops2"`, 1), false},
		{"action removed", strings.Replace(base, "  split_shipment: {approve_at: 0.5}\n", "", 1), false},
		{"window set", base + "correlation_window: 24h\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.doc).Version()
			if (got == baseVersion) != tt.same {
				t.Errorf("Version() = %q, base %q; want same=%v", got, baseVersion, tt.same)
			}
		})
	}
	t.Run("label is the prefix", func(t *testing.T) {
		got := mustParse(t, strings.Replace(base, `version: "t1"`, `version: "t2"`, 1)).Version()
		if !strings.HasPrefix(got, "t2+sha256:") {
			t.Errorf("Version() = %q, want prefix t2+sha256:", got)
		}
	})
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // the key the message must name
	}{
		{"missing version", `default_team: ops
teams: {ops: {channel: "#ops"}}
`, "version: required"},
		{"blank version", `version: "  "
default_team: ops
teams: {ops: {channel: "#ops"}}
`, "version: required"},
		{"window not a duration", header + "correlation_window: three days\n", "correlation_window:"},
		{"window zero", header + "correlation_window: 0s\n", "correlation_window:"},
		{"window negative", header + "correlation_window: -1h\n", "correlation_window:"},
		{"confirmation due not a duration", header + "confirmation_due: two days\n", "confirmation_due:"},
		{"confirmation due zero", header + "confirmation_due: 0s\n", "confirmation_due:"},
		{"no teams", `version: "t1"
default_team: ops
`, "teams: at least one team"},
		{"team without channel", header + "  wh: {approvers: [U9]}\n", "teams.wh.channel: required"},
		{"team with blank channel", header + "  wh: {channel: \" \"}\n", "teams.wh.channel: required"},
		{"unknown default_team", strings.Replace(header, "default_team: ops", "default_team: sales", 1), `default_team: "sales"`},
		{"missing default_team", strings.Replace(header, "default_team: ops\n", "", 1), "default_team:"},
		{"unknown routing family", header + "routing:\n  - {family: credit_hold, team: credit}\n  - {family: weather, team: ops}\n", `routing[1].family: unknown family "weather"`},
		{"unknown routing team", header + "routing:\n  - {family: credit_hold, team: finance}\n", `routing[0].team: "finance"`},
		{"unknown sla severity", header + "sla: {urgent: 1h}\n", "sla.urgent:"},
		{"bad sla duration", header + "sla: {high: soon}\n", "sla.high:"},
		{"zero sla duration", header + "sla: {low: 0h}\n", "sla.low:"},
		{"auto_at above 1", header + "actions: {x: {auto_at: 1.5}}\n", "actions.x.auto_at:"},
		{"auto_at below 0", header + "actions: {x: {auto_at: -0.1}}\n", "actions.x.auto_at:"},
		{"approve_at above 1", header + "actions: {x: {approve_at: 2}}\n", "actions.x.approve_at:"},
		{"approve_at below 0", header + "actions: {x: {approve_at: -1}}\n", "actions.x.approve_at:"},
		{"auto_at infinite", header + "actions: {x: {auto_at: .inf}}\n", "actions.x.auto_at:"},
		{"approve_at above auto_at", header + "actions: {x: {auto_at: 0.5, approve_at: 0.8}}\n", "actions.x: approve_at 0.8 is above auto_at 0.5"},
		{"auto_at on built-in human-only", header + "actions: {release_credit_hold: {auto_at: 0.99}}\n", "actions.release_credit_hold.auto_at:"},
		{"auto_at on substitute_item", header + "actions: {substitute_item: {auto_at: 1}}\n", "actions.substitute_item.auto_at:"},
		{"human_only with auto_at", header + "actions: {x: {human_only: true, auto_at: 0.9}}\n", "actions.x: human_only and auto_at"},
		{"unknown action team", header + "actions: {x: {approve_at: 0.5, team: finance}}\n", `actions.x.team: "finance"`},
		{"negative approvals", header + "actions: {x: {approvals: -1}}\n", "actions.x.approvals:"},
		{"unknown top-level key", header + "colour: blue\n", "colour"},
		{"unknown action key", header + "actions: {x: {auto: 0.9}}\n", "auto"},
		{"unknown team key", header + "  wh: {channel: \"#wh\", approver: [U9]}\n", "approver"},
		{"not yaml", "version: [\n", "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policies.Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.doc)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}

// A NaN threshold must be refused with a message naming the key, like any
// other threshold outside [0, 1].
func TestParseRefusesNaNThreshold(t *testing.T) {
	_, err := policies.Parse([]byte(header + "actions: {x: {auto_at: .nan}}\n"))
	if err == nil {
		t.Fatal("Parse accepted auto_at: .nan")
	}
	if !strings.Contains(err.Error(), "actions.x.auto_at") {
		t.Fatalf("regression: auto_at .nan slips past the [0,1] check (NaN comparisons are false); it is refused only by json.Marshal with %q, which names no key", err)
	}
}

// An action that needs more approvals than its team has approvers can never
// be approved; the file should be refused when loaded, not discovered stuck.
func TestParseRefusesUnreachableApprovals(t *testing.T) {
	_, err := policies.Parse([]byte(header + "actions: {x: {approve_at: 0.5, team: credit, approvals: 2}}\n"))
	if err == nil {
		t.Fatal("regression: approvals 2 with team credit (1 approver) is accepted; every approval of x would stall at 1 of 2")
	}
	if !strings.Contains(err.Error(), "actions.x.approvals") {
		t.Errorf("error %q does not name actions.x.approvals", err)
	}
}

func TestParseReportsEveryError(t *testing.T) {
	doc := `default_team: nobody
teams:
  ops: {approvers: [U1]}
routing:
  - {family: weather, team: ops}
sla: {high: soon}
actions:
  a: {auto_at: 3}
  b: {approvals: -2}
`
	_, err := policies.Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse accepted a file with seven errors")
	}
	for _, want := range []string{"version:", "teams.ops.channel:", "default_team:", "routing[0].family:", "sla.high:", "actions.a.auto_at:", "actions.b.approvals:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not report %q:\n%v", want, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 7 {
		t.Errorf("error has %d lines, want one per problem (7):\n%v", n, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(header+"sla: {high: soon}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A valid policy padded past the bound with a comment: refused for its
	// size, not read.
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, append(append([]byte(nil), policies.Example...), []byte("\n# "+strings.Repeat("x", policies.MaxPolicyBytes))...), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policies.Load(good)
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if want := mustParse(t, string(policies.Example)).Version(); p.Version() != want {
		t.Errorf("Load version %q, Parse version %q", p.Version(), want)
	}
	tests := []struct {
		path string
		want []string
	}{
		{bad, []string{bad, "sla.high:"}},
		{filepath.Join(dir, "absent.yaml"), []string{"absent.yaml"}},
		{huge, []string{huge, "over 1048576 bytes"}},
	}
	for _, tt := range tests {
		_, err := policies.Load(tt.path)
		if err == nil {
			t.Errorf("Load(%s) succeeded", tt.path)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%s) error %q does not contain %q", tt.path, err, w)
			}
		}
	}
	if _, err := policies.Load(filepath.Join(dir, "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) error %v does not wrap os.ErrNotExist", err)
	}
}

const judgePolicy = `version: "j1"
default_team: cs
teams:
  cs: {channel: "#cs", approvers: [UCS1, UCS2]}
  credit: {channel: "#credit", approvers: [UCR1]}
  wh: {channel: "#wh", approvers: [UWH1, UWH2, UWH3]}
actions:
  tiered: {auto_at: 0.9, approve_at: 0.6}
  approve_only: {approve_at: 0.5}
  auto_only: {auto_at: 0.8}
  forbid: {forbidden: true, auto_at: 0.1}
  custom_human: {human_only: true, approve_at: 0.3}
  release_credit_hold: {approve_at: 0, team: credit}
  two_man: {approve_at: 0.5, approvals: 2, team: wh}
  one_explicit: {approve_at: 0.5, approvals: 1}
`

func TestJudge(t *testing.T) {
	p := mustParse(t, judgePolicy)
	cs := []string{"UCS1", "UCS2"}
	tests := []struct {
		name      string
		team      string // the case's team
		action    string
		conf      float64
		verdict   cases.Verdict
		approvers []string
		n         int
	}{
		{"auto above auto_at", "cs", "tiered", 0.95, cases.VerdictAuto, nil, 1},
		{"auto at auto_at", "cs", "tiered", 0.9, cases.VerdictAuto, nil, 1},
		{"approve just below auto_at", "cs", "tiered", 0.89, cases.VerdictApprove, cs, 1},
		{"approve at approve_at", "cs", "tiered", 0.6, cases.VerdictApprove, cs, 1},
		{"recommend below approve_at", "cs", "tiered", 0.59, cases.VerdictRecommend, cs, 1},
		{"no auto_at never auto", "cs", "approve_only", 1.0, cases.VerdictApprove, cs, 1},
		{"no auto_at below approve_at", "cs", "approve_only", 0.49, cases.VerdictRecommend, cs, 1},
		{"auto_only at threshold", "cs", "auto_only", 0.8, cases.VerdictAuto, nil, 1},
		{"auto_only below: approve_at defaults to 0", "cs", "auto_only", 0.0, cases.VerdictApprove, cs, 1},
		{"forbidden even at 1.0", "cs", "forbid", 1.0, cases.VerdictDeny, nil, 1},
		{"unlisted action recommends", "cs", "launch_rocket", 1.0, cases.VerdictRecommend, cs, 1},
		{"unlisted built-in human-only recommends", "cs", "grant_service_exception", 1.0, cases.VerdictRecommend, cs, 1},
		{"human_only never auto at 1.0", "cs", "custom_human", 1.0, cases.VerdictApprove, cs, 1},
		{"human_only below approve_at", "cs", "custom_human", 0.2, cases.VerdictRecommend, cs, 1},
		{"built-in human-only never auto; action team approves", "cs", "release_credit_hold", 1.0, cases.VerdictApprove, []string{"UCR1"}, 1},
		{"approvals n with action team", "cs", "two_man", 0.7, cases.VerdictApprove, []string{"UWH1", "UWH2", "UWH3"}, 2},
		{"case team approves without action team", "wh", "tiered", 0.7, cases.VerdictApprove, []string{"UWH1", "UWH2", "UWH3"}, 1},
		{"unknown case team falls back to default", "ghost", "tiered", 0.7, cases.VerdictApprove, cs, 1},
		{"approvals 1 explicit", "credit", "one_explicit", 0.5, cases.VerdictApprove, []string{"UCR1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cases.Case{ID: "EX-000001", Team: tt.team}
			j := p.Judge(c, cases.Recommendation{Action: tt.action, Confidence: tt.conf}, testNow)
			if j.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s (reason %q)", j.Verdict, tt.verdict, j.Reason)
			}
			if !reflect.DeepEqual(j.Approvers, tt.approvers) {
				t.Errorf("approvers %v, want %v", j.Approvers, tt.approvers)
			}
			if j.ApprovalsNeeded != tt.n {
				t.Errorf("approvals needed %d, want %d", j.ApprovalsNeeded, tt.n)
			}
			if strings.TrimSpace(j.Reason) == "" {
				t.Error("empty reason: people must see why")
			}
		})
	}
}

// The approvers a Judgement returns must not alias the policy: the engine
// appends to and stores them.
func TestJudgeApproversAreCopies(t *testing.T) {
	p := mustParse(t, judgePolicy)
	c := &cases.Case{Team: "cs"}
	j := p.Judge(c, cases.Recommendation{Action: "approve_only", Confidence: 1}, testNow)
	j.Approvers[0] = "MALLORY"
	j2 := p.Judge(c, cases.Recommendation{Action: "approve_only", Confidence: 1}, testNow)
	if j2.Approvers[0] != "UCS1" {
		t.Errorf("changing a judgement's approvers changed the policy: %v", j2.Approvers)
	}
}

func TestJudgeExample(t *testing.T) {
	p := mustParse(t, string(policies.Example))
	tests := []struct {
		action    string
		conf      float64
		verdict   cases.Verdict
		approvers []string
	}{
		{"release_credit_hold", 1.0, cases.VerdictApprove, []string{"U0CREDITMGR", "U0CFO"}},
		{"accept_price_variance", 1.0, cases.VerdictAuto, nil},
		{"accept_price_variance", 0.43, cases.VerdictRecommend, []string{"U0CSLEAD", "U0CSSUP"}},
		{"reallocate_order", 0.8, cases.VerdictApprove, []string{"U0CSLEAD", "U0CSSUP"}},
		{"dispute_price_variance", 1.0, cases.VerdictApprove, []string{"U0CSLEAD", "U0CSSUP"}},
		{"expedite_shipment", 0.6, cases.VerdictApprove, []string{"U0BUYERLEAD", "U0BUYER2"}},
		{"substitute_item", 1.0, cases.VerdictApprove, []string{"U0CSLEAD", "U0CSSUP"}},
		{"ask_supplier_confirmation", 0.67, cases.VerdictApprove, []string{"U0CSLEAD", "U0CSSUP"}},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			c := &cases.Case{Team: "customer-service"}
			j := p.Judge(c, cases.Recommendation{Action: tt.action, Confidence: tt.conf}, testNow)
			if j.Verdict != tt.verdict || !reflect.DeepEqual(j.Approvers, tt.approvers) {
				t.Errorf("Judge(%s, %.2f) = %s %v, want %s %v (%s)", tt.action, tt.conf, j.Verdict, j.Approvers, tt.verdict, tt.approvers, j.Reason)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	p := mustParse(t, `version: "r1"
default_team: cs
teams:
  cs: {channel: "#cs"}
  credit: {channel: "#credit"}
  wh: {channel: "#wh"}
routing:
  - {family: allocation_conflict, team: cs}
  - {family: credit_hold, team: credit}
  - {family: inventory_variance, team: wh}
  - {family: credit_hold, team: wh}
`)
	ex := mustParse(t, string(policies.Example))
	tests := []struct {
		name          string
		p             *policies.Policy
		families      []cases.Family
		team, channel string
	}{
		{"single family", p, []cases.Family{cases.FamilyInventoryVariance}, "wh", "#wh"},
		{"first rule wins, not first family", p, []cases.Family{cases.FamilyInventoryVariance, cases.FamilyCreditHold}, "credit", "#credit"},
		{"earlier rule beats later duplicate", p, []cases.Family{cases.FamilyCreditHold}, "credit", "#credit"},
		{"composite goes to the first matching rule", p, []cases.Family{cases.FamilyCreditHold, cases.FamilyAllocationConflict}, "cs", "#cs"},
		{"no rule: default team", p, []cases.Family{cases.FamilySupplierDelay}, "cs", "#cs"},
		{"no families: default team", p, nil, "cs", "#cs"},
		{"example credit hold", ex, []cases.Family{cases.FamilyCreditHold}, "credit", "#credit-desk"},
		{"example composite order problem", ex, []cases.Family{cases.FamilyCreditHold, cases.FamilySupplierDelay, cases.FamilyAllocationConflict}, "customer-service", "#cs-exceptions"},
		{"example price", ex, []cases.Family{cases.FamilyPriceDiscrepancy}, "accounts-payable", "#ap-exceptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			team, ch := tt.p.Route(&cases.Case{Families: tt.families}, testNow)
			if team != tt.team || ch != tt.channel {
				t.Errorf("Route(%v) = %s %s, want %s %s", tt.families, team, ch, tt.team, tt.channel)
			}
		})
	}
}

func TestSLAAndWindow(t *testing.T) {
	defaults := mustParse(t, header)
	custom := mustParse(t, header+"correlation_window: 24h\nsla: {high: 2h, low: 48h}\n")
	tests := []struct {
		name string
		p    *policies.Policy
		sev  cases.Severity
		want time.Duration
	}{
		{"default critical", defaults, cases.SeverityCritical, 4 * time.Hour},
		{"default high", defaults, cases.SeverityHigh, 8 * time.Hour},
		{"default medium", defaults, cases.SeverityMedium, 24 * time.Hour},
		{"default low", defaults, cases.SeverityLow, 72 * time.Hour},
		{"override high", custom, cases.SeverityHigh, 2 * time.Hour},
		{"override low", custom, cases.SeverityLow, 48 * time.Hour},
		{"not overridden keeps default", custom, cases.SeverityCritical, 4 * time.Hour},
		{"not overridden medium", custom, cases.SeverityMedium, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.SLA(tt.sev).Resolve; got != tt.want {
				t.Errorf("SLA(%s) = %v, want %v", tt.sev, got, tt.want)
			}
		})
	}
	if got := defaults.CorrelationWindow(); got != 72*time.Hour {
		t.Errorf("default CorrelationWindow() = %v, want 72h", got)
	}
	if got := defaults.ConfirmationDue(); got != 48*time.Hour {
		t.Errorf("default ConfirmationDue() = %v, want 48h", got)
	}
	if got := mustParse(t, header+"confirmation_due: 36h\n").ConfirmationDue(); got != 36*time.Hour {
		t.Errorf("ConfirmationDue() = %v, want 36h", got)
	}
	if got := custom.CorrelationWindow(); got != 24*time.Hour {
		t.Errorf("CorrelationWindow() = %v, want 24h", got)
	}
}

// Policy must satisfy the engine's port.
var _ cases.Policy = (*policies.Policy)(nil)
