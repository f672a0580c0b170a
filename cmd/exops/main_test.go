package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// testOffset moves the business clock of every test in this package, as
// EXOPS_CLOCK_OFFSET moves the binary's: "EXOPS_CLOCK_OFFSET=5y go test
// ./cmd/exops" runs the suite as it would run five years from now.
var testOffset = os.Getenv("EXOPS_CLOCK_OFFSET")

// testClock is the business clock of the end-to-end tests.
func testClock() time.Time {
	d, err := parseOffset(testOffset)
	if testOffset == "" || err != nil {
		d = 0
	}
	return time.Now().Add(d).UTC()
}

// TestMain lets the test binary act as the PDF worker: the extractor
// re-executes os.Executable() with "pdf-worker", which under "go test" is
// this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "pdf-worker" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}
