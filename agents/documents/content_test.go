package documents

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// minimalPDF writes a one-page PDF with the given objects (numbered from 4;
// 1 is the catalog, 2 the page tree, 3 the page) and page resources and
// content. Each object is given as its dictionary or stream source.
func minimalPDF(resources, content string, objs ...string) []byte {
	var b bytes.Buffer
	var offs []int
	b.WriteString("%PDF-1.7\n")
	all := append([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources " + resources + " /Contents " + fmt.Sprint(4+len(objs)) + " 0 R >>",
	}, objs...)
	all = append(all, stream("", content))
	for i, o := range all {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(all)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(all)+1, xref)
	return b.Bytes()
}

func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// hex2 encodes text as two-byte codes (code = rune) for Identity-H.
func hex2(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "%04X", r)
	}
	return "<" + b.String() + ">"
}

// toUnicodeIdentity maps two-byte codes 0x0020-0x00FF to the same code point,
// and code 0x0100 to U+FB01 (the fi ligature).
const toUnicodeIdentity = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Test def 1 begincodespacerange <0000> <FFFF> endcodespacerange
1 beginbfrange <0020> <00FF> <0020> endbfrange
1 beginbfchar <0100> <FB01> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end`

func TestTextLayerFonts(t *testing.T) {
	cidFont := func(w string) []string {
		return []string{
			"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Arial /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
			"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Arial /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W " + w + " >>",
			stream("", toUnicodeIdentity),
		}
	}
	tests := []struct {
		name      string
		resources string
		content   string
		objs      []string
		want      []string // cells of the first line
	}{
		{
			name:      "CID font with /W widths and a space glyph: words, not letters",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 10 Tf 50 700 Td " + hex2("Global Wholesaler GmbH") + " Tj ET",
			objs:      cidFont("[32 [278] 65 122 500]"),
			want:      []string{"Global Wholesaler GmbH"},
		},
		{
			name:      "CID font, words placed by TJ offsets without space glyphs",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 10 Tf 50 700 Td [" + hex2("Rechnung") + " -300 " + hex2("Nr.") + " -300 " + hex2("4711") + "] TJ ET",
			objs:      cidFont("[32 [278] 46 [250] 48 57 556 65 122 500]"),
			want:      []string{"Rechnung Nr. 4711"},
		},
		{
			name:      "CID font, two columns far apart are two cells",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 10 Tf 50 700 Td " + hex2("Total") + " Tj 300 0 Td " + hex2("59.50") + " Tj ET",
			objs:      cidFont("[46 [250] 48 57 556 65 122 500]"),
			want:      []string{"Total", "59.50"},
		},
		{
			name:      "ligature from ToUnicode is expanded",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 10 Tf 50 700 Td <004F0066010000630065> Tj ET",
			objs:      cidFont("[65 122 500 256 [556]]"),
			want:      []string{"Office"},
		},
		{
			name:      "simple TrueType font with /Widths and Tw word spacing",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 12 Tf 2 Tw 50 700 Td (Invoice number INV-7) Tj ET",
			objs:      []string{"<< /Type /Font /Subtype /TrueType /BaseFont /Arial /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 122 /Widths [" + strings.Repeat("500 ", 91) + "] >>"},
			want:      []string{"Invoice number INV-7"},
		},
		{
			name:      "Type 3 font widths through its FontMatrix",
			resources: "<< /Font << /F1 4 0 R >> >>",
			content:   "BT /F1 10 Tf 50 700 Td (Due 2024) Tj 200 0 Td (Paid) Tj ET",
			objs:      []string{"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1 1] /FontMatrix [0.01 0 0 0.01 0 0] /CharProcs << >> /Encoding << /Type /Encoding /Differences [] >> /FirstChar 32 /LastChar 122 /Widths [" + strings.Repeat("50 ", 91) + "] >>"},
			want:      []string{"Due 2024", "Paid"},
		},
		{
			name:      "text inside a form XObject, scaled by its matrix",
			resources: "<< /XObject << /X1 5 0 R >> >>",
			content:   "q 1 0 0 1 10 10 cm /X1 Do Q",
			objs: []string{
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 122 /Widths [" + strings.Repeat("556 ", 91) + "] >>",
				stream("/Type /XObject /Subtype /Form /BBox [0 0 600 800] /Matrix [1 0 0 1 0 0] /Resources << /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 40 690 Td (Lieferant GmbH) Tj ET"),
			},
			want: []string{"Lieferant GmbH"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := ReadTextUnisolated(minimalPDF(tt.resources, tt.content, tt.objs...), 5)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, l := range pages[0].Lines {
				all = append(all, l.Text())
			}
			if len(pages[0].Lines) != 1 {
				t.Fatalf("lines %q, want one", all)
			}
			var got []string
			for _, c := range pages[0].Lines[0].Cells {
				got = append(got, c.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("cells %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExtractHybridPDF builds a PDF embedding a CII invoice and reads it
// through the isolated worker: every field from the XML, and the total is
// checked against the visible text.
func TestExtractHybridPDF(t *testing.T) {
	x := fill(ciiInvoice, "%TYPE%", "380", "%QTY%", "5", "%NET%", "50.00", "%TAX%", "9.50", "%GROSS%", "59.50", "%PO%", "", "%TERMS%", "")
	for _, tc := range []struct {
		printed string
		problem bool
	}{{"Total 59,50 EUR", false}, {"Total 61,00 EUR", true}} {
		pdf := minimalPDF("<< /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 50 700 Td ("+tc.printed+") Tj ET",
			"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
			"<< /Type /Filespec /F (factur-x.xml) /UF (factur-x.xml) /EF << /F 6 0 R >> >>",
			stream("/Type /EmbeddedFile /Subtype /text#2Fxml", x))
		// Hook the file spec into the catalog's name tree.
		pdf = bytes.Replace(pdf, []byte("<< /Type /Catalog /Pages 2 0 R >>"), []byte("<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(factur-x.xml) 5 0 R] >> >> >>"), 1)
		pdf = fixXref(pdf)
		d, err := testExtractor().Extract(t.Context(), "hybrid.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if d.Source != SourceXML || d.Number != "RE-2024-17" || d.Total != "59.50" || len(d.Lines) != 1 {
			t.Errorf("%+v", d)
		}
		gotProblem := strings.Contains(strings.Join(d.Problems, " "), "not printed")
		if gotProblem != tc.problem {
			t.Errorf("printed %q: problems %v", tc.printed, d.Problems)
		}
	}
}

// fixXref rewrites the xref offsets after an edit.
func fixXref(pdf []byte) []byte {
	var offs []int
	for i := 1; ; i++ {
		k := bytes.Index(pdf, []byte(fmt.Sprintf("\n%d 0 obj\n", i)))
		if k < 0 {
			break
		}
		offs = append(offs, k+1)
	}
	x := bytes.Index(pdf, []byte("xref\n"))
	var b bytes.Buffer
	b.Write(pdf[:x])
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

// TestRotatedText: text drawn sideways (a 90° or 270° text matrix, or a
// rotated CTM) is read in its own direction and comes after the upright
// text, in lines of its own; it never splits or joins the upright rows.
func TestRotatedText(t *testing.T) {
	font := []string{"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 122 /Widths [" + strings.Repeat("556 ", 91) + "] >>"}
	tests := []struct {
		name, content string
		want          []string
	}{
		{"bottom to top margin, Tm", "BT /F1 10 Tf 0 1 -1 0 20 100 Tm (Bank details sideways) Tj ET BT /F1 10 Tf 50 700 Td (Upright) Tj ET",
			[]string{"Upright", "Bank details sideways"}},
		{"top to bottom, Tm", "BT /F1 10 Tf 0 -1 1 0 580 700 Tm (IBAN DE12 3456) Tj ET BT /F1 10 Tf 50 700 Td (Invoice) Tj ET",
			[]string{"Invoice", "IBAN DE12 3456"}},
		{"rotated by the CTM, two lines keep their order", "q 0 1 -1 0 0 0 cm BT /F1 10 Tf 100 -30 Td (First line) Tj 0 -12 Td (Second line) Tj ET Q BT /F1 10 Tf 50 700 Td (Total  12.00) Tj ET",
			[]string{"Total  12.00", "First line", "Second line"}},
		{"45 degrees", "BT /F1 10 Tf 0.7071 0.7071 -0.7071 0.7071 100 100 Tm (PAID) Tj ET BT /F1 10 Tf 50 700 Td (Invoice) Tj ET",
			[]string{"Invoice", "PAID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := ReadTextUnisolated(minimalPDF("<< /Font << /F1 4 0 R >> >>", tt.content, font...), 5)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range pages[0].Lines {
				got = append(got, l.Text())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
		})
	}
}
