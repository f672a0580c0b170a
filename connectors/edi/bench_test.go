package edi

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// corpusFiles loads the shared corpus (only the files that read whole).
func corpusFiles(b *testing.B) (files [][]byte, segments int) {
	dir := corpusDir(b)
	for _, row := range readSources(b, dir) {
		data, err := os.ReadFile(filepath.Join(dir, row.file))
		if err != nil {
			b.Fatal(err)
		}
		ics, err := Parse(data, Limits{})
		if err != nil {
			b.Fatalf("%s: %v", row.file, err)
		}
		for _, ic := range ics {
			for _, g := range ic.Groups {
				for _, s := range g.Sets {
					segments += len(s.Segments)
				}
			}
		}
		files = append(files, data)
	}
	return files, segments
}

// BenchmarkCorpus reports segments per second over the 41 corpus files:
// parse (tokenise and check envelopes) and parse+decode, against a baseline
// measured in the same run that only finds the segment terminators
// (bytes.IndexByte over each file): the least any reader must do.
func BenchmarkCorpus(b *testing.B) {
	files, segments := corpusFiles(b)
	run := func(b *testing.B, fn func([]byte)) {
		b.ResetTimer()
		for range b.N {
			for _, f := range files {
				fn(f)
			}
		}
		b.ReportMetric(float64(segments)*float64(b.N)/b.Elapsed().Seconds(), "segments/s")
	}
	b.Run("baseline-scan", func(b *testing.B) {
		run(b, func(f []byte) {
			n := 0
			for i := 0; i < len(f); {
				j := bytes.IndexAny(f[i:], "~'\n\x15!|*}")
				if j < 0 {
					break
				}
				n++
				i += j + 1
			}
			_ = n
		})
	})
	b.Run("parse", func(b *testing.B) {
		run(b, func(f []byte) { Parse(f, Limits{}) })
	})
	b.Run("parse+decode", func(b *testing.B) {
		run(b, func(f []byte) {
			ics, _ := Parse(f, Limits{})
			Decode(ics)
		})
	})
}
