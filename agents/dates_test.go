package agents

import (
	"testing"
	"time"
)

// TestDateSlots: dates in the spellings operators use, read from the
// injected clock (Thursday 2026-11-26 12:00 UTC); a date that reads two
// ways is ambiguous, never guessed.
func TestDateSlots(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	var zero time.Time
	tests := []struct {
		q        string
		from, to time.Time
		amb      bool
	}{
		{"since 2026-11-20", d(2026, 11, 20), zero, false},
		{"since 20/11", d(2026, 11, 20), zero, false},
		{"since 11/20", d(2026, 11, 20), zero, false},
		{"since 20.11.2026", d(2026, 11, 20), zero, false},
		{"since 3/11", zero, zero, true},
		{"since 11/11", d(2026, 11, 11), zero, false},
		{"since Nov 3rd", d(2026, 11, 3), zero, false},
		{"since the 1st", d(2026, 11, 1), zero, false},
		{"since the 28th", d(2026, 10, 28), zero, false}, // not yet this month
		{"since Dec 20", d(2025, 12, 20), zero, false},   // the latest one not after today
		{"after 20 November", d(2026, 11, 21), zero, false},
		{"before 2026-11-20", zero, d(2026, 11, 20), false},
		{"until 24/11", zero, d(2026, 11, 25), false},
		{"on 24 November", d(2026, 11, 24), d(2026, 11, 25), false},
		{"on the 24th", d(2026, 11, 24), d(2026, 11, 25), false},
		{"between Nov 3 and Nov 10", d(2026, 11, 3), d(2026, 11, 11), false},
		{"between Nov 3 and 10", d(2026, 11, 3), d(2026, 11, 11), false},
		{"from 3 to 10 November", d(2026, 11, 3), d(2026, 11, 11), false},
		{"from 1/11 to 15/11", d(2026, 11, 1), d(2026, 11, 16), false},
		{"between 2/11 and 9/11", zero, zero, true},
		{"between 2026-11-16 and 2026-11-20", d(2026, 11, 16), d(2026, 11, 21), false},
		{"credit holds for 3rd party carriers", zero, zero, false},
		{"delays from 3rd party carriers", zero, zero, false},
		{"from the 3rd", d(2026, 11, 3), zero, false},
		{"since 3rd", d(2026, 11, 3), zero, false},
		{"open 24/7", zero, zero, false},
		{"the week ending 2026-11-27", zero, zero, false},
	}
	for _, tt := range tests {
		p, _, amb := dateSlots(tt.q, now)
		if !p.from.Equal(tt.from) || !p.to.Equal(tt.to) || amb != tt.amb {
			t.Errorf("dateSlots(%q) = %v..%v ambiguous %v; want %v..%v %v", tt.q, p.from, p.to, amb, tt.from, tt.to, tt.amb)
		}
	}
}
