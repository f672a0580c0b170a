// Package edi reads ANSI X12 and UN/EDIFACT interchanges: it takes the
// delimiters from the envelope, checks the envelopes' counts and control
// numbers, decodes the transaction sets the business needs (orders,
// acknowledgments, ship notices, invoices, functional acknowledgments) into
// typed documents, and says which exops events they raise.
//
// Everything is bounded (Limits): an interchange from a trading partner is
// untrusted input.
package edi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Standards.
const (
	X12     = "X12"
	EDIFACT = "EDIFACT"
)

// Limits bound what one call to Parse reads.
type Limits struct {
	MaxBytes      int // whole input
	MaxSegments   int // over all interchanges
	MaxElementLen int // one element (all its components)
}

// DefaultLimits fit a VAN mailbag of many interchanges; a single element
// longer than 4096 bytes is no business data of these sets.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxSegments: 1_000_000, MaxElementLen: 4096}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxSegments <= 0 {
		l.MaxSegments = DefaultLimits.MaxSegments
	}
	if l.MaxElementLen <= 0 {
		l.MaxElementLen = DefaultLimits.MaxElementLen
	}
	return l
}

// Segment is one segment: its tag and its elements, each a list of
// components (one component when the element is simple). Release characters
// (EDIFACT) are already removed.
type Segment struct {
	Tag   string
	Elems [][]string
	Pos   int // 1-based position in the input, counting every segment
}

// El returns component 0 of element i (1-based, as the standards number
// them: ISA01 is El(1)), or "".
func (s Segment) El(i int) string { return s.Comp(i, 1) }

// Comp returns component j (1-based) of element i (1-based), or "".
func (s Segment) Comp(i, j int) string {
	if i < 1 || i > len(s.Elems) || j < 1 || j > len(s.Elems[i-1]) {
		return ""
	}
	return s.Elems[i-1][j-1]
}

// Problem is one structural error or warning, located: the interchange,
// group and transaction-set control numbers, the segment position and what
// is wrong. Check is the short form of the failed rule ("SE01 12!=14",
// "GE02!=GS06", "ISA length 81") so that tools can compare findings.
type Problem struct {
	Interchange string `json:"interchange,omitempty"`
	Group       string `json:"group,omitempty"`
	Set         string `json:"set,omitempty"`
	Segment     int    `json:"segment,omitempty"`
	Check       string `json:"check,omitempty"`
	Message     string `json:"message"`
	// Warning: the data was read; the envelope only breaks a formal rule.
	Warning bool `json:"warning,omitempty"`
}

func (p Problem) Error() string {
	var where []string
	if p.Interchange != "" {
		where = append(where, "interchange "+p.Interchange)
	}
	if p.Group != "" {
		where = append(where, "group "+p.Group)
	}
	if p.Set != "" {
		where = append(where, "set "+p.Set)
	}
	if p.Segment > 0 {
		where = append(where, fmt.Sprintf("segment %d", p.Segment))
	}
	s := p.Message
	if len(where) > 0 {
		s = strings.Join(where, ", ") + ": " + s
	}
	if p.Warning {
		s = "warning: " + s
	}
	return s
}

// Interchange is one ISA…IEA or UNB…UNZ envelope.
type Interchange struct {
	Standard string
	// Version is ISA12 for X12 (five digits) and the syntax identifier and
	// version for EDIFACT ("UNOC:3").
	Version  string
	Sender   string // qualifier:id as the envelope gives it ("ZZ:ACME")
	Receiver string
	Control  string // ISA13 or UNB 0020
	Date     string // YYYY-MM-DD, from ISA09 or UNB S004
	Test     bool   // ISA15 T, or UNB 0035 = 1
	Groups   []Group
	// Problems of the envelope itself (ISA/IEA, UNB/UNZ); a set's own
	// problems are on the set.
	Problems []Problem
	// BadEnvelope: the interchange or one of its group envelopes failed a
	// check (not a warning). Its sets are still decoded and shown, but no
	// events are raised from it: a partner that resends it corrected is
	// read then.
	BadEnvelope bool
}

// Group is one GS…GE or UNG…UNE functional group; EDIFACT messages outside
// a UNG are in one implicit group with an empty ID.
type Group struct {
	ID       string // GS01 functional identifier, UNG 0038
	Control  string // GS06, UNG 0048
	Version  string // GS08 ("004010VICS"), UNG S008
	Sender   string
	Receiver string
	Sets     []Set
	Problems []Problem
	Implicit bool
}

// Set is one transaction set (ST…SE) or message (UNH…UNT).
type Set struct {
	Type     string // ST01 or the UNH message type ("ORDERS")
	Control  string // ST02, UNH 0062
	Version  string // ST03 or GS08 for X12; "D:96A" for EDIFACT
	Segments []Segment
	Problems []Problem
}

// Bad reports whether the set failed a check of its own (counts, control
// numbers, truncation).
func (s Set) Bad() bool {
	for _, p := range s.Problems {
		if !p.Warning {
			return true
		}
	}
	return false
}

// ErrNotEDI is returned for input that starts with neither ISA nor UNA/UNB.
var ErrNotEDI = errors.New("not an X12 or EDIFACT interchange: the data starts with neither ISA nor UNA/UNB")

// Parse reads every interchange in data (several may follow each other, as
// in a VAN mailbag). It returns what it could read with each problem placed
// where it was found; err is set when the input is over the limits or when
// not one interchange could be read, and then names why.
func Parse(data []byte, lim Limits) ([]Interchange, error) {
	lim = lim.orDefault()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("interchange is %d bytes, over the %d byte limit", len(data), lim.MaxBytes)
	}
	data = fromUTF16(data)
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	p := &parser{data: data, lim: lim}
	var out []Interchange
	for {
		p.skipSpace()
		if p.i >= len(p.data) {
			break
		}
		rest := p.data[p.i:]
		var ic Interchange
		var err error
		switch {
		case bytes.HasPrefix(rest, []byte("ISA")):
			ic, err = p.x12()
		case bytes.HasPrefix(rest, []byte("UNA")) || bytes.HasPrefix(rest, []byte("UNB")):
			ic, err = p.edifact()
		default:
			if len(out) == 0 {
				return nil, ErrNotEDI
			}
			err = Problem{Check: "trailing data", Message: fmt.Sprintf("byte %d: %q follows the last interchange; it is neither ISA nor UNA/UNB, so the rest was not read", p.i, clip(rest, 20))}
		}
		if err != nil {
			var pr Problem
			if !errors.As(err, &pr) {
				pr = Problem{Message: err.Error()}
			}
			// A limit refuses the whole input, and an interchange that
			// cannot be read refuses it when nothing was read before it.
			// Otherwise what came before stands and the refused
			// interchange is shown with its error; its end is not known,
			// so nothing after it is read.
			if pr.Check == "limit" || len(out) == 0 {
				return nil, err
			}
			if ic.Standard == "" {
				ic = Interchange{Standard: out[len(out)-1].Standard}
			}
			ic.Problems = append(ic.Problems, pr)
			ic.BadEnvelope = true
			ic.Groups = nil
			out = append(out, ic)
			break
		}
		out = append(out, ic)
	}
	if len(out) == 0 {
		return nil, errors.New("empty input: no interchange")
	}
	return out, nil
}

type parser struct {
	data []byte
	i    int
	lim  Limits
	segs int // segments read so far, over all interchanges
	// lastStart is where the segment read last began.
	lastStart int
}

// skipSpace passes whitespace, NUL padding and the DOS end-of-file byte
// (0x1A) that some mailboxes append.
func (p *parser) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\r', '\n', '\f', '\v', 0x1A, 0:
			p.i++
		default:
			if bytes.HasPrefix(p.data[p.i:], []byte("\u00a0")) {
				p.i += 2
				continue
			}
			return
		}
	}
}

func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// fromUTF16 turns a file saved as UTF-16 with its byte-order mark (Windows
// editors' "Unicode") into UTF-8; any other input is returned as it is.
func fromUTF16(data []byte) []byte {
	var be bool
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		be = true
	default:
		return data
	}
	data = data[2:]
	u := make([]uint16, len(data)/2)
	for i := range u {
		if be {
			u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			u[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	out := make([]byte, 0, len(u))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}
