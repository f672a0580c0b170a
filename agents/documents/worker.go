package documents

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/ledongthuc/pdf"
)

// The worker protocol: the parent writes the PDF bytes to the child's stdin
// and closes it; the child answers one JSON object on stdout and exits 0,
// also for a bad document (the error is in the answer). A non-zero exit, a
// kill or a malformed answer means the parser crashed, ran out of memory or
// ran out of time, and the parent says so.

// workerResult is the child's answer.
type workerResult struct {
	Pages []PageText `json:"pages,omitempty"`
	// Attachments are the embedded XML files (hybrid e-invoices); they are
	// sent also when the pages could not be read.
	Attachments []Attachment `json:"attachments,omitempty"`
	Error       *workerError `json:"error,omitempty"`
}

// Error codes the child reports. The parent turns them into cases.Error kinds.
const (
	codeNotPDF      = "not_pdf"
	codeEncrypted   = "encrypted"
	codeUnsupported = "encrypted_unsupported"
	codeDamaged     = "damaged"
	codePageTree    = "page_tree"
	codeNoPages     = "no_pages"
	codeNoText      = "no_text"
	codeTooLarge    = "too_large"
)

type workerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WorkerLimits are the limits the child applies to itself.
type WorkerLimits struct {
	MaxBytes    int64
	MaxPages    int
	MemoryLimit int64 // bytes of address space beyond what the child had at start; 0 = none
}

func (l WorkerLimits) args() []string {
	return []string{"--max-bytes", fmt.Sprint(l.MaxBytes), "--max-pages", fmt.Sprint(l.MaxPages),
		"--memory", fmt.Sprint(l.MemoryLimit)}
}

// RunWorker is the body of the hidden "exops pdf-worker" command: it limits
// its own memory, reads one PDF from stdin, writes the text layer with
// positions as JSON to stdout. It returns the process exit code. Only the
// parent (Extractor) should start it.
func RunWorker(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lim WorkerLimits
	fs.Int64Var(&lim.MaxBytes, "max-bytes", DefaultMaxBytes, "largest PDF accepted, bytes")
	fs.IntVar(&lim.MaxPages, "max-pages", DefaultMaxPages, "most pages read")
	fs.Int64Var(&lim.MemoryLimit, "memory", DefaultMemoryLimit, "memory limit, bytes (0: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if lim.MemoryLimit > 0 {
		// The soft limit makes the GC work hard before the hard limit; the
		// hard limit (address space) makes a runaway allocation fail, and
		// the Go runtime then dies with "out of memory" — which no recover
		// catches, hence the separate process.
		debug.SetMemoryLimit(lim.MemoryLimit)
		if err := limitAddressSpace(lim.MemoryLimit); err != nil {
			fmt.Fprintf(stderr, "pdf-worker: cannot limit memory: %v\n", err)
			return 3
		}
	}
	data, err := io.ReadAll(io.LimitReader(stdin, lim.MaxBytes+1))
	if err != nil {
		fmt.Fprintf(stderr, "pdf-worker: reading stdin: %v\n", err)
		return 3
	}
	var res workerResult
	if int64(len(data)) > lim.MaxBytes {
		res.Error = &workerError{codeTooLarge, fmt.Sprintf("PDF too large: more than %s", bytesHuman(lim.MaxBytes))}
	} else {
		res.Pages, res.Attachments, res.Error = readDocument(data, lim.MaxPages)
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintf(stderr, "pdf-worker: writing answer: %v\n", err)
		return 3
	}
	return 0
}

// ReadTextUnisolated reads the text layer in the calling process. It exists
// for benchmarks and fuzzing of the layout code; exops itself always goes
// through Extractor, because a malformed file can hang or kill the caller.
func ReadTextUnisolated(data []byte, maxPages int) ([]PageText, error) {
	pages, _, werr := readDocument(data, maxPages)
	if werr != nil {
		return nil, errors.New(werr.Message)
	}
	return pages, nil
}

// readText opens the PDF and lays out each page's text. Panics inside the
// library become a damaged-PDF answer; loops and memory exhaustion are the
// parent's job (time and memory limits on this process).
func readDocument(data []byte, maxPages int) (pages []PageText, atts []Attachment, werr *workerError) {
	defer func() {
		if r := recover(); r != nil {
			pages = nil
			werr = panicError(r)
		}
	}()
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		if werr := precheck(data); werr != nil {
			return nil, nil, werr
		}
	}
	r, err := pdf.NewReader(newCountingReaderAt(data), int64(len(data)))
	if err != nil {
		return nil, nil, classifyOpenError(data, err)
	}
	atts = attachments(r)
	pages, werr = readPages(r, maxPages)
	return pages, atts, werr
}

func readPages(r *pdf.Reader, maxPages int) (pages []PageText, werr *workerError) {
	defer func() {
		if r := recover(); r != nil {
			pages = nil
			werr = panicError(r)
		}
	}()
	leaves, werr := pageTree(r, maxPages)
	if werr != nil {
		return nil, werr
	}
	if len(leaves) == 0 {
		return nil, &workerError{codeNoPages, "empty PDF: the document has no pages"}
	}
	anyText := false
	budget := newInflateBudget()
	for i, p := range leaves {
		glyphs, err := readPageGlyphs(p, budget)
		if be := (*budgetError)(nil); errors.As(err, &be) {
			return nil, &workerError{be.code, be.msg}
		}
		if err != nil {
			if enc := r.Trailer().Key("Encrypt"); !enc.IsNull() {
				// The library opens 40-bit RC4 files (an empty user password
				// checks out) but derives a 16-byte object key where the
				// standard says 10, so every stream decrypts to garbage.
				return nil, &workerError{codeUnsupported, fmt.Sprintf("encrypted PDF: could not decrypt it (%d-bit key, revision %d); ask the supplier for an unprotected copy",
					keyBits(enc), enc.Key("R").Int64())}
			}
			return nil, &workerError{codeDamaged, fmt.Sprintf("damaged PDF: could not read page %d (%s)", i+1, truncate(err.Error(), 120))}
		}
		lines := PageLines(glyphs)
		if len(lines) > 0 {
			anyText = true
		}
		pages = append(pages, PageText{Lines: lines})
	}
	if !anyText {
		return nil, &workerError{codeNoText, "scanned PDF: no text layer (exops does not do OCR; ask the supplier for the original PDF)"}
	}
	return pages, nil
}

// panicError is the answer for a panic out of the library: a budget
// running out says which, anything else is a damaged file.
func panicError(r any) *workerError {
	if e, ok := r.(error); ok {
		if be := (*budgetError)(nil); errors.As(e, &be) {
			return &workerError{be.code, be.msg}
		}
	}
	return &workerError{codeDamaged, fmt.Sprintf("damaged PDF: the parser failed (%s)", truncate(fmt.Sprint(r), 120))}
}

// pageTree collects the page leaves itself instead of calling Reader.Page,
// which loops forever on a /Kids array that points back up the tree. Depth
// and visit budgets turn a cyclic or absurd tree into a clear error.
func pageTree(r *pdf.Reader, maxPages int) ([]pdf.Page, *workerError) {
	const maxDepth = 32
	budget := maxPages*2 + 256 // page tree nodes visited, leaves included
	var pages []pdf.Page
	bad := func(why string) *workerError {
		return &workerError{codePageTree, "damaged PDF: could not read the page tree (" + why + ")"}
	}
	var walk func(v pdf.Value, depth int) *workerError
	walk = func(v pdf.Value, depth int) *workerError {
		if depth > maxDepth {
			return bad("nested too deep or cyclic")
		}
		if budget--; budget < 0 {
			return bad("too many nodes or cyclic")
		}
		kids := v.Key("Kids")
		typ := v.Key("Type").Name()
		if typ == "Pages" || typ == "" && kids.Kind() == pdf.Array {
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if typ == "Page" || typ == "" && v.Kind() == pdf.Dict {
			if len(pages) >= maxPages {
				return &workerError{codeTooLarge, fmt.Sprintf("PDF too large: more than %d pages", maxPages)}
			}
			pages = append(pages, pdf.Page{V: v})
			return nil
		}
		return nil
	}
	root := r.Trailer().Key("Root")
	if root.Kind() != pdf.Dict {
		return nil, bad("no document catalog")
	}
	tree := root.Key("Pages")
	if tree.Kind() != pdf.Dict {
		return nil, bad("no /Pages")
	}
	if err := walk(tree, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

func keyBits(enc pdf.Value) int64 {
	if n := enc.Key("Length").Int64(); n > 0 {
		return n
	}
	return 40
}

// classifyOpenError turns the library's open errors into the messages people
// see on the case.
func classifyOpenError(data []byte, err error) *workerError {
	msg := err.Error()
	if be := (*budgetError)(nil); errors.As(err, &be) {
		return &workerError{be.code, be.msg}
	}
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return &workerError{codeEncrypted, "encrypted PDF: needs a password"}
	case strings.Contains(msg, "encrypt"):
		// "unsupported PDF: encryption version V=5", "256-bit encryption key":
		// AES-256 (PDF 2.0 / Acrobat X) and other schemes the library lacks.
		return &workerError{codeUnsupported, "encrypted PDF: the encryption (likely AES-256) is not supported; ask the supplier for an unprotected copy"}
	case strings.Contains(msg, "invalid header"):
		if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
			return &workerError{codeNotPDF, "not a PDF file"}
		}
		return &workerError{codeDamaged, "damaged PDF: unsupported or broken header"}
	case strings.Contains(msg, "missing %%EOF"), strings.Contains(msg, "startxref"):
		return &workerError{codeDamaged, "damaged PDF: the file is truncated (no end-of-file marker or cross-reference offset)"}
	case strings.Contains(msg, "xref"), strings.Contains(msg, "cross-reference"):
		return &workerError{codeDamaged, "damaged PDF: broken cross-reference table"}
	}
	return &workerError{codeDamaged, "damaged PDF: " + truncate(msg, 160)}
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
