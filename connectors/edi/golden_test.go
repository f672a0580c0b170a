package edi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// One file of each transaction set exops reads, decoded: the golden JSON
// is the typed document people and events rely on.
func TestDecodeGolden(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "edi")
	files := []struct{ set, path string }{
		{"850", filepath.Join(corpus, "nodex12__850_fat.edi")},
		{"855", filepath.Join(corpus, "nodex12__855.edi")},
		{"856", filepath.Join(corpus, "nodex12__856.edi")},
		{"810", filepath.Join(corpus, "bots__810-004010VICS-01.x12")},
		{"997", filepath.Join(corpus, "bots__testx12005.x12.base")},
		{"ORDERS", filepath.Join(corpus, "bots__orders02.edi")},
		{"ORDRSP", filepath.Join(corpus, "edinet__edifact.ORDRSP.edi")},
		{"DESADV", filepath.Join(corpus, "bots__dutchic_desadv1.edi")},
		{"INVOIC", filepath.Join(corpus, "pydifact__invoice1.edi")},
		{"CONTRL", filepath.Join("testdata", "contrl.edi")},
	}
	for _, f := range files {
		t.Run(f.set, func(t *testing.T) {
			data, err := os.ReadFile(f.path)
			if os.IsNotExist(err) && f.path != filepath.Join("testdata", "contrl.edi") {
				corpusDir(t) // skips, or fails in CI
			}
			if err != nil {
				t.Fatal(err)
			}
			ics, err := Parse(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			docs := Decode(ics)
			for _, d := range docs {
				if d.Type != f.set {
					t.Errorf("set %s in a file of %s", d.Type, f.set)
				}
			}
			got, err := json.MarshalIndent(docs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", f.set+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./connectors/edi -run DecodeGolden -update)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("decoded %s differs from %s; run with -update after checking:\n%s", f.set, golden, got)
			}
		})
	}
}
