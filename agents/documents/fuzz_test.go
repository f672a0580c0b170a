package documents

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Fuzz targets for the in-process reader: readDocument is what the
// "exops pdf-worker" child runs on the bytes it is given (and what
// ReadTextUnisolated runs in the caller), so anything that hangs, blows the
// heap or overflows the stack here kills the child instead of producing a
// clear answer. Each input must finish with pages or a *workerError.

const fuzzMaxPages = 8

// fuzzSeedFiles are the PDFs under testdata (well-formed and malformed)
// and, when the shared corpus is checked out next to the repository, its
// smaller real invoices (read at test time, never committed).
func fuzzSeedFiles(f *testing.F) [][]byte {
	var paths []string
	for _, dir := range []string{"testdata/corpus", "testdata/malformed"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
		paths = append(paths, m...)
	}
	if m, _ := filepath.Glob("../../../shared/corpus/invoices/*.pdf"); len(m) > 0 {
		sort.Strings(m)
		n := 0
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil && fi.Size() < 64<<10 && n < 6 {
				paths = append(paths, p)
				n++
			}
		}
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkReadResult checks what every input must give: a bounded answer, and
// no Go runtime fault of exops's own code dressed up as a damaged file.
func checkReadResult(t *testing.T, pages []PageText, werr *workerError) {
	t.Helper()
	if werr == nil && len(pages) == 0 {
		t.Fatal("no pages and no error")
	}
	if len(pages) > fuzzMaxPages {
		t.Fatalf("%d pages, more than the limit %d", len(pages), fuzzMaxPages)
	}
	if werr != nil && werr.Code == "" {
		t.Fatalf("error without a code: %q", werr.Message)
	}
}

func FuzzReadDocument(f *testing.F) {
	for _, b := range fuzzSeedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pages, _, werr := readDocument(data, fuzzMaxPages)
		checkReadResult(t, pages, werr)
	})
}

// fuzzPagePDF is a one-page PDF whose content, form XObject and ToUnicode
// CMap come from the fuzzer, with a CID font, a simple font with
// /Differences and a form that may draw itself (the reader must bound the
// recursion and the fan-out).
func fuzzPagePDF(content, form, cmap string) []byte {
	res := "<< /Font << /F1 4 0 R /F2 8 0 R >> /XObject << /X0 7 0 R >> >>"
	return minimalPDF(res, content,
		"<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+Arial /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+Arial /DW 500 /W [32 [278] 48 57 556 65 122 500] >>",
		stream("", cmap),
		stream("/Type /XObject /Subtype /Form /BBox [0 0 600 800] /Matrix [1 0 0 1 0 10] /Resources "+res, form),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [32 /space 65 /A /B /C] >> /FirstChar 32 /LastChar 90 /Widths [278 0 0 556] >>",
	)
}

func FuzzPageContent(f *testing.F) {
	f.Add("BT /F1 10 Tf 50 700 Td "+hex2("Invoice 4711")+" Tj ET", "", toUnicodeIdentity)
	f.Add("BT /F2 12 Tf 2 Tw 50 700 Td (ABC  DEF) Tj T* [(A) -300 (B)] TJ ET /X0 Do", "BT /F1 9 Tf 1 0 0 1 50 600 Tm "+hex2("Total 59.50")+" Tj ET", toUnicodeIdentity)
	f.Add("q 0 1 -1 0 300 100 cm BT /F2 10 Tf 0 0 Td (Rotated) ' ET Q /X0 Do", "/X0 Do /X0 Do q 0.5 0 0 0.5 0 0 cm /X0 Do Q", toUnicodeIdentity)
	f.Add("BT /F1 10 Tf 100 Tz 3 Tc 1 Ts 12 TL 10 20 TD (x) \" ET", "/X0 Do", "1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <00> <FF> [<0041> <0042>] endbfrange")
	f.Fuzz(func(t *testing.T, content, form, cmap string) {
		pages, _, werr := readDocument(fuzzPagePDF(content, form, cmap), fuzzMaxPages)
		checkReadResult(t, pages, werr)
	})
}

// The layout code gets glyphs from the reader; absurd positions, sizes and
// widths (NaN, ±Inf, huge) must not make it loop or fault.
func FuzzPageLines(f *testing.F) {
	f.Add(50.0, 700.0, 5.0, 10.0, "Invoice", 0.0, 120.0, 700.0, 0.0, 10.0, "4711", 90.0)
	f.Add(1e308, -1e308, -1.0, 0.0, " ", 45.0, 0.0, 0.0, 0.0, 1e-300, "ﬁ", 0.0)
	f.Fuzz(func(t *testing.T, x1, y1, w1, s1 float64, t1 string, r1, x2, y2, w2, s2 float64, t2 string, r2 float64) {
		var gs []Glyph
		for i := 0; i < 40; i++ {
			d := float64(i)
			gs = append(gs, Glyph{X: x1 + d*w1, Y: y1, W: w1, Size: s1, S: t1, Rot: r1},
				Glyph{X: x2 + d*w2, Y: y2 - d, W: w2, Size: s2, S: t2, Rot: r2})
		}
		lines := PageLines(gs)
		n := 0
		for _, l := range lines {
			n += len(l.Cells)
			_ = strings.TrimSpace(l.Text())
		}
		if n > len(gs) {
			t.Fatalf("%d cells from %d glyphs", n, len(gs))
		}
	})
}
