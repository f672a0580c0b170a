package documents

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The e-invoice corpus format (../shared/corpus/invoices/README.md): NAME.pdf
// or NAME.xml next to NAME.json, whose fields come from the invoice's XML.
// CorpusFields are the fields scored, as the project's score-invoices tool
// counts them: a field counts only where the truth has a value, and "lines"
// counts a document whose number of lines is right.
var CorpusFields = []string{"number", "issue_date", "due_date", "currency", "subtotal", "tax", "total", "po_number", "supplier", "lines"}

// CorpusTruth is one NAME.json of the corpus format.
type CorpusTruth struct {
	Number    string          `json:"number"`
	IssueDate string          `json:"issue_date"`
	DueDate   *string         `json:"due_date"`
	Currency  string          `json:"currency"`
	Subtotal  json.Number     `json:"subtotal"`
	Tax       json.Number     `json:"tax"`
	Total     json.Number     `json:"total"`
	AmountDue json.Number     `json:"amount_due"`
	Seller    string          `json:"seller"`
	Buyer     string          `json:"buyer"`
	PONumber  *string         `json:"po_number"`
	Lines     []CorpusLine    `json:"lines"`
	TypeCode  json.RawMessage `json:"type_code"`
}

// CorpusLine is one line of the truth.
type CorpusLine struct {
	Description string      `json:"description"`
	Quantity    json.Number `json:"quantity"`
	UnitPrice   json.Number `json:"unit_price"`
	Amount      json.Number `json:"amount"`
}

func (c CorpusTruth) field(name string) string {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch name {
	case "number":
		return c.Number
	case "issue_date":
		return c.IssueDate
	case "due_date":
		return s(c.DueDate)
	case "currency":
		return c.Currency
	case "subtotal":
		return string(c.Subtotal)
	case "tax":
		return string(c.Tax)
	case "total":
		return string(c.Total)
	case "po_number":
		return s(c.PONumber)
	case "supplier":
		return c.Seller
	}
	return ""
}

// CorpusReport is the result of EvaluateCorpus.
type CorpusReport struct {
	Documents int
	Pages     int
	Right     map[string]int // field → documents right
	Counted   map[string]int // field → documents whose truth has the field
	Failed    map[string]string
	Misses    []string
	// TextF1 is the word-level F1 of exops's text layer against
	// `pdftotext -layout` over the PDFs (micro-averaged over words); -1 when
	// pdftotext is not installed.
	TextF1        float64
	TextPrecision float64
	TextRecall    float64
	// PlainF1 is the same word F1 against plain `pdftotext` (its reading
	// order mode), and OrderF1 the F1 of adjacent word pairs (bigrams)
	// against it: words read in the wrong order (columns interleaved) lose
	// their pairs, so OrderF1 measures reading order. -1 when not scored.
	PlainF1 float64
	OrderF1 float64
	Elapsed time.Duration
}

// Accuracy is the share of counted fields that were right.
func (r CorpusReport) Accuracy() float64 {
	right, n := 0, 0
	for _, f := range CorpusFields {
		right += r.Right[f]
		n += r.Counted[f]
	}
	return ratio(right, n)
}

// IsCorpusDir reports whether dir holds truth files of the corpus format
// (they name the "seller"), rather than the generated corpus's Document JSON.
func IsCorpusDir(dir string) bool {
	jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, j := range jsons {
		b, err := os.ReadFile(j)
		if err == nil && strings.Contains(string(b), `"seller"`) {
			return true
		}
	}
	return false
}

// EvaluateCorpus extracts every NAME.pdf (not NAME.with-xml.pdf) or, when the
// folder has no PDF, every NAME.xml that has a NAME.json, and scores it.
func EvaluateCorpus(ctx context.Context, ex *Extractor, dir string) (CorpusReport, error) {
	rep := CorpusReport{Right: map[string]int{}, Counted: map[string]int{}, Failed: map[string]string{}, TextF1: -1, PlainF1: -1, OrderF1: -1}
	var files []string
	pdfs, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	for _, p := range pdfs {
		if !strings.HasSuffix(p, ".with-xml.pdf") {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(dir, "*.xml"))
	}
	sort.Strings(files)
	_, errPT := exec.LookPath("pdftotext")
	var tp, fp, fn int
	var plain, order [3]int // tp, fp, fn
	start := time.Now()
	for _, p := range files {
		raw, err := os.ReadFile(strings.TrimSuffix(p, filepath.Ext(p)) + ".json")
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("eval: %w", err)
		}
		var want CorpusTruth
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			return rep, fmt.Errorf("eval: truth of %s: %w", p, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return rep, fmt.Errorf("eval: %w", err)
		}
		rep.Documents++
		name := filepath.Base(p)
		got, err := ex.Extract(ctx, name, data)
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Failed[name] = err.Error()
		}
		rep.Pages += got.Pages
		for _, f := range CorpusFields {
			if f == "lines" {
				if len(want.Lines) == 0 {
					continue
				}
				rep.Counted[f]++
				if len(got.Lines) == len(want.Lines) {
					rep.Right[f]++
				} else {
					rep.Misses = append(rep.Misses, fmt.Sprintf("%s lines: want %d got %d", name, len(want.Lines), len(got.Lines)))
				}
				continue
			}
			w := want.field(f)
			if w == "" {
				continue
			}
			rep.Counted[f]++
			g := got.Field(f)
			if corpusEqual(f, w, g) {
				rep.Right[f]++
			} else {
				rep.Misses = append(rep.Misses, fmt.Sprintf("%s %s: want %q got %q", name, f, w, g))
			}
		}
		if errPT == nil && strings.HasSuffix(p, ".pdf") {
			ours, err := ex.Text(ctx, data)
			ref, err2 := exec.CommandContext(ctx, "pdftotext", "-layout", p, "-").Output()
			if err == nil && err2 == nil {
				a, b, c := wordOverlap(words(documentText(ours)), words(string(ref)))
				tp, fp, fn = tp+a, fp+b, fn+c
			}
			ref, err2 = exec.CommandContext(ctx, "pdftotext", p, "-").Output()
			if err == nil && err2 == nil {
				ow, rw := words(documentText(ours)), words(string(ref))
				a, b, c := wordOverlap(ow, rw)
				plain = [3]int{plain[0] + a, plain[1] + b, plain[2] + c}
				a, b, c = wordOverlap(bigrams(ow), bigrams(rw))
				order = [3]int{order[0] + a, order[1] + b, order[2] + c}
			}
		}
	}
	rep.Elapsed = time.Since(start)
	if errPT == nil && tp+fp+fn > 0 {
		rep.TextPrecision, rep.TextRecall = ratio(tp, tp+fp), ratio(tp, tp+fn)
		rep.TextF1 = 2 * rep.TextPrecision * rep.TextRecall / max(rep.TextPrecision+rep.TextRecall, 1e-9)
	}
	if errPT == nil && plain[0]+plain[1]+plain[2] > 0 {
		rep.PlainF1, rep.OrderF1 = f1(plain), f1(order)
	}
	return rep, nil
}

var (
	reNonKey  = regexp.MustCompile(`[\s\-_/.#:,]`)
	reNonName = regexp.MustCompile(`[^a-z0-9]`)
)

// corpusEqual compares as score-invoices does: amounts by value to the cent,
// identifiers without punctuation or case, names by their first 12 letters
// and digits.
func corpusEqual(field, want, got string) bool {
	switch field {
	case "subtotal", "tax", "total":
		a, ok1 := rat(want)
		b, ok2 := rat(got)
		return ok1 && ok2 && near(a, b, 2)
	case "supplier":
		n := func(s string) string {
			s = reNonName.ReplaceAllString(strings.ToLower(s), "")
			return s[:min(len(s), 12)]
		}
		return n(got) != "" && n(want) == n(got)
	case "issue_date", "due_date", "currency":
		return strings.EqualFold(want, got)
	}
	k := func(s string) string { return strings.ToLower(reNonKey.ReplaceAllString(s, "")) }
	return k(got) != "" && k(want) == k(got)
}

func words(s string) []string { return strings.Fields(s) }

// bigrams pairs each word with the next one.
func bigrams(ws []string) []string {
	out := make([]string, 0, len(ws))
	for i := 1; i < len(ws); i++ {
		out = append(out, ws[i-1]+" "+ws[i])
	}
	return out
}

// f1 of matched, only-ours, only-reference counts.
func f1(c [3]int) float64 {
	p, r := ratio(c[0], c[0]+c[1]), ratio(c[0], c[0]+c[2])
	return 2 * p * r / max(p+r, 1e-9)
}

// wordOverlap counts words as a multiset: matched, only in ours, only in ref.
func wordOverlap(ours, ref []string) (tp, fp, fn int) {
	count := map[string]int{}
	for _, w := range ref {
		count[w]++
	}
	for _, w := range ours {
		if count[w] > 0 {
			count[w]--
			tp++
		} else {
			fp++
		}
	}
	return tp, fp, len(ref) - tp
}

// WriteCorpusEval prints a corpus report.
func WriteCorpusEval(w io.Writer, r CorpusReport, misses int) {
	fmt.Fprintf(w, "%d documents, %d pages, %s\n\n", r.Documents, r.Pages, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "%-12s %7s %8s\n", "field", "right", "accuracy")
	for _, f := range CorpusFields {
		fmt.Fprintf(w, "%-12s %3d/%-3d %8.1f%%\n", f, r.Right[f], r.Counted[f], 100*ratio(r.Right[f], r.Counted[f]))
	}
	fmt.Fprintf(w, "\nfields right: %.1f%%\n", 100*r.Accuracy())
	if r.TextF1 >= 0 {
		fmt.Fprintf(w, "text layer vs pdftotext -layout: word F1 %.3f (precision %.3f, recall %.3f)\n", r.TextF1, r.TextPrecision, r.TextRecall)
	}
	if r.PlainF1 >= 0 {
		fmt.Fprintf(w, "reading order vs pdftotext: word F1 %.3f, word-pair F1 %.3f\n", r.PlainF1, r.OrderF1)
	} else {
		fmt.Fprintln(w, "text layer: not scored (pdftotext not installed; apt-get install poppler-utils)")
	}
	for i, m := range r.Misses {
		if i == misses {
			break
		}
		fmt.Fprintln(w, "miss:", m)
	}
	for n, e := range r.Failed {
		fmt.Fprintf(w, "failed: %s: %s\n", n, e)
	}
}
