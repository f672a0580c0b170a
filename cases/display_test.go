package cases_test

import (
	"testing"

	"github.com/exops/exops/cases"
)

func TestDisplayText(t *testing.T) {
	tests := []struct {
		name, in  string
		keepLines bool
		want      string
	}{
		{"plain text is untouched", "Acme Retail · 48,250.00 USD ✓", true, "Acme Retail · 48,250.00 USD ✓"},
		{"newlines and tabs kept when asked", "line 1\n\tline 2", true, "line 1\n\tline 2"},
		{"newlines shown in one-line fields", "a\nb", false, `a\u000ab`},
		{"NUL", "inv\x00oice", true, `inv\u0000oice`},
		{"bell", "ding\a", true, `ding\u0007`},
		{"ESC colour sequence", "\x1b[31mred\x1b[0m", true, `\u001b[31mred\u001b[0m`},
		{"clear screen", "\x1b[2J\x1b[H", true, `\u001b[2J\u001b[H`},
		{"C1 control (CSI)", "a\u009bb", true, `a\u009bb`},
		{"right-to-left override", "invoice_\u202egpj.exe", true, `invoice_\u202egpj.exe`},
		{"isolates", "\u2066x\u2069", true, `\u2066x\u2069`},
		{"invalid UTF-8", "ok\xffok", true, `ok\xffok`},
		{"carriage return", "total 10\rtotal 99", true, `total 10\u000dtotal 99`},
	}
	for _, tt := range tests {
		if got := cases.DisplayText(tt.in, tt.keepLines); got != tt.want {
			t.Errorf("%s: DisplayText(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func FuzzDisplayText(f *testing.F) {
	for _, s := range []string{"", "a", "\x1b[31m", "\u202e", "\xff", "ok\nok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := cases.DisplayText(s, true)
		for _, r := range out {
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Fatalf("DisplayText(%q) = %q still holds %U", s, out, r)
			}
		}
	})
}
