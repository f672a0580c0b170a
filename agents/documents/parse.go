package documents

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Locale hints. Suppliers write 1.234,56 (DE, FR with spaces, most of
// Europe) or 1,234.56 (US, UK, India's 1,23,456.78); a single separator
// followed by three digits ("1.234") is ambiguous and the hint decides.
const (
	DecimalAuto  byte = 0
	DecimalPoint byte = '.'
	DecimalComma byte = ','
)

var errNotAmount = errors.New("not an amount")

// maxAmountDigits bounds what ParseAmount accepts: more digits than this is
// not a price on a supplier document, and it keeps int64 arithmetic safe.
const maxAmountDigits = 18

// currencySymbols maps what documents print to ISO 4217 codes. "$" is read
// as USD: a Canadian or Australian supplier usually prints CAD/AUD or C$/A$.
var currencySymbols = []struct{ sym, code string }{
	{"US$", "USD"}, {"C$", "CAD"}, {"CA$", "CAD"}, {"A$", "AUD"}, {"AU$", "AUD"},
	{"€", "EUR"}, {"$", "USD"}, {"£", "GBP"}, {"₹", "INR"}, {"Rs.", "INR"}, {"Rs", "INR"}, {"¥", "JPY"},
	{"zł", "PLN"}, {"Kč", "CZK"}, {"₨", "INR"},
}

var isoCurrencies = map[string]bool{
	"EUR": true, "USD": true, "GBP": true, "INR": true, "CHF": true, "JPY": true, "CNY": true, "CAD": true,
	"AUD": true, "SEK": true, "NOK": true, "DKK": true, "PLN": true, "CZK": true, "HUF": true, "MXN": true,
	"BRL": true, "ZAR": true, "SGD": true, "HKD": true, "NZD": true, "AED": true, "TRY": true,
}

// ParseCurrency reads a currency symbol or ISO 4217 code ("€", "eur", "US$")
// and returns the ISO code.
func ParseCurrency(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	u := strings.ToUpper(s)
	if isoCurrencies[u] {
		return u, true
	}
	for _, c := range currencySymbols {
		if s == c.sym || u == strings.ToUpper(c.sym) {
			return c.code, true
		}
	}
	return "", false
}

// stripCurrency removes a leading or trailing currency symbol or code from an
// amount and returns what was removed as an ISO code.
func stripCurrency(s string) (string, string) {
	s = strings.TrimSpace(s)
	u := strings.ToUpper(s)
	// ISO codes: "EUR 1.234,56", "1,234.56 USD".
	if len(u) >= 4 {
		if code := u[:3]; isoCurrencies[code] && !isLetter(u[3]) {
			return strings.TrimSpace(s[3:]), code
		}
		if code := u[len(u)-3:]; isoCurrencies[code] && !isLetter(u[len(u)-4]) {
			return strings.TrimSpace(s[:len(s)-3]), code
		}
	}
	for _, c := range currencySymbols {
		if strings.HasPrefix(s, c.sym) {
			return strings.TrimSpace(s[len(c.sym):]), c.code
		}
		if strings.HasSuffix(s, c.sym) {
			return strings.TrimSpace(s[:len(s)-len(c.sym)]), c.code
		}
	}
	return s, ""
}

func isLetter(b byte) bool { return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }

// ParseAmount reads an amount as suppliers print it ("1.234,56 €",
// "$1,234.56", "(12.00)", "1 234,56", "₹1,23,456.78", "12,5") and returns it
// as a canonical decimal string ("1234.56", "-12.00", "12.5") and the
// currency it named, if any. decimal is DecimalPoint, DecimalComma or
// DecimalAuto; it only decides the ambiguous "1.234" / "1,234".
func ParseAmount(s string, decimal byte) (amount, currency string, err error) {
	s, currency = stripCurrency(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")"):
		neg, s = true, s[1:len(s)-1]
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−"):
		neg = true
		s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "−")
	case strings.HasSuffix(s, "-"):
		// German ledgers write credits as "1.234,56-".
		neg, s = true, s[:len(s)-1]
	}
	if currency == "" {
		// The sign may sit outside the symbol: "-$12.00".
		s, currency = stripCurrency(s)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", currency, errNotAmount
	}
	var digits []byte
	var seps []rune // separator at each position where one occurs
	var sepAt []int // number of digits before each separator
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '.' || r == ',' || r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' || r == '’':
			if len(digits) == 0 {
				return "", currency, errNotAmount
			}
			if n := len(sepAt); n > 0 && sepAt[n-1] == len(digits) {
				return "", currency, errNotAmount // two separators in a row
			}
			seps = append(seps, r)
			sepAt = append(sepAt, len(digits))
		default:
			return "", currency, errNotAmount
		}
	}
	if len(digits) == 0 || len(digits) > maxAmountDigits {
		return "", currency, errNotAmount
	}
	if n := len(sepAt); n > 0 && sepAt[n-1] == len(digits) {
		return "", currency, errNotAmount // ends in a separator
	}
	// Which separator is the decimal one, if any.
	decAt := -1 // digits before the decimal separator
	if n := len(seps); n > 0 {
		last := seps[n-1]
		count := 0
		for _, r := range seps {
			if r == last {
				count++
			}
		}
		mixed := count != n
		after := len(digits) - sepAt[n-1]
		switch {
		case last != '.' && last != ',':
			// spaces and apostrophes only group thousands
		case mixed:
			if count != 1 {
				return "", currency, errNotAmount // "1.234.567" after a comma
			}
			decAt = sepAt[n-1]
		case count > 1:
			// "1,234,567" or "1.234.567": thousands only
		case after != 3:
			decAt = sepAt[n-1]
		default:
			// "1,234" or "1.234": the locale decides.
			switch {
			case decimal == byte(last):
				decAt = sepAt[n-1]
			case decimal == DecimalAuto && last == '.':
				decAt = sepAt[n-1]
			}
		}
		// Grouping separators must leave groups of 3 (or 2, for Indian
		// lakh grouping) so that "12.34.56" or "1,2" as thousands is refused.
		prev := 0
		for i, at := range sepAt {
			if at == decAt && i == n-1 {
				break
			}
			g := at - prev
			if i > 0 && g != 3 && g != 2 {
				return "", currency, errNotAmount
			}
			if i == 0 && (g < 1 || g > 3) {
				return "", currency, errNotAmount
			}
			prev = at
		}
		if end := len(digits); decAt < 0 && end-prev != 3 {
			return "", currency, errNotAmount
		} else if decAt >= 0 && decAt-prev != 3 && prev != 0 {
			return "", currency, errNotAmount
		}
	}
	intPart, frac := digits, []byte(nil)
	if decAt >= 0 {
		intPart, frac = digits[:decAt], digits[decAt:]
	}
	intPart = []byte(strings.TrimLeft(string(intPart), "0"))
	if len(intPart) == 0 {
		intPart = []byte("0")
	}
	var b strings.Builder
	if neg && strings.Trim(string(intPart)+string(frac), "0") != "" {
		b.WriteByte('-')
	}
	b.Write(intPart)
	if len(frac) > 0 {
		b.WriteByte('.')
		b.Write(frac)
	}
	return b.String(), currency, nil
}

// dateFillers are words written around a date that are not part of it.
var dateFillers = map[string]bool{"den": true, "de": true, "del": true, "le": true, "the": true, "of": true, "am": true,
	"on": true, "dnia": true, "dn": true, "z": true, "il": true, "van": true, "op": true, "vom": true}

// months maps English, German and French month names and abbreviations
// (lower case, accents kept and dropped) to month numbers.
var months = map[string]time.Month{}

func init() {
	add := func(m time.Month, names ...string) {
		for _, n := range names {
			months[n] = m
		}
	}
	add(1, "jan", "january", "januar", "janvier", "janv", "jän", "jänner")
	add(2, "feb", "february", "februar", "février", "fevrier", "févr", "fevr", "fév", "fev")
	add(3, "mar", "march", "märz", "maerz", "mrz", "mär", "mars")
	add(4, "apr", "april", "avril", "avr")
	add(5, "may", "mai")
	add(6, "jun", "june", "juni", "juin")
	add(7, "jul", "july", "juli", "juillet", "juil")
	add(8, "aug", "august", "août", "aout")
	add(9, "sep", "sept", "september", "septembre")
	add(10, "oct", "october", "okt", "oktober", "octobre")
	add(11, "nov", "november", "novembre")
	add(12, "dec", "december", "dez", "dezember", "décembre", "decembre", "déc")
	// Dutch, Spanish, Italian, Polish (nominative and genitive), Portuguese.
	add(1, "januari", "enero", "ene", "gennaio", "genn", "styczeń", "stycznia", "sty", "janeiro")
	add(2, "februari", "febrero", "febbraio", "luty", "lutego", "lut", "fevereiro")
	add(3, "maart", "mrt", "marzo", "marca", "marzec", "março")
	add(4, "abril", "abr", "aprile", "kwiecień", "kwietnia", "kwi")
	add(5, "mei", "mayo", "maggio", "mag", "maj", "maja", "maio")
	add(6, "junio", "giugno", "giu", "czerwiec", "czerwca", "cze", "junho")
	add(7, "julio", "luglio", "lug", "lipiec", "lipca", "lip", "julho")
	add(8, "augustus", "agosto", "ago", "sierpień", "sierpnia", "sie")
	add(9, "september", "septiembre", "setiembre", "settembre", "sett", "wrzesień", "września", "wrz", "setembro")
	add(10, "oktober", "octubre", "ottobre", "ott", "październik", "października", "paź", "outubro")
	add(11, "november", "noviembre", "novembre", "listopad", "listopada", "lis", "novembro")
	add(12, "december", "diciembre", "dicembre", "dic", "grudzień", "grudnia", "gru", "dezembro")
}

var (
	reISODate     = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	reNumericDate = regexp.MustCompile(`^(\d{1,2})([-/.])(\d{1,2})([-/.])(\d{2}|\d{4})$`)
)

// ParseDate reads a date as suppliers print it ("2026-11-27", "27.11.2026",
// "27/11/2026", "11/27/2026", "Nov 27, 2026", "27 novembre 2026",
// "27. November 2026") and returns it as YYYY-MM-DD. dayFirst decides
// ambiguous numeric dates with slashes or dashes ("05/11/2026"); dots always
// mean day first.
func ParseDate(s string, dayFirst bool) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 40 || s == "" {
		return "", fmt.Errorf("not a date: %q", truncate(s, 40))
	}
	if w, rest, ok := strings.Cut(s, " "); ok && dateFillers[strings.ToLower(w)] {
		s = strings.TrimSpace(rest)
	}
	if m := reISODate.FindStringSubmatch(s); m != nil {
		return mkDate(m[1], m[2], m[3], s)
	}
	if m := reNumericDate.FindStringSubmatch(s); m != nil {
		if m[2] != m[4] {
			return "", fmt.Errorf("not a date: %q", s)
		}
		a, b, y := m[1], m[3], m[5]
		if len(y) == 2 {
			y = "20" + y
		}
		ai, _ := strconv.Atoi(a)
		bi, _ := strconv.Atoi(b)
		switch {
		case m[2] == ".":
			return mkDate(y, b, a, s)
		case ai > 12 && bi <= 12:
			return mkDate(y, b, a, s)
		case bi > 12 && ai <= 12:
			return mkDate(y, a, b, s)
		case dayFirst:
			return mkDate(y, b, a, s)
		default:
			return mkDate(y, a, b, s)
		}
	}
	// Dates with a month name: split into words and numbers.
	var words []string
	var nums []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == '.' || r == '-' || r == '/' || r == '\u00a0'
	}) {
		lf := strings.TrimRight(strings.ToLower(f), "°º")
		switch {
		case dateFillers[lf]:
			// "den 01.11.2024", "1 de noviembre de 2024", "le 3 mars"
		case isDigits(lf):
			nums = append(nums, lf)
		case len(lf) > 2 && isDigits(lf[:len(lf)-2]) && (strings.HasSuffix(lf, "st") || strings.HasSuffix(lf, "nd") ||
			strings.HasSuffix(lf, "rd") || strings.HasSuffix(lf, "th") || strings.HasSuffix(lf, "er")):
			nums = append(nums, lf[:len(lf)-2]) // 27th, 1er
		default:
			words = append(words, lf)
		}
	}
	if len(words) != 1 || len(nums) != 2 {
		return "", fmt.Errorf("not a date: %q", s)
	}
	mon, ok := months[words[0]]
	if !ok {
		return "", fmt.Errorf("not a date: unknown month %q", words[0])
	}
	day, year := nums[0], nums[1]
	if len(day) == 4 { // "2026 Nov 27"
		day, year = year, day
	}
	if len(year) == 2 && reDayMonYY.MatchString(s) {
		year = "20" + year // "14-Nov-24", as Indian and UK ledgers print it
	}
	if len(year) != 4 {
		return "", fmt.Errorf("not a date: %q", s)
	}
	return mkDate(year, strconv.Itoa(int(mon)), day, s)
}

// reDayMonYY is a day, a month name and a two-digit year joined by dashes
// or slashes: "14-Nov-24", "05/Jan/26".
var reDayMonYY = regexp.MustCompile(`^\d{1,2}([-/])\p{L}{3,9}\.?([-/])\d{2}$`)

func mkDate(y, m, d, orig string) (string, error) {
	yi, err1 := strconv.Atoi(y)
	mi, err2 := strconv.Atoi(m)
	di, err3 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || err3 != nil || yi < 1900 || yi > 2200 || mi < 1 || mi > 12 || di < 1 || di > 31 {
		return "", fmt.Errorf("not a date: %q", orig)
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Day() != di {
		return "", fmt.Errorf("not a date: %q has no day %d", orig, di)
	}
	return t.Format("2006-01-02"), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// normSpace collapses runs of white space to one space.
func normSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}
