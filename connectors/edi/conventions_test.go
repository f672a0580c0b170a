package edi

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docSummary is what a user sees of a decoded set: its type and control,
// the order and dates, whether it may raise events, and each line's item,
// quantity, unit, price and requested date.
func docSummary(d Document) string {
	var items []string
	for _, l := range d.Items {
		s := fmt.Sprintf("%s %g", l.Item, l.Quantity)
		if l.Unit != "" {
			s += " " + l.Unit
		}
		if l.HasPrice {
			s += fmt.Sprintf(" @%g", l.UnitPrice)
		}
		if l.Requested != "" {
			s += " req " + l.Requested
		}
		items = append(items, strings.TrimSpace(s))
	}
	use := "usable"
	if !d.Usable() {
		use = "not usable"
	}
	return fmt.Sprintf("%s %s %s po=%s date=%s req=%s %s [%s]", d.Type, d.Version, d.Control, d.PONumber, d.Date, d.RequestedDate, use, strings.Join(items, "; "))
}

func partiesOf(d Document) string {
	var ps []string
	for _, p := range d.Parties {
		ps = append(ps, strings.TrimSuffix(p.Role+"="+p.Name+"/"+p.ID, "/"))
	}
	return strings.Join(ps, ", ")
}

// The same 850 (two lines, a requested delivery date, a ship-to) written
// the ways senders write it.
var std850 = "850 004010 0001 po=PO-100 date=2026-11-30 req=2026-12-15 usable [SKU-1 10 EA @2.5; V-2 4 CA @12]"

// The same ORDERS (two lines, one priced per two units) likewise.
func stdOrders(version string) string {
	return "ORDERS " + version + " 1 po=PO-900 date=2026-11-30 req=2026-12-15 usable [B-1 10 PCE @2.5; 4000862141411 4 @6]"
}

// Hand-made interchanges in testdata/conventions, one per convention that
// senders use (delimiters, envelopes, versions, optional segments, dates,
// composites), each with what must be read from it. The files are small
// and written from the X12 and ISO 9735 rules, not copied from a partner.
func TestConventions(t *testing.T) {
	tests := []struct {
		file   string
		ics    int
		checks string   // structural findings, sorted, "; "-joined
		docs   []string // docSummary of each set, in order
		more   func(t *testing.T, docs []Document)
	}{
		// X12 delimiters: whatever ISA declares.
		{file: "x12_caret_elements.edi", ics: 1, docs: []string{std850}},
		{file: "x12_pipe_lf.edi", ics: 1, docs: []string{std850}},
		{file: "x12_tilde_crlf.edi", ics: 1, docs: []string{std850}},
		{file: "x12_crlf_terminator.edi", ics: 1, docs: []string{std850}},
		{file: "x12_binary_delims.edi", ics: 1, docs: []string{std850}},
		// 005010: ISA11 is the repetition separator; ST03 the guide.
		{file: "x12_005010_repetition.edi", ics: 1, docs: []string{strings.Replace(std850, "004010", "005010", 1)},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); got != "ST=STORE 12/0012" {
					t.Errorf("parties %q", got)
				}
			}},
		{file: "x12_trailing_space.edi", ics: 1, docs: []string{std850}},
		{file: "x12_groups_and_sets.edi", ics: 1, docs: []string{std850, strings.Replace(strings.Replace(std850, "0001", "0002", 1), "PO-100", "PO-200", 1),
			"810 004010 0003 po=PO-100 date=2026-12-01 req= usable [SKU-1 10 EA @2.5]"},
			more: func(t *testing.T, docs []Document) {
				if docs[0].Group != "11" || docs[2].Group != "12" || docs[2].Total != 25 {
					t.Errorf("groups %q %q, invoice total %v", docs[0].Group, docs[2].Group, docs[2].Total)
				}
			}},
		{file: "x12_two_interchanges.edi", ics: 2, docs: []string{std850, strings.Replace(std850, "PO-100", "PO-300", 1)},
			more: func(t *testing.T, docs []Document) {
				if docs[0].Interchange != "000000101" || docs[1].Interchange != "000000102" {
					t.Errorf("interchanges %q %q", docs[0].Interchange, docs[1].Interchange)
				}
			}},
		// Wrong counts: read, named, and no events.
		{file: "x12_bad_se_count.edi", ics: 1, checks: "SE01 6!=8", docs: []string{strings.Replace(std850, " usable", " not usable", 1)}},
		{file: "x12_bad_ge_count.edi", ics: 1, checks: "GE01 2!=1", docs: []string{strings.Replace(std850, " usable", " not usable", 1)}},
		{file: "x12_bad_iea_count.edi", ics: 1, checks: "IEA01 3!=1", docs: []string{strings.Replace(std850, " usable", " not usable", 1)}},
		// ISA13/IEA02 and GS06/GE02 are numbers: leading zeros are a
		// warning, not a mismatch.
		{file: "x12_control_leading_zeros.edi", ics: 1, checks: "GE02~GS06; IEA02~ISA13", docs: []string{std850}},
		// Only mandatory segments; N1 loops in any order with their N2…PER;
		// PO1 id pairs in any order (the buyer's own number wins); no CTT.
		{file: "x12_minimal_850.edi", ics: 1, docs: []string{"850 004010 0001 po=PO-9 date=2026-11-30 req= usable [3 EA]"}},
		{file: "x12_n1_po1_orders.edi", ics: 1, docs: []string{"850 004010 0001 po=PO-5 date=2026-11-30 req= usable [BUYER-1 1 EA @1; B-2 2 EA @2; 099999999993 3 EA @3; V-4 4 EA @4]"},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); got != "SF=SHIP FROM CO, BT=BILL TO CO/B-77, ST=SHIP TO CO/S-12" {
					t.Errorf("parties %q", got)
				}
			}},
		// Dates: YYMMDD before 004010, and DTM's period form (DTM05/06).
		{file: "x12_yymmdd_003040.edi", ics: 1, docs: []string{"850 003040 0001 po=PO-6 date=2026-11-30 req=2026-12-15 usable [B-1 1 EA @1]"}},
		{file: "x12_dtm_period.edi", ics: 1, docs: []string{"850 004010 0001 po=PO-7 date=2026-11-30 req=2026-12-15 usable [B-1 1 EA @1 req 2026-12-20]"}},
		{file: "x12_isa_padded.edi", ics: 1, docs: []string{std850},
			more: func(t *testing.T, docs []Document) {
				if docs[0].Sender != "ZZ:ACME CORP" || docs[0].Receiver != "ZZ:BUYER 1" || !docs[0].Test {
					t.Errorf("sender %q receiver %q test %v", docs[0].Sender, docs[0].Receiver, docs[0].Test)
				}
			}},
		// A mailbox's fixed-width line wrapping, wherever the break falls.
		{file: "x12_wrapped_80.edi", ics: 1, docs: []string{std850}},
		{file: "x12_wrapped_before_isa16.edi", ics: 1, docs: []string{std850}},
		{file: "x12_wrapped_before_terminator.edi", ics: 1, docs: []string{std850}},
		// TA1 belongs to the envelope, before the first GS.
		{file: "x12_ta1.edi", ics: 1, docs: []string{std850}},
		{file: "x12_latin1.edi", ics: 1, docs: []string{"850 004010 0001 po=PO-8 date=2026-11-30 req= usable [B-1 1 EA @1]"},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); got != "ST=CAFÉ MÜLLER – O’NEIL" {
					t.Errorf("parties %q", got)
				}
			}},

		// EDIFACT service characters: defaults, UNA, release.
		{file: "edifact_no_una.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
		{file: "edifact_una_default_crlf.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
		{file: "edifact_una_custom.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
		{file: "edifact_release.edi", ics: 1, docs: []string{"ORDERS D:96A 1 po=PO+901 date=2026-11-30 req= usable [SKU:1 3]"},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); got != "BY=O'BRIEN : SONS?/5412345000013" {
					t.Errorf("parties %q", got)
				}
			}},
		{file: "edifact_wrapped_release.edi", ics: 1, docs: []string{"ORDERS D:96A 1 po=PO+901 date=2026-11-30 req= usable [SKU:1 3]"},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); got != "BY=O'BRIEN : SONS?/5412345000013" {
					t.Errorf("parties %q", got)
				}
			}},
		// Syntax levels and message versions.
		{file: "edifact_unoa.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
		{file: "edifact_unob_is_separators.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
		{file: "edifact_unoc_d10b.edi", ics: 1, docs: []string{stdOrders("D:10B")},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); !strings.Contains(got, "SU=MÜLLER GMBH/") {
					t.Errorf("Latin-1 name read as %q", got)
				}
			}},
		{file: "edifact_unoy_v4.edi", ics: 1, docs: []string{stdOrders("D:01B")},
			more: func(t *testing.T, docs []Document) {
				if got := partiesOf(docs[0]); !strings.Contains(got, "SU=MÜLLER & SÖHNE GMBH/") {
					t.Errorf("UTF-8 name read as %q", got)
				}
			}},
		// Envelopes: UNG groups, several messages, wrong counts.
		{file: "edifact_groups.edi", ics: 1, docs: []string{stdOrders("D:96A"), strings.Replace(strings.Replace(stdOrders("D:96A"), "PO-900", "PO-901", 1), "ORDERS D:96A 1", "ORDERS D:96A 2", 1),
			"INVOIC D:96A 1 po=PO-900 date=2026-12-01 req= usable [4000862141404 10.5 KGM @2.5]"},
			more: func(t *testing.T, docs []Document) {
				inv := docs[2]
				if docs[0].Group != "G1" || inv.Group != "G2" || inv.Total != 31.24 || inv.DueDate != "2026-12-31" || inv.Currency != "EUR" {
					t.Errorf("groups %q %q, total %v due %q currency %q", docs[0].Group, inv.Group, inv.Total, inv.DueDate, inv.Currency)
				}
			}},
		{file: "edifact_several_messages.edi", ics: 1, docs: []string{
			"DESADV D:96A 1 po=PO-900 date=2026-12-01 req= usable [4000862141404 10]",
			"ORDRSP D:96A 2 po=PO-900 date=2026-12-01 req= usable [4000862141404 10; 4000862141411 4 req 2026-12-18]",
			"INVOIC D:96A 3 po=PO-900 date=2026-12-01 req= usable [4000862141404 10.5 KGM @2.5]"},
			more: func(t *testing.T, docs []Document) {
				if d := docs[0]; d.ShipDate != "2026-12-01" || d.DeliveryDate != "2026-12-03" || d.Items[0].Ordered != 12 {
					t.Errorf("ship notice: ship %q delivery %q ordered %v", d.ShipDate, d.DeliveryDate, d.Items[0].Ordered)
				}
				if r := docs[1].Items; r[0].Status != LineAccepted || r[1].Status != LineChanged || strings.Join(r[1].Changes, ",") != "quantity" {
					t.Errorf("response lines %+v", r)
				}
			}},
		{file: "edifact_bad_unt_count.edi", ics: 1, checks: "UNT01 15!=17", docs: []string{strings.Replace(stdOrders("D:96A"), " usable", " not usable", 1)}},
		{file: "edifact_bad_unz_count.edi", ics: 1, checks: "UNZ01 2!=1", docs: []string{strings.Replace(stdOrders("D:96A"), " usable", " not usable", 1)}},
		// DTM formats 101, 718 (a range: its first day), 203 and 4.
		{file: "edifact_dtm_formats.edi", ics: 1, docs: []string{"ORDERS D:96A 1 po=PO-902 date=2026-11-30 req=2026-12-10 usable [X 1 req 2026-12-16; Y 1 req 2026-12-17]"}},
		{file: "edifact_optional_parts.edi", ics: 1, docs: []string{"INVOIC D:96A 1 po=PO-900 date=2026-12-01 req= usable [4000862141404 5 @1.5; V-9 2 PCE @1.25]"},
			more: func(t *testing.T, docs []Document) {
				if d := docs[0]; d.Total != 8.75 || d.Currency != "EUR" {
					t.Errorf("total %v currency %q", d.Total, d.Currency)
				}
			}},
		{file: "edifact_two_interchanges.edi", ics: 2, docs: []string{"ORDERS D:96A 1 po=PO-903 date=2026-11-30 req= usable [WHAT? 1]", stdOrders("D:96A")},
			more: func(t *testing.T, docs []Document) {
				if docs[0].Interchange != "IC1" || docs[1].Interchange != "IC2" {
					t.Errorf("interchanges %q %q", docs[0].Interchange, docs[1].Interchange)
				}
			}},
		// CONTRL for a UNG group (UCF) and a message in it (UCM).
		{file: "edifact_contrl_groups.edi", ics: 1, docs: []string{"CONTRL D:3 1 po= date= req= usable []"},
			more: func(t *testing.T, docs []Document) {
				var got []string
				for _, a := range docs[0].Acks {
					got = append(got, fmt.Sprintf("%s/%s %s %v", a.Group, a.SetControl, a.Status, a.Errors))
				}
				if want := "G1/ rejected []; G1/1 rejected [UCS 5 error 12]; G2/ accepted []"; strings.Join(got, "; ") != want {
					t.Errorf("acks %q, want %q", strings.Join(got, "; "), want)
				}
			}},
		{file: "edifact_wrapped_80.edi", ics: 1, docs: []string{stdOrders("D:96A")}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "conventions", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ics, err := Parse(data, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(ics) != tt.ics {
				t.Errorf("%d interchanges, want %d", len(ics), tt.ics)
			}
			if got := strings.Join(checksOf(ics), "; "); got != tt.checks {
				t.Errorf("findings %q, want %q", got, tt.checks)
			}
			// None of these files holds a line break as data: one inside
			// a value is a wrapped line read wrong.
			for _, ic := range ics {
				for _, g := range ic.Groups {
					for _, set := range g.Sets {
						for _, seg := range set.Segments {
							for _, e := range seg.Elems {
								if v := strings.Join(e, ":"); strings.ContainsAny(v, "\r\n") {
									t.Errorf("segment %d %s holds a line break: %q", seg.Pos, seg.Tag, v)
								}
							}
						}
					}
				}
			}
			docs := Decode(ics)
			var got []string
			for _, d := range docs {
				got = append(got, docSummary(d))
			}
			if strings.Join(got, "\n") != strings.Join(tt.docs, "\n") {
				t.Fatalf("decoded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.docs, "\n"))
			}
			for _, d := range docs {
				if all := append(d.Errors, d.Warnings...); tt.checks != "" && (len(all) == 0 || !strings.Contains(all[0], "segment ")) {
					t.Errorf("errors %q do not say where", all)
				}
			}
			if tt.more != nil {
				tt.more(t, docs)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "conventions", "*"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no row in this table", f)
		}
	}
}

// Broken input is refused with an error that says which segment and what
// is wrong with it.
func TestBrokenInputSaysWhere(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"X12 junk segment", x12Doc('*', ':', '~', "\n", "00401", append([]string{simple850[0], "@@@"}, simple850[1:]...)...), `segment 3: "@@@" does not start with a segment tag`},
		{"EDIFACT junk segment", "UNB+UNOA:3+S+R+261130:1200+1'UNH+1+ORDERS:D:96A:UN'12+3'UNT+3+1'UNZ+1+1'", `segment 3: "12" does not start with a segment tag`},
		{"EDIFACT ends after release", "UNB+UNOA:3+S+R+261130:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+X?", "segment 3: the input ends right after a release character"},
		{"UNA without UNB", "UNA:+.? 'UNH+1+ORDERS:D:96A:UN'", "segment 2: no UNB after the service string advice"},
		{"UNA release clashes", "UNA:+.+ 'UNB+UNOA:3+S+R+261130:1200+1'UNZ+0+1'", "segment 1: UNA delimiters clash"},
		{"ISA cut short", "ISA*00*          *00*    ", "segment 1: truncated ISA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ics, err := Parse([]byte(tt.in), Limits{})
			if err == nil {
				t.Fatalf("read %d interchanges, want an error", len(ics))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// A delimiter is a byte, whatever its value: one at 0x80 or above (a
// conversion from EBCDIC, a binary choice) splits like '*' does.
func TestX12HighByteDelimiters(t *testing.T) {
	in := []byte(x12Doc('*', ':', '~', "\n", "00401", simple850...))
	in = bytes.ReplaceAll(in, []byte("*"), []byte{0xA6})
	in = bytes.ReplaceAll(in, []byte(":"), []byte{0xBA})
	ics, err := Parse(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c := checksOf(ics); len(c) > 0 {
		t.Fatalf("findings %v", c)
	}
	beg := ics[0].Groups[0].Sets[0].Segments[1]
	if beg.Tag != "BEG" || beg.El(3) != "PO-1" || beg.Comp(4, 2) != "X" || ics[0].Sender != "ZZ:SUPPLIER" {
		t.Errorf("BEG read as %+v, sender %q", beg, ics[0].Sender)
	}
}

// Quantities and prices are numbers as the standards write them: digits,
// sign, decimal mark, exponent; nothing else is a number. EDIFACT takes a
// comma as the decimal mark (ISO 9735). X12 has only the point; a comma
// that can only be a decimal mark ("2,50") is read as one, as some European
// senders write it, but "1,000" may be a thousands group, which exops must
// not guess at. A value that is no number fails its set rather than reading
// as zero.
func TestNumbers(t *testing.T) {
	tests := []struct {
		in      string
		edifact bool
		want    float64
		ok      bool
	}{
		{"10", false, 10, true}, {"2.50", false, 2.5, true}, {"2,50", true, 2.5, true}, {"-3", false, -3, true}, {".5", true, 0.5, true},
		{"1.5E3", false, 1500, true}, {" 7 ", false, 7, true}, {"1,000", true, 1, true},
		{"2,50", false, 2.5, true}, {"1,5", false, 1.5, true}, {"1,2345", false, 1.2345, true},
		{"1,000", false, 0, false}, {"12,345,678", false, 0, false}, {"1,000.50", false, 0, false}, {"1.000,50", true, 0, false},
		{"0x1p4", false, 0, false}, {"Inf", false, 0, false}, {"NaN", true, 0, false}, {"1_000", false, 0, false}, {"12EA", false, 0, false},
	}
	for _, tt := range tests {
		d := &Document{usable: true}
		got, ok := numbers{d: d, comma: tt.edifact}.num("QTY", tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("num(%q, edifact %v) = %v, %v; want %v, %v", tt.in, tt.edifact, got, ok, tt.want, tt.ok)
		}
		if d.usable != ok || ok != (len(d.Errors) == 0) {
			t.Errorf("num(%q, edifact %v): usable %v, errors %q", tt.in, tt.edifact, d.usable, d.Errors)
		}
	}
	// An empty element is absent, not malformed.
	d := &Document{usable: true}
	if _, ok := (numbers{d: d}).num("PO1", " "); ok || !d.usable {
		t.Errorf("empty element: ok %v, usable %v", ok, d.usable)
	}
}

// An X12 order whose quantity has a thousands separator raises nothing and
// says why, instead of ordering one where the buyer meant a thousand.
func TestX12ThousandsSeparatorFailsTheSet(t *testing.T) {
	body := "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SUPPLIER       *261201*1200*U*00401*000000901*0*P*>~" +
		"GS*PO*BUYER*SUPPLIER*20261201*1200*901*X*004010~ST*850*0001~BEG*00*SA*PO-901**20261201~" +
		"PO1*1*1,000*EA*2.50**BP*SKU-1~CTT*1~SE*5*0001~GE*1*901~IEA*1*000000901~"
	ics, err := Parse([]byte(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	docs := Decode(ics)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	d := docs[0]
	if d.usable || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], `"1,000" is not a number`) || !strings.Contains(d.Errors[0], "thousands separator") {
		t.Errorf("usable %v, errors %q", d.usable, d.Errors)
	}
}

// A file saved as UTF-16 (with its byte-order mark) reads like UTF-8.
func TestUTF16File(t *testing.T) {
	text := x12Doc('*', ':', '~', "\r\n", "00401", simple850...)
	for _, be := range []bool{false, true} {
		b := []byte{0xFF, 0xFE}
		if be {
			b = []byte{0xFE, 0xFF}
		}
		for _, r := range text {
			if be {
				b = append(b, byte(r>>8), byte(r))
			} else {
				b = append(b, byte(r), byte(r>>8))
			}
		}
		ics, err := Parse(b, Limits{})
		if err != nil {
			t.Fatalf("big endian %v: %v", be, err)
		}
		if c := checksOf(ics); len(c) > 0 || ics[0].Groups[0].Sets[0].Segments[1].El(3) != "PO-1" {
			t.Errorf("big endian %v: findings %v, %+v", be, c, ics[0])
		}
	}
}
