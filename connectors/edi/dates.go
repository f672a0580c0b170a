package edi

import "time"

// ccyymmdd turns an 8-digit date into YYYY-MM-DD.
func ccyymmdd(s string) (string, bool) {
	if len(s) != 8 || !allDigits(s) {
		return "", false
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// yymmdd turns a 6-digit date into YYYY-MM-DD. Two-digit years are read in
// the window X12 and EDIFACT senders use in practice: 00–69 are 20xx.
func yymmdd(s string) (string, bool) {
	if len(s) != 6 || !allDigits(s) {
		return "", false
	}
	century := "20"
	if s[:2] >= "70" {
		century = "19"
	}
	return ccyymmdd(century + s)
}

// anyDate reads CCYYMMDD or YYMMDD.
func anyDate(s string) string {
	if d, ok := ccyymmdd(s); ok {
		return d
	}
	d, _ := yymmdd(s)
	return d
}
