package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// Filter selects records for export. Zero fields do not filter.
type Filter struct {
	Since time.Time // records at or after Since
	Until time.Time // records before Until (exclusive)
	Case  string    // records of this case id
	Actor string    // records by this actor
}

// Match reports whether r passes the filter.
func (f Filter) Match(r Record) bool {
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !r.Time.Before(f.Until) {
		return false
	}
	if f.Case != "" && r.Case != f.Case {
		return false
	}
	if f.Actor != "" && r.Actor != f.Actor {
		return false
	}
	return true
}

// ExportNDJSON writes the matching records to w, one JSON object per line,
// with the same field names and values that were hashed. It streams: memory
// use does not grow with the log. It returns how many records it wrote.
func ExportNDJSON(ctx context.Context, log Log, f Filter, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	// Exports are read by people and tools, not put into HTML.
	enc.SetEscapeHTML(false)
	n := 0
	err := log.ForEachRecord(ctx, 1, func(r Record) error {
		if !f.Match(r) {
			return nil
		}
		r.Time = r.Time.UTC()
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("export ndjson: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export ndjson: %w", err)
	}
	return n, nil
}

// ExportCSV writes the matching records to w as CSV with a header row of
// Fields(). It streams and returns how many records it wrote.
//
// Spreadsheets run a cell that starts with = + - @ (or a tab or carriage
// return) as a formula, so such cells are written with a leading apostrophe.
// A cell that itself starts with an apostrophe gets one more, which keeps the
// escaping reversible: to recompute a record's hash from the CSV, drop one
// leading apostrophe from every cell that has one. Hashes are always over the
// unescaped values.
func ExportCSV(ctx context.Context, log Log, f Filter, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(Fields()); err != nil {
		return 0, fmt.Errorf("export csv: header: %w", err)
	}
	row := make([]string, len(Fields()))
	n := 0
	err := log.ForEachRecord(ctx, 1, func(r Record) error {
		if !f.Match(r) {
			return nil
		}
		row[0] = strconv.FormatUint(r.Seq, 10)
		row[1] = formatTime(r.Time)
		row[2] = r.Case
		row[3] = r.Kind
		row[4] = r.Action
		row[5] = r.Actor
		row[6] = r.Verdict
		row[7] = formatFloat(r.Confidence)
		row[8] = r.PolicyVersion
		row[9] = r.Detail
		row[10] = r.Choice
		row[11] = r.PrevHash
		row[12] = r.Hash
		for i, c := range row {
			row[i] = csvSafe(c)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("export csv: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("export csv: %w", err)
	}
	return n, nil
}

// csvSafe neutralizes spreadsheet formulas; see ExportCSV.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	// Control characters and bidirectional overrides are shown as visible
	// escapes (a record holding one cannot be re-hashed from the CSV; the
	// NDJSON export keeps every byte). Line breaks stay: CSV quotes them.
	parts := strings.Split(s, "\r")
	for i, p := range parts {
		parts[i] = cases.DisplayText(p, true)
	}
	s = strings.Join(parts, "\r")
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}
