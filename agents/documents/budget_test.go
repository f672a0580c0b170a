package documents

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

func deflate(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// contentIs4 makes object 4 of a minimalPDF with one extra object the
// page's content.
func contentIs4(pdf []byte) []byte {
	return bytes.Replace(pdf, []byte("/Contents 5 0 R"), []byte("/Contents 4 0 R"), 1)
}

// selfPrevPDF is minimalPDF with a trailer whose /Prev points at its own
// cross-reference table, so that following the chain never ends.
func selfPrevPDF() []byte {
	data := minimalPDF("<< >>", "BT 50 700 Td (x) Tj ET")
	s := string(data)
	i := strings.LastIndex(s, "startxref\n")
	var xref int
	fmt.Sscanf(s[i+len("startxref\n"):], "%d", &xref)
	return []byte(strings.Replace(s, "/Root 1 0 R >>", fmt.Sprintf("/Root 1 0 R /Prev %d >>", xref), 1))
}

// Hostile files that used to hang the reader or blow its memory get a clear
// answer from the in-process reader, the way the worker gives it to the
// parent.
func TestReaderBudgets(t *testing.T) {
	formRes := "<< /XObject << /X0 4 0 R >> >>"
	tests := []struct {
		name string
		pdf  []byte
		code string
		msg  string
	}{
		{
			name: "content stream ends inside a hex string (the tokenizer waited for '>' forever)",
			pdf:  minimalPDF("<< >>", "BT 50 700 Td <4142"),
			code: codeDamaged,
			msg:  "damaged PDF: could not read page 1 (a page's content stream: it ends inside a hex string)",
		},
		{
			name: "ToUnicode CMap ends inside a hex string",
			pdf: minimalPDF("<< /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 50 700 Td <0041> Tj ET",
				"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
				"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X >>",
				stream("", "/CIDInit /ProcSet findresource begin 1 begincodespacerange <0000> <FFFF")),
			code: codeDamaged,
			msg:  "damaged PDF: could not read page 1 (a font's ToUnicode CMap: it ends inside a hex string)",
		},
		{
			name: "form drawing itself ten times at each level (10^8 draws within the depth bound)",
			pdf: minimalPDF(formRes, "/X0 Do",
				stream("/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources "+formRes,
					"BT 1 1 Td (x) Tj ET "+strings.Repeat("/X0 Do ", 10))),
			code: codeDamaged,
			msg:  "damaged PDF: reading it went over 64 times its size (a loop in its cross-references, object streams or forms)",
		},
		{
			name: "Flate bomb in the content stream",
			pdf:  contentIs4(minimalPDF("<< >>", "", stream("/Filter /FlateDecode", deflate("BT ("+strings.Repeat("A", 40<<20))))),
			code: codeTooLarge,
			msg:  "PDF too large: a page's content stream inflates to more than 32 MiB",
		},
		{
			name: "operands without an operator (the library stacks them all)",
			pdf:  contentIs4(minimalPDF("<< >>", "", stream("/Filter /FlateDecode", deflate(strings.Repeat("0 ", maxOperands+1)+"Tj")))),
			code: codeTooLarge,
			msg:  "PDF too large: a content stream has more than 1048576 operands in a row",
		},
		{
			name: "cross-reference /Prev chain pointing at itself",
			pdf:  selfPrevPDF(),
			code: codeDamaged,
			msg:  "damaged PDF: reading it went over 64 times its size (a loop in its cross-references, object streams or forms)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, _, werr := readDocument(tt.pdf, 5)
			if werr == nil {
				t.Fatalf("no error; %d pages", len(pages))
			}
			if werr.Code != tt.code || !strings.HasPrefix(werr.Message, tt.msg) {
				t.Errorf("got %s %q, want %s %q", werr.Code, werr.Message, tt.code, tt.msg)
			}
		})
	}
}

// The checks before the tokenizer must not refuse what it reads: strings
// with parentheses, escapes and '<' inside, comments, names with #xx,
// dictionaries, hex strings with white space.
func TestStreamScannerAcceptsValidContent(t *testing.T) {
	content := `% a comment with < and (
BT /F#31 10 Tf 50 700 Td (a \( b \) c < d \\ \101 \0 \
x) Tj << /K [1 2] >> BDC [(A) -20 <41 42 43>] TJ (n(e)st) ' EMC ET`
	pages, _, werr := readDocument(minimalPDF("<< >>", content), 5)
	if werr != nil {
		t.Fatal(werr.Message)
	}
	if got := pages[0].Lines[0].Text(); !strings.Contains(got, "a ( b ) c < d") {
		t.Errorf("text %q", got)
	}
}

// ToUnicode CMaps are read by exops (cmap.go): a block's count is not
// trusted past the entries present, and a malformed entry does not take the
// page down.
func TestToUnicodeCMapHostile(t *testing.T) {
	cidFont := func(cmap string) []string {
		return []string{
			"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
			"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /DW 600 >>",
			stream("", "/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange "+cmap+" endcmap CMapName currentdict /CMap defineresource pop end end"),
		}
	}
	tests := []struct {
		name, cmap, content, want string
	}{
		{
			// The library appended a billion empty entries here, and again at
			// every later end operator.
			name:    "count far beyond the entries",
			cmap:    "1000000000 beginbfrange <0041> <0043> <0058> endbfrange 2000000000 beginbfchar <0044> <005A> endbfchar endbfchar",
			content: "<0041004200430044>",
			want:    "XYZZ",
		},
		{
			name:    "odd-length destination (the library indexed past its end)",
			cmap:    "1 beginbfchar <0041> <005A00> endbfchar",
			content: "<0041>",
			want:    "Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdf := minimalPDF("<< /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 50 700 Td "+tt.content+" Tj ET", cidFont(tt.cmap)...)
			pages, _, werr := readDocument(pdf, 5)
			if werr != nil {
				t.Fatal(werr.Message)
			}
			if got := pages[0].Lines[0].Text(); got != tt.want {
				t.Errorf("text %q, want %q", got, tt.want)
			}
		})
	}
}

// A page that draws the same run thousands of times over itself (a form
// drawn again and again) is laid out in memory linear in its glyphs: the
// touching runs were merged by appending to a string per run, quadratic in
// bytes (this input allocated over 300 MB that way).
func TestBuildLinesOverdrawnRuns(t *testing.T) {
	const runs = 8000
	var gs []Glyph
	for i := 0; i < runs; i++ {
		for j, r := range "Total 12" {
			gs = append(gs, Glyph{X: 50 + float64(j)*5, Y: 700, W: 5, Size: 10, S: string(r)})
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lines := BuildLines(gs)
	runtime.ReadMemStats(&after)
	if len(lines) != 1 || len(lines[0].Cells) != 1 || len(lines[0].Cells[0].Text) != runs*len("Total 12") {
		t.Fatalf("got %d lines, want the runs merged into one cell", len(lines))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("laying out %d glyphs allocated %d MB", len(gs), alloc>>20)
	}
}

// A CID font's /W of many "first last width" entries, each over 65536
// codes, set a map entry per code: 20000 entries were 1.3 billion of them.
func TestCIDFontWidthsBounded(t *testing.T) {
	var w strings.Builder
	w.WriteString("[")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&w, "%d %d 500 ", i<<16, i<<16+0xffff)
	}
	w.WriteString("]")
	doc := minimalPDF("<< /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 50 700 Td <00410042> Tj ET",
		"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [5 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /W "+w.String()+" >>")
	pages, _, werr := readDocument(doc, 5)
	if werr != nil {
		t.Fatal(werr.Message)
	}
	if len(pages) != 1 || len(pages[0].Lines) != 1 {
		t.Fatalf("pages %v, want one line", pages)
	}
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	leaves, _ := pageTree(r, 5)
	tf, err := newTextFont(pdf.Font{V: leaves[0].V.Key("Resources").Key("Font").Key("F1")}, newInflateBudget())
	if err != nil {
		t.Fatal(err)
	}
	if len(tf.widths) > maxFontWidths {
		t.Errorf("%d widths kept, want at most %d", len(tf.widths), maxFontWidths)
	}
	if tf.width(0x41) != 500 {
		t.Errorf("width of A %v, want 500 from the first entry", tf.width(0x41))
	}
}
