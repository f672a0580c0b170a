package policies

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"gopkg.in/yaml.v3"

	"github.com/exops/exops/cases"
)

// Expr is a CEL condition from the file, with the line it was written on so
// that errors can say FILE:LINE.
type Expr struct {
	Src  string
	Line int
	prg  cel.Program
}

func (e *Expr) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a condition must be a string", n.Line)
	}
	e.Src, e.Line = n.Value, n.Line
	return nil
}

func (e Expr) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", e.Src)), nil }

// The variables a condition can use; docs/policies.md lists them for people.
var celVars = []struct {
	name string
	typ  *cel.Type
	doc  string
}{
	{"families", cel.ListType(cel.StringType), "the case's families"},
	{"family", cel.StringType, "the recommendation's family (for routing and severity: the case's first)"},
	{"action", cel.StringType, "the recommended action (empty for routing and severity)"},
	{"severity", cel.IntType, "1 low … 4 critical; compare with low, medium, high, critical"},
	{"priority", cel.StringType, "P1 … P4"},
	{"amount", cel.DoubleType, "money at stake: the largest of the events'"},
	{"currency", cel.StringType, "ISO 4217 code, USD if none is given"},
	{"customer", cel.StringType, "customer id"},
	{"customer_tier", cel.StringType, "strategic, key, standard or basic (CRM first, then the event)"},
	{"margin_impact", cel.DoubleType, "the events' margin_impact field, 0 if none"},
	{"variance_pct", cel.DoubleType, "largest price or quantity variance in percent, as a positive number"},
	{"days_late", cel.DoubleType, "largest ETA slip or confirmation delay in days"},
	{"confidence", cel.DoubleType, "the recommendation's confidence, 0 to 1 (0 for routing and severity)"},
	{"warehouse", cel.StringType, "warehouse code"},
	{"supplier", cel.StringType, "supplier"},
	{"region", cel.StringType, "the events' region field"},
	{"age_hours", cel.DoubleType, "hours since the case opened"},
	{"team", cel.StringType, "the team that owns the case (empty while routing)"},
	{"evidence", cel.MapType(cel.StringType, cel.BoolType), "check name → passed, for the recommendation"},
}

var celEnv = func() *cel.Env {
	opts := []cel.EnvOption{
		cel.Constant("low", cel.IntType, types.Int(cases.SeverityLow)),
		cel.Constant("medium", cel.IntType, types.Int(cases.SeverityMedium)),
		cel.Constant("high", cel.IntType, types.Int(cases.SeverityHigh)),
		cel.Constant("critical", cel.IntType, types.Int(cases.SeverityCritical)),
	}
	for _, v := range celVars {
		opts = append(opts, cel.Variable(v.name, v.typ))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		panic(fmt.Sprintf("policy CEL environment: %v", err)) // a bug in the declarations above
	}
	return env
}()

// compile parses and type-checks a condition; it must be a bool.
func (e *Expr) compile() error {
	if strings.TrimSpace(e.Src) == "" {
		return fmt.Errorf("empty condition")
	}
	ast, iss := celEnv.Compile(e.Src)
	if iss.Err() != nil {
		var msgs []string
		for _, ce := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("at column %d: %s", ce.Location.Column()+1, ce.Message))
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if ast.OutputType() != cel.BoolType {
		return fmt.Errorf("is a %s, not a true/false condition", ast.OutputType())
	}
	prg, err := celEnv.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return err
	}
	e.prg = prg
	return nil
}

// eval runs a compiled condition. A condition that fails at run time (a
// missing evidence key, say) counts as false: a guard that cannot be shown
// to hold does not hold.
func (e *Expr) eval(f *facts) (bool, error) {
	out, _, err := e.prg.Eval(f)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	return b && ok, nil
}

// facts is what a condition sees of a case and a recommendation. It is the
// CEL activation itself, so evaluating allocates no map.
type facts struct {
	families   []string
	family     string
	action     string
	severity   int64
	priority   string
	amount     float64
	currency   string
	customer   string
	tier       string
	margin     float64
	variance   float64
	daysLate   float64
	confidence float64
	warehouse  string
	supplier   string
	region     string
	ageHours   float64
	team       string
	evidence   map[string]bool
}

func (f *facts) ResolveName(name string) (any, bool) {
	switch name {
	case "families":
		return f.families, true
	case "family":
		return f.family, true
	case "action":
		return f.action, true
	case "severity":
		return f.severity, true
	case "priority":
		return f.priority, true
	case "amount":
		return f.amount, true
	case "currency":
		return f.currency, true
	case "customer":
		return f.customer, true
	case "customer_tier":
		return f.tier, true
	case "margin_impact":
		return f.margin, true
	case "variance_pct":
		return f.variance, true
	case "days_late":
		return f.daysLate, true
	case "confidence":
		return f.confidence, true
	case "warehouse":
		return f.warehouse, true
	case "supplier":
		return f.supplier, true
	case "region":
		return f.region, true
	case "age_hours":
		return f.ageHours, true
	case "team":
		return f.team, true
	case "evidence":
		return f.evidence, true
	}
	return nil, false
}

func (f *facts) Parent() interpreter.Activation { return nil }

// caseFacts reads the case once for all the conditions of one decision.
func caseFacts(c *cases.Case, now time.Time) facts {
	f := facts{severity: int64(c.Severity), priority: c.Priority, team: c.Team, currency: "USD"}
	f.families = make([]string, len(c.Families))
	for i, fam := range c.Families {
		f.families[i] = string(fam)
	}
	if len(f.families) > 0 {
		f.family = f.families[0]
	}
	ef := eventFactFolds.Fold(c)
	f.amount, f.variance, f.margin = ef.amount, ef.variance, ef.margin
	f.daysLate = ef.daysLate(now)
	f.currency, f.customer, f.tier, f.warehouse, f.supplier, f.region = ef.currency, ef.customer, ef.tier, ef.warehouse, ef.supplier, ef.region
	if t := c.Context[cases.CtxCustomerTier(f.customer)]; t != "" {
		f.tier = t
	}
	if !c.OpenedAt.IsZero() {
		f.ageHours = now.Sub(c.OpenedAt).Hours()
	}
	return f
}

// eventFacts is what caseFacts takes from a case's events, folded oldest
// first, so that a join folds only its new event (see cases.EventFolds).
// Every field is the loop's over all events: a maximum, or the latest
// value that is not empty; how late an event is depends on the time of the
// decision, so the earliest date a confirmation was expected by is kept
// instead of its lateness.
type eventFacts struct {
	amount, variance, margin float64
	// shipLate is the most days a shipment's ETA slipped; expectedBy the
	// earliest expected_by of a missing confirmation (hasExpected: any).
	shipLate    float64
	expectedBy  time.Time
	hasExpected bool

	currency, customer, tier, warehouse, supplier, region string
}

var eventFactFolds = cases.NewEventFolds(eventFacts{currency: "USD"}, func(f *eventFacts, ce *cases.CaseEvent) {
	ev := cases.Event{Type: ce.Type, Data: ce.Data}
	f.amount = math.Max(f.amount, ev.Amount())
	if v := math.Abs(ev.VariancePercent()); !math.IsInf(v, 0) {
		f.variance = math.Max(f.variance, v)
	} else {
		f.variance = math.Max(f.variance, 1e9) // something against nothing
	}
	switch ev.Type {
	case "shipment.delayed":
		// As Event.DaysLate: the slip, whatever the time.
		if o, err1 := cases.ParseDate(ev.Str("original_eta")); err1 == nil {
			if n, err2 := cases.ParseDate(ev.Str("new_eta")); err2 == nil {
				f.shipLate = math.Max(f.shipLate, n.Sub(o).Hours()/24)
			}
		}
	case "supplier.confirmation_missing":
		if d, err := cases.ParseDate(ev.Str("expected_by")); err == nil && (!f.hasExpected || d.Before(f.expectedBy)) {
			f.expectedBy, f.hasExpected = d, true
		}
	}
	if m, ok := ev.Num("margin_impact"); ok {
		f.margin = math.Max(f.margin, m)
	}
	set := func(dst *string, field string) {
		if v := ev.Str(field); v != "" {
			*dst = v
		}
	}
	set(&f.currency, "currency")
	set(&f.customer, "customer")
	set(&f.tier, "customer_tier")
	set(&f.warehouse, "warehouse")
	set(&f.supplier, "supplier")
	set(&f.region, "region")
})

// daysLate is the most days any event is late at now: the maximum of
// Event.DaysLate over the events (the latest lateness of a missing
// confirmation is that of the earliest expected date).
func (f eventFacts) daysLate(now time.Time) float64 {
	late := math.Max(0, f.shipLate)
	if f.hasExpected && now.After(f.expectedBy) {
		late = math.Max(late, now.Sub(f.expectedBy).Hours()/24)
	}
	return late
}

func (f facts) withRecommendation(r cases.Recommendation) facts {
	f.action, f.confidence = r.Action, r.Confidence
	if r.Family != "" {
		f.family = string(r.Family)
	}
	f.evidence = make(map[string]bool, len(r.Evidence))
	for _, e := range r.Evidence {
		f.evidence[e.Check] = e.Passed
	}
	return f
}
