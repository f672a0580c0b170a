package agents

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/exops/exops/cases"
)

// The grounding check: a model's text may only state what the case (or,
// for answers, what the store) holds. Every number, id, date and name in
// the text must be found in the facts; one that is not makes the text
// refused, and the rules agent's text is used instead. The check errs on
// the side of refusing: a refused summary costs fluency, an invented one
// costs trust.

// Facts is what a model's text is checked against.
type Facts struct {
	text    string    // every fact string, lower case, space separated
	numbers []float64 // every number in the facts, and those derived from them
}

// NewFacts collects the facts from strings and numbers.
func NewFacts(strs []string, nums []float64) *Facts {
	f := &Facts{}
	var b strings.Builder
	for _, s := range strs {
		b.WriteString(strings.ToLower(s))
		b.WriteByte('\n')
		// The digits of a code (EX-000005, SO-2050, SKU-88) are no
		// figure: "5 open cases" is not grounded by case EX-000005.
		for _, m := range numberRe.FindAllString(codeRe.ReplaceAllString(s, " "), -1) {
			if v, ok := parseNum(m); ok {
				f.numbers = append(f.numbers, v)
			}
		}
	}
	f.text = b.String()
	f.numbers = append(f.numbers, nums...)
	return f
}

// caseFacts gathers the facts of a case: ids, event data, context, missing
// context, recommendation titles and evidence, decisions, and numbers the
// rules derive from them (days late, variances, money at stake, counts).
func caseFacts(c *cases.Case, now time.Time) *Facts {
	var strs []string
	var nums []float64
	add := func(s ...string) { strs = append(strs, s...) }
	add(c.ID, string(c.Status), c.Severity.String(), c.Priority, c.Team, c.Channel, c.MergedInto)
	add(c.MergedFrom...)
	add(c.Keys...)
	add(c.Missing...)
	for _, t := range []time.Time{c.OpenedAt, c.SLADue} {
		if !t.IsZero() {
			add(dateFacts(t)...)
		}
	}
	for _, f := range c.Families {
		add(string(f), f.Label())
	}
	for _, ce := range c.Events {
		add(ce.ID, ce.Type, ce.Subject, ce.Family.Label())
		add(dateFacts(ce.Time)...)
		ev := ce.Event()
		for k, v := range ce.Data {
			add(k)
			flatten(v, func(s string) {
				add(s)
				if t, err := cases.ParseDate(s); err == nil {
					add(dateFacts(t)...)
				}
			}, func(n float64) { nums = append(nums, n) })
		}
		// What the rules summary derives, a model may say too.
		nums = append(nums, math.Round(ev.DaysLate(now)), ev.Amount(), math.Abs(ev.VariancePercent()))
		if orig, err1 := cases.ParseDate(ev.Str("original_eta")); err1 == nil {
			if ne, err2 := cases.ParseDate(ev.Str("new_eta")); err2 == nil {
				nums = append(nums, math.Round(ne.Sub(orig).Hours()/24))
			}
		}
	}
	for k, v := range c.Context {
		add(k, v)
		if t, err := cases.ParseDate(v); err == nil {
			add(dateFacts(t)...)
		}
	}
	for _, r := range c.Recommendations {
		add(r.ID, r.Action, r.Title, string(r.Verdict), string(r.State))
		nums = append(nums, r.Confidence*100, r.Confidence)
		for _, e := range r.Evidence {
			add(e.Check, e.Detail)
		}
		for _, v := range r.Params {
			add(v)
		}
	}
	for _, d := range c.Decisions {
		add(d.Actor, d.Action, string(d.Choice), d.PolicyVersion)
		add(dateFacts(d.Time)...)
	}
	nums = append(nums, float64(len(c.Families)), float64(len(c.Events)), float64(len(c.Recommendations)), float64(len(c.Pending())))
	return NewFacts(strs, nums)
}

// dateFacts writes a time the ways a text may give it.
func dateFacts(t time.Time) []string {
	t = t.UTC()
	return []string{t.Format("2006-01-02"), t.Format("January 2 2006"), t.Format("Jan 2 2006"), t.Format("2 January 2006"), t.Format("15:04")}
}

func flatten(v any, str func(string), num func(float64)) {
	switch x := v.(type) {
	case string:
		str(x)
	case float64:
		num(x)
	case int:
		num(float64(x))
	case interface{ Float64() (float64, error) }: // json.Number
		if f, err := x.Float64(); err == nil {
			num(f)
		}
	case []any:
		for _, e := range x {
			flatten(e, str, num)
		}
	case []string:
		for _, e := range x {
			str(e)
		}
	case map[string]any:
		for k, e := range x {
			str(k)
			flatten(e, str, num)
		}
	}
}

const months = `january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec`

var (
	// An id or code: letters and digits joined by - _ / or ., with at
	// least one digit or a dash (SO-1042, C-ACME, EX-000042, 2026-11-30).
	idRe = regexp.MustCompile(`\b[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)+\b|\b[A-Za-z]+[0-9][A-Za-z0-9]*\b`)
	// A code: letters then digits, as in EX-000042, SO-1042, SKU-88, P1.
	codeRe = regexp.MustCompile(`\b[A-Za-z]+[-_/]?[0-9][A-Za-z0-9]*(?:[-_/][A-Za-z0-9]+)*\b`)
	// A number as people write it: 48,250.00 or 0.75 or 5.
	numberRe = regexp.MustCompile(`\d[\d,]*(?:\.\d+)?`)
	// A date with a month name: "December 2", "Dec 2, 2026", "2 December".
	monthDayRe = regexp.MustCompile(`(?i)\b(` + months + `)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?|\b(\d{1,2})\s+(` + months + `)\b\.?(?:,?\s+(\d{4})\b)?`)
	wordRe     = regexp.MustCompile(`[\p{L}][\p{L}'’]*`)
)

// commonWords may be capitalized in a text without being names: sentence
// starts, the product's vocabulary and the words of the families. Anything
// capitalized beyond these must be found in the facts.
var commonWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the this that these those it its is are was were be been has have had
		there here what which who when where why how if as at by for from in into of on to with without and or but not no
		so then than also still only both each all any some one two three four five six seven eight nine ten
		i we you they he she our your their please note
		case cases order orders customer customers supplier suppliers shipment shipments inbound outbound invoice invoices
		po purchase sales sku item items warehouse warehouses stock inventory count receipt receipts credit hold holds
		release released approve approved approval approvals reject rejected decision decisions decide needed need needs
		impact severity priority team owner owned resolved resolve open opened merged pending action actions recommend
		recommended recommendation recommendations expedite split reallocate dispute accept adjust recount contact ask
		price variance discrepancy allocation conflict delay delayed late missing confirmation data incomplete returns
		exception exceptions carrier eta promise promised value total amount limit balance overdue tier strategic key
		standard basic usd eur gbp erp wms tms crm sla summary composite families family confidence evidence risk
		ship shipping send call check confirm review wait pay hold keep move fill cancel escalate chase notify request
		investigate verify update fix correct claim charge credit refund book schedule
		today tomorrow yesterday week month monday tuesday wednesday thursday friday saturday sunday
		january february march april may june july august september october november december
		jan feb mar apr jun jul aug sep sept oct nov dec p1 p2 p3 p4 low medium high critical exops rules`) {
		m[w] = true
	}
	return m
}()

// Ungrounded returns the first number, id, date or name in text that the
// facts do not hold, or "" when everything is grounded.
func (f *Facts) Ungrounded(text string) string {
	rest := text
	// Dates with month names first, so their day numbers are not taken
	// for quantities.
	for _, m := range monthDayRe.FindAllStringSubmatchIndex(rest, -1) {
		s := rest[m[0]:m[1]]
		if !f.hasDate(s) {
			return s
		}
	}
	rest = monthDayRe.ReplaceAllString(rest, " ")
	for _, id := range idRe.FindAllString(rest, -1) {
		if isPlainNumber(id) {
			continue // a decimal such as 0.75 is a number, checked below
		}
		if !strings.Contains(f.text, strings.ToLower(id)) {
			return id
		}
	}
	rest = idRe.ReplaceAllStringFunc(rest, func(s string) string {
		if isPlainNumber(s) {
			return s
		}
		return " "
	})
	for _, n := range numberRe.FindAllString(rest, -1) {
		if !f.hasNumber(n) {
			return n
		}
	}
	for _, w := range wordRe.FindAllString(rest, -1) {
		r := []rune(w)
		if !unicode.IsUpper(r[0]) {
			continue
		}
		lw := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s"))
		if commonWords[lw] || commonWords[strings.ToLower(w)] || len(r) < 2 {
			continue
		}
		if !containsWord(f.text, lw) {
			return w
		}
	}
	return ""
}

func isPlainNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return err == nil
}

func containsWord(text, w string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before := start == 0 || !isWordByte(text[start-1])
		after := end == len(text) || !isWordByte(text[end])
		if before && after {
			return true
		}
		i = start + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

func (f *Facts) hasDate(s string) bool {
	clean := strings.NewReplacer(",", "", ".", "", "st ", " ", "nd ", " ", "rd ", " ", "th ", " ").Replace(strings.TrimSpace(s) + " ")
	clean = strings.Join(strings.Fields(clean), " ")
	for _, layout := range []string{"January 2 2006", "Jan 2 2006", "2 January 2006", "2 Jan 2006", "January 2", "Jan 2", "2 January", "2 Jan"} {
		t, err := time.Parse(layout, clean)
		if err != nil {
			continue
		}
		if strings.Contains(layout, "2006") {
			return strings.Contains(f.text, strings.ToLower(t.Format("2006-01-02")))
		}
		// No year: any fact date on that month and day.
		return regexp.MustCompile(`\d{4}-` + t.Format("01-02")).MatchString(f.text)
	}
	return false
}

func parseNum(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimRight(s, ","), ",", ""), 64)
	return v, err == nil
}

// hasNumber accepts a number that equals a fact, or a fact rounded to the
// number's precision (48,250 for 48250.0, 0.75 for 0.7462, 8 for 7.8).
func (f *Facts) hasNumber(s string) bool {
	s = strings.TrimRight(s, ",.")
	v, ok := parseNum(s)
	if !ok {
		return false
	}
	prec := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		prec = len(s) - i - 1
	}
	scale := math.Pow(10, float64(prec))
	for _, n := range f.numbers {
		if math.Abs(n-v) < 1e-9 || math.Abs(math.Round(math.Abs(n)*scale)/scale-v) < 1e-9 {
			return true
		}
	}
	return false
}

// sentenceCount counts sentences the way the summary rules count them.
func sentenceCount(s string) int {
	return len(regexp.MustCompile(`[.!?](\s|$)`).FindAllString(s, -1))
}

// checkSummary refuses a model summary that is not two to four sentences,
// too long, or not grounded in the case.
func checkSummary(s string, facts *Facts) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("empty summary")
	}
	if n := sentenceCount(s); n < 2 || n > 4 {
		return fmt.Errorf("%d sentences, not 2 to 4", n)
	}
	if len(s) > 900 {
		return fmt.Errorf("%d characters, over 900", len(s))
	}
	if w := facts.Ungrounded(s); w != "" {
		return fmt.Errorf("%q is not in the case facts", w)
	}
	return nil
}

// sortedKeys returns a map's keys in order, so prompts are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// caseIDRe finds case ids in a text.
var caseIDRe = regexp.MustCompile(`(?i)\bEX-\d{1,9}\b`)

// ungroundedCaseID returns the first case id in text that no result
// names, or "". A case id in the question or in a tool's arguments is no
// proof that the case exists: only what the store returned is.
func ungroundedCaseID(text string, results []string) string {
	for _, id := range caseIDRe.FindAllString(text, -1) {
		found := false
		for _, r := range results {
			if caseIDRe.MatchString(r) && containsID(r, id) {
				found = true
				break
			}
		}
		if !found {
			return id
		}
	}
	return ""
}

// containsID reports whether id occurs in s as a whole id (EX-1 is not in
// EX-10).
func containsID(s, id string) bool {
	for _, m := range caseIDRe.FindAllString(s, -1) {
		if strings.EqualFold(m, id) {
			return true
		}
	}
	return false
}
