package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/policies"
)

func (c *cli) policy(args []string) int {
	if len(args) == 0 {
		return c.usageError("policy needs check, explain or diff")
	}
	switch args[0] {
	case "check":
		return c.policyCheck(args[1:])
	case "explain":
		return c.policyExplain(args[1:])
	case "diff":
		return c.policyDiff(args[1:])
	}
	return c.usageError(fmt.Sprintf("unknown policy command %q", args[0]))
}

// positional splits arguments given before and after flags, since Go's flag
// package stops at the first non-flag.
func positional(fs interface {
	Parse([]string) error
	Args() []string
}, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return append(pos, fs.Args()...), nil
}

func (c *cli) policyCheck(args []string) int {
	fs := c.flags("policy check", "policy check FILE")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError("policy check needs one FILE")
	}
	p, err := policies.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(c.stderr, "%v\n", err)
		return exitFail
	}
	fmt.Fprintf(c.stdout, "%s: ok, version %s, %d teams\n", fs.Arg(0), p.Version(), len(p.Teams()))
	return exitOK
}

func (c *cli) policyExplain(args []string) int {
	fs := c.flags("policy explain", "policy explain --db PATH --policy FILE CASE-ID")
	db := c.dbFlag(fs)
	file := fs.String("policy", "", "policy `file` to explain with")
	pos, err := positional(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(pos) != 1 || *file == "" {
		return c.usageError("policy explain needs --policy FILE and one CASE-ID")
	}
	pol, err := policies.Load(*file)
	if err != nil {
		return c.fail(err)
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	var cs *cases.Case
	err = s.View(c.ctx, func(tx cases.ReadTx) error {
		var err error
		cs, err = tx.Case(strings.ToUpper(pos[0]))
		return err
	})
	if cases.KindOf(err) == cases.KindNotFound {
		return c.fail(fmt.Errorf("no case %s in %s", pos[0], *db))
	} else if err != nil {
		return c.fail(err)
	}
	explainCase(c.stdout, pol, cs, c.clock())
	return exitOK
}

func explainCase(w io.Writer, pol *policies.Policy, cs *cases.Case, now time.Time) {
	fmt.Fprintf(w, "%s under policy %s\n", cs.ID, pol.Version())
	team, channel := pol.Route(cs, now)
	sla := pol.SLA(cs.Severity)
	fmt.Fprintf(w, "severity %s, routed to %s (%s), first touch within %s, resolve within %s\n", cs.Severity, team, channel, sla.FirstTouch, sla.Resolve)
	for _, st := range pol.Escalation(cs) {
		where := "the case thread"
		if st.Channel != "" {
			where = st.Channel
		}
		done := ""
		for _, n := range cs.Escalated {
			if n == st.Name {
				done = " (taken)"
			}
		}
		fmt.Fprintf(w, "escalation %s at %s to %s%s\n", st.Name, st.At.UTC().Format(time.RFC3339), where, done)
	}
	if len(cs.Recommendations) == 0 {
		fmt.Fprintln(w, "no recommendations")
	}
	for _, r := range cs.Recommendations {
		j := pol.Judge(cs, r, now)
		fmt.Fprintf(w, "\n%s %s (%s, confidence %.0f%%): verdict %s\n", r.ID, r.Action, r.State, r.Confidence*100, j.Verdict)
		if r.PolicyVersion != "" && (r.PolicyVersion != pol.Version() || r.Verdict != j.Verdict) {
			fmt.Fprintf(w, "  stored: verdict %s under %s\n", r.Verdict, r.PolicyVersion)
		}
		for _, line := range j.Explain {
			fmt.Fprintf(w, "  - %s\n", line)
		}
		if len(j.Approvers)+len(j.ApproverGroups) > 0 && j.Verdict != cases.VerdictAuto {
			fmt.Fprintf(w, "  approvers: %s (%d needed)\n", strings.Join(append(append([]string(nil), j.Approvers...), j.ApproverGroups...), ", "), j.ApprovalsNeeded)
		}
	}
}

func (c *cli) policyDiff(args []string) int {
	fs := c.flags("policy diff", "policy diff OLD NEW [--db PATH]")
	db := c.dbFlag(fs)
	pos, err := positional(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(pos) != 2 {
		return c.usageError("policy diff needs OLD and NEW policy files")
	}
	oldP, err := policies.Load(pos[0])
	if err != nil {
		return c.fail(err)
	}
	newP, err := policies.Load(pos[1])
	if err != nil {
		return c.fail(err)
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	d := policyDiff{changes: map[string]int{}}
	err = s.View(c.ctx, func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(cs *cases.Case) error {
			if cs.Status == cases.StatusMerged {
				return nil
			}
			d.add(oldP, newP, cs, c.clock())
			return nil
		})
	})
	if err != nil {
		return c.fail(err)
	}
	d.print(c.stdout, oldP, newP)
	return exitOK
}

// policyDiff counts what replaying the stored cases under two policies
// changes: verdicts per action, routing and severity.
type policyDiff struct {
	cases, recs, changedRecs, rerouted, resevered int
	changes                                       map[string]int
}

func (d *policyDiff) add(a, b *policies.Policy, cs *cases.Case, now time.Time) {
	d.cases++
	ta, _ := a.Route(cs, now)
	tb, _ := b.Route(cs, now)
	if ta != tb {
		d.rerouted++
		d.changes[fmt.Sprintf("routing: %s → %s", ta, tb)]++
	}
	base := cases.SeverityLow
	for _, ce := range cs.Events {
		if t, ok := cases.LookupEventType(ce.Type); ok && t.Severity > base {
			base = t.Severity
		}
	}
	if sa, sb := a.Severity(cs, base, now), b.Severity(cs, base, now); sa != sb {
		d.resevered++
		d.changes[fmt.Sprintf("severity: %s → %s", sa, sb)]++
	}
	for _, r := range cs.Recommendations {
		d.recs++
		va, vb := a.Judge(cs, r, now).Verdict, b.Judge(cs, r, now).Verdict
		if va != vb {
			d.changedRecs++
			d.changes[fmt.Sprintf("%s: %s → %s", r.Action, va, vb)]++
		}
	}
}

func (d *policyDiff) print(w io.Writer, a, b *policies.Policy) {
	fmt.Fprintf(w, "replayed %d cases, %d recommendations under %s and %s\n", d.cases, d.recs, a.Version(), b.Version())
	fmt.Fprintf(w, "%d verdicts change, %d cases route elsewhere, %d change severity\n", d.changedRecs, d.rerouted, d.resevered)
	keys := make([]string, 0, len(d.changes))
	for k := range d.changes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", k, d.changes[k])
	}
	tw.Flush()
}
