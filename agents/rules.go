// Package agents writes case summaries and proposes actions. The rules agent
// here needs no language model: it is the default, and the fallback when a
// model fails. Confidence always comes from evidence that can be checked
// (docs/agents.md), never from what a model says about itself.
package agents

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/exops/exops/cases"
)

// Rules is the no-LLM agent.
type Rules struct {
	// PriceTolerancePct: an invoice price within this percent of the PO price
	// may be accepted. Default 1.
	PriceTolerancePct float64
	// QuantityTolerancePct: a receipt within this percent of the PO quantity
	// may be accepted. Default 2.
	QuantityTolerancePct float64
	// Now is the business clock, for lateness and ages in summaries.
	Now cases.Clock
}

// NewRules returns the rules agent with default tolerances, reading business
// time from now.
func NewRules(now cases.Clock) *Rules {
	return &Rules{PriceTolerancePct: 1, QuantityTolerancePct: 2, Now: now}
}

// Name is how the card credits the rules agent.
const Name = "rules"

// Summarize writes two to four plain sentences: what is wrong, the impact,
// the decision needed.
func (a *Rules) Summarize(_ context.Context, c *cases.Case) (string, string, error) {
	var s []string
	fams := make([]string, len(c.Families))
	for i, f := range c.Families {
		fams[i] = f.Label()
	}
	subject := subjectOf(c)
	if len(c.Families) > 1 {
		s = append(s, fmt.Sprintf("%s is one composite case %s with %s.", c.ID, subject, joinAnd(fams)))
	} else {
		s = append(s, fmt.Sprintf("%s: %s %s.", c.ID, fams[0], subject))
	}
	var impact []string
	if v, ok := c.FactNum("order_value"); ok {
		impact = append(impact, "order value "+cases.FormatAmount(v, c.Fact("currency")))
	}
	if p := c.Fact("promise_date"); p != "" {
		impact = append(impact, "promised for "+day(p))
	}
	for _, ev := range c.EventsOf(cases.FamilySupplierDelay) {
		impact = append(impact, fmt.Sprintf("inbound %s slipped %.0f days to %s", ev.Str("shipment"), ev.DaysLate(a.now()), day(ev.Str("new_eta"))))
	}
	for _, ev := range c.EventsOf(cases.FamilyPriceDiscrepancy) {
		impact = append(impact, fmt.Sprintf("invoice %s is %s off the PO price (%s at stake)", ev.Str("invoice"), pctText(ev.VariancePercent(), 2),
			cases.FormatAmount(ev.Amount(), ev.Str("currency"))))
	}
	for _, ev := range c.EventsOf(cases.FamilyReceiptQuantityVaries) {
		impact = append(impact, fmt.Sprintf("receipt on %s is %s against the order", ev.Str("po"), pctText(ev.VariancePercent(), 1)))
	}
	for _, ev := range c.EventsOf(cases.FamilyInventoryVariance) {
		impact = append(impact, fmt.Sprintf("stock of %s at %s is %s off", ev.Str("sku"), ev.Str("warehouse"), pctText(ev.VariancePercent(), 1)))
	}
	if len(c.Missing) > 0 {
		impact = append(impact, "missing context: "+strings.Join(c.Missing, "; "))
	}
	if len(impact) > 0 {
		s = append(s, "Impact: "+strings.Join(impact, "; ")+".")
	}
	var decide, done []string
	for _, r := range c.Recommendations {
		switch r.State {
		case cases.RecPending:
			decide = append(decide, lowerFirst(r.Title))
		case cases.RecExecuted:
			done = append(done, lowerFirst(r.Title))
		}
	}
	switch {
	case c.Status == cases.StatusResolved && len(done) > 0:
		s = append(s, "Resolved: "+joinAnd(done)+".")
	case c.Status == cases.StatusResolved:
		s = append(s, "Resolved.")
	case len(decide) > 0:
		s = append(s, "Decision needed: "+joinAnd(decide)+".")
	}
	// Severity comes last so that, at four sentences, it is what gives way.
	if len(s) < 4 {
		s = append(s, fmt.Sprintf("Severity %s, priority %s, owned by %s.", c.Severity, c.Priority, c.Team))
	}
	return strings.Join(s[:min(len(s), 4)], " "), Name, nil
}

// lowerFirst lower-cases the first letter of a title for use mid-sentence.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// pctText prints a variance such as +0.75% or, for something against
// nothing, "+∞%".
func pctText(v float64, prec int) string {
	if math.IsInf(v, 0) {
		if v > 0 {
			return "+∞%"
		}
		return "-∞%"
	}
	return fmt.Sprintf("%+.*f%%", prec, v)
}

func (a *Rules) now() time.Time { return a.Now() }

func subjectOf(c *cases.Case) string {
	var parts []string
	if o := c.Fact("order"); o != "" {
		parts = append(parts, "on order "+o)
	}
	if cu := c.Fact("customer"); cu != "" {
		name := c.Context[cases.CtxCustomerName(cu)]
		if name == "" {
			name = c.Fact("customer_name")
		}
		if name != "" {
			cu = name + " (" + cu + ")"
		}
		parts = append(parts, "for "+cu)
	}
	if len(parts) == 0 {
		for _, f := range []string{"invoice", "po", "shipment", "sku"} {
			if v := c.Fact(f); v != "" {
				parts = append(parts, "on "+f+" "+v)
				break
			}
		}
	}
	return strings.Join(parts, " ")
}

// Recommend proposes next-best actions per family.
func (a *Rules) Recommend(_ context.Context, c *cases.Case) ([]cases.Recommendation, error) {
	var out []cases.Recommendation
	for _, f := range c.Families {
		if cands := a.candidates(c, f); len(cands) > 0 {
			out = append(out, *cands[0])
		}
	}
	return out, nil
}

// Score returns the recommendation of one action for one family of the
// case, with the evidence and confidence the rules compute for it, whether
// or not the rules would choose it; nil when the rules know no evidence for
// that action in that family. It is how a model's proposal gets a
// confidence: from the same checks, never from the model.
//
// Where the rules choose between actions (accept or dispute, adjust or
// recount, reallocate or split), the condition that decides is itself a
// check: it passes for the action the rules choose and fails for the other.
func (a *Rules) Score(c *cases.Case, f cases.Family, action string) *cases.Recommendation {
	for _, r := range a.candidates(c, f) {
		if r.Action == action {
			return r
		}
	}
	return nil
}

// candidates scores the actions the rules know for family f on the case's
// newest event of that family: the one the rules choose first, then the
// alternatives.
func (a *Rules) candidates(c *cases.Case, f cases.Family) []*cases.Recommendation {
	evs := c.EventsOf(f)
	if len(evs) == 0 {
		return nil
	}
	ev := evs[len(evs)-1]
	var rs []*cases.Recommendation
	switch f {
	case cases.FamilyCreditHold:
		rs = []*cases.Recommendation{a.creditHold(c, ev)}
	case cases.FamilyAllocationConflict:
		rs = a.allocation(c, ev)
	case cases.FamilySupplierDelay:
		rs = []*cases.Recommendation{a.supplierDelay(c, ev)}
	case cases.FamilyPriceDiscrepancy:
		rs = a.priceVariance(c, ev)
	case cases.FamilyReceiptQuantityVaries:
		rs = a.receiptVariance(c, ev)
	case cases.FamilyInventoryVariance:
		rs = a.inventory(c, ev)
	case cases.FamilyMissingConfirmation:
		rs = []*cases.Recommendation{score(&cases.Recommendation{Action: "ask_supplier_confirmation", Title: fmt.Sprintf("Ask %s to confirm %s", ev.Str("supplier"), ev.Str("po")),
			Params: map[string]string{"po": ev.Str("po"), "supplier": ev.Str("supplier")}},
			check("confirmation is overdue", ev.DaysLate(a.now()) > 0, 2, fmt.Sprintf("due %s", day(ev.Str("expected_by")))),
			check("PO is known", ev.Str("po") != "", 1, ev.Str("po")))}
	case cases.FamilyShipmentHold:
		rs = []*cases.Recommendation{score(&cases.Recommendation{Action: "contact_carrier", Title: fmt.Sprintf("Contact %s about shipment %s", or(ev.Str("carrier"), "the carrier"), ev.Str("shipment")),
			Params: map[string]string{"shipment": ev.Str("shipment")}},
			check("hold reason given", ev.Str("reason") != "", 1, ev.Str("reason")),
			check("carrier known", ev.Str("carrier") != "", 1, ev.Str("carrier")))}
	case cases.FamilyIncompleteOrderData:
		rs = []*cases.Recommendation{score(&cases.Recommendation{Action: "request_order_data", Title: fmt.Sprintf("Ask the customer for %s on %s", strings.Join(ev.Strs("missing"), ", "), ev.Str("order")),
			Params: map[string]string{"order": ev.Str("order"), "missing": strings.Join(ev.Strs("missing"), ",")}},
			check("missing fields named", len(ev.Strs("missing")) > 0, 1, strings.Join(ev.Strs("missing"), ", ")))}
	}
	var out []*cases.Recommendation
	for _, r := range rs {
		if r != nil {
			r.Family = f
			r.By = Name
			out = append(out, r)
		}
	}
	return out
}

// KnownActions lists, per family, the actions the rules can score.
func KnownActions() map[cases.Family][]string {
	return map[cases.Family][]string{
		cases.FamilyCreditHold:            {"release_credit_hold"},
		cases.FamilyAllocationConflict:    {"reallocate_order", "split_shipment"},
		cases.FamilySupplierDelay:         {"expedite_shipment"},
		cases.FamilyPriceDiscrepancy:      {"accept_price_variance", "dispute_price_variance"},
		cases.FamilyReceiptQuantityVaries: {"accept_receipt_variance", "dispute_receipt_variance"},
		cases.FamilyInventoryVariance:     {"adjust_inventory", "recount_inventory"},
		cases.FamilyMissingConfirmation:   {"ask_supplier_confirmation"},
		cases.FamilyShipmentHold:          {"contact_carrier"},
		cases.FamilyIncompleteOrderData:   {"request_order_data"},
	}
}

func (a *Rules) creditHold(c *cases.Case, ev cases.Event) *cases.Recommendation {
	cust := ev.Str("customer")
	value, _ := ev.Num("order_value")
	limit, okL := num(c.Context[cases.CtxCreditLimit(cust)])
	if !okL {
		limit, okL = ev.Num("credit_limit")
	}
	bal, okB := num(c.Context[cases.CtxCreditBalance(cust)])
	if !okB {
		bal, okB = ev.Num("balance")
	}
	overdue, okO := ev.Num("overdue_amount")
	tier := or(c.Context[cases.CtxCustomerTier(cust)], ev.Str("customer_tier"))
	dbt, okD := num(c.Context[cases.CtxDaysBeyondTerms(cust)])
	return score(&cases.Recommendation{Action: "release_credit_hold", Title: fmt.Sprintf("Release credit hold on %s", ev.Str("order")),
		Params: map[string]string{"order": ev.Str("order"), "customer": cust}},
		check("order fits the credit limit", okL && okB && bal+value <= limit, 3,
			fmt.Sprintf("balance %s + order %s vs limit %s", plain(bal), plain(value), plain(limit))),
		check("nothing overdue", okO && overdue == 0, 2, "overdue "+plain(overdue)),
		check("pays within 5 days of terms", okD && dbt <= 5, 2, fmt.Sprintf("average %s days beyond terms", plain(dbt))),
		check("strategic or key customer", tier == "strategic" || tier == "key", 1, "tier "+or(tier, "unknown")))
}

func (a *Rules) allocation(c *cases.Case, ev cases.Event) []*cases.Recommendation {
	sku := ev.Str("sku")
	qty, _ := ev.Num("quantity")
	if qty == 0 {
		for _, al := range ev.Allocations("allocations") {
			qty += al.Quantity
		}
	}
	// The warehouse with the most stock that can ship the whole line.
	type stock struct {
		wh  string
		qty float64
	}
	var stocks []stock
	for k, v := range c.Context {
		if wh, ok := strings.CutPrefix(k, cases.CtxStockPrefix(sku)); ok {
			if n, ok := num(v); ok {
				stocks = append(stocks, stock{wh, n})
			}
		}
	}
	sort.Slice(stocks, func(i, j int) bool {
		if stocks[i].qty != stocks[j].qty {
			return stocks[i].qty > stocks[j].qty
		}
		return stocks[i].wh < stocks[j].wh
	})
	order := ev.Str("order")
	holds := len(stocks) > 0 && stocks[0].qty >= qty
	var reallocate *cases.Recommendation
	if len(stocks) > 0 {
		best := stocks[0]
		planned := false
		for _, al := range ev.Allocations("allocations") {
			if al.Warehouse == best.wh {
				planned = true
			}
		}
		reallocate = score(&cases.Recommendation{Action: "reallocate_order",
			Title:  fmt.Sprintf("Ship all %s of %s on %s from %s", plain(qty), sku, order, best.wh),
			Params: map[string]string{"order": order, "sku": sku, "warehouse": best.wh, "quantity": plain(qty)}},
			check("one warehouse holds the whole line", holds, 3, fmt.Sprintf("%s has %s, line needs %s", best.wh, plain(best.qty), plain(qty))),
			check("warehouse already part of the plan", planned, 1, best.wh),
			check("no credit hold on the order", !c.HasFamily(cases.FamilyCreditHold), 1, ""))
	}
	var plan []string
	for _, al := range ev.Allocations("allocations") {
		plan = append(plan, plain(al.Quantity)+" "+al.Warehouse)
	}
	promise, err := cases.ParseDate(ev.Str("promise_date"))
	checks := []cases.Evidence{
		check("stock known at the warehouses", len(stocks) > 0, 1, fmt.Sprintf("%d warehouses reported", len(stocks))),
		check("promise date still ahead", err == nil && promise.After(a.now()), 1, day(ev.Str("promise_date")))}
	if holds {
		// Against the rules' choice: the fact that chose otherwise counts.
		checks = append(checks, check("no single warehouse holds the whole line", false, 3, stocks[0].wh+" does"))
	}
	split := score(&cases.Recommendation{Action: "split_shipment",
		Title:  fmt.Sprintf("Ship %s in parts: %s", order, strings.Join(plan, " + ")),
		Params: map[string]string{"order": order, "sku": sku, "plan": strings.Join(plan, ",")}}, checks...)
	if holds {
		return []*cases.Recommendation{reallocate, split}
	}
	return []*cases.Recommendation{split, reallocate}
}

func (a *Rules) supplierDelay(c *cases.Case, ev cases.Event) *cases.Recommendation {
	newETA, errE := cases.ParseDate(ev.Str("new_eta"))
	late := false
	var waiting []string
	for _, o := range ev.Strs("orders") {
		p := c.Context[cases.CtxPromiseDate(o)]
		if p == "" {
			for _, oe := range c.EventsOf(cases.FamilyAllocationConflict) {
				if oe.Str("order") == o {
					p = oe.Str("promise_date")
				}
			}
		}
		if pd, err := cases.ParseDate(p); err == nil && errE == nil && newETA.After(pd) {
			late = true
			waiting = append(waiting, o+" promised "+day(p))
		}
	}
	return score(&cases.Recommendation{Action: "expedite_shipment",
		Title:  fmt.Sprintf("Expedite %s with %s", ev.Str("shipment"), ev.Str("supplier")),
		Params: map[string]string{"shipment": ev.Str("shipment"), "supplier": ev.Str("supplier"), "po": ev.Str("po")}},
		check("new ETA misses a customer promise", late, 3, strings.Join(waiting, ", ")),
		check("slip of 2 days or more", ev.DaysLate(a.now()) >= 2, 1, fmt.Sprintf("%.0f days", ev.DaysLate(a.now()))),
		check("shipment confirmed by TMS", c.Context[cases.CtxShipmentETA(ev.Str("shipment"))] != "", 1, c.Context[cases.CtxShipmentETA(ev.Str("shipment"))]))
}

func (a *Rules) priceVariance(c *cases.Case, ev cases.Event) []*cases.Recommendation {
	po, sku := ev.Str("po"), ev.Str("sku")
	poPrice, _ := ev.Num("po_unit_price")
	erpPrice, okP := num(c.Context[cases.CtxPOPrice(po, sku)])
	qty, _ := ev.Num("quantity")
	received, okR := num(c.Context[cases.CtxReceived(po, sku)])
	variance := math.Abs(ev.VariancePercent())
	within := variance <= a.tol(a.PriceTolerancePct, 1)
	params := map[string]string{"invoice": ev.Str("invoice"), "po": po, "sku": sku, "supplier": ev.Str("supplier")}
	confirmed := check("PO price confirmed in the ERP", okP && erpPrice == poPrice, 2, fmt.Sprintf("ERP %s, event %s", plain(erpPrice), plain(poPrice)))
	receipt := check("invoiced quantity matches the goods receipt", okR && received == qty, 2, fmt.Sprintf("received %s, invoiced %s", plain(received), plain(qty)))
	tol := a.tol(a.PriceTolerancePct, 1)
	accept := score(&cases.Recommendation{Action: "accept_price_variance", Params: params,
		Title: fmt.Sprintf("Accept the %s price variance on invoice %s", pctText(ev.VariancePercent(), 2), ev.Str("invoice"))},
		check(fmt.Sprintf("variance within %.1f%% tolerance", tol), within, 3, fmt.Sprintf("%.2f%%", variance)),
		confirmed, receipt)
	dispute := score(&cases.Recommendation{Action: "dispute_price_variance", Params: params,
		Title: fmt.Sprintf("Dispute invoice %s with %s (%s against PO)", ev.Str("invoice"), ev.Str("supplier"), pctText(ev.VariancePercent(), 2))},
		check(fmt.Sprintf("variance beyond %.1f%% tolerance", tol), !within, 3, fmt.Sprintf("%.2f%%", variance)),
		confirmed, receipt,
		check("no price change on file for the PO", c.Context["po/"+po+"/price_change"] == "", 1, ""))
	if within {
		return []*cases.Recommendation{accept, dispute}
	}
	return []*cases.Recommendation{dispute, accept}
}

func (a *Rules) receiptVariance(c *cases.Case, ev cases.Event) []*cases.Recommendation {
	variance := math.Abs(ev.VariancePercent())
	tol := a.tol(a.QuantityTolerancePct, 2)
	po, sku := ev.Str("po"), ev.Str("sku")
	ordered, _ := ev.Num("ordered_quantity")
	erpQty, okQ := num(c.Context[cases.CtxPOQuantity(po, sku)])
	params := map[string]string{"po": po, "sku": sku, "warehouse": ev.Str("warehouse")}
	confirmed := check("ordered quantity confirmed in the ERP", okQ && erpQty == ordered, 2, fmt.Sprintf("ERP %s, event %s", plain(erpQty), plain(ordered)))
	within := variance <= tol
	accept := score(&cases.Recommendation{Action: "accept_receipt_variance", Params: params,
		Title: fmt.Sprintf("Accept the receipt on %s as counted (%s)", po, pctText(ev.VariancePercent(), 1))},
		check(fmt.Sprintf("variance within %.1f%% tolerance", tol), within, 3, fmt.Sprintf("%.1f%%", variance)), confirmed)
	dispute := score(&cases.Recommendation{Action: "dispute_receipt_variance", Params: params,
		Title: fmt.Sprintf("Claim the receipt variance on %s (%s) with %s", po, pctText(ev.VariancePercent(), 1), or(ev.Str("supplier"), "the supplier"))},
		check(fmt.Sprintf("variance beyond %.1f%% tolerance", tol), !within, 2, fmt.Sprintf("%.1f%%", variance)), confirmed)
	if within {
		return []*cases.Recommendation{accept, dispute}
	}
	return []*cases.Recommendation{dispute, accept}
}

func (a *Rules) inventory(c *cases.Case, ev cases.Event) []*cases.Recommendation {
	variance := math.Abs(ev.VariancePercent())
	params := map[string]string{"sku": ev.Str("sku"), "warehouse": ev.Str("warehouse")}
	counted, _ := ev.Num("counted_quantity")
	params["quantity"] = plain(counted)
	small, cheap := variance <= 2, ev.Amount() < 1000
	adjust := score(&cases.Recommendation{Action: "adjust_inventory", Params: params,
		Title: fmt.Sprintf("Adjust %s at %s to the counted %s", ev.Str("sku"), ev.Str("warehouse"), plain(counted))},
		check("variance 2% or less", small, 2, fmt.Sprintf("%.1f%%", variance)),
		check("value at stake under 1,000", cheap, 1, plain(ev.Amount())))
	recount := score(&cases.Recommendation{Action: "recount_inventory", Params: params,
		Title: fmt.Sprintf("Recount %s at %s before adjusting", ev.Str("sku"), ev.Str("warehouse"))},
		check("variance above 2% or value at stake 1,000 or more", !(small && cheap), 2, fmt.Sprintf("%.1f%%, %s", variance, plain(ev.Amount()))))
	if small && cheap {
		return []*cases.Recommendation{adjust, recount}
	}
	return []*cases.Recommendation{recount, adjust}
}

func (a *Rules) tol(v, def float64) float64 {
	if v <= 0 {
		return def
	}
	return v
}

func check(name string, passed bool, weight float64, detail string) cases.Evidence {
	return cases.Evidence{Check: name, Passed: passed, Weight: weight, Detail: detail}
}

// score sets the confidence: the weighted share of checks that passed,
// rounded to two places (docs/agents.md).
func score(r *cases.Recommendation, ev ...cases.Evidence) *cases.Recommendation {
	r.Evidence = ev
	r.Confidence = Confidence(ev)
	return r
}

// Confidence is the weighted share of passed checks, in [0, 1].
func Confidence(ev []cases.Evidence) float64 {
	var passed, total float64
	for _, e := range ev {
		if e.Weight <= 0 {
			continue
		}
		total += e.Weight
		if e.Passed {
			passed += e.Weight
		}
	}
	if total == 0 {
		return 0
	}
	return math.Round(passed/total*100) / 100
}

func num(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func plain(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func day(s string) string {
	if t, err := cases.ParseDate(s); err == nil {
		return t.Format("2006-01-02")
	}
	return s
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
