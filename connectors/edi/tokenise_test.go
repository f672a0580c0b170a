package edi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// isaSeg builds a fixed-width ISA (106 characters with its terminator).
func isaSeg(e, c, term, rep byte, version, control string) string {
	f := []string{"ISA", "00", fmt.Sprintf("%-10s", ""), "00", fmt.Sprintf("%-10s", ""), "ZZ", fmt.Sprintf("%-15s", "SUPPLIER"),
		"ZZ", fmt.Sprintf("%-15s", "BUYER"), "261130", "1200", string(rep), version, fmt.Sprintf("%09s", control), "0", "P", string(c)}
	return strings.Join(f, string(e)) + string(term)
}

// x12Doc builds an interchange from segments written with * and : and ~,
// translated to the delimiters asked for.
func x12Doc(e, c, term byte, sep string, version string, segs ...string) string {
	var b strings.Builder
	b.WriteString(isaSeg(e, c, term, 'U', version, "000000101"))
	b.WriteString(sep)
	for _, s := range segs {
		s = strings.NewReplacer("*", string(e), ":", string(c)).Replace(s)
		b.WriteString(s)
		b.WriteByte(term)
		b.WriteString(sep)
	}
	return b.String()
}

var simple850 = []string{
	"GS*PO*SUPPLIER*BUYER*20261130*1200*7*X*004010",
	"ST*850*0001",
	"BEG*00*SA*PO-1*:X*20261130",
	"PO1*1*10*EA*2.5**BP*SKU-1",
	"CTT*1",
	"SE*5*0001",
	"GE*1*7",
	"IEA*1*000000101",
}

func checksOf(ics []Interchange) []string {
	c, _ := allChecks(ics)
	return c
}

func TestX12Delimiters(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"tilde", x12Doc('*', ':', '~', "", "00401", simple850...)},
		{"tilde and LF", x12Doc('*', ':', '~', "\n", "00401", simple850...)},
		{"tilde and CR LF", x12Doc('*', ':', '~', "\r\n", "00401", simple850...)},
		{"LF terminator", x12Doc('*', '>', '\n', "", "00401", simple850...)},
		{"CR LF terminator", strings.ReplaceAll(x12Doc('*', '>', '\n', "", "00401", simple850...), "\n", "\r\n")},
		{"binary delimiters", x12Doc(0x7f, '>', 0x15, "", "00401", simple850...)},
		{"pipe elements, bang segments", x12Doc('|', '^', '!', "\n", "00300", simple850...)},
		{"BOM, indentation, trailing space and 0x1A", "\ufeff  \n" + strings.ReplaceAll(x12Doc('*', ':', '~', "\r\n", "00501", simple850...), "\r\n", "\r\n\t") + "\r\n\x1a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ics, err := Parse([]byte(tt.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c := checksOf(ics); len(c) > 0 {
				t.Fatalf("findings %v", c)
			}
			sets := ics[0].Groups[0].Sets
			if len(sets) != 1 || sets[0].Type != "850" || sets[0].Control != "0001" {
				t.Fatalf("sets %+v", sets)
			}
			beg := sets[0].Segments[1]
			if beg.Tag != "BEG" || beg.El(3) != "PO-1" || beg.Comp(4, 2) != "X" || beg.El(5) != "20261130" {
				t.Errorf("BEG read as %+v", beg)
			}
			if ics[0].Version != tt.in[strings.Index(tt.in, "ISA")+84:strings.Index(tt.in, "ISA")+89] {
				t.Errorf("version %q", ics[0].Version)
			}
		})
	}
}

func TestX12Mailbag(t *testing.T) {
	in := x12Doc('*', ':', '~', "\n", "00401", simple850...) + x12Doc('|', '>', 0x15, "\r\n", "00300", simple850...) + "\x1a"
	ics, err := Parse([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ics) != 2 || len(checksOf(ics)) != 0 {
		t.Fatalf("%d interchanges, findings %v", len(ics), checksOf(ics))
	}
	if ics[1].Version != "00300" || ics[1].Groups[0].Sets[0].Segments[2].El(7) != "SKU-1" {
		t.Errorf("second interchange read as %+v", ics[1])
	}
}

func TestX12RepetitionSeparatorIsData(t *testing.T) {
	in := isaSeg('*', ':', '~', '^', "00501", "000000101") + strings.Join(append([]string{}, simple850...), "~") + "~"
	ics, err := Parse([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ics[0].Groups[0].Sets[0].Segments[1].El(3); got != "PO-1" {
		t.Errorf("BEG03 %q", got)
	}
}

func TestX12StructuralErrors(t *testing.T) {
	with := func(i int, seg string) []string {
		s := append([]string{}, simple850...)
		s[i] = seg
		return s
	}
	tests := []struct {
		name  string
		segs  []string
		check string
		bad   bool // the set itself is bad
	}{
		{"SE count", with(5, "SE*4*0001"), "SE01 4!=5", true},
		{"SE control", with(5, "SE*5*0002"), "SE02!=ST02", true},
		{"GE count", with(6, "GE*2*7"), "GE01 2!=1", false},
		{"GE control", with(6, "GE*1*8"), "GE02!=GS06", false},
		{"IEA count", with(7, "IEA*2*000000101"), "IEA01 2!=1", false},
		{"IEA control", with(7, "IEA*1*000000102"), "IEA02!=ISA13", false},
		{"no IEA", simple850[:7], "IEA missing", false},
		{"no SE", append(append([]string{}, simple850[:5]...), simple850[6:]...), "SE missing", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ics, err := Parse([]byte(x12Doc('*', ':', '~', "\n", "00401", tt.segs...)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checks := checksOf(ics)
			if len(checks) != 1 || checks[0] != tt.check {
				t.Fatalf("findings %v, want [%s]", checks, tt.check)
			}
			set := ics[0].Groups[0].Sets[0]
			if set.Bad() != tt.bad {
				t.Errorf("set bad = %v", set.Bad())
			}
			if !tt.bad && !ics[0].BadEnvelope {
				t.Errorf("envelope error not marked on the interchange")
			}
			var all []Problem
			all = append(all, ics[0].Problems...)
			all = append(all, ics[0].Groups[0].Problems...)
			all = append(all, set.Problems...)
			msg := all[0].Error()
			if !strings.Contains(msg, "interchange 000000101") || !strings.Contains(msg, "segment ") {
				t.Errorf("error %q does not say where", msg)
			}
			if tt.bad && !strings.Contains(msg, "set 0001") {
				t.Errorf("error %q does not name the set", msg)
			}
		})
	}
}

// One bad set among good ones: the good ones are read, the bad one named.
func TestX12BadSetAmongGood(t *testing.T) {
	segs := []string{simple850[0],
		"ST*850*0001", "BEG*00*SA*PO-1**20261130", "SE*3*0001",
		"ST*850*0002", "BEG*00*SA*PO-2**20261130", "SE*9*0002",
		"ST*850*0003", "BEG*00*SA*PO-3**20261130", "SE*3*0003",
		"GE*3*7", "IEA*1*000000101"}
	ics, err := Parse([]byte(x12Doc('*', ':', '~', "\n", "00401", segs...)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var good, bad []string
	for _, s := range ics[0].Groups[0].Sets {
		if s.Bad() {
			bad = append(bad, s.Control)
		} else {
			good = append(good, s.Control)
		}
	}
	if strings.Join(good, ",") != "0001,0003" || strings.Join(bad, ",") != "0002" || ics[0].BadEnvelope {
		t.Errorf("good %v bad %v envelope bad %v", good, bad, ics[0].BadEnvelope)
	}
}

func TestRefused(t *testing.T) {
	good := x12Doc('*', ':', '~', "\n", "00401", simple850...)
	long := strings.Replace(good, "PO-1", strings.Repeat("P", 5000), 1)
	tests := []struct {
		name, in string
		lim      Limits
		want     string
	}{
		{"truncated ISA", good[:60], Limits{}, "truncated ISA"},
		{"ISA only", good[:90], Limits{}, "truncated ISA"},
		{"unknown version", strings.Replace(good, "00401", "0040A", 1), Limits{}, "ISA12 version"},
		{"version out of range", strings.Replace(good, "00401", "09999", 1), Limits{}, "unknown"},
		{"not EDI", "<Invoice/>", Limits{}, "neither ISA nor UNA/UNB"},
		{"empty", "  \n", Limits{}, "empty input"},
		{"too big", good, Limits{MaxBytes: 100}, "byte limit"},
		{"too many segments", good, Limits{MaxSegments: 3}, "more than 3 segments"},
		{"element too long", long, Limits{}, "element limit"},
		{"EDIFACT syntax 5", "UNB+UNOA:5+S+R+261130:1200+1'UNZ+0+1'", Limits{}, "syntax version"},
		{"EDIFACT truncated UNA", "UNA:+.", Limits{}, "truncated UNA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ics, err := Parse([]byte(tt.in), tt.lim)
			if err == nil {
				t.Fatalf("read %d interchanges, want an error", len(ics))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	if _, err := Parse([]byte("hello"), Limits{}); !errors.Is(err, ErrNotEDI) {
		t.Errorf("not EDI: %v", err)
	}
}

func TestEDIFACT(t *testing.T) {
	body := "UNH+1+ORDERS:D:96A:UN:EAN008'BGM+220+PO-9+9'FTX+AAI+++Price ?+ tax?'s?: 5??'UNT+4+1'"
	tests := []struct {
		name, in string
		want     string // the FTX text
	}{
		{"defaults", "UNB+UNOA:2+SENDER:14+RECEIVER:14+261130:1200+IC1'" + body + "UNZ+1+IC1'", "Price + tax's: 5?"},
		{"UNA and line breaks", "UNA:+.? '\r\nUNB+UNOC:3+SENDER:14+RECEIVER:14+20261130:1200+IC1'\r\n" + strings.ReplaceAll(strings.ReplaceAll(body, "''", "'\r\n'"), "5??'", "5??'\r\n") + "UNZ+1+IC1'\r\n", "Price + tax's: 5?"},
		{"other delimiters", "UNA|*,! \"\nUNB*UNOC|4*SENDER|14*RECEIVER|14*20261130|1200*IC1\"" +
			strings.NewReplacer("+", "*", ":", "|", "'", "\"", "?+", "!*", "?'", "!\"", "?:", "!|", "??", "!!").Replace(body) + "UNZ*1*IC1\"", "Price * tax\"s| 5!"},
		{"BOM and groups", "\ufeffUNB+IATB:1+SENDER+RECEIVER+261130:1200+IC1'UNG+ORDERS+S+R+261130:1200+G1+UN+D:96A'" + body + "UNE+1+G1'UNZ+1+IC1'", "Price + tax's: 5?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ics, err := Parse([]byte(tt.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c := checksOf(ics); len(c) > 0 {
				t.Fatalf("findings %v", c)
			}
			ic := ics[0]
			if ic.Standard != EDIFACT || ic.Control != "IC1" || !strings.HasPrefix(ic.Sender, "") || ic.Date != "2026-11-30" {
				t.Errorf("interchange %+v", ic)
			}
			set := ic.Groups[0].Sets[0]
			if set.Type != "ORDERS" || set.Version != "D:96A" || set.Segments[1].El(2) != "PO-9" {
				t.Errorf("message %+v", set)
			}
			if got := set.Segments[2].El(4); got != tt.want {
				t.Errorf("released text %q", got)
			}
		})
	}
}

func TestEDIFACTStructuralErrors(t *testing.T) {
	tests := []struct{ in, check string }{
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNH+1+INVOIC:D:96A:UN'BGM+380+I1'UNT+2+1'UNZ+1+IC1'", "UNT01 2!=3"},
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNH+1+INVOIC:D:96A:UN'BGM+380+I1'UNT+3+2'UNZ+1+IC1'", "UNT02!=UNH01"},
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNH+1+INVOIC:D:96A:UN'BGM+380+I1'UNT+3+1'UNZ+2+IC1'", "UNZ01 2!=1"},
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNH+1+INVOIC:D:96A:UN'BGM+380+I1'UNT+3+1'UNZ+1+IC2'", "UNZ02!=UNB05"},
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNG+INVOIC+S+R+261130:1200+G1+UN+D:96A'UNH+1+INVOIC:D:96A:UN'UNT+2+1'UNE+1+G2'UNZ+1+IC1'", "UNE02!=UNG05"},
		{"UNB+UNOA:3+S+R+261130:1200+IC1'UNH+1+INVOIC:D:96A:UN'BGM+380+I1'UNT+3+1'", "UNZ missing"},
	}
	for _, tt := range tests {
		ics, err := Parse([]byte(tt.in), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.check, err)
		}
		if c := checksOf(ics); len(c) != 1 || c[0] != tt.check {
			t.Errorf("findings %v, want [%s]", c, tt.check)
		}
	}
}
