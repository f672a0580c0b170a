package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors/edi"
	"github.com/exops/exops/policies"
)

// ediCmd runs `exops edi parse FILE...`: one JSON object per transaction
// set, with the events it would raise. The files are read in the order
// given and share one memory of purchase orders, so an 850 in one file and
// its 855 in the next are compared; orders whose acknowledgment is overdue
// at the business clock's now are printed last as
// {"overdue": [supplier.confirmation_missing events]}.
func (c *cli) ediCmd(args []string) int {
	if len(args) == 0 || args[0] != "parse" {
		return c.usageError("edi needs parse")
	}
	fs := c.flags("edi parse", "edi parse [--policy FILE] [--max-size MiB] FILE...")
	policyPath := fs.String("policy", "", "policy `file` whose confirmation_due applies (default 48h)")
	maxMiB := fs.Int("max-size", edi.DefaultLimits.MaxBytes>>20, "largest file read, MiB")
	if code, stop := parse(fs, args[1:]); stop {
		return code
	}
	if fs.NArg() == 0 {
		return c.usageError("edi parse needs at least one file")
	}
	due := policies.DefaultConfirmationDue
	if *policyPath != "" {
		p, err := policies.Load(*policyPath)
		if err != nil {
			return c.fail(err)
		}
		due = p.ConfirmationDue()
	}
	lim := edi.DefaultLimits
	lim.MaxBytes = *maxMiB << 20
	r := &edi.Reader{Ledger: &edi.MemoryLedger{}, Now: c.clock, Limits: lim,
		ConfirmationDue: func() time.Duration { return due }}
	// Through displayWriter, bidirectional overrides from a partner's file
	// reach the terminal as \u escapes; the JSON still decodes to the exact
	// data (encoding/json already escapes control characters).
	enc := json.NewEncoder(displayWriter{c.stdout})
	enc.SetEscapeHTML(false)
	read := 0
	var failures []error
	for _, path := range fs.Args() {
		data, err := readBounded(path, int64(lim.MaxBytes))
		if err != nil {
			failures = append(failures, err)
			continue
		}
		res, err := r.Preview(c.ctx, data)
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", path, err))
			continue
		}
		for _, s := range res.Sets {
			out := struct {
				File string `json:"file"`
				edi.SetResult
			}{path, s}
			if err := enc.Encode(out); err != nil {
				return c.fail(err)
			}
			read++
		}
	}
	overdue, err := r.Overdue(c.ctx)
	if err != nil {
		return c.fail(err)
	}
	if len(overdue) > 0 {
		if err := enc.Encode(map[string]any{"overdue": overdue}); err != nil {
			return c.fail(err)
		}
	}
	for _, err := range failures {
		fmt.Fprintf(c.stderr, "exops: %s\n", cases.DisplayText(err.Error(), false))
	}
	if read == 0 {
		if len(failures) == 0 {
			fmt.Fprintln(c.stderr, "exops: edi parse: no transaction set was read")
		}
		return exitFail
	}
	return exitOK
}
