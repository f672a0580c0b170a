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
	IntentHelp          IntentKind = "help"            // nothing recognized
	IntentShowCase      IntentKind = "show"            // one case by id
	IntentFindCases     IntentKind = "find"            // cases matching conditions (Count: how many)
	IntentDecisions     IntentKind = "decisions"       // who decided what, when
	IntentPatterns      IntentKind = "patterns"        // recurring patterns of resolved cases
	IntentTimeToResolve IntentKind = "time_to_resolve" // mean and median time to resolve
	IntentBacklog       IntentKind = "backlog"         // open cases by age band
	IntentOldest        IntentKind = "oldest"          // the oldest matching open case
)

// Intent is a question as the rules understand it: its slots. The LLM
// tools fill one too and run it with Answerer.Run.
type Intent struct {
	Kind  IntentKind
	Query cases.CaseQuery
	// Party is a name given without saying whether it is a customer or a
	// supplier ("for Acme"): the answer looks for both.
	Party string
	// Key is an id given without saying what it is ("what about 4711?"):
	// the answer looks it up as an order, PO, invoice, shipment and SKU.
	Key    string
	Actor  string       // decisions: the Slack user who decided
	Action string       // an action such as release_credit_hold
	Choice cases.Choice // approve or reject, for decision questions
	// Since and Until bound decisions (Until exclusive; zero: open).
	Since, Until time.Time
	ExopsAlone   bool // decisions made by exops on its own
	Count        bool // "how many"
	Mean, Median bool // time to resolve: which figures
	GroupBy      string
	// Readings are the choices the parser made where the question was
	// ambiguous; the answer says them.
	Readings []string
	// Closest is, for a question not understood, the closest one that is.
	Closest string

	resolvedWord bool   // the question speaks of resolving
	timeOf       string // "opened", "resolved" or "escalated": what the period bounds
	period       string // the time words as understood
	olderText    string // "older than 2 days"
	slaSoon      bool   // "about to breach": an SLA due within SLASoon
}

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
	case strings.HasPrefix(s, "f"): // fortnight
		return 14 * 24 * time.Hour
	case strings.HasPrefix(s, "month"):
		return 30 * 24 * time.Hour
	}
	return 24 * time.Hour
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
