package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestAsk(t *testing.T) {
	db := runDemo(t)
	tests := []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"ask", "--db", db, "status of order SO-1042?"}, 0, []string{"for order SO-1042", "SO-1042"}},
		{[]string{"ask", "status", "of", "order", "SO-1042?", "--db", db}, 0, []string{"for order SO-1042"}},
		{[]string{"ask", "--db", db, "status of order SO-9999?"}, 0, []string{"I found no case for order SO-9999."}},
		{[]string{"ask", "--db", db, "what did U0APLEAD approve?"}, 0, []string{"U0APLEAD approved"}},
		{[]string{"ask", "--db", db, "what are the recurring patterns?"}, 0, []string{"resolved cases"}},
		// Teams and channels come from the policy (the built-in one by
		// default), and the answer says the team it understood.
		{[]string{"ask", "--db", db, "how many open cases does AP have?"}, 0, []string{"open case", "of team accounts-payable"}},
		{[]string{"ask", "--db", db, "what is open in #credit-desk"}, 0, []string{"of team credit"}},
		// --as says who "my" is.
		{[]string{"ask", "--db", db, "--as", "U0CFO", "what is waiting for my approval?"}, 0, []string{"waiting for the approval of U0CFO"}},
		{[]string{"ask", "--db", db, "what is waiting for my approval?"}, 0, []string{"I do not know who is asking"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			code, out, errOut := exops(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.contains {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// Every case id the answer names exists.
	_, out, _ := exops(t, "ask", "--db", db, "status of order SO-1042?")
	for _, id := range regexp.MustCompile(`EX-\d{6}`).FindAllString(out, -1) {
		if code, _, errOut := exops(t, "cases", "show", id, "--db", db); code != 0 {
			t.Errorf("the answer names %s, which cases show does not find: %s", id, errOut)
		}
	}
}

func TestAskErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		err  string
	}{
		{"no question", []string{"ask", "--db", missing}, nil, exitUsage, "ask needs a question"},
		{"no database", []string{"ask", "--db", missing, "show EX-000001"}, nil, exitFail, "open database"},
		{"no policy file", []string{"ask", "--db", missing, "--policy", missing + ".yaml", "show EX-000001"}, nil, exitFail, "none.db.yaml"},
		{"bad provider", []string{"ask", "--db", missing, "show EX-000001"}, map[string]string{"EXOPS_LLM_PROVIDER": "gpt5"}, exitFail, "EXOPS_LLM_PROVIDER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb, func(k string) string { return tt.env[k] })
			if code != tt.code || !strings.Contains(errb.String(), tt.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.code, tt.err)
			}
		})
	}
}
