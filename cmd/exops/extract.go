package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/exops/exops/agents/documents"
)

// extract prints the fields of supplier PDFs as JSON, one object per line,
// or with --eval scores the rules against a folder of golden files.
func (c *cli) extract(args []string) int {
	fs := c.flags("extract", "extract [--timeout D] [--memory MiB] [--max-pages N] [--text] FILE... | extract --eval DIR")
	eval := fs.String("eval", "", "score per-field precision and recall over the PDFs in `dir` that have golden JSON files of the same name")
	timeout := fs.Duration("timeout", documents.DefaultTimeout, "wall-time limit per document")
	memMiB := fs.Int64("memory", documents.DefaultMemoryLimit>>20, "memory limit of the parser process, MiB")
	maxPages := fs.Int("max-pages", documents.DefaultMaxPages, "most pages read per document")
	maxMiB := fs.Int64("max-size", documents.DefaultMaxBytes>>20, "largest PDF accepted, MiB")
	text := fs.Bool("text", false, "print the text layer with layout instead of fields (for debugging rules)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	ex := &documents.Extractor{Timeout: *timeout, MemoryLimit: *memMiB << 20, MaxPages: *maxPages, MaxBytes: *maxMiB << 20}
	if *eval != "" {
		if fs.NArg() > 0 {
			return c.usageError("extract --eval takes a folder, not files")
		}
		if documents.IsCorpusDir(*eval) {
			// The e-invoice corpus format (NAME.pdf or NAME.xml + NAME.json
			// from the invoice's XML): per-field accuracy and the text layer's
			// word F1 against pdftotext.
			rep, err := documents.EvaluateCorpus(c.ctx, ex, *eval)
			if err != nil {
				return c.fail(err)
			}
			if rep.Documents == 0 {
				return c.fail(fmt.Errorf("extract --eval: no document in %s has a truth JSON file of the same name", *eval))
			}
			documents.WriteCorpusEval(c.stdout, rep, 20)
			return exitOK
		}
		rep, err := documents.Evaluate(c.ctx, ex, *eval)
		if err != nil {
			return c.fail(err)
		}
		if rep.Documents == 0 {
			return c.fail(fmt.Errorf("extract --eval: no PDF in %s has a golden JSON file of the same name", *eval))
		}
		documents.WriteEval(c.stdout, rep)
		return exitOK
	}
	if fs.NArg() == 0 {
		return c.usageError("extract needs at least one PDF file")
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	code := exitOK
	for _, path := range fs.Args() {
		data, err := readLimited(path, ex.MaxBytes)
		if err != nil {
			code = c.fail(err)
			continue
		}
		if *text {
			pages, err := ex.Text(c.ctx, data)
			if err != nil {
				code = c.fail(fmt.Errorf("%s: %w", path, err))
				continue
			}
			for i, p := range pages {
				fmt.Fprintf(c.stdout, "--- %s page %d\n", path, i+1)
				for _, l := range p.Lines {
					for _, cell := range l.Cells {
						fmt.Fprintf(c.stdout, "[%.0f-%.0f %.1f] %s  ", cell.X, cell.X2, cell.Size, cell.Text)
					}
					fmt.Fprintln(c.stdout)
				}
			}
			continue
		}
		doc, err := ex.Extract(c.ctx, filepath.Base(path), data)
		if err != nil {
			// The message is the one a person sees on the case.
			code = c.fail(fmt.Errorf("%s: %w", path, err))
			continue
		}
		doc.Pages = 0 // not part of the documented format
		if err := enc.Encode(doc); err != nil {
			return c.fail(err)
		}
	}
	return code
}

// readLimited reads a file, refusing one over max bytes before reading it all.
func readLimited(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if max > 0 && st.Size() > max {
		return nil, fmt.Errorf("%s: PDF too large: %d MiB, the limit is %d MiB", path, st.Size()>>20, max>>20)
	}
	return os.ReadFile(path)
}

// pdfWorker is the hidden child process the extractor starts: it reads one
// PDF on stdin and answers its text layer as JSON. It is not in the usage
// text because people never run it.
func (c *cli) pdfWorker(args []string) int {
	return documents.RunWorker(args, os.Stdin, c.stdout, c.stderr)
}
