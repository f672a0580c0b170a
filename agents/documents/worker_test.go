package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/ledongthuc/pdf"
)

// TestMain lets the test binary act as the PDF worker, the way the exops
// binary re-executes itself, plus a few misbehaving workers that prove the
// parent survives them.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "pdf-worker":
			os.Exit(RunWorker(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		case "pdf-worker-hang":
			io.Copy(io.Discard, os.Stdin)
			time.Sleep(time.Hour) // a parser stuck in a loop
		case "pdf-worker-panic":
			panic("parser bug")
		case "pdf-worker-greedy":
			// A parser bug that allocates without bound, under the memory
			// limit RunWorker sets (--memory N is the last argument).
			io.Copy(io.Discard, os.Stdin)
			lim, _ := strconv.ParseInt(os.Args[len(os.Args)-1], 10, 64)
			debug.SetMemoryLimit(lim)
			if err := limitAddressSpace(lim); err != nil {
				os.Exit(3)
			}
			var keep [][]byte
			for {
				b := make([]byte, 16<<20)
				for i := range b {
					b[i] = byte(i)
				}
				keep = append(keep, b)
			}
		case "pdf-worker-naive":
			// What exops would do without its own page tree walk: the
			// library's Reader.Page, which loops on a cyclic /Kids.
			data, _ := io.ReadAll(os.Stdin)
			r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				os.Exit(4)
			}
			r.Page(1)
			fmt.Println(`{"pages":[]}`)
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

func testExtractor() *Extractor {
	return &Extractor{Exe: os.Args[0], Args: []string{"pdf-worker"}, Timeout: 20 * time.Second}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every malformed file is refused with the message a person sees on the
// case, and the right error kind; none takes the caller down.
func TestMalformedFiles(t *testing.T) {
	tests := []struct {
		file string
		kind cases.Kind
		msg  string
	}{
		{"truncated.pdf", cases.KindInvalid, "damaged PDF: the file is truncated"},
		{"broken-xref.pdf", cases.KindInvalid, "damaged PDF: broken cross-reference table"},
		{"not-a-pdf.pdf", cases.KindInvalid, "not a PDF file"},
		{"encrypted-rc4.pdf", cases.KindInvalid, "encrypted PDF: needs a password"},
		{"encrypted-aes128.pdf", cases.KindInvalid, "encrypted PDF: needs a password"},
		{"encrypted-aes256.pdf", cases.KindInvalid, "encrypted PDF: the encryption (likely AES-256) is not supported"},
		{"zero-pages.pdf", cases.KindInvalid, "empty PDF: the document has no pages"},
		{"cyclic-page-tree.pdf", cases.KindInvalid, "damaged PDF: could not read the page tree"},
		{"scanned.pdf", cases.KindInvalid, "scanned PDF: no text layer"},
		{"memory-bomb.pdf", cases.KindTooLarge, "PDF too large: a page's content stream inflates to more than 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ex := testExtractor()
			ex.MemoryLimit = 256 << 20
			start := time.Now()
			_, err := ex.Extract(context.Background(), tt.file, readFile(t, filepath.Join("testdata", "malformed", tt.file)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to start with %q", err, tt.msg)
			}
			if k := cases.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v", k, tt.kind)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// A parser that allocates without bound must die of the address-space
// limit (the runtime's "out of memory"), quickly, and not of the wall-time
// limit. (The memory bomb in testdata no longer gets that far: the reader
// refuses a stream that inflates past maxStreamBytes.)
func TestMemoryLimitKillsChild(t *testing.T) {
	if !hardMemoryLimit {
		t.Skip("no kernel-enforced memory limit on this OS")
	}
	ex := &Extractor{Exe: os.Args[0], Args: []string{"pdf-worker-greedy"}, MemoryLimit: 128 << 20, Timeout: 30 * time.Second}
	start := time.Now()
	_, err := ex.Text(context.Background(), readFile(t, "testdata/malformed/memory-bomb.pdf"))
	if err == nil || !strings.Contains(err.Error(), "needed more than 128 MiB of memory") {
		t.Fatalf("err = %v, want the memory limit's message", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the limit took %s to bite", d)
	}
}

// The hazard is real: the library's own page lookup loops forever on the
// cyclic file, and the wall-time limit kills it.
func TestTimeoutKillsLoopingParser(t *testing.T) {
	for _, mode := range []string{"pdf-worker-naive", "pdf-worker-hang"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ex := &Extractor{Exe: os.Args[0], Args: []string{mode}, Timeout: 700 * time.Millisecond}
			start := time.Now()
			_, err := ex.Text(context.Background(), readFile(t, "testdata/malformed/cyclic-page-tree.pdf"))
			if err == nil || !strings.HasPrefix(err.Error(), "PDF parser timed out after 700ms") {
				t.Fatalf("err = %v", err)
			}
			if cases.KindOf(err) != cases.KindInvalid {
				t.Errorf("kind %v", cases.KindOf(err))
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s to give up", d)
			}
		})
	}
}

func TestCrashingWorker(t *testing.T) {
	ex := &Extractor{Exe: os.Args[0], Args: []string{"pdf-worker-panic"}}
	_, err := ex.Text(context.Background(), []byte("%PDF-1.4\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "damaged PDF: the parser crashed") {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ex := &Extractor{Exe: os.Args[0], Args: []string{"pdf-worker-hang"}}
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := ex.Text(ctx, []byte("%PDF-1.4\n"))
	if !errors.Is(err, context.Canceled) || cases.KindOf(err) != cases.KindTransient {
		t.Fatalf("err = %v", err)
	}
}

func TestLimits(t *testing.T) {
	multi := readFile(t, "testdata/corpus/invoice-19-en-multipage.pdf")
	ex := testExtractor()
	ex.MaxPages = 1
	_, err := ex.Text(context.Background(), multi)
	if err == nil || err.Error() != "PDF too large: more than 1 pages" || cases.KindOf(err) != cases.KindTooLarge {
		t.Errorf("page limit: %v", err)
	}
	ex = testExtractor()
	ex.MaxBytes = 1000
	_, err = ex.Text(context.Background(), multi)
	if err == nil || !strings.HasPrefix(err.Error(), "PDF too large:") || cases.KindOf(err) != cases.KindTooLarge {
		t.Errorf("size limit: %v", err)
	}
	ex = &Extractor{Exe: filepath.Join(t.TempDir(), "missing")}
	if _, err = ex.Text(context.Background(), multi); cases.KindOf(err) != cases.KindInternal {
		t.Errorf("missing worker: %v", err)
	}
}

// The RC4 40-bit file in the corpus opens (empty user password) but the
// library cannot decrypt its streams; exops says so instead of "damaged".
func TestRC4FortyBitIsExplained(t *testing.T) {
	_, err := testExtractor().Text(context.Background(), readFile(t, "testdata/corpus/invoice-09-en.pdf"))
	if err == nil || !strings.HasPrefix(err.Error(), "encrypted PDF: could not decrypt it (40-bit key") {
		t.Fatalf("err = %v", err)
	}
}

// The AES-128 fixture is real AES: with the password the library decrypts it.
func TestAES128FixtureDecrypts(t *testing.T) {
	data := readFile(t, "testdata/malformed/encrypted-aes128.pdf")
	tries := 0
	r, err := pdf.NewReaderEncrypted(bytes.NewReader(data), int64(len(data)), func() string {
		tries++
		if tries > 1 {
			return ""
		}
		return "user-secret"
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, werr := pageTree(r, 10)
	if werr != nil {
		t.Fatal(werr.Message)
	}
	g, err := readPageGlyphs(pages[0], newInflateBudget())
	if err != nil {
		t.Fatal(err)
	}
	if got := BuildLines(g)[0].Text(); got != "Invoice No: INV-AES-1" {
		t.Errorf("decrypted text %q", got)
	}
}
