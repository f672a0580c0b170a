package documents

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type benchDoc struct {
	name  string
	data  []byte
	pages int
}

// benchCorpus loads the readable corpus documents and counts their pages.
func benchCorpus(b *testing.B) ([]benchDoc, int) {
	paths, _ := filepath.Glob("testdata/corpus/*.pdf")
	var docs []benchDoc
	total := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		pages, err := ReadTextUnisolated(data, DefaultMaxPages)
		if err != nil {
			continue // the RC4-40 file: not comparable
		}
		docs = append(docs, benchDoc{p, data, len(pages)})
		total += len(pages)
	}
	return docs, total
}

// BenchmarkCorpus measures, in one run over the same corpus: the text layer
// in-process (ledongthuc/pdf + layout), full extraction through the isolated
// child process (what exops does), and pdftotext -layout from poppler-utils
// (skipped when not installed). Compare pages/s across the three:
//
//	go test ./agents/documents -run '^$' -bench Corpus -count 5
func BenchmarkCorpus(b *testing.B) {
	docs, pages := benchCorpus(b)
	benchReaders(b, docs, pages)
}

// benchReaders runs the three readers over docs, each a sub-benchmark, so
// their pages/s in one run can be read as ratios.
func benchReaders(b *testing.B, docs []benchDoc, pages int) {
	b.Run("text-inprocess", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				if _, err := ReadTextUnisolated(d.data, DefaultMaxPages); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, len(docs), pages)
	})
	b.Run("extract-isolated", func(b *testing.B) {
		ex := testExtractor()
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				if _, err := ex.Extract(context.Background(), d.name, d.data); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, len(docs), pages)
	})
	b.Run("pdftotext-layout", func(b *testing.B) {
		bin, err := exec.LookPath("pdftotext")
		if err != nil {
			b.Skip("pdftotext not installed (apt-get install poppler-utils)")
		}
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				if _, err := exec.Command(bin, "-layout", "-q", d.name, "-").Output(); err != nil {
					b.Fatalf("pdftotext %s: %v", d.name, err)
				}
			}
		}
		report(b, len(docs), pages)
	})
}

func report(b *testing.B, docs, pages int) {
	s := b.Elapsed().Seconds()
	if s == 0 {
		return
	}
	b.ReportMetric(float64(docs*b.N)/s, "docs/s")
	b.ReportMetric(float64(pages*b.N)/s, "pages/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRealInvoices runs the same three readers over the real e-invoice
// corpus (../shared/corpus/invoices, visible text only), in one run, so their
// pages/s can be compared as ratios. "extract-isolated" starts one child
// process per document (cold start included, as exops runs it);
// "text-inprocess" is the reader with no process start (the warm figure).
//
//	go test ./agents/documents -run '^$' -bench RealInvoices -count 5
func BenchmarkRealInvoices(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "invoices")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	var docs []benchDoc
	pages := 0
	for _, p := range paths {
		if filepath.Ext(strings.TrimSuffix(p, ".pdf")) == ".with-xml" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		pt, err := ReadTextUnisolated(data, DefaultMaxPages)
		if err != nil {
			continue
		}
		docs = append(docs, benchDoc{p, data, len(pt)})
		pages += len(pt)
	}
	if len(docs) == 0 {
		b.Skipf("no corpus at %s", dir)
	}
	benchReaders(b, docs, pages)
}
