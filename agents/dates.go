package agents

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates as operators write them: 2026-11-20, 20/11, 11/20, 20.11.2026,
// Nov 20, 20th November, the 20th. A day and month that both fit either
// way (3/11: 3 November or March 11) are ambiguous, and a question with
// one is declined rather than answered for a guess; 20/11 and 11/20 are
// not. A date without a year is the latest one not after today.

const monthPat = `jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?`

const ordinal = `\d{1,2}(?:st|nd|rd|th)?`

// datePat is one date; after "from" and "on" a day of the month is one
// only with "the" (strictDatePat: "from 3rd party carriers" has none);
// dayPat is a day alone, allowed as one end of a range whose other end
// names the month ("Nov 3 to 10").
const (
	strictDatePat = `\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{1,2}\.\d{2,4}` +
		`|(?:the\s+)?` + ordinal + `(?:\s+of)?\s+(?:` + monthPat + `)\.?(?:,?\s+\d{4})?` +
		`|(?:` + monthPat + `)\.?\s+(?:the\s+)?` + ordinal + `(?:,?\s+\d{4})?` +
		`|the\s+\d{1,2}(?:st|nd|rd|th)`
	datePat = strictDatePat + `|\d{1,2}(?:st|nd|rd|th)`
	dayPat  = `(?:the\s+)?` + ordinal
)

var (
	reDateRange = regexp.MustCompile(`(?i)\b(?:between|from)\s+(` + datePat + `|` + dayPat + `)\s+(?:and|to|till|until|through|thru|-)\s+(` + datePat + `|` + dayPat + `)\b`)
	reDateSince = regexp.MustCompile(`(?i)\b(?:(since|after)\s+(` + datePat + `)|(from|starting)\s+(` + strictDatePat + `))\b`)
	reDateUntil = regexp.MustCompile(`(?i)\b(before|until|till|up\s+to|through)\s+(` + datePat + `)\b`)
	reDateOn    = regexp.MustCompile(`(?i)\bon\s+(` + strictDatePat + `)\b`)
	reDateNum   = regexp.MustCompile(`^(\d{1,2})([/.])(\d{1,2})(?:[/.](\d{2,4}))?$`)
	reDateISO   = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	reDateMonth = regexp.MustCompile(`(?i)\b(` + monthPat + `)`)
	reDateDay   = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\b`)
	reDateYear  = regexp.MustCompile(`\b(\d{4})\b`)
)

var monthNumbers = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

// dateOf reads one date. month, when not zero, is the month of a range's
// other end, for a day given alone. ambiguous: day and month may be
// either way round.
// dayFirst, when set, is how the question writes its other numeric dates
// ("from 1/11 to 15/11": day first), which settles an ambiguous one.
func dateOf(s string, now time.Time, month time.Month, dayFirst *bool) (t time.Time, ok, ambiguous bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	today := midnight(now)
	mk := func(y int, m time.Month, d int) (time.Time, bool) {
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return time.Time{}, false
		}
		if y == 0 {
			y = today.Year()
			if time.Date(y, m, d, 0, 0, 0, 0, now.Location()).After(today) {
				y--
			}
		} else if y < 100 {
			y += 2000
		}
		t := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
		return t, t.Day() == d // 31/11 is no date
	}
	if m := reDateISO.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		t, ok := mk(y, time.Month(mo), d)
		return t, ok, false
	}
	if m := reDateNum.FindStringSubmatch(s); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[3])
		y, _ := strconv.Atoi(m[4])
		switch {
		case m[2] == ".", a > 12 && b <= 12, dayFirst != nil && *dayFirst: // 20.11.2026 and 20/11 are day first
			t, ok := mk(y, time.Month(b), a)
			return t, ok, false
		case b > 12 && a <= 12, dayFirst != nil && !*dayFirst:
			t, ok := mk(y, time.Month(a), b)
			return t, ok, false
		case a == b:
			t, ok := mk(y, time.Month(a), a)
			return t, ok, false
		}
		return time.Time{}, false, a <= 12 && b <= 12
	}
	d := reDateDay.FindStringSubmatch(s)
	if d == nil {
		return time.Time{}, false, false
	}
	day, _ := strconv.Atoi(d[1])
	y := 0
	if m := reDateYear.FindStringSubmatch(s); m != nil {
		y, _ = strconv.Atoi(m[1])
	}
	if m := reDateMonth.FindStringSubmatch(s); m != nil {
		t, ok := mk(y, monthNumbers[m[1][:3]], day)
		return t, ok, false
	}
	if month == 0 {
		// "the 20th": of this month if it has come, else of the last.
		month = today.Month()
		if day > today.Day() {
			month--
		}
		if month == 0 {
			month = 12
		}
	}
	t, ok = mk(0, month, day)
	return t, ok, false
}

// dateSlots reads the dates of q: a range, a start and an end, or one
// day. spans are the words read.
func dateSlots(q string, now time.Time) (p period, spans [][2]int, ambiguous bool) {
	mark := func(loc []int) { spans = append(spans, [2]int{loc[0], loc[1]}) }
	var order *bool
	read := func(s string, month time.Month) (time.Time, bool) {
		t, ok, amb := dateOf(s, now, month, order)
		ambiguous = ambiguous || amb
		return t, ok
	}
	if m := reDateRange.FindStringSubmatchIndex(q); m != nil {
		a, b := q[m[2]:m[3]], q[m[4]:m[5]]
		order = numericOrder(a)
		if order == nil {
			order = numericOrder(b)
		}
		var ma, mb time.Month
		if x := reDateMonth.FindStringSubmatch(a); x != nil {
			ma = monthNumbers[strings.ToLower(x[1][:3])]
		}
		if x := reDateMonth.FindStringSubmatch(b); x != nil {
			mb = monthNumbers[strings.ToLower(x[1][:3])]
		}
		from, ok1 := read(a, mb)
		to, ok2 := read(b, ma)
		if ok1 && ok2 && !to.Before(from) {
			p = period{from: from, to: to.AddDate(0, 0, 1), text: "from " + dayText(from) + " to " + dayText(to)}
			mark(m[:2])
			return p, spans, ambiguous
		}
		if ambiguous {
			return p, spans, true
		}
		order = nil
	}
	if m := reDateSince.FindStringSubmatchIndex(q); m != nil {
		if m[2] < 0 {
			m[2], m[3], m[4], m[5] = m[6], m[7], m[8], m[9]
		}
		if t, ok := read(q[m[4]:m[5]], 0); ok {
			word := strings.ToLower(q[m[2]:m[3]])
			if word == "after" {
				t = t.AddDate(0, 0, 1)
			}
			p.from, p.text = t, "since "+dayText(t)
			mark(m[:2])
		}
	}
	if m := reDateUntil.FindStringSubmatchIndex(q); m != nil {
		if t, ok := read(q[m[4]:m[5]], 0); ok {
			if strings.ToLower(q[m[2]:m[3]]) != "before" {
				t = t.AddDate(0, 0, 1)
			}
			p.to = t
			p.text = strings.TrimSpace(p.text + " before " + dayText(t))
			mark(m[:2])
		}
	}
	if m := reDateOn.FindStringSubmatchIndex(q); m != nil && p.from.IsZero() && p.to.IsZero() {
		if t, ok := read(q[m[2]:m[3]], 0); ok {
			p = period{from: t, to: t.AddDate(0, 0, 1), text: "on " + dayText(t)}
			mark(m[:2])
		}
	}
	return p, spans, ambiguous
}

// numericOrder says whether a numeric date can only be day first (20/11)
// or only month first (11/20); nil when it reads both ways or is no such
// date.
func numericOrder(s string) *bool {
	m := reDateNum.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[2] != "/" {
		return nil
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[3])
	switch {
	case a > 12 && b <= 12:
		t := true
		return &t
	case b > 12 && a <= 12:
		f := false
		return &f
	}
	return nil
}
