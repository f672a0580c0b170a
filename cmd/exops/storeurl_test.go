package main

import (
	"testing"

	"github.com/exops/exops/cases/postgres"
)

// TestPostgresOptions: exops's own URL parameters leave the URL (pgx would
// send them to the server as settings), and a bad one is refused by name.
func TestPostgresOptions(t *testing.T) {
	tests := []struct {
		in, url string
		opts    postgres.Options
		err     string
	}{
		{"postgres://h/db?sslmode=disable", "postgres://h/db?sslmode=disable", postgres.Options{}, ""},
		{"postgres://h/db?schema=exops_a&sslmode=disable", "postgres://h/db?sslmode=disable", postgres.Options{Schema: "exops_a"}, ""},
		{"postgres://h/db?commits=4", "postgres://h/db", postgres.Options{Commits: 4}, ""},
		{"postgres://h/db?schema=x&commits=1", "postgres://h/db", postgres.Options{Schema: "x", Commits: 1}, ""},
		{"postgres://h/db?schema=Bad-Name", "", postgres.Options{}, `schema "Bad-Name": use lower-case letters, digits and _`},
		{"postgres://h/db?commits=0", "", postgres.Options{}, `commits "0": use a number from 1 to 16`},
		{"postgres://h/db?commits=many", "", postgres.Options{}, `commits "many": use a number from 1 to 16`},
		{"postgres://h/db?commits=", "", postgres.Options{}, `commits "": use a number from 1 to 16`},
	}
	for _, tt := range tests {
		url, opts, err := postgresOptions(tt.in)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("postgresOptions(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("postgresOptions(%q): %v", tt.in, err)
		case tt.err == "" && (url != tt.url || opts != tt.opts):
			t.Errorf("postgresOptions(%q) = %q %+v, want %q %+v", tt.in, url, opts, tt.url, tt.opts)
		}
	}
}
