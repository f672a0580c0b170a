package documents

import (
	"bytes"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// exops reads ToUnicode CMaps itself. The library's readCmap trusts the
// count before beginbfchar / beginbfrange (a CMap saying "1000000000
// beginbfrange" makes it append a billion empty entries) and keeps that
// count for every later end operator, and its decoder scans all entries
// for every glyph. This reader takes at most as many entries as the stack
// holds, caps the entries of one CMap, and looks codes up in maps, with the
// library's semantics otherwise: codespace ranges decide the code length,
// bfchar entries before bfrange entries, the first match winning.

const (
	// maxCMapEntries caps the codespace, bfchar and bfrange entries of one
	// CMap: two-byte codes have 65536 values, and the largest real fonts
	// map fewer.
	maxCMapEntries = 1 << 17
	// maxRangeExpand is the widest bfrange expanded into the lookup map;
	// a wider one (only possible with three- or four-byte codes) is
	// checked by comparison.
	maxRangeExpand = 1 << 16
	// maxExpanded caps the codes all of a CMap's ranges expand to.
	maxExpanded = 1 << 18
)

type codeRange struct{ lo, hi string }

type unicodeCMap struct {
	space [4][]codeRange
	chars map[string]string // code → text, from bfchar and expanded bfrange
	wide  []wideRange       // ranges too wide to expand, in file order
}

type wideRange struct {
	lo, hi string
	dst    pdf.Value
}

// readToUnicode reads a ToUnicode CMap; nil when it is unusable (as the
// library's nopEncoder, the raw codes are then the text).
func readToUnicode(v pdf.Value) *unicodeCMap {
	m := &unicodeCMap{chars: map[string]string{}}
	ranges := map[string]string{} // expanded bfrange codes, kept apart so bfchar wins
	n := -1
	ok := true
	entries, expanded := 0, 0
	count := func(stk *pdf.Stack, per int) int {
		// The count before the begin operator, but never more entries
		// than the stack holds nor than the CMap may have.
		c := n
		if c > stk.Len()/per {
			c = stk.Len() / per
		}
		if c > maxCMapEntries-entries {
			c = maxCMapEntries - entries
		}
		if c < 0 {
			c = 0
		}
		entries += c
		return c
	}
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		if !ok {
			return
		}
		switch op {
		case "findresource":
			// "/CIDInit /ProcSet findresource begin": begin needs a
			// dictionary.
			stk.Pop()
			stk.Pop()
			stk.Push(emptyDict())
		case "begincmap":
			stk.Push(pdf.Value{})
		case "endcmap":
			stk.Pop()
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			n = int(min(max(stk.Pop().Int64(), -1), maxCMapEntries))
		case "endcodespacerange":
			if n < 0 {
				ok = false
				return
			}
			for i, c := 0, count(stk, 2); i < c; i++ {
				hi, lo := stk.Pop().RawString(), stk.Pop().RawString()
				if len(lo) == 0 || len(lo) != len(hi) || len(lo) > 4 {
					ok = false
					return
				}
				m.space[len(lo)-1] = append(m.space[len(lo)-1], codeRange{lo, hi})
			}
			n = -1
		case "endbfchar":
			if n < 0 {
				ok = false
				return
			}
			// Popped last first, as the library does: within one block the
			// later entry wins, across blocks the earlier one.
			block := map[string]string{}
			for i, c := 0, count(stk, 2); i < c; i++ {
				repl, orig := stk.Pop().RawString(), stk.Pop().RawString()
				if _, seen := block[orig]; !seen {
					block[orig] = repl
				}
			}
			for orig, repl := range block {
				if _, seen := m.chars[orig]; !seen {
					m.chars[orig] = utf16BE(repl)
				}
			}
		case "endbfrange":
			if n < 0 {
				ok = false
				return
			}
			type entry struct {
				lo, hi string
				dst    pdf.Value
			}
			var block []entry
			for i, c := 0, count(stk, 3); i < c; i++ {
				dst, hi, lo := stk.Pop(), stk.Pop().RawString(), stk.Pop().RawString()
				block = append(block, entry{lo, hi, dst})
			}
			for _, e := range block {
				if len(e.lo) == 0 || len(e.lo) != len(e.hi) || e.lo > e.hi {
					continue
				}
				width := codeInt(e.hi) - codeInt(e.lo) + 1
				if len(e.lo) > 4 || width > maxRangeExpand || expanded+int(width) > maxExpanded {
					m.wide = append(m.wide, wideRange{e.lo, e.hi, e.dst})
					continue
				}
				expanded += int(width)
				code := []byte(e.lo)
				for k := int64(0); k < width; k++ {
					s := string(code)
					if _, seen := ranges[s]; !seen {
						ranges[s] = rangeText(e.lo, s, e.dst)
					}
					incCode(code)
				}
			}
		case "defineresource":
			stk.Pop()
			value := stk.Pop()
			stk.Pop()
			stk.Push(value)
		}
	})
	if !ok {
		return nil
	}
	for code, text := range ranges {
		if _, seen := m.chars[code]; !seen {
			m.chars[code] = text
		}
	}
	return m
}

// Decode follows the library's cmap.Decode: at each position the shortest
// code length whose codespace range holds the next bytes.
func (m *unicodeCMap) Decode(raw string) string {
	var b strings.Builder
Parse:
	for len(raw) > 0 {
		for n := 1; n <= 4 && n <= len(raw); n++ {
			for _, sp := range m.space[n-1] {
				if sp.lo <= raw[:n] && raw[:n] <= sp.hi {
					code := raw[:n]
					raw = raw[n:]
					b.WriteString(m.lookup(code))
					continue Parse
				}
			}
		}
		b.WriteRune(unicode.ReplacementChar)
		raw = raw[1:]
	}
	return b.String()
}

func (m *unicodeCMap) lookup(code string) string {
	if t, ok := m.chars[code]; ok {
		return t
	}
	for _, w := range m.wide {
		if len(w.lo) == len(code) && w.lo <= code && code <= w.hi {
			return rangeText(w.lo, code, w.dst)
		}
	}
	return string(unicode.ReplacementChar)
}

// rangeText is what code maps to in a bfrange starting at lo: the
// destination string with its last byte advanced, or the array's entry.
func rangeText(lo, code string, dst pdf.Value) string {
	d := code[len(code)-1] - lo[len(lo)-1]
	switch dst.Kind() {
	case pdf.String:
		s := []byte(dst.RawString())
		if len(s) > 0 {
			s[len(s)-1] += d
		}
		return utf16BE(string(s))
	case pdf.Array:
		if v := dst.Index(int(d)); v.Kind() == pdf.String {
			return utf16BE(v.RawString())
		}
	}
	return string(unicode.ReplacementChar)
}

func codeInt(s string) int64 {
	var x int64
	for i := 0; i < len(s); i++ {
		x = x<<8 | int64(s[i])
	}
	return x
}

func incCode(b []byte) {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i]++; b[i] != 0 {
			return
		}
	}
}

// utf16BE decodes big-endian UTF-16; an odd last byte is dropped (the
// library's decoder indexes past the end on it).
func utf16BE(s string) string {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return string(utf16.Decode(u))
}

// memoEnc caches a font's decoding per code: the show loop decodes one code
// at a time, and the library's /Differences decoder scans the whole array
// for each byte.
type memoEnc struct {
	enc   pdf.TextEncoding
	cache map[string]string
}

func (e *memoEnc) Decode(raw string) string {
	if t, ok := e.cache[raw]; ok {
		return t
	}
	t := e.enc.Decode(raw)
	if len(raw) <= 2 {
		e.cache[raw] = t // at most 65792 codes
	}
	return t
}

// emptyDict is a fresh, empty dictionary Value for the interpreter's
// "begin" (it writes "def"s into it). The library makes none outside its
// package; an indirect object is parsed anew at each lookup, so each call
// gets its own map.
func emptyDict() pdf.Value { return emptyDictReader().Trailer().Key("Root") }

var emptyDictReader = sync.OnceValue(func() *pdf.Reader {
	const doc = "%PDF-1.4\n1 0 obj\n<< >>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n30\n%%EOF\n"
	r, err := pdf.NewReader(bytes.NewReader([]byte(doc)), int64(len(doc)))
	if err != nil {
		panic("documents: the empty-dictionary PDF does not open: " + err.Error())
	}
	return r
})
