package cases

import (
	"sort"
	"strings"
	"time"
)

// Pattern is something resolved cases share, with how often it came back
// and the time its cases stayed open: where redesigning a process upstream
// would save the most.
type Pattern struct {
	Dimension string        // supplier, sku, warehouse, customer or family
	Value     string        // as the cases give it (a name where known)
	Count     int           // resolved cases that share it
	TimeLost  time.Duration // the sum of their time from opened to resolved
	Cases     []string      // their ids, newest first, at most maxPatternCases
}

const maxPatternCases = 5

// Patterns is the one pattern clustering: `exops report`, the daily digest
// and the answers to "what keeps coming back" all name the same patterns.
//
// Patterns clusters resolved cases by what they share (supplier, SKU,
// warehouse, customer, family) and returns the top recurring patterns: those
// of two cases or more, most cases first, then most time lost. A case counts
// once per value; cases not resolved, or without a resolution time, are not
// counted.
func Patterns(cs []*Case, top int) []Pattern {
	type key struct{ dim, val string }
	type acc struct {
		display string
		count   int
		lost    time.Duration
		cases   []*Case
	}
	groups := map[key]*acc{}
	for _, c := range cs {
		if c.Status != StatusResolved || c.ResolvedAt == nil {
			continue
		}
		lost := max(c.ResolvedAt.Sub(c.OpenedAt), 0)
		seen := map[key]bool{}
		add := func(dim, v, display string) {
			v = strings.TrimSpace(v)
			if v == "" {
				return
			}
			k := key{dim, strings.ToLower(v)}
			if seen[k] {
				return
			}
			seen[k] = true
			g := groups[k]
			if g == nil {
				g = &acc{display: or(display, v)}
				groups[k] = g
			}
			g.count++
			g.lost += lost
			g.cases = append(g.cases, c)
		}
		for _, f := range c.Families {
			add("family", string(f), f.Label())
		}
		for _, ce := range c.Events {
			ev := ce.Event()
			add("supplier", ev.Str("supplier"), "")
			add("sku", ev.Str("sku"), "")
			add("warehouse", ev.Str("warehouse"), "")
			if cu := ev.Str("customer"); cu != "" {
				name := or(c.Context[CtxCustomerName(cu)], ev.Str("customer_name"))
				display := cu
				if name != "" {
					display = name + " (" + cu + ")"
				}
				add("customer", cu, display)
			}
		}
	}
	var out []Pattern
	for k, g := range groups {
		if g.count < 2 {
			continue
		}
		sort.Slice(g.cases, func(i, j int) bool {
			if !g.cases[i].OpenedAt.Equal(g.cases[j].OpenedAt) {
				return g.cases[i].OpenedAt.After(g.cases[j].OpenedAt)
			}
			return g.cases[i].ID > g.cases[j].ID
		})
		p := Pattern{Dimension: k.dim, Value: g.display, Count: g.count, TimeLost: g.lost}
		for _, c := range g.cases[:min(len(g.cases), maxPatternCases)] {
			p.Cases = append(p.Cases, c.ID)
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.TimeLost != b.TimeLost {
			return a.TimeLost > b.TimeLost
		}
		if a.Dimension != b.Dimension {
			return a.Dimension < b.Dimension
		}
		return a.Value < b.Value
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
