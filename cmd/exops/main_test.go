package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary act as the PDF worker: the extractor
// re-executes os.Executable() with "pdf-worker", which under "go test" is
// this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "pdf-worker" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}
