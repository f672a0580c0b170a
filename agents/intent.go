package agents

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// IntentKind is what a question asks for.
type IntentKind string

const (
	IntentHelp      IntentKind = "help"      // nothing recognized
	IntentShowCase  IntentKind = "show"      // one case by id
	IntentFindCases IntentKind = "find"      // cases matching conditions
	IntentDecisions IntentKind = "decisions" // who decided what, when
	IntentPatterns  IntentKind = "patterns"  // recurring patterns of resolved cases
)

// Intent is a question as the rules understand it.
type Intent struct {
	Kind  IntentKind
	Query cases.CaseQuery
	// Party is a name given without saying whether it is a customer or a
	// supplier ("for Acme"): the answer looks for both.
	Party  string
	Actor  string       // a Slack user id the question names
	Action string       // an action such as release_credit_hold
	Choice cases.Choice // approve or reject, for decision questions
	Since  time.Time    // for decision questions: since when
	Count  bool         // "how many"
}

var (
	reCaseID    = regexp.MustCompile(`(?i)\bEX-?(\d{1,9})\b|\bcase\s+#?(\d{1,9})\b`)
	reOrder     = regexp.MustCompile(`(?i)\b(SO-[A-Z0-9][A-Z0-9-]*)\b|\b(?:sales\s+)?order\s+(?:no\.?\s*|number\s+|#\s*)?([A-Z0-9]*\d[A-Z0-9-]*)\b`)
	rePO        = regexp.MustCompile(`(?i)\b(PO-[A-Z0-9][A-Z0-9-]*)\b|\b(?:purchase\s+order|po)\s+#?([A-Z0-9]*\d[A-Z0-9-]*)\b`)
	reInvoice   = regexp.MustCompile(`(?i)\b(INV-[A-Z0-9][A-Z0-9-]*)\b|\binvoice\s+#?([A-Z0-9]*\d[A-Z0-9-]*)\b`)
	reShipment  = regexp.MustCompile(`(?i)\b((?:ASN|SHP)-[A-Z0-9][A-Z0-9-]*)\b|\bshipment\s+#?([A-Z0-9]*\d[A-Z0-9-]*)\b`)
	reSKU       = regexp.MustCompile(`(?i)\b(SKU-[A-Z0-9][A-Z0-9-]*)\b|\b(?:sku|item)\s+#?([A-Z0-9]*\d[A-Z0-9-]*)\b`)
	reWarehouse = regexp.MustCompile(`\b(?:[Ww]arehouse|at|in|from)\s+([A-Z]{3})\b`)
	reActor     = regexp.MustCompile(`\b(U[A-Z0-9]{6,})\b`)
	reCustomer  = regexp.MustCompile(`\b([Cc]-[A-Za-z0-9][A-Za-z0-9-]*)\b|\b[Cc]ustomer\s+((?:[A-Za-z0-9][\w&'-]*)(?:\s+[A-Z][\w&'-]*)*)`)
	reSupplier  = regexp.MustCompile(`\b(?:[Ss]upplier|[Vv]endor)\s+((?:[A-Za-z0-9][\w&'-]*)(?:\s+[A-Z][\w&'-]*)*)`)
	reParty     = regexp.MustCompile(`\b(for|from|with|by)\s+([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)*)`)
	reOlder     = regexp.MustCompile(`(?i)\b(?:older\s+than|more\s+than|over|at\s+least)\s+(\d+|an?|one|two|three|four|five|six|seven|ten)\s*(h|hours?|d|days?|w|weeks?)\b(?:\s+old)?`)
	reRecent    = regexp.MustCompile(`(?i)\b(?:in\s+the\s+|during\s+the\s+|over\s+the\s+)?(?:last|past)\s+(\d+|an?|one|two|three|four|five|six|seven|ten)?\s*(h|hours?|d|days?|w|weeks?|months?)\b`)
	reSinceDate = regexp.MustCompile(`(?i)\bsince\s+(\d{4}-\d{2}-\d{2})\b`)
	reBefore    = regexp.MustCompile(`(?i)\b(?:opened\s+)?before\s+(\d{4}-\d{2}-\d{2})\b`)
)

var numberWords = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}

func amount(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if n, ok := numberWords[strings.ToLower(s)]; ok {
		return n
	}
	return 1
}

func unit(s string) time.Duration {
	switch s = strings.ToLower(s); {
	case strings.HasPrefix(s, "h"):
		return time.Hour
	case strings.HasPrefix(s, "w"):
		return 7 * 24 * time.Hour
	case strings.HasPrefix(s, "month"):
		return 30 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// familyWords maps what people say to a family, most specific first.
var familyWords = []struct {
	words  []string
	family cases.Family
}{
	{[]string{"credit hold", "credit block", "on credit"}, cases.FamilyCreditHold},
	{[]string{"supplier delay", "late shipment", "late inbound", "delayed shipment", "inbound delay", "shipment delay", "eta slip", "delays", "delayed", "delay"}, cases.FamilySupplierDelay},
	{[]string{"missing confirmation", "unconfirmed", "confirmation"}, cases.FamilyMissingConfirmation},
	{[]string{"price variance", "price discrepanc", "price difference", "pricing"}, cases.FamilyPriceDiscrepancy},
	{[]string{"invoice mismatch"}, cases.FamilyInvoiceMismatch},
	{[]string{"receipt variance", "receiving variance", "short receipt", "receipt"}, cases.FamilyReceiptQuantityVaries},
	{[]string{"inventory", "stock mismatch", "stock count", "count variance", "cycle count"}, cases.FamilyInventoryVariance},
	{[]string{"allocation", "split order", "split shipment"}, cases.FamilyAllocationConflict},
	{[]string{"shipment hold", "held shipment", "carrier hold", "customs"}, cases.FamilyShipmentHold},
	{[]string{"incomplete order", "missing data", "incomplete"}, cases.FamilyIncompleteOrderData},
	{[]string{"return"}, cases.FamilyReturnsException},
	{[]string{"order hold", "held order"}, cases.FamilyOrderHold},
}

// actionWords maps what people call an action to its name.
var actionWords = []struct {
	words  []string
	action string
}{
	{[]string{"credit release", "release the credit", "release of the credit", "released the credit", "credit hold release", "release the hold", "credit override"}, "release_credit_hold"},
	{[]string{"reallocat"}, "reallocate_order"},
	{[]string{"split"}, "split_shipment"},
	{[]string{"expedit"}, "expedite_shipment"},
	{[]string{"accept the price", "price variance accept", "accepted the price"}, "accept_price_variance"},
	{[]string{"dispute the invoice", "disputed the invoice", "price dispute", "dispute the price"}, "dispute_price_variance"},
	{[]string{"accept the receipt", "accepted the receipt"}, "accept_receipt_variance"},
	{[]string{"inventory adjust", "adjust"}, "adjust_inventory"},
	{[]string{"recount"}, "recount_inventory"},
}

// actionFamily is the family an action belongs to.
func actionFamily(action string) cases.Family {
	for f, acts := range KnownActions() {
		for _, a := range acts {
			if a == action {
				return f
			}
		}
	}
	return ""
}

func firstGroup(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatch(s)
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

func has(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ParseQuestion reads an operator's question with rules: ids, names,
// families, statuses, ages, actions and actors, and what kind of answer is
// wanted. now anchors "older than 2 days" and "this week".
func ParseQuestion(question string, now time.Time) Intent {
	q := strings.TrimSpace(question)
	lq := strings.ToLower(q)
	in := Intent{Kind: IntentHelp}
	qq := &in.Query
	if m := reCaseID.FindStringSubmatch(q); m != nil {
		n, _ := strconv.ParseUint(m[1]+m[2], 10, 64)
		qq.ID = cases.FormatCaseID(n)
	}
	for _, x := range []struct {
		re  *regexp.Regexp
		dst *string
	}{{reOrder, &qq.Order}, {rePO, &qq.PO}, {reInvoice, &qq.Invoice}, {reShipment, &qq.Shipment}, {reSKU, &qq.SKU}} {
		if reMatch := x.re.FindStringSubmatch(q); reMatch != nil {
			*x.dst = strings.ToUpper(firstGroup(x.re, q))
		}
	}
	if m := reWarehouse.FindStringSubmatch(q); m != nil && m[1] != "SKU" {
		qq.Warehouse = m[1]
	}
	if m := reActor.FindStringSubmatch(q); m != nil {
		in.Actor = m[1]
	}
	if m := reCustomer.FindStringSubmatch(q); m != nil {
		qq.Customer = trimName(m[1] + m[2])
	}
	if m := reSupplier.FindStringSubmatch(q); m != nil {
		qq.Supplier = trimName(m[1])
	}
	if qq.Customer == "" && qq.Supplier == "" {
		for _, m := range reParty.FindAllStringSubmatch(q, -1) {
			name := trimName(m[2])
			if name == "" || strings.ContainsAny(name, "0123456789") || strings.EqualFold(name, qq.Warehouse) {
				continue
			}
			if m[1] == "from" || m[1] == "with" {
				qq.Supplier = name
			} else {
				in.Party = name
			}
			break
		}
	}
	for _, fw := range familyWords {
		if has(lq, fw.words...) {
			qq.Family = fw.family
			break
		}
	}
	switch {
	case has(lq, "merged"):
		qq.Status = cases.StatusMerged
	case has(lq, "resolved", "closed", "fixed", "done with", "settled"):
		qq.Status = cases.StatusResolved
	case has(lq, "open", "unresolved", "pending", "outstanding", "active", "still waiting", "stuck", "not resolved"):
		qq.Status = cases.StatusOpen
	}
	if m := reOlder.FindStringSubmatch(q); m != nil {
		qq.OpenedBefore = now.Add(-time.Duration(amount(m[1])) * unit(m[2]))
		if qq.Status == "" {
			qq.Status = cases.StatusOpen // an age is asked of what is still open
		}
	}
	if m := reBefore.FindStringSubmatch(q); m != nil {
		if t, err := cases.ParseDate(m[1]); err == nil {
			qq.OpenedBefore = t
		}
	}
	var since time.Time
	if m := reRecent.FindStringSubmatch(q); m != nil {
		since = now.Add(-time.Duration(amount(m[1])) * unit(m[2]))
	}
	if m := reSinceDate.FindStringSubmatch(q); m != nil {
		if t, err := cases.ParseDate(m[1]); err == nil {
			since = t
		}
	}
	switch {
	case has(lq, "today"):
		since = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	case has(lq, "this week"):
		since = now.Add(-7 * 24 * time.Hour)
	case has(lq, "yesterday"):
		since = now.Add(-48 * time.Hour)
	}
	for _, aw := range actionWords {
		if has(lq, aw.words...) {
			in.Action = aw.action
			break
		}
	}
	switch {
	case has(lq, "who rejected", "rejected", "turned down", "declined"):
		in.Choice = cases.ChoiceReject
	case has(lq, "approv", "signed off", "okayed", "released"):
		in.Choice = cases.ChoiceApprove
	}
	in.Count = has(lq, "how many", "number of", "count of")
	switch {
	case has(lq, "pattern", "recurring", "recur", "keep happening", "keeps happening", "most often", "most common", "repeat", "top problem", "top issue", "root cause"):
		in.Kind = IntentPatterns
		in.Since = since
	case has(lq, "who ", "decision", "decided", "approv", "reject", "signed off") && !in.Count:
		in.Kind = IntentDecisions
		in.Since = since
		if in.Action != "" && qq.Family == "" {
			qq.Family = actionFamily(in.Action)
		}
	case qq.ID != "" && !has(lq, "cases", "list"):
		in.Kind = IntentShowCase
	case *qq != (cases.CaseQuery{}) || in.Party != "" || has(lq, "cases", "exceptions", "problems", "issues", "backlog"):
		in.Kind = IntentFindCases
		if !since.IsZero() {
			qq.OpenedAfter = since
		}
	}
	return in
}

// trimName cuts words that end a name but are not part of it.
func trimName(s string) string {
	stop := map[string]bool{"is": true, "are": true, "was": true, "were": true, "has": true, "have": true, "on": true, "in": true,
		"at": true, "for": true, "older": true, "with": true, "and": true, "or": true, "this": true, "last": true, "since": true,
		"that": true, "which": true, "still": true, "open": true, "cases": true, "case": true, "orders": true, "the": true,
		"credit": true, "hold": true, "holds": true, "delays": true, "today": true}
	words := strings.Fields(strings.TrimRight(s, "?.!,;:"))
	for i, w := range words {
		lw := strings.ToLower(strings.TrimRight(w, "?.!,;:"))
		if stop[lw] || stop[strings.TrimSuffix(lw, "'s")] {
			words = words[:i]
			break
		}
	}
	out := strings.Join(words, " ")
	out = strings.TrimSuffix(strings.TrimSuffix(out, "'s"), "’s")
	return strings.TrimRight(out, "?.!,;:")
}
