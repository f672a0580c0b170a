package documents

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// FieldScore counts one field over a corpus. A wrong value is both a false
// positive (exops said something untrue) and a false negative (the true
// value was missed).
type FieldScore struct {
	Field     string  `json:"field"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"` // TP / (TP+FP); 1 when nothing was predicted
	Recall    float64 `json:"recall"`    // TP / (TP+FN); 1 when nothing was expected
}

// EvalReport is the result of Evaluate.
type EvalReport struct {
	Documents int               `json:"documents"`
	Pages     int               `json:"pages"`
	Failed    map[string]string `json:"failed,omitempty"` // file → error
	Fields    []FieldScore      `json:"fields"`
	Elapsed   time.Duration     `json:"elapsed_ns"`
}

// Score returns one field's score.
func (r EvalReport) Score(field string) (FieldScore, bool) {
	for _, f := range r.Fields {
		if f.Field == field {
			return f, true
		}
	}
	return FieldScore{}, false
}

// Evaluate extracts every PDF in dir that has a golden JSON file of the same
// name (invoice-01.pdf + invoice-01.json) and scores each field.
func Evaluate(ctx context.Context, ex *Extractor, dir string) (EvalReport, error) {
	pdfs, err := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if err != nil {
		return EvalReport{}, fmt.Errorf("eval: listing %s: %w", dir, err)
	}
	rep := EvalReport{Failed: map[string]string{}}
	scores := map[string]*FieldScore{}
	score := func(name string) *FieldScore {
		if scores[name] == nil {
			scores[name] = &FieldScore{Field: name}
		}
		return scores[name]
	}
	start := time.Now()
	for _, p := range pdfs {
		goldPath := strings.TrimSuffix(p, ".pdf") + ".json"
		raw, err := os.ReadFile(goldPath)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("eval: %w", err)
		}
		var gold Document
		if err := json.Unmarshal(raw, &gold); err != nil {
			return rep, fmt.Errorf("eval: golden %s: %w", goldPath, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return rep, fmt.Errorf("eval: %w", err)
		}
		rep.Documents++
		got, err := ex.Extract(ctx, filepath.Base(p), data)
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Failed[filepath.Base(p)] = err.Error()
		}
		rep.Pages += got.Pages
		for _, f := range HeaderFields {
			tally(score(f), f, gold.Field(f), got.Field(f))
		}
		for i := 0; i < max(len(gold.Lines), len(got.Lines)); i++ {
			var g, e Line
			if i < len(gold.Lines) {
				g = gold.Lines[i]
			}
			if i < len(got.Lines) {
				e = got.Lines[i]
			}
			for _, f := range LineFields {
				tally(score("lines."+f), f, g.Field(f), e.Field(f))
			}
		}
	}
	rep.Elapsed = time.Since(start)
	for _, f := range append(append([]string{}, HeaderFields...), prefixed("lines.", LineFields)...) {
		s := score(f)
		s.Precision, s.Recall = ratio(s.TP, s.TP+s.FP), ratio(s.TP, s.TP+s.FN)
		rep.Fields = append(rep.Fields, *s)
	}
	return rep, nil
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func tally(s *FieldScore, field, want, got string) {
	switch {
	case want == "" && got == "":
	case want == "":
		s.FP++
	case got == "":
		s.FN++
	case equalField(field, want, got):
		s.TP++
	default:
		s.FP++
		s.FN++
	}
}

// equalField compares amounts by value and text without case or spacing.
func equalField(field, want, got string) bool {
	switch field {
	case "subtotal", "tax", "total", "quantity", "unit_price":
		a, ok1 := rat(want)
		b, ok2 := rat(got)
		return ok1 && ok2 && a.Cmp(b) == 0
	}
	return strings.EqualFold(normSpace(want), normSpace(got))
}

// WriteEval prints a report as a table.
func WriteEval(w io.Writer, r EvalReport) {
	fmt.Fprintf(w, "%d documents, %d pages, %s\n\n", r.Documents, r.Pages, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "%-20s %9s %9s %5s %5s %5s\n", "field", "precision", "recall", "tp", "fp", "fn")
	for _, f := range r.Fields {
		fmt.Fprintf(w, "%-20s %9.3f %9.3f %5d %5d %5d\n", f.Field, f.Precision, f.Recall, f.TP, f.FP, f.FN)
	}
	if len(r.Failed) > 0 {
		names := make([]string, 0, len(r.Failed))
		for n := range r.Failed {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "\n%d documents failed:\n", len(names))
		for _, n := range names {
			fmt.Fprintf(w, "  %s: %s\n", n, r.Failed[n])
		}
	}
}
