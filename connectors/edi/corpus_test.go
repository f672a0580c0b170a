package edi

import (
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// corpusDir finds the shared EDI corpus next to the repository; without it
// the test skips, except in CI, where it must be there.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "edi")
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus %s missing in CI: %v", dir, err)
		}
		t.Skipf("corpus %s not found (it lives next to the repository as ../shared/corpus/edi)", dir)
	}
	return dir
}

type corpusRow struct {
	file, standard, sets, envelopes, valid, findings string
}

func readSources(t testing.TB, dir string) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var rows []corpusRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, corpusRow{file: rec[col["file"]], standard: rec[col["standard"]], sets: rec[col["transaction_sets"]],
			envelopes: rec[col["envelopes"]], valid: rec[col["valid_looking"]], findings: rec[col["check_findings"]]})
	}
	return rows
}

var countSuffix = regexp.MustCompile(`\s*x(\d+)$`)

// expectedSets turns "997,850x11,820x2" or "DESADV D:96A x3" into a sorted
// list of set types, one per set.
func expectedSets(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		n := 1
		if m := countSuffix.FindStringSubmatch(item); m != nil {
			n, _ = strconv.Atoi(m[1])
			item = item[:len(item)-len(m[0])]
		}
		typ := strings.Fields(item)[0]
		for range n {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// expectedFindings turns "UNT01 13!=102 (INVOIC); UNT02!=UNH01 (INVOIC)"
// into the checks, without the set type.
func expectedFindings(s string) []string {
	if s == "-" || s == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ";") {
		f = strings.TrimSpace(f)
		if strings.HasPrefix(f, "note:") {
			continue // an observation, not a failed check
		}
		if i := strings.Index(f, " ("); i > 0 {
			f = f[:i]
		}
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func allChecks(ics []Interchange) (checks, types []string) {
	for _, ic := range ics {
		for _, p := range ic.Problems {
			checks = append(checks, p.Check)
		}
		for _, g := range ic.Groups {
			for _, p := range g.Problems {
				checks = append(checks, p.Check)
			}
			for _, s := range g.Sets {
				types = append(types, s.Type)
				for _, p := range s.Problems {
					checks = append(checks, p.Check)
				}
			}
		}
	}
	sort.Strings(checks)
	sort.Strings(types)
	return checks, types
}

// Every corpus file is read, with exactly the structural findings its
// SOURCES.tsv row predicts, the transaction sets it lists and as many
// interchanges as its envelopes column counts.
func TestCorpusAsSourcesPredict(t *testing.T) {
	dir := corpusDir(t)
	rows := readSources(t, dir)
	if len(rows) < 41 {
		t.Fatalf("SOURCES.tsv has %d rows, want the 41 files", len(rows))
	}
	icCount := regexp.MustCompile(`(?:ISA|UNB) x(\d+)`)
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, row.file))
			if err != nil {
				t.Fatal(err)
			}
			ics, err := Parse(data, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ics[0].Standard != row.standard {
				t.Errorf("standard %s, SOURCES says %s", ics[0].Standard, row.standard)
			}
			if m := icCount.FindStringSubmatch(row.envelopes); m != nil {
				if n, _ := strconv.Atoi(m[1]); n != len(ics) {
					t.Errorf("%d interchanges, SOURCES says %d", len(ics), n)
				}
			}
			checks, types := allChecks(ics)
			if want := expectedFindings(row.findings); strings.Join(checks, "; ") != strings.Join(want, "; ") {
				t.Errorf("findings %q, SOURCES predicts %q", checks, want)
			}
			if row.valid == "yes" && len(checks) > 0 {
				t.Errorf("valid-looking file has findings %q", checks)
			}
			if want := expectedSets(row.sets); strings.Join(types, ",") != strings.Join(want, ",") {
				t.Errorf("sets %v, SOURCES lists %v", types, want)
			}
		})
	}
}
