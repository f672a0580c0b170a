package documents

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// The library sizes its tables from numbers in the file before checking
// them against the file: a cross-reference /Size or subsection start of a
// few billion is a slice of tens of GB (the runtime's "out of memory" is
// fatal, no recover catches it, and it takes an in-process caller down),
// an object stream's /N is a loop of that many turns for every lookup of
// an object in it, and /W and a predictor's /Columns are allocations of
// that many bytes. These entries are direct numbers in the file's plain
// bytes (cross-reference streams and object streams are never inside an
// object stream), so they are checked there before the library opens it.
const (
	// maxObjects bounds object numbers: a PDF within exops's size limit
	// cannot hold more (each object takes some bytes).
	maxObjects = 1 << 22
	// maxObjStmN bounds the objects of one object stream; producers put
	// 100 to a few thousand in one.
	maxObjStmN = 1 << 16
	maxXrefW   = 8
	maxColumns = 1 << 24
)

var (
	reSizeEntry    = regexp.MustCompile(`/Size\s*(\d+)`)
	reIndexEntry   = regexp.MustCompile(`/Index\s*\[([\d\s]*)\]`)
	reWEntry       = regexp.MustCompile(`/W\s*\[([\d\s]*)\]`)
	reColumnsEntry = regexp.MustCompile(`/Columns\s*(\d+)`)
	reObjStm       = regexp.MustCompile(`/Type\s*/ObjStm\b`)
	reXRefType     = regexp.MustCompile(`/Type\s*/XRef\b`)
	reNEntry       = regexp.MustCompile(`/N\s*(\d+)(\s+\d+\s+R)?`)
	reXrefKeyword  = regexp.MustCompile(`^xref[ \t]*[\r\n]`)
	reSubsection   = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s*$`)
)

// precheck returns an error for numbers in the file that would make the
// library allocate or loop far beyond what the file holds.
func precheck(data []byte) *workerError {
	bad := func(format string, args ...any) *workerError {
		return &workerError{codeDamaged, "damaged PDF: " + fmt.Sprintf(format, args...)}
	}
	num := func(b []byte) int64 {
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return -1 // more digits than int64: absurd
		}
		return n
	}
	for _, m := range reSizeEntry.FindAllSubmatch(data, -1) {
		if n := num(m[1]); n < 0 || n > maxObjects {
			return bad("its cross-reference table claims %s objects", m[1])
		}
	}
	// /W and /Index of cross-reference streams (a CIDFont's /W is an
	// array of widths, so only the dictionary around /Type /XRef counts).
	for _, loc := range reXRefType.FindAllIndex(data, -1) {
		d := dictAround(data, loc)
		for _, m := range reIndexEntry.FindAllSubmatch(d, -1) {
			f := bytes.Fields(m[1])
			for i := 0; i+1 < len(f); i += 2 {
				start, n := num(f[i]), num(f[i+1])
				if start < 0 || n < 0 || start > maxObjects || n > maxObjects-start {
					return bad("its cross-reference stream indexes objects %s to %s", f[i], f[i+1])
				}
			}
		}
		for _, m := range reWEntry.FindAllSubmatch(d, -1) {
			for _, w := range bytes.Fields(m[1]) {
				if n := num(w); n < 0 || n > maxXrefW {
					return bad("its cross-reference stream has %s-byte fields", w)
				}
			}
		}
	}
	for _, m := range reColumnsEntry.FindAllSubmatch(data, -1) {
		if n := num(m[1]); n < 0 || n > maxColumns {
			return bad("a stream's predictor claims %s columns", m[1])
		}
	}
	// An object stream's /N, in the dictionary around its /Type, and its
	// end.
	encrypted := bytes.Contains(data, []byte("/Encrypt"))
	inflated := int64(0)
	for _, loc := range reObjStm.FindAllIndex(data, -1) {
		dict := dictAround(data, loc)
		for _, m := range reNEntry.FindAllSubmatch(dict, -1) {
			if len(m[2]) > 0 {
				continue // an indirect count; not seen in real files
			}
			if n := num(m[1]); n < 0 || n > maxObjStmN {
				return bad("an object stream claims %s objects", m[1])
			}
		}
		if encrypted {
			continue // its data is encrypted; the library decrypts it
		}
		body, n := objStmData(data, loc, dict)
		if inflated += n; inflated > maxInflatedBytes {
			return &workerError{codeTooLarge, fmt.Sprintf("PDF too large: its object streams inflate to more than %s", bytesHuman(maxInflatedBytes))}
		}
		if endsInHex(body) {
			return bad("an object stream ends inside a hex string")
		}
	}
	// Subsections of cross-reference tables: "start count" lines between
	// "xref" and "trailer".
	for at := 0; ; {
		i := bytes.Index(data[at:], []byte("xref"))
		if i < 0 {
			break
		}
		i += at
		at = i + 4
		if i > 0 && !isPDFSpace(data[i-1]) || !reXrefKeyword.Match(data[i:min(len(data), i+16)]) {
			continue // "startxref", or "xref" inside other bytes
		}
		end := bytes.Index(data[at:], []byte("trailer"))
		if end < 0 {
			end = len(data) - at
		}
		for _, line := range bytes.FieldsFunc(data[at:at+end], func(r rune) bool { return r == '\n' || r == '\r' }) {
			m := reSubsection.FindSubmatch(line)
			if m == nil {
				continue
			}
			start, n := num(m[1]), num(m[2])
			if start < 0 || n < 0 || start > maxObjects || n > maxObjects-start {
				return bad("its cross-reference table has a subsection of objects %s to %s", m[1], m[2])
			}
		}
	}
	return nil
}

// dictAround is the stream dictionary around a match of one of its
// entries: back to the nearest "<<" and on to "stream", at most 1 KiB
// either side (such a dictionary holds a few entries).
func dictAround(data []byte, loc []int) []byte {
	lo, hi := max(0, loc[0]-1024), min(len(data), loc[1]+1024)
	if s := bytes.LastIndex(data[lo:loc[0]], []byte("<<")); s >= 0 {
		lo += s
	}
	if e := bytes.Index(data[loc[1]:hi], []byte("stream")); e >= 0 {
		hi = loc[1] + e
	}
	return data[lo:hi]
}

var reLengthEntry = regexp.MustCompile(`/Length\s*(\d+)(\s+\d+\s+R)?`)

// objStmData is the data of the object stream whose dictionary (dict)
// holds the match at loc, as far as exops can tell without the library:
// inflated if it is Flate-encoded, raw if it has no filter, nil with any
// other filter. n is how many bytes it inflated to.
func objStmData(data []byte, loc []int, dict []byte) (body []byte, n int64) {
	end := loc[1] + bytes.Index(data[loc[1]:], []byte("stream"))
	if end < loc[1] {
		return nil, 0
	}
	start := end + len("stream")
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	raw := data[start:]
	if m := reLengthEntry.FindSubmatch(dict); m != nil && len(m[2]) == 0 {
		if l, err := strconv.Atoi(string(m[1])); err == nil && l >= 0 && l < len(raw) {
			raw = raw[:l]
		}
	} else if e := bytes.Index(raw, []byte("endstream")); e >= 0 {
		raw = raw[:e]
	}
	switch {
	case !bytes.Contains(dict, []byte("/Filter")):
		return raw, 0
	case bytes.Contains(dict, []byte("/FlateDecode")) && !bytes.Contains(dict, []byte("/DecodeParms")):
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, 0
		}
		b, _ := io.ReadAll(io.LimitReader(zr, maxStreamBytes)) // an error: the library stops there too
		return b, int64(len(b))
	}
	return nil, 0
}

// endsInHex reports whether a hex string starting somewhere in b runs to
// its end: the library reads an object from any offset an object stream
// gives, and its tokenizer takes the end of the stream for white space and
// waits for the '>' forever.
func endsInHex(b []byte) bool {
	i := len(b)
	for i > 0 && (isPDFSpace(b[i-1]) || pdfUnhex(b[i-1]) >= 0) {
		i--
	}
	return i > 0 && b[i-1] == '<'
}
