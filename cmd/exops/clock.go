package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// clockFromEnv is the business clock of a command: the wall clock, moved by
// EXOPS_CLOCK_OFFSET when it is set ("5y", "-1y", "36h", "-90d"), so that a
// demo or a test can run exops as it would run on another day. Signature
// windows always use the real time.
func clockFromEnv(getenv func(string) string) (cases.Clock, error) {
	raw := strings.TrimSpace(getenv("EXOPS_CLOCK_OFFSET"))
	if raw == "" {
		return cases.WallClock, nil
	}
	d, err := parseOffset(raw)
	if err != nil {
		return nil, fmt.Errorf("EXOPS_CLOCK_OFFSET %q: %w", raw, err)
	}
	return cases.ShiftedClock(d), nil
}

// parseOffset reads a signed duration in Go's syntax, or a whole number of
// days ("d") or years of 365 days ("y").
func parseOffset(s string) (time.Duration, error) {
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'y') {
		v, err := strconv.Atoi(s[:n-1])
		if err != nil {
			return 0, fmt.Errorf("want a number before %q", s[n-1:])
		}
		day := 24 * time.Hour
		if s[n-1] == 'y' {
			day *= 365
		}
		if v > 1000*365 || v < -1000*365 {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(v) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 5y, -1y, 90d or 36h")
	}
	return d, nil
}
