package documents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// Defaults for Extractor's limits. A supplier invoice is a few hundred KB and
// a few pages; these leave room for long packing lists and scanned-then-OCRed
// files while keeping one bad file from costing more than a few seconds.
const (
	DefaultTimeout     = 20 * time.Second
	DefaultMemoryLimit = 512 << 20
	DefaultMaxBytes    = cases.MaxDocumentBytes
	DefaultMaxPages    = 200
	// maxAnswer caps what is read from the child's stdout: the text layer of
	// DefaultMaxPages dense pages is a few MB.
	maxAnswer = 64 << 20
)

// Extractor reads PDFs in an isolated child process and extracts fields.
// The zero value works inside the exops binary: it re-executes itself as
// "exops pdf-worker".
type Extractor struct {
	Exe         string        // program to run; default os.Executable()
	Args        []string      // arguments before the limits; default ["pdf-worker"]
	Timeout     time.Duration // wall time per document; default DefaultTimeout
	MemoryLimit int64         // bytes the parse may allocate; default DefaultMemoryLimit
	MaxBytes    int64         // largest PDF accepted; default DefaultMaxBytes
	MaxPages    int           // most pages read; default DefaultMaxPages
	// Model, if set, is asked for the fields as JSON; its answer is checked
	// against the document text and the arithmetic before any of it is used.
	Model FieldModel
}

func (e *Extractor) limits() WorkerLimits {
	l := WorkerLimits{MaxBytes: e.MaxBytes, MaxPages: e.MaxPages, MemoryLimit: e.MemoryLimit}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.MemoryLimit <= 0 {
		l.MemoryLimit = DefaultMemoryLimit
	}
	return l
}

// Extract reads one PDF and returns its fields. A document exops cannot read
// is a cases.Error of KindInvalid (damaged, encrypted, scanned, timed out) or
// KindTooLarge (size, pages, memory), with a message for the person who
// shared it.
//
// A standalone e-invoice (CII or UBL XML) is read from its XML; so is a PDF
// that embeds one (Factur-X, ZUGFeRD, XRechnung, UBL), and then the XML's
// total is checked against the visible text.
func (e *Extractor) Extract(ctx context.Context, name string, pdf []byte) (Document, error) {
	if LooksLikeXML(pdf) {
		if int64(len(pdf)) > e.limits().MaxBytes {
			return Document{}, &cases.Error{Kind: cases.KindTooLarge,
				Msg: fmt.Sprintf("e-invoice too large: %s, the limit is %s", bytesHuman(int64(len(pdf))), bytesHuman(e.limits().MaxBytes))}
		}
		doc, err := ParseEInvoice(pdf)
		if err != nil {
			return Document{}, err
		}
		doc.File = name
		return doc, nil
	}
	res, err := e.run(ctx, pdf)
	if err != nil {
		return Document{}, err
	}
	if doc, ok := fromAttachments(res.Attachments); ok {
		doc.File = name
		doc.Pages = len(res.Pages)
		if res.Error == nil {
			checkAgainstText(&doc, res.Pages)
		}
		return doc, nil
	}
	if err := res.err(); err != nil {
		return Document{}, err
	}
	pages := res.Pages
	doc := ExtractFields(pages)
	doc.File = name
	doc.Source = SourceText
	doc.Sources = map[string]string{}
	for f := range doc.Confidence {
		doc.Sources[f] = SourceText
	}
	if e.Model != nil {
		// A model failure is not the document's fault: keep the rules' answer.
		if err := applyModel(ctx, e.Model, pages, &doc); err != nil {
			doc.Problems = append(doc.Problems, "model extraction failed, rules only: "+truncate(err.Error(), 200))
		}
	}
	return doc, nil
}

// Text returns the PDF's text layer with positions, read by the child
// process, each page's lines in reading order (ReadingOrder: columns of
// running text one after the other).
func (e *Extractor) Text(ctx context.Context, pdf []byte) ([]PageText, error) {
	res, err := e.run(ctx, pdf)
	if err != nil {
		return nil, err
	}
	if err := res.err(); err != nil {
		return nil, err
	}
	return readingPages(res.Pages), nil
}

func (res *workerResult) err() error {
	if res.Error != nil {
		kind := cases.KindInvalid
		if res.Error.Code == codeTooLarge {
			kind = cases.KindTooLarge
		}
		return &cases.Error{Kind: kind, Msg: res.Error.Message}
	}
	return nil
}

// run starts the child on one PDF and returns its answer.
func (e *Extractor) run(ctx context.Context, pdf []byte) (*workerResult, error) {
	lim := e.limits()
	if int64(len(pdf)) > lim.MaxBytes {
		return nil, &cases.Error{Kind: cases.KindTooLarge,
			Msg: fmt.Sprintf("PDF too large: %s, the limit is %s", bytesHuman(int64(len(pdf))), bytesHuman(lim.MaxBytes))}
	}
	exe := e.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, &cases.Error{Kind: cases.KindInternal, Msg: "PDF worker: cannot find own executable", Err: err}
		}
	}
	args := e.Args
	if args == nil {
		args = []string{"pdf-worker"}
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, exe, append(append([]string{}, args...), lim.args()...)...)
	cmd.Stdin = bytes.NewReader(pdf)
	stdout := &capped{max: maxAnswer}
	stderr := &capped{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Environment: nothing secret is needed by the parser; pass none so a
	// crash dump cannot leak a token.
	cmd.Env = []string{"GOTRACEBACK=single"}
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, &cases.Error{Kind: cases.KindTransient, Msg: "PDF extraction cancelled", Err: ctx.Err()}
	case runCtx.Err() == context.DeadlineExceeded:
		return nil, &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("PDF parser timed out after %s (the file may be damaged or built to hang readers)", timeout)}
	case stdout.over:
		return nil, &cases.Error{Kind: cases.KindTooLarge, Msg: fmt.Sprintf("PDF too large: the text layer is over %s", bytesHuman(maxAnswer))}
	case err != nil:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, &cases.Error{Kind: cases.KindInternal, Msg: "PDF worker could not start", Err: err}
		}
		return nil, childFailure(ee, stderr.String(), lim)
	}
	var res workerResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, &cases.Error{Kind: cases.KindInternal, Msg: "PDF worker answered garbage", Err: err}
	}
	return &res, nil
}

// childFailure explains a child that exited badly.
func childFailure(ee *exec.ExitError, stderr string, lim WorkerLimits) error {
	if strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory") {
		return &cases.Error{Kind: cases.KindTooLarge,
			Msg: fmt.Sprintf("PDF too large: reading it needed more than %s of memory", bytesHuman(lim.MemoryLimit))}
	}
	if !ee.Exited() {
		// Killed by a signal we did not send: most likely the kernel's OOM
		// killer under a container limit lower than ours.
		return &cases.Error{Kind: cases.KindTooLarge, Msg: "PDF too large: the parser was killed (" + ee.String() + ")"}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	return &cases.Error{Kind: cases.KindInvalid, Msg: "damaged PDF: the parser crashed", Err: errors.New(truncate(first, 200))}
}

// capped is a buffer that stops growing at max and remembers it was cut.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > c.max {
		c.over = true
		return 0, errors.New("output limit exceeded")
	}
	return c.Buffer.Write(p)
}
