package agents

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/exops/exops/cases"
)

// The slot-filling question parser. A question is read in passes, each
// filling slots and consuming the words it used, so that a later pass does
// not read them again ("credit holds of team credit": the family takes the
// first "credit", the team the second): case ids and business keys first,
// then teams and channels (from the policy in force), families (from the
// event-type table, cases.FamilyWords), severity and priority, states and
// time words (both tables are here, in one place), and last what is asked
// for: a list, a count, an aggregate, decisions.

// Team is how the question parser knows a team of the policy in force.
type Team struct {
	Name    string   // the policy's team name, as cases carry it
	Channel string   // its channel, such as "#ap-exceptions"
	Aliases []string // more words people use ("AP", "payables")
}

// Vocabulary is what the parser reads from the product's own tables beyond
// the domain: the teams of the policy in force.
type Vocabulary struct {
	Teams []Team
}

// teamPhrases lists the phrases a team is asked by: its name with
// hyphens as spaces, its initials when it has several words ("ap"), its
// channel with and without "#", the channel's words without generic ones
// ("#credit-desk" → "credit desk"), and its aliases.
func teamPhrases(t Team) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	name := strings.NewReplacer("-", " ", "_", " ").Replace(t.Name)
	add(name)
	if words := strings.Fields(name); len(words) > 1 {
		var ini strings.Builder
		for _, w := range words {
			ini.WriteString(w[:1])
		}
		add(ini.String())
	}
	ch := strings.TrimPrefix(t.Channel, "#")
	if ch != "" && !strings.HasPrefix(t.Channel, "C0") {
		words := strings.FieldsFunc(ch, func(r rune) bool { return r == '-' || r == '_' })
		add(strings.Join(words, " "))
		var kept []string
		for _, w := range words {
			if !genericChannelWords[w] {
				kept = append(kept, w)
			}
		}
		add(strings.Join(kept, " "))
	}
	for _, a := range t.Aliases {
		add(a)
	}
	return out
}

var genericChannelWords = map[string]bool{"exceptions": true, "exception": true, "ops": true, "alerts": true, "team": true, "cases": true}

// stateWord is one way of saying a state; set applies it to the intent.
type stateWord struct {
	phrases []string
	set     func(in *Intent, actor string)
	text    string // how the answer says it understood it
}

// negatedStates are the opposites of states the store can look for, by
// the first phrase of the state in stateWords.
var negatedStates = map[string]func(in *Intent){
	"assigned to someone": func(in *Intent) { in.Query.Unassigned = true },
	"unassigned":          func(in *Intent) { in.Query.Assigned = true },
	"resolved": func(in *Intent) {
		if in.Query.Status == "" {
			in.Query.Status = cases.StatusOpen
		}
	},
}

// negators are the words that, right before a state (auxiliaries between
// them skipped), say it does not hold; contractions have lost their
// apostrophe in stem.
var negators = map[string]bool{"not": true, "nobody": true, "noone": true, "never": true, "none": true, "isnt": true, "arent": true,
	"wasnt": true, "werent": true, "hasnt": true, "havent": true, "hadnt": true, "dont": true, "doesnt": true, "didnt": true, "cant": true}

var auxiliaries = map[string]bool{"is": true, "are": true, "was": true, "were": true, "be": true, "been": true, "being": true, "has": true,
	"have": true, "had": true, "yet": true, "ever": true, "got": true, "gotten": true, "get": true, "it": true, "them": true, "they": true}

// SLASoon is the window of "about to breach": an open case whose SLA falls
// due within it.
const SLASoon = 4 * time.Hour

// stateWords are the states and their words, most specific first.
var stateWords = []stateWord{
	{[]string{"waiting for my approval", "awaiting my approval", "need my approval", "needs my approval", "for me to approve", "i need to approve",
		"i have to approve", "i must approve", "waiting on my approval", "pending my approval", "my approvals", "i can approve", "my sign off"},
		func(in *Intent, actor string) {
			in.Query.AwaitingApproval = true
			if actor != "" {
				in.Query.Approver = actor
			} else {
				in.Readings = append(in.Readings, "I do not know who is asking, so this is waiting for anyone's approval")
			}
		}, ""},
	{[]string{"waiting for approval", "awaiting approval", "pending approval", "need approval", "needs approval", "needing approval",
		"waiting on approval", "waiting for sign off", "waiting for an approval", "waiting for approvals", "to be approved", "not yet approved",
		"approval pending", "approvals pending", "pending approvals", "open approvals", "waiting approval", "unapproved", "need sign off", "needs sign off"},
		func(in *Intent, _ string) { in.Query.AwaitingApproval = true }, ""},
	{[]string{"resolved by exops on its own", "resolved on its own", "on its own", "by exops alone", "by itself", "without a person", "without anyone",
		"without human", "automatically resolved", "auto resolved", "resolved automatically", "exops alone", "no human", "untouched by people", "automatically", "alone"},
		func(in *Intent, _ string) { in.Query.ByExops = true }, ""},
	{[]string{"assigned to me", "my cases", "mine", "i own", "i am working", "i'm working", "on my plate"},
		func(in *Intent, actor string) {
			if actor != "" {
				in.Query.Assignee = actor
			} else {
				in.Query.Assigned = true
				in.Readings = append(in.Readings, "I do not know who is asking, so this is assigned to anyone")
			}
		}, ""},
	{[]string{"unassigned", "unowned", "ownerless", "not assigned", "nobody assigned", "no one assigned", "no assignee", "no owner", "without an owner", "without owner",
		"without an assignee", "nobody is working", "no one is working", "nobody owns", "not picked up",
		"nobody take", "nobody took", "nobody taken", "nobody has taken", "no one took", "no one has taken", "not taken",
		"nobody handling", "nobody is handling"},
		func(in *Intent, _ string) { in.Query.Unassigned = true }, ""},
	{[]string{"assigned to someone", "assigned", "someone is working", "has an owner", "picked up"},
		func(in *Intent, _ string) { in.Query.Assigned = true }, ""},
	// Before breaching: "about to breach" is not yet past.
	{[]string{"about to breach", "close to breach", "close to breaching", "near breach", "near breaching", "nearly breaching", "almost breaching",
		"about to breach sla", "about to miss sla", "about to miss their sla", "about to miss the sla", "close to their sla", "close to the sla",
		"close to sla", "nearing sla", "nearing their sla", "nearing the sla", "approaching sla", "approaching their sla", "approaching the sla",
		"sla due soon", "sla at risk", "at risk of breach", "at risk of breaching", "due soon"},
		func(in *Intent, _ string) { in.slaSoon = true }, ""},
	{[]string{"past its sla", "past their sla", "past the sla", "past sla", "beyond sla", "over sla", "sla breached", "breached sla", "breached the sla",
		"breaching", "breached", "breach", "missed sla", "missed the sla", "missed their sla", "out of sla", "sla overdue", "overdue", "past due", "late on sla"},
		func(in *Intent, _ string) { in.Query.PastSLA = true }, ""},
	{[]string{"first touch due", "first touch overdue", "past first touch", "missed first touch", "not touched", "untouched", "nobody touched",
		"no one touched", "not yet touched", "never touched", "waiting for a first touch", "first response overdue", "no first touch"},
		func(in *Intent, _ string) { in.Query.FirstTouchOverdue = true }, ""},
	{[]string{"snoozed", "on snooze", "snoozing", "sleeping"},
		func(in *Intent, _ string) { in.Query.Snoozed = true }, ""},
	{[]string{"escalated", "escalation", "escalations"},
		func(in *Intent, _ string) { in.Query.Escalated = true }, ""},
	{[]string{"merged", "duplicate", "duplicates"},
		func(in *Intent, _ string) { in.Query.Status = cases.StatusMerged }, ""},
	{[]string{"resolved", "resolve", "closed", "close", "fixed", "settled", "done", "solved", "cleared", "completed", "finished"},
		func(in *Intent, _ string) {
			if in.Query.Status == "" {
				in.Query.Status = cases.StatusResolved
			}
			in.resolvedWord = true
		}, ""},
	{[]string{"still open", "open", "unresolved", "not resolved", "outstanding", "active", "pending", "in progress", "stuck", "live", "current", "have open", "has open"},
		func(in *Intent, _ string) {
			if in.Query.Status == "" {
				in.Query.Status = cases.StatusOpen
			}
		}, ""},
}

// severityWords map what people say to a severity.
var severityWords = []struct {
	phrases []string
	sev     cases.Severity
}{
	{[]string{"critical", "crit", "sev critical", "severity critical", "p0", "sev 1", "sev1"}, cases.SeverityCritical},
	{[]string{"high severity", "severity high", "sev high", "high", "severe", "serious", "major"}, cases.SeverityHigh},
	{[]string{"medium severity", "severity medium", "sev medium", "medium", "moderate"}, cases.SeverityMedium},
	{[]string{"low severity", "severity low", "sev low", "low", "minor"}, cases.SeverityLow},
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// period is a time range a question names: [from, to), zero for open ends.
type period struct {
	from, to time.Time
	text     string
}

// Time words. Each gives a range from now, the injected business clock.
var (
	reTimeOlder  = regexp.MustCompile(`(?i)\b(?:older\s+than|more\s+than|over|at\s+least|longer\s+than|for\s+more\s+than)\s+(\d+|an?|one|two|three|four|five|six|seven|ten)\s*(h|hrs?|hours?|d|days?|w|weeks?|fortnights?|months?)\b(?:\s+(?:old|ago))?`)
	reTimeOld    = regexp.MustCompile(`(?i)\b(\d+|two|three|four|five|six|seven|ten)\+?\s*(h|hours?|d|days?|w|weeks?)\s+(?:old|or\s+older|and\s+older)\b`)
	reTimeRecent = regexp.MustCompile(`(?i)\b(?:in\s+the\s+|within\s+the\s+|during\s+the\s+|over\s+the\s+|for\s+the\s+)?(?:last|past|previous)\s+(\d+|an?|one|two|three|four|five|six|seven|ten|twenty[- ]four)?\s*(h|hrs?|hours?|d|days?|w|weeks?|fortnights?|months?)\b`)
	reTimeSince  = regexp.MustCompile(`(?i)\bsince\s+((?:last\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|yesterday|this\s+morning)\b`)
	// "less than 2 days ago", "under 24h old": an age from below.
	reTimeYounger = regexp.MustCompile(`(?i)\b(?:(?:under|less\s+than|fewer\s+than|not\s+older\s+than|no\s+older\s+than)\s+(\d+|an?|one|two|three|four|five|six|seven|ten)\s*(h|hrs?|hours?|d|days?|w|weeks?|fortnights?|months?)\s+(old|ago)|(?:younger|newer)\s+than\s+(\d+|an?|one|two|three|four|five|six|seven|ten)\s*(h|hrs?|hours?|d|days?|w|weeks?|fortnights?|months?))\b`)
	reTimeWord    = regexp.MustCompile(`(?i)\b(today|tonight|this\s+morning|yesterday|this\s+week|last\s+week|this\s+month|last\s+month|(?:over\s+the|the|this|last)\s+weekend)\b`)
)

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// weekStart is Monday 00:00 of now's week.
func weekStart(now time.Time) time.Time {
	d := midnight(now)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func countOf(s string) int {
	s = strings.ToLower(strings.ReplaceAll(s, "-", " "))
	if s == "twenty four" {
		return 24
	}
	return amount(s)
}

// timeRead is what the time words of a question say: a range p, and an
// age from above (older: opened before, "older than 2 days") or below
// (young: opened after, "under 24h old").
type timeRead struct {
	p                    period
	older, young         time.Time
	olderText, youngText string
	spans                [][2]int
	ambiguous            bool // a date that reads two ways, such as 3/11
}

// timeSlots finds the time words of q.
func timeSlots(q string, now time.Time) timeRead {
	var tr timeRead
	p := &tr.p
	mark := func(loc []int) { tr.spans = append(tr.spans, [2]int{loc[0], loc[1]}) }
	// "more than 3 days ago" is when something happened, a range's end
	// ("less than 2 days ago" its start): the period then bounds what the
	// question is about (opened, resolved, escalated), and asks no age.
	// "under 24h old" is an age; it is read first, as "24h old" alone is
	// one from above.
	var agoFrom, agoTo time.Time
	var agoText string
	if loc := reTimeYounger.FindStringSubmatchIndex(q); loc != nil {
		n, u, how := "", "", "old"
		if loc[2] >= 0 {
			n, u, how = q[loc[2]:loc[3]], q[loc[4]:loc[5]], strings.ToLower(q[loc[6]:loc[7]])
		} else {
			n, u = q[loc[8]:loc[9]], q[loc[10]:loc[11]]
		}
		t := now.Add(-time.Duration(countOf(n)) * unit(u))
		if how == "ago" {
			agoFrom, agoText = t, fmt.Sprintf("less than %d %s ago", countOf(n), unitWord(u, countOf(n)))
		} else {
			tr.young = t
			tr.youngText = fmt.Sprintf("younger than %d %s", countOf(n), unitWord(u, countOf(n)))
		}
		mark(loc[:2])
	}
	for _, re := range []*regexp.Regexp{reTimeOlder, reTimeOld} {
		if loc := re.FindStringSubmatchIndex(q); loc != nil && !overlaps(tr.spans, loc[0], loc[1]) {
			n, u := q[loc[2]:loc[3]], q[loc[4]:loc[5]]
			t := now.Add(-time.Duration(countOf(n)) * unit(u))
			if strings.HasSuffix(strings.ToLower(q[loc[0]:loc[1]]), "ago") {
				agoTo, agoText = t, fmt.Sprintf("more than %d %s ago", countOf(n), unitWord(u, countOf(n)))
			} else {
				tr.older = t
				tr.olderText = fmt.Sprintf("older than %d %s", countOf(n), unitWord(u, countOf(n)))
			}
			mark(loc[:2])
			break
		}
	}
	// Dates: ranges, since, before, on.
	dp, dspans, amb := dateSlots(q, now)
	tr.ambiguous = amb
	for _, sp := range dspans {
		if !overlaps(tr.spans, sp[0], sp[1]) {
			tr.spans = append(tr.spans, sp)
		}
	}
	*p = dp
	// "last week" alone is the calendar week before this one (below); "in
	// the last week", "past week" and "last 2 weeks" are rolling.
	loc := reTimeRecent.FindStringSubmatchIndex(q)
	if loc != nil && loc[2] < 0 && strings.HasPrefix(strings.ToLower(q[loc[0]:loc[1]]), "last") {
		if u := unit(q[loc[4]:loc[5]]); u == 7*24*time.Hour || u == 30*24*time.Hour {
			loc = nil
		}
	}
	if loc != nil && !overlaps(tr.spans, loc[0], loc[1]) && p.from.IsZero() {
		n := 1
		if loc[2] >= 0 {
			n = countOf(q[loc[2]:loc[3]])
		}
		u := q[loc[4]:loc[5]]
		*p = period{from: now.Add(-time.Duration(n) * unit(u)), to: p.to, text: fmt.Sprintf("in the last %d %s", n, unitWord(u, n))}
		mark(loc[:2])
	}
	if m := reTimeSince.FindStringSubmatchIndex(q); m != nil && p.from.IsZero() {
		w := strings.ToLower(strings.Join(strings.Fields(q[m[2]:m[3]]), " "))
		last := strings.HasPrefix(w, "last ")
		w = strings.TrimPrefix(w, "last ")
		switch {
		case w == "yesterday":
			p.from, p.text = midnight(now).AddDate(0, 0, -1), "since yesterday"
		case w == "this morning":
			p.from, p.text = midnight(now), "since this morning"
		case weekdays[w] != 0 || w == "sunday":
			// "since Friday" may be today; "since last Friday" is before it.
			d := midnight(now)
			if last {
				d = d.AddDate(0, 0, -1)
			}
			for d.Weekday() != weekdays[w] {
				d = d.AddDate(0, 0, -1)
			}
			p.from, p.text = d, "since "+strings.ToUpper(w[:1])+w[1:]
		}
		mark(m[:2])
	}
	if m := reTimeWord.FindStringSubmatchIndex(q); m != nil && p.from.IsZero() && p.to.IsZero() && !overlaps(tr.spans, m[0], m[1]) {
		w := strings.ToLower(strings.Join(strings.Fields(q[m[2]:m[3]]), " "))
		today := midnight(now)
		switch w {
		case "today", "tonight", "this morning":
			*p = period{from: today, text: "today"}
		case "yesterday":
			*p = period{from: today.AddDate(0, 0, -1), to: today, text: "yesterday"}
		case "this week":
			*p = period{from: weekStart(now), text: "this week"}
		case "last week":
			*p = period{from: weekStart(now).AddDate(0, 0, -7), to: weekStart(now), text: "last week"}
		case "this month":
			*p = period{from: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location()), text: "this month"}
		case "last month":
			first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
			*p = period{from: first.AddDate(0, -1, 0), to: first, text: "last month"}
		default: // the weekend: the last Saturday and Sunday, or this one while it lasts
			sat := midnight(now)
			for sat.Weekday() != time.Saturday {
				sat = sat.AddDate(0, 0, -1)
			}
			*p = period{from: sat, to: sat.AddDate(0, 0, 2), text: "over the weekend"}
			if !now.Before(p.to) {
				break
			}
			p.to = time.Time{}
		}
		mark(m[:2])
	}
	if !agoTo.IsZero() && p.to.IsZero() {
		p.to, p.text = agoTo, strings.TrimSpace(p.text+" "+agoText)
	}
	if !agoFrom.IsZero() && p.from.IsZero() {
		p.from, p.text = agoFrom, strings.TrimSpace(p.text+" "+agoText)
	}
	return tr
}

func unitWord(u string, n int) string {
	d := unit(u)
	w := "day"
	switch d {
	case time.Hour:
		w = "hour"
	case 7 * 24 * time.Hour:
		w = "week"
	case 14 * 24 * time.Hour:
		w = "fortnight"
	case 30 * 24 * time.Hour:
		w = "month"
	}
	if n != 1 {
		w += "s"
	}
	return w
}

func overlaps(spans [][2]int, a, b int) bool {
	for _, s := range spans {
		if a < s[1] && s[0] < b {
			return true
		}
	}
	return false
}

// Business keys. An id is a token with a digit, or a known prefix; after
// its keyword ("order 77812", "PO 3310") or by its prefix alone (SO-1042).
const idPat = `([A-Za-z]{0,6}[-#]?\d[A-Za-z0-9-]*|[A-Z]{2,}-[A-Z0-9][A-Za-z0-9-]*)`

var keyPatterns = []struct {
	field string
	re    *regexp.Regexp
}{
	{"po", regexp.MustCompile(`\b(PO-[A-Za-z0-9][A-Za-z0-9-]*)\b|(?i:\b(?:purchase\s+order|p\.?o\.?)\s*(?:no\.?|number|#)?\s*)` + idPat)},
	{"invoice", regexp.MustCompile(`\b(INV-[A-Za-z0-9][A-Za-z0-9-]*)\b|(?i:\binvoice\s*(?:no\.?|number|#)?\s*)` + idPat)},
	{"shipment", regexp.MustCompile(`\b((?:ASN|SHP|SH)-[A-Za-z0-9][A-Za-z0-9-]*)\b|(?i:\b(?:shipment|asn|delivery|consignment)\s*(?:no\.?|number|#)?\s*)` + idPat)},
	{"sku", regexp.MustCompile(`\b(SKU-[A-Za-z0-9][A-Za-z0-9-]*)\b|(?i:\b(?:sku|item|article|product|part)\s*(?:no\.?|number|#)?\s*)` + idPat)},
	{"order", regexp.MustCompile(`\b((?i:SO)-[A-Za-z0-9][A-Za-z0-9-]*)\b|(?i:\b(?:sales\s+order|order)\s*(?:no\.?|number|#)?\s*)` + idPat)},
	{"customer", regexp.MustCompile(`\b(C-[A-Z0-9][A-Za-z0-9-]*)\b|(?i:\b(?:customer|account|client)\s*(?:id|no\.?|number|#)?\s*)` + idPat)},
}

var (
	reCaseRef  = regexp.MustCompile(`(?i)\bEX(?:-|\s?#|\s)?(\d{1,9})\b|\bcase\s+(?:#|no\.?\s*|number\s+)?(\d{1,9})\b`)
	reWhCode   = regexp.MustCompile(`(?i:\b(?:warehouse|wh|dc|site|depot)\s+)([A-Za-z]{2,4}\d{0,3}|\d{1,4})\b|(?:\b(?:at|in|from)\s+|@\s*)([A-Z]{3}\d{0,2})\b|\b([A-Z]{3}\d{0,2})\s+(?i:warehouse|wh|dc|depot)\b`)
	reUser     = regexp.MustCompile(`<@([UW][A-Z0-9]{2,})>|\b([UW][0-9][A-Z0-9]{3,})\b`)
	reChannel  = regexp.MustCompile(`#([a-z0-9][a-z0-9_-]*)`)
	reBareKey  = regexp.MustCompile(`\b([A-Z]{2,5}-\d[A-Za-z0-9-]*|\d{4,12})\b`)
	reNameAt   = regexp.MustCompile(`(?i:\b(customer|client|account|supplier|vendor)s?\s+)([\p{L}0-9][\p{L}0-9&'’.-]*(?:\s+[\p{Lu}0-9][\p{L}0-9&'’.-]*){0,3})`)
	reParty    = regexp.MustCompile(`\b(for|from|with|by|of|about|on|regarding|re)\s+((?:the\s+)?[\p{Lu}][\p{L}0-9&'’.-]*(?:\s+[\p{Lu}][\p{L}0-9&'’.-]*){0,3})`)
	reWordTok  = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’][\p{L}]+)?`)
	reIDPrefix = regexp.MustCompile(`^(?i:SO|PO|INV|ASN|SHP|SH|SKU|EX|C)-`)
)

// reAbbrevKey is a key's own prefix, any case, then its digits after a
// dash, a "#", a space or nothing ("asn7781"): the systems exops reads send
// these ids with a dash (SO-1042, ASN-7781), and the keyword patterns
// below would take the digits alone.
var reAbbrevKey = regexp.MustCompile(`(?i)\b(SO|PO|INV|ASN|SHP|SKU)(?:\s*[-#]\s*|\s+|)(\d[A-Za-z0-9-]*)\b`)

var abbrevField = map[string]string{"SO": "order", "PO": "po", "INV": "invoice", "ASN": "shipment", "SHP": "shipment", "SKU": "sku"}

// reHashOf is "# of", shorthand for "number of"; "#" is no word.
var reHashOf = regexp.MustCompile(`(?i)(?:^|\s)#\s*of\b`)

var rePriority = regexp.MustCompile(`(?i)\b(?:priority\s+)?(P[1-5])(?:'?s)?\b`)

// familyQualifiers are the words that may stand inside a family's phrase
// without changing it: whose confirmation, which delay.
var articles = map[string]bool{"a": true, "an": true, "the": true, "any": true}

var familyQualifiers = map[string]bool{"po": true, "supplier": true, "purchase": true, "order": true, "inbound": true, "customer": true,
	"is": true, "are": true, "was": true, "were": true, "still": true, "currently": true}

// moreFamilyWords are ways of saying a family that are operators' shorthand
// rather than the event table's words: a late PO is a late inbound.
var moreFamilyWords = []struct {
	f cases.Family
	p string
}{
	{cases.FamilySupplierDelay, "late po"}, {cases.FamilySupplierDelay, "po late"}, {cases.FamilySupplierDelay, "late purchase order"},
	{cases.FamilySupplierDelay, "po delay"}, {cases.FamilySupplierDelay, "overdue po"}, {cases.FamilySupplierDelay, "overdue delivery"},
}

// postposable are the states of a family's two-word phrase that may also
// follow its noun.
var postposable = map[string]bool{"late": true, "delayed": true, "held": true, "blocked": true, "short": true, "missing": true, "unconfirmed": true}

// keyNouns are the problem nouns specific enough that, after a key ("invoice
// INV-90211 mismatch"), the key's kind and the noun name a family.
var keyNouns = map[string]bool{"mismatch": true, "discrepancy": true, "variance": true}

type famPhrase struct {
	f cases.Family
	p string
	n int // words
}

// problemNouns are the words that say "something is wrong with": in the
// event-type table a family is often its subject and one of them ("price
// discrepancy", "inventory mismatch").
var problemNouns = []string{"discrepancy", "variance", "difference", "mismatch", "problem", "issue", "trouble", "error", "exception"}

// familyPhrases are the event-type table's family words, read once, and
// after them the phrases derived from them: a subject the table pairs with
// a problem noun, for one family only ("price" in "price discrepancy"),
// pairs with every problem noun ("price issues", "stock problems").
var familyPhrases = sync.OnceValue(func() []famPhrase {
	var fps []famPhrase
	known := map[string]bool{}
	heads := map[string]map[cases.Family]bool{}
	var order []string
	for _, f := range cases.Families() {
		for _, w := range cases.FamilyWords(f) {
			fps = append(fps, famPhrase{f, w, len(phraseTokens(w))})
			known[strings.Join(phraseTokens(w), " ")] = true
			words := strings.Fields(w)
			if len(words) < 2 || !slices.Contains(problemNouns, words[len(words)-1]) {
				continue
			}
			head := strings.Join(words[:len(words)-1], " ")
			if heads[head] == nil {
				heads[head] = map[cases.Family]bool{}
				order = append(order, head)
			}
			heads[head][f] = true
		}
	}
	for _, head := range order {
		if len(heads[head]) != 1 {
			continue // a subject of two families says neither
		}
		for f := range heads[head] {
			for _, n := range problemNouns {
				p := head + " " + n
				if !known[strings.Join(phraseTokens(p), " ")] {
					fps = append(fps, famPhrase{f, p, len(phraseTokens(p))})
				}
			}
		}
	}
	for _, x := range moreFamilyWords {
		fps = append(fps, famPhrase{x.f, x.p, len(phraseTokens(x.p))})
	}
	// A state said after its noun is the same family: "deliveries late",
	// "order blocked", "receipt short".
	for _, fp := range fps {
		if w := phraseTokens(fp.p); len(w) == 2 && postposable[w[0]] {
			p := w[1] + " " + w[0]
			if !known[p] {
				known[p] = true
				fps = append(fps, famPhrase{fp.f, p, 2})
			}
		}
	}
	return fps
})

// token is one word of the question, with where it is and whether a slot
// took it.
type token struct {
	norm       string
	start, end int
	used       bool
}

var apostrophes = strings.NewReplacer("'", "", "’", "")

// stem folds plurals and possessives so "holds", "discrepancies" and
// "team's" meet "hold", "discrepancy", "team"; other contractions lose
// their apostrophe ("i'm" is "im"), as the tables' phrases do in
// splitPhrase, so a question's "I'm working" meets the phrase.
func stem(w string) string {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
	if strings.ContainsAny(w, "'’") {
		w = apostrophes.Replace(w)
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

func tokenize(s string) []token {
	var out []token
	for _, loc := range reWordTok.FindAllStringIndex(s, -1) {
		w := stem(strings.ToLower(s[loc[0]:loc[1]]))
		if to, ok := tokenSynonyms[w]; ok {
			w = to
		}
		out = append(out, token{norm: w, start: loc[0], end: loc[1]})
	}
	return out
}

// tokenSynonyms fold words of the question onto the tables' words. A
// negated auxiliary is "not" ("hasn't confirmed" meets "not confirmed",
// "aren't assigned" meets "not assigned"); "can't" stays, as the tables
// have "can't allocate". "POs" is too short for stem. Consignments and despatches are shipments,
// vendors suppliers.
var tokenSynonyms = map[string]string{
	"isnt": "not", "arent": "not", "wasnt": "not", "werent": "not", "hasnt": "not", "havent": "not", "hadnt": "not",
	"dont": "not", "doesnt": "not", "didnt": "not", "aint": "not",
	"pos": "po", "consignment": "shipment", "despatch": "shipment", "dispatch": "shipment", "vendor": "supplier",
}

// phraseMemo keeps the words of the tables' phrases, read once each.
var phraseMemo sync.Map

func phraseTokens(p string) []string {
	if v, ok := phraseMemo.Load(p); ok {
		return v.([]string)
	}
	out := splitPhrase(p)
	if len(p) <= 64 {
		phraseMemo.Store(p, out)
	}
	return out
}

func splitPhrase(p string) []string {
	var out []string
	for _, w := range reWordTok.FindAllString(strings.ToLower(strings.NewReplacer("-", " ", "_", " ", "'", "", "’", "").Replace(p)), -1) {
		out = append(out, stem(w))
	}
	return out
}

type reader struct {
	q    string
	toks []token
}

func (r *reader) markSpan(a, b int) {
	for i := range r.toks {
		if r.toks[i].start < b && a < r.toks[i].end {
			r.toks[i].used = true
		}
	}
}

func (r *reader) free(a, b int) bool {
	for _, t := range r.toks {
		if t.start < b && a < t.end && t.used {
			return false
		}
	}
	return true
}

// take finds phrase among the unused words and consumes it.
func (r *reader) take(phrase string) bool {
	return r.takeAt(phrase) >= 0
}

// takeAt finds phrase among the unused words, consumes it and returns the
// index of its first word, or -1 when it is not there.
func (r *reader) takeAt(phrase string) int {
	words := phraseTokens(phrase)
	if len(words) == 0 {
		return -1
	}
	return r.takeLoose(words, nil)
}

// takeLoose is takeAt for the words of a phrase, letting one word of skip
// stand between two of them ("missing PO confirmation" is a "missing
// confirmation"), an article ("without a human" is "without human"), and
// after a "not" the auxiliaries of a negation ("not been touched", "not
// yet assigned").
func (r *reader) takeLoose(words []string, skip map[string]bool) int {
	if len(words) == 0 {
		return -1
	}
outer:
	for i := range r.toks {
		k, skipped := i, 0
		var took []int
		for j, w := range words {
			if j > 0 {
				for n := 0; k < len(r.toks) && !r.toks[k].used && n < 3 && words[j-1] == "not" && auxiliaries[r.toks[k].norm] && r.toks[k].norm != w; n++ {
					took = append(took, k)
					k++
				}
				if k < len(r.toks) && !r.toks[k].used && articles[r.toks[k].norm] && r.toks[k].norm != w {
					took = append(took, k)
					k++
				}
				if k < len(r.toks) && skipped == 0 && skip[r.toks[k].norm] && r.toks[k].norm != w && !r.toks[k].used {
					took = append(took, k)
					k++
					skipped++
				}
			}
			if k >= len(r.toks) || r.toks[k].used || r.toks[k].norm != w {
				continue outer
			}
			took = append(took, k)
			k++
		}
		for _, t := range took {
			r.toks[t].used = true
		}
		return i
	}
	return -1
}

// takeNegatable is take for a state phrase, and says whether a negation
// comes before it: a negator, or "no one", with at most three auxiliaries
// between ("nobody has yet picked up").
func (r *reader) takeNegatable(phrase string) (found, negated bool) {
	i := r.takeAt(phrase)
	if i < 0 {
		return false, false
	}
	k := i - 1
	for skipped := 0; k >= 0 && skipped < 3 && auxiliaries[r.toks[k].norm]; skipped++ {
		k--
	}
	if k >= 0 {
		w := r.toks[k].norm
		negated = negators[w] || w == "one" && k > 0 && r.toks[k-1].norm == "no"
	}
	return true, negated
}

func (r *reader) takeAny(phrases ...string) bool {
	for _, p := range phrases {
		if r.take(p) {
			return true
		}
	}
	return false
}

// has reports whether a phrase is among the words, used or not.
func (r *reader) has(phrase string) bool {
	words := phraseTokens(phrase)
outer:
	for i := 0; i+len(words) <= len(r.toks); i++ {
		for j, w := range words {
			if r.toks[i+j].norm != w {
				continue outer
			}
		}
		return true
	}
	return false
}

func (r *reader) hasAny(phrases ...string) bool {
	for _, p := range phrases {
		if r.has(p) {
			return true
		}
	}
	return false
}

// intentWords are the content words of the passes' own phrases (what is
// asked for, decisions), beside the tables': typos are corrected to them.
const intentWords = `recurring pattern backlog oldest longest average median mttr resolution
	approved rejected rejection approval decision decided escalated declined refused`

// vocabulary is the content words the passes read, stemmed: a word of the
// question that is none of them nor a fill word may be a typo of one.
var vocabulary = sync.OnceValue(func() map[string]bool {
	v := map[string]bool{}
	add := func(p string) {
		for _, w := range phraseTokens(p) {
			if len(w) >= 4 && !fillWords[w] {
				v[w] = true
			}
		}
	}
	for _, sw := range stateWords {
		for _, p := range sw.phrases {
			add(p)
		}
	}
	for _, sw := range severityWords {
		for _, p := range sw.phrases {
			add(p)
		}
	}
	for _, fp := range familyPhrases() {
		add(fp.p)
	}
	add(intentWords)
	v["open"] = true // a fill word to the help text, and the commonest state
	// Typos of fill words are corrected too ("shipmnet holds"): the keys'
	// and parties' nouns are among them.
	for w := range fillWords {
		if len(w) >= 5 {
			v[w] = true
		}
	}
	return v
})

// correctTypos reads a word that is no known word as the one word of the
// vocabulary it is a typo of: two letters swapped ("opne", "delyas"),
// one left out of a long word ("escalted", "unasigned", "crdit") or one
// added to it ("missmatch"), or one replaced in a longer one past its
// first letters ("discrepency"). Capitalised words
// past the first are names and stay as written; so does a word two
// vocabulary words are as close to.
func (r *reader) correctTypos() {
	voc := vocabulary()
	for i := range r.toks {
		t := &r.toks[i]
		w := t.norm
		first, _ := utf8.DecodeRuneInString(r.q[t.start:t.end])
		if len(w) < 4 || voc[w] || fillWords[w] || strings.ContainsAny(w, "0123456789") || i > 0 && unicode.IsUpper(first) {
			continue
		}
		fix := ""
		for c := range voc {
			if (len(c) == len(w) && (swapped(w, c) || replaced(w, c)) || len(c) == len(w)+1 && leftOut(w, c, len(c)) ||
				len(c)+1 == len(w) && doubled(w, c)) && c != fix {
				if fix != "" {
					fix = ""
					break
				}
				fix = c
			}
		}
		if fix != "" {
			t.norm = fix
		}
	}
}

// replaced reports whether a is b with one letter replaced, in a word of
// eight letters or more, past its first three and before its last
// ("discrepency"): in shorter words, and at the end ("receiver" is no
// "received"), one letter makes another word.
func replaced(a, b string) bool {
	if len(a) < 8 {
		return false
	}
	diff := -1
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			if diff >= 0 {
				return false
			}
			diff = i
		}
	}
	return diff >= 3 && diff < len(a)-1
}

// doubled reports whether a is b with a letter typed twice ("missmatch"),
// not at its end ("allocated" is no typo of "allocate").
func doubled(a, b string) bool {
	if len(a) < 7 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	return i > 0 && i < len(a)-1 && a[i] == a[i-1] && a[i+1:] == b[i:]
}

// swapped reports whether a is b with two neighbouring letters swapped.
func swapped(a, b string) bool {
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// leftOut reports whether a is b with one letter left out, where a typo
// leaves one out: never the first, which would make other words ("reach"
// is no "breach", "ending" no "pending"), and in a word of six letters not
// the second either ("beach"); shorter words are too close to others.
func leftOut(a, b string, n int) bool {
	if n < 6 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return a[i:] == b[i+1:] && (i >= 1 && n >= 7 || i >= 2)
}

// fillWords are words that ask nothing by themselves; what is left of a
// question beyond them and the slots was not understood.
var fillWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the of for to in on at by with from about is are was were be been being do does did have has had
		what which who whom whose when where how why show list give tell me us i we you my our your it its their them they this that these those
		any anything all every some there here please can could would will shall should now currently right just still yet so and or
		case exception problem issue ticket thing item one ones status state kind type sort lot many much get find see look up need want
		team desk group queue channel currently ago than more over under around per each by a about regarding re there's what's who's
		hi hey hello thanks thank please ok okay got going on happening happened cases exceptions problems issues open
		po pos order orders invoice invoices shipment shipments sku skus warehouse warehouses customer customers supplier suppliers vendor
		sla slas eta asn exops anyone anybody someone nobody everything something
		not isnt arent wasnt werent hasnt havent hadnt dont doesnt didnt
		summarise summarize summary detail details explain pull u pls plz bot thx cheers yo
		affected impacted involved update updates news latest doing wrong trouble fine lately recently
		new came come opened raised created arrived logged reported total
		im ive id ill youre youve weve theyre thats whats lets
		morning afternoon evening night quick question sorry bother context fyi urgent review sanity check team folks guys all`) {
		fillWords[stem(w)] = true
	}
}

// ParseQuestion reads a question with no teams known and nobody asking.
func ParseQuestion(question string, now time.Time) Intent {
	return ParseQuestionAs(question, "", now, Vocabulary{})
}

// ParseQuestionAs reads an operator's question into slots. actor is the
// Slack user asking (for "my approval", "assigned to me"), or empty; now is
// the business clock's time, the anchor of every time word; v names the
// teams of the policy in force.
func ParseQuestionAs(question, actor string, now time.Time, v Vocabulary) Intent {
	q, unnamedChannel := plainText(question)
	q = strings.TrimSpace(q)
	// What the asking sentence asks decides (a story around it may say
	// "tomorrow" of something else).
	if a, b := askingSentence(q); declined(q[a:b]) {
		return Intent{Kind: IntentHelp, Closest: closestQuestion(q)}
	}
	r := &reader{q: q, toks: tokenize(q)}
	r.correctTypos()
	in := Intent{Kind: IntentHelp}
	qq := &in.Query
	slots := 0

	// Case ids.
	if loc := reCaseRef.FindStringSubmatchIndex(q); loc != nil {
		d := ""
		for g := 2; g+1 < len(loc); g += 2 {
			if loc[g] >= 0 {
				d = q[loc[g]:loc[g+1]]
			}
		}
		if n, err := strconv.ParseUint(d, 10, 64); err == nil {
			qq.ID = cases.FormatCaseID(n)
			r.markSpan(loc[0], loc[1])
			slots++
		}
	}
	// Time words come early: "since 2026-11-01" is no key.
	tr := timeSlots(q, now)
	if a, b := askingSentence(q); a > 0 || b < len(q) {
		// Time words of the sentences around the question tell its story
		// ("I talked to them this morning. What is going on with
		// SO-2077?"): when the asking sentence names the case, key or name
		// it asks about, only its own time words bound the answer. A
		// sentence that only narrows ("Credit holds since Monday. Which
		// are unassigned?") keeps the time of the one before.
		if sub := ParseQuestionAs(q[a:b], actor, now, v); sub.Kind != IntentHelp && namesCase(sub) {
			tr = timeSlots(q[a:b], now)
			for i := range tr.spans {
				tr.spans[i][0] += a
				tr.spans[i][1] += a
			}
		}
	}
	p, older, olderText := tr.p, tr.older, tr.olderText
	for _, s := range tr.spans {
		r.markSpan(s[0], s[1])
	}
	// Users: who decided, who approves, who is assigned.
	var user string
	if loc := reUser.FindStringSubmatchIndex(q); loc != nil {
		if loc[2] >= 0 {
			user = q[loc[2]:loc[3]]
		} else {
			user = q[loc[4]:loc[5]]
		}
		r.markSpan(loc[0], loc[1])
	}
	// Business keys written with their prefix apart or in lower case ("PO
	// 3310", "po-3310", "asn #7781") are the prefixed ids the systems send.
	for _, loc := range reAbbrevKey.FindAllStringSubmatchIndex(q, -1) {
		prefix, digits := strings.ToUpper(q[loc[2]:loc[3]]), strings.TrimRight(q[loc[4]:loc[5]], "-")
		field := abbrevField[prefix]
		if !r.free(loc[0], loc[1]) || keyOf(qq, field) != "" || prefix == "SO" && len(digits) < 3 {
			continue
		}
		setKey(qq, field, prefix+"-"+strings.ToUpper(digits))
		r.markSpan(loc[0], loc[1])
		slots++
	}
	// Business keys by keyword or prefix.
	for _, kp := range keyPatterns {
		if keyOf(qq, kp.field) != "" {
			continue
		}
		for _, loc := range kp.re.FindAllStringSubmatchIndex(q, -1) {
			if !r.free(loc[0], loc[1]) {
				continue
			}
			val := ""
			for g := 2; g+1 < len(loc); g += 2 {
				if loc[g] >= 0 {
					val = q[loc[g]:loc[g+1]]
					break
				}
			}
			val = strings.TrimRight(strings.TrimLeft(val, "#"), ".-")
			if val == "" || !strings.ContainsAny(val, "0123456789") && !reIDPrefix.MatchString(val) {
				continue
			}
			setKey(qq, kp.field, strings.ToUpper(val))
			r.markSpan(loc[0], loc[1])
			slots++
			break
		}
	}
	if loc := reWhCode.FindStringSubmatchIndex(q); loc != nil && r.free(loc[0], loc[1]) {
		val := ""
		for g := 2; g+1 < len(loc) && val == ""; g += 2 {
			if loc[g] >= 0 {
				val = q[loc[g]:loc[g+1]]
			}
		}
		if !isWord(strings.ToLower(val)) {
			qq.Warehouse = strings.ToUpper(val)
			r.markSpan(loc[0], loc[1])
			slots++
		}
	}
	// A bare id of unknown kind: looked up as each key kind.
	if qq.ID == "" && qq.Order == "" && qq.PO == "" && qq.Invoice == "" && qq.Shipment == "" && qq.SKU == "" && qq.Customer == "" {
		for _, loc := range reBareKey.FindAllStringSubmatchIndex(q, -1) {
			if r.free(loc[0], loc[1]) {
				in.Key = strings.ToUpper(q[loc[2]:loc[3]])
				r.markSpan(loc[0], loc[1])
				slots++
				break
			}
		}
	}
	// Families, from the event-type table's words; longest phrase first
	// across families, so "shipment on hold" beats "hold".
	for n := 5; n >= 1 && qq.Family == ""; n-- {
		for _, fp := range familyPhrases() {
			if fp.n != n {
				continue
			}
			// "credit" alone is the credit family only when no team is
			// called credit: that reading is left to the teams below.
			if n == 1 && fp.p == "credit" && teamNamed(v, "credit") {
				continue
			}
			if r.takeLoose(phraseTokens(fp.p), familyQualifiers) >= 0 {
				qq.Family = fp.f
				slots++
				break
			}
		}
	}
	// A key's kind with a noun after the key: "invoice INV-90211 mismatch"
	// is an invoice mismatch, when the table has that phrase.
	if qq.Family == "" {
		kinds := []struct{ kind, val string }{{"invoice", qq.Invoice}, {"shipment", qq.Shipment}, {"receipt", qq.PO}, {"inventory", qq.SKU}}
	nouns:
		for i := range r.toks {
			t := &r.toks[i]
			if t.used || !keyNouns[t.norm] {
				continue
			}
			for _, k := range kinds {
				if k.val == "" {
					continue
				}
				for _, fp := range familyPhrases() {
					if fp.p == k.kind+" "+t.norm {
						qq.Family, t.used = fp.f, true
						slots++
						break nouns
					}
				}
			}
		}
	}
	// The words of an action ("the credit release") name no team: the
	// action's family is the case's.
	if a, b := actionSpan(q); a >= 0 {
		r.markSpan(a, b)
	}
	// Teams: channel, name, initials, aliases.
	if m := reChannel.FindStringSubmatchIndex(q); m != nil {
		ch := q[m[2]:m[3]]
		for _, t := range v.Teams {
			if strings.EqualFold(strings.TrimPrefix(t.Channel, "#"), ch) {
				qq.Team = t.Name
				r.markSpan(m[0], m[1])
				slots++
			}
		}
	}
	if qq.Team == "" {
		type tp struct {
			team, p string
			n       int
		}
		var tps []tp
		for _, t := range v.Teams {
			for _, p := range teamPhrases(t) {
				tps = append(tps, tp{t.Name, p, len(phraseTokens(p))})
			}
		}
	teams:
		for n := 4; n >= 1; n-- {
			for _, x := range tps {
				if x.n == n && r.take(x.p) {
					qq.Team = x.team
					slots++
					break teams
				}
			}
		}
	}
	// Severity and priority.
	if m := rePriority.FindStringSubmatchIndex(q); m != nil && r.free(m[0], m[1]) {
		qq.Priority = strings.ToUpper(q[m[2]:m[3]])
		r.markSpan(m[0], m[1])
		slots++
	}
sev:
	for _, sw := range severityWords {
		for _, p := range sw.phrases {
			if r.take(p) {
				qq.Severity = sw.sev
				slots++
				break sev
			}
		}
	}
	// Decisions and aggregates are read before states: "who approved" is
	// no "waiting for approval", "time to resolve" no "resolved".
	in.Count = r.takeAny("how many", "number of", "count of", "count", "total number", "how much") || reHashOf.MatchString(q)
	mean := r.takeAny("average", "mean", "avg", "mttr", "typically", "typical")
	median := r.takeAny("median")
	ttr := r.takeAny("time to resolve", "time to resolution", "resolution time", "time to close", "time to fix", "how long", "take to resolve",
		"took to resolve", "to resolve", "resolve time", "turnaround", "cycle time", "ttr")
	if r.has("mttr") {
		ttr = true
	}
	groupFam := r.takeAny("per family", "by family", "each family", "per type", "by type", "per kind", "by kind", "for each family")
	groupTeam := r.takeAny("per team", "by team", "each team", "for each team")
	backlog := r.takeAny("backlog by age", "age band", "aging", "ageing", "by age", "age bucket", "how old", "backlog")
	oldest := r.takeAny("oldest", "longest open", "longest waiting", "been open the longest", "open longest", "open the longest",
		"waiting longest", "waiting the longest", "waited longest", "waited the longest")
	patterns := r.takeAny("pattern", "recurring", "recurrent", "recur", "keep happening", "keeps happening", "keep going wrong", "keeps going wrong",
		"keep coming up", "keeps coming up", "keep failing", "keeps failing", "again and again", "repeatedly", "most often", "most common", "most frequent",
		"repeat", "top problem", "top issue", "root cause")
	// Decision words; "approval" in a waiting state is not one.
	waiting := r.hasAny("waiting", "wait", "awaiting", "pending", "need", "needs", "needing", "to be approved", "not yet approved", "unapproved", "i can approve", "to approve", "my approval", "my sign off")
	decided := false
	if !waiting {
		switch {
		case r.hasAny("rejected", "reject", "rejection", "turned down", "declined", "refused", "said no"):
			in.Choice, decided = cases.ChoiceReject, true
		case r.hasAny("approved", "approve", "approval", "signed off", "okayed", "green lit", "allowed"):
			in.Choice, decided = cases.ChoiceApprove, true
		}
		// "who decided" is read before the phrases below consume it.
		if r.takeAny("who decided", "who made") {
			decided = true
		}
		r.takeAny("who approved", "who rejected", "who signed off", "who okayed", "who declined")
		r.takeAny("rejected", "reject", "rejection", "turned down", "declined", "refused", "said no", "approved", "approve", "approval", "signed off", "okayed", "green lit", "allowed")
		if r.takeAny("who decided", "who made") {
			decided = true
		}
		if r.takeAny("decision", "decided", "decide", "decisions", "choices", "chose", "ruled", "actioned") {
			decided = true
		}
	}
	// "What did U0X do?", "what has exops done?": a person's (or exops's)
	// doings are their decisions.
	if !decided && !waiting && (user != "" || r.has("exops")) && r.takeAny("do", "done") {
		decided = true
	}
	if decided && r.takeAny("on its own", "by exops alone", "exops alone", "by itself", "automatically", "without a person", "alone", "auto") {
		in.ExopsAlone = true
	}
	if decided && r.has("exops") && !in.ExopsAlone && user == "" {
		in.ExopsAlone = true
	}
	for _, aw := range actionWords {
		for _, w := range aw.words {
			if strings.Contains(strings.ToLower(q), w) {
				in.Action = aw.action
				break
			}
		}
		if in.Action != "" {
			break
		}
	}
	// States. A state said with a negation before it ("not resolved",
	// "nobody has picked up", "isn't escalated") is its opposite where the
	// store has one, and else no condition at all, said in the reading:
	// never the state itself.
	for _, sw := range stateWords {
		for _, ph := range sw.phrases {
			found, negated := r.takeNegatable(ph)
			if !found {
				continue
			}
			switch not := negatedStates[sw.phrases[0]]; {
			case !negated:
				sw.set(&in, actor)
			case not != nil:
				not(&in)
			default:
				in.Readings = append(in.Readings, fmt.Sprintf("I cannot look for cases that are not %s, so that is left out", ph))
			}
			slots++
			break
		}
	}
	if in.slaSoon {
		// Open cases whose SLA falls due between now and SLASoon from now;
		// those already past are "past SLA", a state of their own.
		qq.SLADueAfter, qq.SLADueBefore = now, now.Add(SLASoon)
		in.Readings = append(in.Readings, fmt.Sprintf("about to breach reads as an SLA due in the next %d hours; those already past are not included", int(SLASoon.Hours())))
	}
	// "waiting approve from me", "waiting on U0X to sign off": a wait
	// and an approval word, however joined, are a wait for approval.
	if !qq.AwaitingApproval && !decided && r.hasAny("waiting", "wait", "awaiting", "pending") &&
		r.hasAny("approve", "approval", "sign off", "signoff") {
		qq.AwaitingApproval = true
		if user == "" && actor != "" && r.hasAny("me", "my") {
			qq.Approver = actor
		}
		slots++
	}
	// "what did I approve?": the asker's own decisions.
	if decided && user == "" && actor != "" && r.hasAny("did i", "have i", "i approved", "i rejected", "i decided",
		"i signed", "i okayed", "i declined", "my decision") {
		in.Actor = actor
	}
	if user != "" {
		switch {
		case decided:
			in.Actor = user
		case qq.AwaitingApproval || r.hasAny("approval", "approve", "sign off", "signoff"):
			qq.AwaitingApproval, qq.Approver = true, user
		default:
			// "assigned to U0X" names the assignee: the same query as
			// "assigned to me", not also "assigned to someone".
			qq.Assignee, qq.Assigned = user, false
		}
		slots++
	}
	// Names: after "customer"/"supplier", else a capitalised name after
	// "for", "from"…, whose role the lookup decides.
	for _, m := range reNameAt.FindAllStringSubmatchIndex(q, -1) {
		if !r.free(m[4], m[5]) {
			continue
		}
		name := trimName(q[m[4]:m[5]])
		if name == "" || isWord(strings.ToLower(name)) {
			continue
		}
		role := strings.ToLower(q[m[2]:m[3]])
		if role == "supplier" || role == "vendor" {
			qq.Supplier = name
		} else {
			qq.Customer = name
		}
		r.markSpan(m[0], m[0]+len(q[m[0]:m[4]])+len(name))
		slots++
		break
	}
	if qq.Customer == "" && qq.Supplier == "" {
		for _, m := range reParty.FindAllStringSubmatchIndex(q, -1) {
			name := trimName(strings.TrimPrefix(q[m[4]:m[5]], "the "))
			if name == "" || !r.free(m[4], m[4]+len(name)) || isWord(strings.ToLower(name)) || strings.EqualFold(name, "exops") {
				continue
			}
			in.Party = name
			r.markSpan(m[4], m[4]+len(name))
			slots++
			break
		}
	}
	// A word in lower case after "for", "from"… that is no word the
	// parser or questions know ("credit holds for acme") is a name too,
	// in a question that asks about cases already: left out, the answer
	// would be about everyone; alone ("what's for lunch") it is no name.
	if qq.Customer == "" && qq.Supplier == "" && in.Party == "" && namesSubject(Intent{Query: *qq}) {
		for _, m := range reLowerParty.FindAllStringSubmatchIndex(q, -1) {
			w := q[m[4]:m[5]]
			if !r.free(m[4], m[5]) || unknownName(r, m[4], m[5]) == "" {
				continue
			}
			in.Party = w
			r.markSpan(m[4], m[5])
			slots++
			break
		}
	}
	// Last, a capitalised name anywhere ("Is Bolt Hardware affected?"):
	// words no pass took that are not words of questions.
	if qq.Customer == "" && qq.Supplier == "" && in.Party == "" {
		if name := looseName(r); name != "" {
			in.Party = name
			slots++
		}
	}
	// The time range applies to what the question is about.
	switch {
	case decided:
		in.Since, in.Until = p.from, p.to
	case qq.ByExops || ttr || in.resolvedWord && !r.hasAny("opened", "created", "raised", "new", "came in", "arrived"):
		qq.ResolvedAfter, qq.ResolvedBefore = p.from, p.to
		if !p.from.IsZero() || !p.to.IsZero() {
			in.timeOf = "resolved"
		}
	case qq.Escalated && !r.hasAny("opened", "created", "raised", "new", "came in", "arrived"):
		// "escalated today" asks when the escalation was, not the case.
		qq.EscalatedAfter, qq.EscalatedBefore = p.from, p.to
		if !p.from.IsZero() || !p.to.IsZero() {
			in.timeOf = "escalated"
		}
	default:
		qq.OpenedAfter, qq.OpenedBefore = p.from, p.to
		if !p.from.IsZero() || !p.to.IsZero() {
			in.timeOf = "opened"
		}
	}
	in.period = p.text
	if !older.IsZero() {
		if qq.OpenedBefore.IsZero() || older.Before(qq.OpenedBefore) {
			qq.OpenedBefore = older
		}
		in.olderText = olderText
		if qq.Status == "" {
			qq.Status = cases.StatusOpen // an age is asked of what is still open
			in.Readings = append(in.Readings, "an age is asked of open cases")
		}
	}
	if !tr.young.IsZero() {
		if qq.OpenedAfter.IsZero() || tr.young.After(qq.OpenedAfter) {
			qq.OpenedAfter = tr.young
		}
		in.olderText = strings.TrimSpace(in.olderText + " " + tr.youngText)
	}
	if p.text != "" || older != (time.Time{}) || !tr.young.IsZero() {
		slots++
	}
	// What is asked for.
	switch {
	case patterns:
		in.Kind = IntentPatterns
		in.Since, in.Until = p.from, p.to
		qq.OpenedAfter, qq.OpenedBefore, qq.ResolvedAfter, qq.ResolvedBefore = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		qq.EscalatedAfter, qq.EscalatedBefore = time.Time{}, time.Time{}
	case mean || median || ttr:
		in.Kind = IntentTimeToResolve
		in.Median, in.Mean = median || !mean, mean || !median
		switch {
		case groupTeam:
			in.GroupBy = "team"
		case groupFam:
			in.GroupBy = "family"
		}
		in.Query.Status = cases.StatusResolved
	case backlog:
		in.Kind = IntentBacklog
		if qq.Status == "" {
			qq.Status = cases.StatusOpen
		}
	case oldest:
		in.Kind = IntentOldest
		if qq.Status == "" {
			qq.Status = cases.StatusOpen
		}
	case decided || in.Action != "" && !in.Count:
		in.Kind = IntentDecisions
		if in.Action != "" && qq.Family == "" {
			qq.Family = actionFamily(in.Action)
		}
	case qq.ID != "" && !in.Count && !strings.Contains(strings.ToLower(q), "cases") && !r.has("list"):
		in.Kind = IntentShowCase
	case slots > 0 || in.Count || r.hasAny("case", "exception", "problem", "issue", "backlog", "everything", "anything", "all"):
		in.Kind = IntentFindCases
	}
	// Only a name, a time or "how many" understood, beside words that are
	// no words of questions about cases ("what's the weather in Dallas?",
	// "is the VPN down?", "how many days until Christmas"), or asked who
	// someone is ("who is on call tonight?"): what is asked is not known,
	// and a list of cases would be a confident wrong answer.
	weak := *qq
	weak.OpenedAfter, weak.OpenedBefore, weak.ResolvedAfter, weak.ResolvedBefore = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	weak.EscalatedAfter, weak.EscalatedBefore = time.Time{}, time.Time{}
	if in.Kind == IntentFindCases && weak == (cases.CaseQuery{}) && in.Key == "" && (in.Party != "" || in.period != "" || in.Count) &&
		(r.unknownWords(in.Party) || reWhoIs.MatchString(q)) {
		in = Intent{Kind: IntentHelp}
	}
	if in.Kind == IntentFindCases && in.Count && weak == (cases.CaseQuery{}) && in.Key == "" && in.Party == "" && in.period == "" &&
		in.olderText == "" && !r.hasAny("case", "exception", "problem", "issue", "thing", "anything", "everything", "all", "item", "order", "ticket") {
		// "how many?" alone: of what is not said.
		in = Intent{Kind: IntentHelp}
	}
	if tr.ambiguous {
		// 3/11 is 3 November or March 11: a guess would answer for the
		// wrong days with confidence.
		in = Intent{Kind: IntentHelp}
	}
	if unnamedChannel && in.Kind != IntentHelp && qq.Team == "" {
		// A channel Slack sent without its name: its team is not known,
		// and the answer for every team would be taken for that team's.
		in = Intent{Kind: IntentHelp}
	}
	if in.Kind == IntentHelp {
		in.Closest = closestQuestion(q)
	}
	return in
}

var reWhoIs = regexp.MustCompile(`(?i)^\s*(?:who\s+is|who's|who’s|whos)\b`)

// unknownWords reports whether a word no pass took is no fill word nor a
// word of name.
func (r *reader) unknownWords(name string) bool {
	names := map[string]bool{}
	for _, t := range tokenize(name) {
		names[t.norm] = true
	}
	for _, t := range r.toks {
		if !t.used && !fillWords[t.norm] && !names[t.norm] && !vocabulary()[t.norm] {
			return true
		}
	}
	return false
}

// actionSpan is where the first action phrase of actionWords is in q, or
// -1: the same phrase the action is read from.
func actionSpan(q string) (int, int) {
	lq := strings.ToLower(q)
	for _, aw := range actionWords {
		for _, w := range aw.words {
			if i := strings.Index(lq, w); i >= 0 {
				return i, i + len(w)
			}
		}
	}
	return -1, -1
}

// looseName finds the first run of capitalised words that no pass took and
// that are not ordinary words of questions.
func looseName(r *reader) string {
	var run []token
	flush := func() string {
		if len(run) == 0 {
			return ""
		}
		name := r.q[run[0].start:run[len(run)-1].end]
		run = nil
		if isWord(strings.ToLower(name)) {
			return ""
		}
		return name
	}
	for _, t := range r.toks {
		w := r.q[t.start:t.end]
		first, _ := utf8.DecodeRuneInString(w)
		// A name runs over spaces only: "Morning!\nQuick one" is two words.
		if len(run) > 0 && strings.TrimSpace(r.q[run[len(run)-1].end:t.start]) != "" {
			if name := flush(); name != "" {
				return name
			}
		}
		if !t.used && unicode.IsUpper(first) && !fillWords[t.norm] && !stateOrSeverityWord(w) && !strings.EqualFold(w, "exops") {
			run = append(run, t)
			continue
		}
		if name := flush(); name != "" {
			return name
		}
	}
	return flush()
}

func teamNamed(v Vocabulary, name string) bool {
	for _, t := range v.Teams {
		if strings.EqualFold(t.Name, name) {
			return true
		}
	}
	return false
}

// isWord reports whether s is an ordinary English word of questions, not a
// name or code.
func isWord(s string) bool {
	for _, w := range strings.Fields(s) {
		if !fillWords[stem(w)] && !stateOrSeverityWord(w) {
			return false
		}
	}
	return true
}

func stateOrSeverityWord(w string) bool {
	switch stem(w) {
	case "resolved", "closed", "today", "yesterday", "week", "month", "critical", "high", "low", "medium", "late", "held", "hold",
		"approval", "approved", "rejected", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "slack", "exop":
		return true
	}
	return false
}

func keyOf(q *cases.CaseQuery, field string) string {
	switch field {
	case "order":
		return q.Order
	case "customer":
		return q.Customer
	case "po":
		return q.PO
	case "invoice":
		return q.Invoice
	case "shipment":
		return q.Shipment
	case "sku":
		return q.SKU
	}
	return ""
}

func setKey(q *cases.CaseQuery, field, v string) {
	switch field {
	case "order":
		q.Order = v
	case "customer":
		q.Customer = v
	case "po":
		q.PO = v
	case "invoice":
		q.Invoice = v
	case "shipment":
		q.Shipment = v
	case "sku":
		q.SKU = v
	}
}

// Examples are questions the rules understand, one per kind: the help text
// and the closest question to one that was not understood come from them.
var Examples = []string{
	"status of order SO-1042?",
	"show EX-000042",
	"open cases for customer Acme",
	"cases for supplier Northwind",
	"anything on PO-3310?",
	"where is shipment ASN-7781?",
	"problems with SKU-88 at warehouse DAL",
	"how many open cases does accounts payable have?",
	"open critical cases",
	"which cases are waiting for my approval?",
	"unassigned cases past their SLA",
	"credit holds older than 2 days",
	"what did exops resolve on its own this week?",
	"median time to resolve per family this week",
	"backlog by age band",
	"oldest open case",
	"who approved the credit release on SO-1042?",
	"what did U0CREDITMGR decide yesterday?",
	"what are the recurring patterns?",
}

// closestQuestion is the example sharing the most words with q.
func closestQuestion(q string) string {
	words := map[string]bool{}
	for _, t := range tokenize(q) {
		if !fillWords[t.norm] || t.norm == "open" || t.norm == "case" {
			words[t.norm] = true
		}
	}
	best, bestN := Examples[0], 0
	for _, ex := range Examples {
		n := 0
		for _, t := range tokenize(ex) {
			if words[t.norm] {
				n++
			}
		}
		if n > bestN {
			best, bestN = ex, n
		}
	}
	return best
}

// upperFirst capitalises the first letter of a sentence.
func upperFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

var reLowerParty = regexp.MustCompile(`\b(for|from|with|about|regarding)\s+([\p{Ll}][\p{L}0-9&'’.-]{2,})`)

// unknownName is the word of q[a:b] if it is a single word no table of
// the parser nor questions know (after typo correction), else "".
func unknownName(r *reader, a, b int) string {
	for _, t := range r.toks {
		if t.start == a && t.end == b {
			if t.used || fillWords[t.norm] || vocabulary()[t.norm] || stateOrSeverityWord(t.norm) || weekdays[t.norm] != 0 ||
				knownWords[t.norm] || strings.ContainsAny(t.norm, "0123456789") {
				return ""
			}
			return r.q[a:b]
		}
	}
	return ""
}

// knownWords are ordinary words that may follow "for" or "with" and are no
// name ("for review", "with payment").
var knownWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`review approval payment payments delivery deliveries shipping stock credit price pricing
		quantity quantities data reason reasons details question questions help info information context reference
		sunday monday today tomorrow yesterday week weeks month months day days hour hours year morning evening night
		example instance sure real me him her them us everyone everybody people person someone anyone it this that those these
		now later long while ages good bad more less most least other another others same such own sale sales
		customer supplier vendor carrier carriers team teams my our their your his`) {
		knownWords[stem(w)] = true
	}
}

// reSentenceEnd ends a sentence: . ! or ? before a space or the end, or a
// line break.
var reSentenceEnd = regexp.MustCompile(`[.!?]+(?:\s+|$)|\n+`)

// askingSentence is where, in a message of several sentences, the one that
// asks is: the last with a question mark, else the last.
func askingSentence(q string) (int, int) {
	var sents [][2]int
	start := 0
	for _, m := range reSentenceEnd.FindAllStringIndex(q, -1) {
		if strings.TrimSpace(q[start:m[1]]) != "" {
			sents = append(sents, [2]int{start, m[1]})
		}
		start = m[1]
	}
	if strings.TrimSpace(q[start:]) != "" {
		sents = append(sents, [2]int{start, len(q)})
	}
	if len(sents) < 2 {
		return 0, len(q)
	}
	best := sents[len(sents)-1]
	for _, s := range sents {
		if strings.Contains(q[s[0]:s[1]], "?") {
			best = s
		}
	}
	return best[0], best[1]
}

// namesCase reports whether an intent names a case, a business key or a
// customer or supplier.
func namesCase(in Intent) bool {
	q := in.Query
	return q.ID != "" || q.Order != "" || q.Customer != "" || q.Supplier != "" || q.SKU != "" || q.Warehouse != "" || q.PO != "" ||
		q.Shipment != "" || q.Invoice != "" || in.Key != "" || in.Party != ""
}

// namesSubject reports whether an intent names what it is about beyond a
// time: a case, a key, a name, a family, a team, a state.
func namesSubject(in Intent) bool {
	q := in.Query
	q.OpenedAfter, q.OpenedBefore, q.ResolvedAfter, q.ResolvedBefore = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	q.EscalatedAfter, q.EscalatedBefore = time.Time{}, time.Time{}
	return q != (cases.CaseQuery{}) || in.Key != "" || in.Party != "" || in.Actor != ""
}

// reExclusion leaves something out ("open cases excluding credit holds"):
// the store selects what matches and cannot leave a family, team or case
// out, and answering without the exclusion would include what was left out.
var reExclusion = regexp.MustCompile(`(?i)\b(?:excluding|exclude|except|besides|other\s+than|apart\s+from|aside\s+from|not\s+counting|ignoring)\b`)

// reFuture asks about what has not happened: exops knows cases as they
// stand and as they were, and an answer about the present would read as
// a forecast.
var reFuture = regexp.MustCompile(`(?i)\b(?:tomorrow|next\s+(?:\d+\s+|few\s+|couple\s+of\s+)?(?:hours?|days?|weeks?|months?|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|` +
	`coming\s+(?:hours?|days?|weeks?|months?)|upcoming|forecast\w*|predict\w*|projected|will\s+(?:be|breach|miss|go|become|slip|arrive|need|happen|hit|run|get)|` +
	`going\s+to\s+(?:be|breach|miss|slip|happen))\b`)

// requestVerbs begin a request that is no question about cases ("write an
// email to Northwind about the delay"); read as one, its names and
// families would be answered as a search.
var requestVerbs = map[string]bool{"write": true, "draft": true, "compose": true, "send": true, "notify": true, "translate": true,
	"book": true, "remind": true, "call": true, "phone": true, "ping": true, "create": true, "raise": true,
	"restart": true, "reboot": true, "deploy": true, "buy": true, "generate": true, "prepare": true}

// declined reports whether q asks what the parser must not answer as a
// search: an exclusion, the future, or a request to do something.
func declined(q string) bool {
	if reExclusion.MatchString(q) || reFuture.MatchString(q) {
		return true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return r == ' ' || r == ',' || r == '!' || r == '?' || r == '.' || r == ':' || r == '\t' || r == '\n'
	}) {
		if strings.HasPrefix(w, "<@") || politeLead[w] {
			continue
		}
		return requestVerbs[w]
	}
	return false
}
