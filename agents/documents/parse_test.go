package documents

import (
	"regexp"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in       string
		dec      byte
		want     string
		currency string
		bad      bool
	}{
		{"1,234.56", DecimalAuto, "1234.56", "", false},
		{"1.234,56", DecimalAuto, "1234.56", "", false},
		{"1 234,56 €", DecimalAuto, "1234.56", "EUR", false},
		{"$1,234.56", DecimalAuto, "1234.56", "USD", false},
		{"-$12.00", DecimalAuto, "-12.00", "USD", false},
		{"(12.00)", DecimalAuto, "-12.00", "", false},
		{"1.234,56-", DecimalAuto, "-1234.56", "", false},
		{"EUR 1.234,56", DecimalAuto, "1234.56", "EUR", false},
		{"1,234.56 USD", DecimalAuto, "1234.56", "USD", false},
		{"£99.5", DecimalAuto, "99.5", "GBP", false},
		{"₹1,23,456.78", DecimalAuto, "123456.78", "INR", false},
		{"Rs.1,23,456.78", DecimalAuto, "123456.78", "INR", false},
		{"CHF 1'234.50", DecimalAuto, "1234.50", "CHF", false},
		{"12,5", DecimalAuto, "12.5", "", false},
		{"1,234", DecimalComma, "1.234", "", false},
		{"1,234", DecimalPoint, "1234", "", false},
		{"1,234", DecimalAuto, "1234", "", false},
		{"1.234", DecimalComma, "1234", "", false},
		{"1.234", DecimalPoint, "1.234", "", false},
		{"1.234.567", DecimalAuto, "1234567", "", false},
		{"1,234,567.8", DecimalAuto, "1234567.8", "", false},
		{"0.00", DecimalAuto, "0.00", "", false},
		{"-0.00", DecimalAuto, "0.00", "", false},
		{"007", DecimalAuto, "7", "", false},
		{"", DecimalAuto, "", "", true},
		{"€", DecimalAuto, "", "", true},
		{"12.34.56", DecimalAuto, "", "", true},
		{"1,2", DecimalPoint, "1.2", "", false},
		{"1.234,567.89", DecimalAuto, "", "", true},
		{"1,,234", DecimalAuto, "", "", true},
		{"12.", DecimalAuto, "", "", true},
		{"abc", DecimalAuto, "", "", true},
		{"20%", DecimalAuto, "", "", true},
		{"PO-3087", DecimalAuto, "", "", true},
		{"1234567890123456789", DecimalAuto, "", "", true},
	}
	for _, tt := range tests {
		got, cur, err := ParseAmount(tt.in, tt.dec)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseAmount(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want || cur != tt.currency {
			t.Errorf("ParseAmount(%q, %q) = %q, %q, %v; want %q, %q", tt.in, tt.dec, got, cur, err, tt.want, tt.currency)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in       string
		dayFirst bool
		want     string
	}{
		{"2026-11-27", false, "2026-11-27"},
		{"2026/11/27", false, "2026-11-27"},
		{"27.11.2026", false, "2026-11-27"},
		{"05.11.2026", false, "2026-11-05"},
		{"27/11/2026", false, "2026-11-27"},
		{"11/27/2026", true, "2026-11-27"},
		{"05/11/2026", true, "2026-11-05"},
		{"05/11/2026", false, "2026-05-11"},
		{"05-11-26", true, "2026-11-05"},
		{"Nov 27, 2026", false, "2026-11-27"},
		{"November 27 2026", false, "2026-11-27"},
		{"27 Nov 2026", false, "2026-11-27"},
		{"14-Nov-24", true, "2024-11-14"},
		{"05/Jan/26", false, "2026-01-05"},
		{"27-Nov-2026", false, "2026-11-27"},
		{"27th November 2026", false, "2026-11-27"},
		{"27. November 2026", false, "2026-11-27"},
		{"1. März 2026", false, "2026-03-01"},
		{"27 novembre 2026", false, "2026-11-27"},
		{"1er décembre 2026", false, "2026-12-01"},
		{"3 août 2026", false, "2026-08-03"},
		{"Sept 1, 2026", false, "2026-09-01"},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in, tt.dayFirst)
		if err != nil || got != tt.want {
			t.Errorf("ParseDate(%q, %v) = %q, %v; want %q", tt.in, tt.dayFirst, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "31.02.2026", "2026-13-01", "13/13/2026", "Nov 2026", "27 Foo 2026", "27/11-2026", "PO-3087", "1899-01-01", "Net 30", "Nov 14, 24"} {
		if got, err := ParseDate(bad, true); err == nil {
			t.Errorf("ParseDate(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	for in, want := range map[string]string{"€": "EUR", "eur": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "₹": "INR", "Rs.": "INR", "CHF": "CHF"} {
		if got, ok := ParseCurrency(in); !ok || got != want {
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "XYZ", "dollars", "E"} {
		if got, ok := ParseCurrency(bad); ok {
			t.Errorf("ParseCurrency(%q) = %q", bad, got)
		}
	}
}

var reCanonical = regexp.MustCompile(`^-?(0|[1-9]\d*)(\.\d+)?$`)

// FuzzParseAmount: never panics; what it accepts is canonical, and reading
// the canonical form again gives the same amount.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1,234.56", "1.234,56 €", "(12.00)", "₹1,23,456.78", "1 234,56", "1'234.5", "-0", "1.234,56-"} {
		f.Add(s, byte(0))
		f.Add(s, byte(','))
	}
	f.Fuzz(func(t *testing.T, s string, dec byte) {
		a, _, err := ParseAmount(s, dec)
		if err != nil {
			return
		}
		if !reCanonical.MatchString(a) {
			t.Fatalf("ParseAmount(%q) = %q, not canonical", s, a)
		}
		b, cur, err := ParseAmount(a, DecimalPoint)
		if err != nil || b != a || cur != "" {
			t.Fatalf("canonical %q re-reads as %q, %q, %v", a, b, cur, err)
		}
	})
}

// FuzzParseDate: never panics; what it accepts is a real YYYY-MM-DD date
// that reads back unchanged.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-27", "27.11.2026", "11/27/2026", "Nov 27, 2026", "27 novembre 2026", "27. März 2026", "1er mai 2026"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		d, err := ParseDate(s, dayFirst)
		if err != nil {
			return
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			t.Fatalf("ParseDate(%q) = %q: %v", s, d, err)
		}
		if again, err := ParseDate(d, !dayFirst); err != nil || again != d {
			t.Fatalf("ParseDate(%q) = %q re-reads as %q, %v", s, d, again, err)
		}
	})
}

// FuzzParseCurrency: never panics; what it accepts is an ISO code.
func FuzzParseCurrency(f *testing.F) {
	for _, s := range []string{"€", "EUR", "US$", "Rs.", "₹", "$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := ParseCurrency(s)
		if ok && !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(c) {
			t.Fatalf("ParseCurrency(%q) = %q", s, c)
		}
		amt, cur, err := ParseAmount(s, 0)
		if err == nil && cur != "" && !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(cur) {
			t.Fatalf("ParseAmount(%q) currency %q (amount %q)", s, cur, amt)
		}
	})
}
