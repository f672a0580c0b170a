package edi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addCorpus seeds a fuzz target with the shared corpus files of one
// standard, when the corpus is there.
func addCorpus(f *testing.F, standard string) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "edi")
	rows, err := os.ReadFile(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(rows), "\n")[1:] {
		cols := strings.Split(line, "\t")
		if len(cols) > 5 && cols[5] == standard {
			if b, err := os.ReadFile(filepath.Join(dir, cols[0])); err == nil {
				f.Add(b)
			}
		}
	}
}

// checkParse holds for any input: no panic, and what is read is well formed
// (tags valid, positions rising, no more segments than the limit).
func checkParse(t *testing.T, data []byte) {
	lim := Limits{MaxBytes: 1 << 20, MaxSegments: 5000, MaxElementLen: 512}
	ics, err := Parse(data, lim)
	if err != nil {
		if ics != nil {
			t.Fatalf("error %v with %d interchanges", err, len(ics))
		}
		return
	}
	last, n := 0, 0
	for _, ic := range ics {
		for _, g := range ic.Groups {
			for _, s := range g.Sets {
				for _, seg := range s.Segments {
					n++
					if !validTag(seg.Tag) {
						t.Fatalf("segment tag %q", seg.Tag)
					}
					if seg.Pos <= last {
						t.Fatalf("segment %s at %d after %d", seg.Tag, seg.Pos, last)
					}
					last = seg.Pos
					for _, e := range seg.Elems {
						if len(strings.Join(e, "")) > lim.MaxElementLen {
							t.Fatalf("element over the limit")
						}
					}
				}
			}
		}
	}
	if n > lim.MaxSegments {
		t.Fatalf("%d segments over the limit", n)
	}
	// Whatever was read decodes without a panic, and a set's errors keep
	// it from raising events.
	for _, d := range Decode(ics) {
		if d.Usable() && len(d.Errors) > 0 {
			t.Fatalf("usable document with errors %q", d.Errors)
		}
	}
}

func FuzzX12(f *testing.F) {
	f.Add([]byte(x12Doc('*', ':', '~', "\n", "00401", simple850...)))
	f.Add([]byte(x12Doc(0x7f, '>', 0x15, "\r\n", "00300", simple850...)))
	f.Add([]byte(x12Doc('*', '>', '\n', "", "00501", simple850...) + x12Doc('|', '^', '!', "", "00200", simple850...) + "\x1a"))
	f.Add([]byte(isaSeg('*', ':', '~', 'U', "00401", "1")))
	// Wrapped at a fixed width, with the break just before ISA16.
	flat := x12Doc('*', ':', '~', "", "00401", simple850...)
	f.Add([]byte(flat[:104] + "\r\n" + flat[104:184] + "\r\n" + flat[184:]))
	addCorpus(f, "X12")
	f.Fuzz(checkParse)
}

func FuzzEDIFACT(f *testing.F) {
	f.Add([]byte("UNA:+.? 'UNB+UNOC:3+S:14+R:14+20261130:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+P?+1'UNT+3+1'UNZ+1+1'"))
	f.Add([]byte("UNB+UNOA:1+S+R+261130:1200+1'UNG+INVOIC+S+R+261130:1200+G+UN+D:96A'UNH+1+INVOIC:D:96A:UN'UNT+2+1'UNE+1+G'UNZ+1+1'"))
	f.Add([]byte("UNA|*,! \"UNB*UNOC|4*S*R*20261130|1200*1\"UNZ*0*1\""))
	f.Add([]byte("UNB\x1dUNOB\x1f3\x1dS\x1dR\x1d261130\x1f1200\x1d1\x1cUNH\x1d1\x1dORDERS\x1fD\x1f96A\x1fUN\x1cUNT\x1d2\x1d1\x1cUNZ\x1d1\x1d1\x1c"))
	addCorpus(f, "EDIFACT")
	f.Fuzz(checkParse)
}
