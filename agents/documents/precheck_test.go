package documents

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// xrefStreamPDF is a one-page PDF with a cross-reference stream, whose
// page resources (object 6) sit in an object stream (object 5) with the
// given /N; xrefDict is the cross-reference stream's dictionary entries.
func xrefStreamPDF(objStmN, xrefDict string) []byte {
	return xrefStreamPDFWith(objStmN, "6 0 << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>", "", xrefDict)
}

// xrefStreamPDFWith is xrefStreamPDF with the object stream's contents and
// extra dictionary entries (a /Filter) given.
func xrefStreamPDFWith(objStmN, objStm, objStmDict, xrefDict string) []byte {
	var b bytes.Buffer
	offs := map[int]int{}
	b.WriteString("%PDF-1.7\n")
	add := func(id int, body string) {
		offs[id] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", id, body)
	}
	add(1, "<< /Type /Catalog /Pages 2 0 R >>")
	add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	add(3, "<< /Type /Page /Parent 2 0 R /Resources 6 0 R /Contents 4 0 R >>")
	add(4, stream("", "BT /F1 10 Tf 50 700 Td (Invoice) Tj ET"))
	add(5, stream("/Type /ObjStm /N "+objStmN+" /First 4 "+objStmDict, objStm))
	offs[7] = b.Len()
	var rows bytes.Buffer
	for id := 0; id < 8; id++ {
		switch id {
		case 0:
			rows.Write([]byte{0, 0, 0, 0, 0, 0xff, 0xff})
		case 6:
			rows.WriteByte(2)
			binary.Write(&rows, binary.BigEndian, uint32(5))
			rows.Write([]byte{0, 0})
		default:
			rows.WriteByte(1)
			binary.Write(&rows, binary.BigEndian, uint32(offs[id]))
			rows.Write([]byte{0, 0})
		}
	}
	fmt.Fprintf(&b, "7 0 obj\n<< /Type /XRef %s /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", xrefDict, rows.Len(), rows.String())
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", offs[7])
	return b.Bytes()
}

// Numbers the library sizes tables or loops by are checked against what a
// file can hold before it opens the file: each of these made it allocate
// tens of GB (a fatal, unrecoverable out of memory) or loop for hours.
func TestPrecheckAbsurdNumbers(t *testing.T) {
	const xref = "/Size 8 /W [1 4 2]"
	tests := []struct {
		name string
		pdf  []byte
		msg  string
	}{
		{"object stream /N of a trillion (a loop per lookup)", xrefStreamPDF("1000000000000", xref),
			"damaged PDF: an object stream claims 1000000000000 objects"},
		{"cross-reference stream /Size of four billion", xrefStreamPDF("1", "/Size 4000000000 /W [1 4 2]"),
			"damaged PDF: its cross-reference table claims 4000000000 objects"},
		{"cross-reference stream field a gigabyte wide", xrefStreamPDF("1", "/Size 8 /W [1 1000000000 2]"),
			"damaged PDF: its cross-reference stream has 1000000000-byte fields"},
		{"cross-reference stream /Index starting at four billion", xrefStreamPDF("1", xref+" /Index [4000000000 8]"),
			"damaged PDF: its cross-reference stream indexes objects 4000000000 to 8"},
		{"predictor with ten billion columns", xrefStreamPDF("1", xref+" /DecodeParms << /Predictor 12 /Columns 10000000000 >>"),
			"damaged PDF: a stream's predictor claims 10000000000 columns"},
		{"object stream ending inside a hex string (the tokenizer waited for '>' forever)", xrefStreamPDFWith("1", "6 0 <4142", "", xref),
			"damaged PDF: an object stream ends inside a hex string"},
		{"Flate object stream ending inside a hex string", xrefStreamPDFWith("1", deflate("6 0 << /A <41 42"), "/Filter /FlateDecode", xref),
			"damaged PDF: an object stream ends inside a hex string"},
		{"cross-reference table subsection starting at four billion",
			[]byte(strings.Replace(string(minimalPDF("<< >>", "BT 50 700 Td (x) Tj ET")), "xref\n0 5\n", "xref\n4000000000 5\n", 1)),
			"damaged PDF: its cross-reference table has a subsection of objects 4000000000 to 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, werr := readDocument(tt.pdf, 5)
			if werr == nil {
				t.Fatal("no error")
			}
			if werr.Code != codeDamaged || werr.Message != tt.msg {
				t.Errorf("got %s %q, want %q", werr.Code, werr.Message, tt.msg)
			}
		})
	}
}

// The same files with sane numbers read: the checks refuse only the
// absurd, and a CIDFont's /W widths array is not a cross-reference /W.
func TestPrecheckSaneNumbers(t *testing.T) {
	for name, pdf := range map[string][]byte{
		"object stream": xrefStreamPDF("1", "/Size 8 /W [1 4 2]"),
		"Flate object stream": xrefStreamPDFWith("1", deflate("6 0 << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> /X <4142> >>"),
			"/Filter /FlateDecode", "/Size 8 /W [1 4 2]"),
		"CIDFont /W": minimalPDF("<< /Font << /F1 4 0 R >> >>", "BT /F1 10 Tf 50 700 Td <0041> Tj ET", "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [5 0 R] >>", "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /W [1 200 500] >>"),
	} {
		pages, _, werr := readDocument(pdf, 5)
		if werr != nil {
			t.Errorf("%s: %s", name, werr.Message)
		} else if len(pages) != 1 || len(pages[0].Lines) == 0 {
			t.Errorf("%s: no text", name)
		}
	}
}
