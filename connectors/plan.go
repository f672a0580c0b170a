package connectors

import (
	"sort"

	"github.com/exops/exops/cases"
)

// enrichmentPlan is what a case needs from the systems of record, each item
// once: the one reading of a case's events that the simulator and the REST
// adapters both follow, so the agents see the same context keys from either.
type enrichmentPlan struct {
	customers []string  // credit status and profile
	stock     []string  // SKUs of allocation conflicts: stock per warehouse
	pos       []poNeeds // PO lines asked about, by PO
	shipments []string  // ETAs
	orders    []string  // promise dates
}

// poNeeds is one PO: the SKUs its events name, and whether a family needs
// its lines and receipt (price and receipt variances).
type poNeeds struct {
	po    string
	skus  []string
	lines bool
}

func planEnrichment(c *cases.Case) enrichmentPlan {
	var p enrichmentPlan
	seen := map[string]bool{}
	once := func(k string) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	skus := map[string][]string{} // po → SKUs in first-seen order
	lines := map[string]bool{}
	for _, ce := range c.Events {
		ev := ce.Event()
		if cu := ev.Str("customer"); cu != "" && once("c"+cu) {
			p.customers = append(p.customers, cu)
		}
		if sku := ev.Str("sku"); sku != "" && ce.Family == cases.FamilyAllocationConflict && once("s"+sku) {
			p.stock = append(p.stock, sku)
		}
		if po, sku := ev.Str("po"), ev.Str("sku"); po != "" && sku != "" {
			if once("p\x00" + po + "\x00" + sku) {
				skus[po] = append(skus[po], sku)
			}
			if ce.Family == cases.FamilyPriceDiscrepancy || ce.Family == cases.FamilyReceiptQuantityVaries {
				lines[po] = true
			}
		}
		if sh := ev.Str("shipment"); sh != "" && once("h"+sh) {
			p.shipments = append(p.shipments, sh)
		}
		for _, o := range append(ev.Strs("orders"), ev.Str("order")) {
			if o != "" && once("o"+o) {
				p.orders = append(p.orders, o)
			}
		}
	}
	for po, s := range skus {
		p.pos = append(p.pos, poNeeds{po: po, skus: s, lines: lines[po]})
	}
	sort.Slice(p.pos, func(i, j int) bool { return p.pos[i].po < p.pos[j].po })
	return p
}
