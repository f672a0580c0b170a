package edi

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// isaStandardLen is the ISA segment's fixed width with its terminator. Some
// senders trim or pad the fixed-width fields; the delimiters are then found
// by counting element separators, and the width is reported as a warning.
const isaStandardLen = 106

// isaMaxScan bounds the search for the 16th element separator: even padded
// with multi-byte spaces an ISA is far below it.
const isaMaxScan = 512

type x12Delims struct {
	elem, comp, rep, term byte
	// unwrap: line breaks are no delimiter, so any inside a segment are
	// dropped.
	unwrap bool
}

// x12 reads one ISA…IEA interchange starting at p.i.
func (p *parser) x12() (Interchange, error) {
	start := p.i
	d := p.data[start:]
	if len(d) < 4 {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA truncated", Message: "truncated ISA: the input ends before the element separator"}
	}
	var dl x12Delims
	dl.elem = d[3]
	if isAlnum(dl.elem) || isSpace(dl.elem) {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA separator", Message: fmt.Sprintf("ISA element separator %q is a letter, digit or space", dl.elem)}
	}
	// The 16th element separator comes right before ISA16, the component
	// separator, which is followed by the segment terminator.
	seps := 0
	k := -1
	for j := 3; j < len(d) && j < isaMaxScan; j++ {
		if d[j] == dl.elem {
			seps++
			if seps == 16 {
				k = j
				break
			}
		}
	}
	if k < 0 && len(d) >= isaMaxScan {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA malformed", Message: fmt.Sprintf("no ISA: only %d element separators %q in the first %d bytes, an ISA has 16", seps, dl.elem, isaMaxScan)}
	}
	if k < 0 || k+2 >= len(d) {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA truncated", Message: fmt.Sprintf("truncated ISA: %d of its 16 elements before the input ends", seps)}
	}
	c := k + 1
	// A mailbox that wraps its output at a fixed width (80 columns) may
	// break the line anywhere, even right after ISA15's separator; a line
	// break is never a component separator.
	for c < len(d) && isLineBreak(d[c]) {
		c++
	}
	if c+1 >= len(d) {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA truncated", Message: "truncated ISA: the input ends before ISA16 and the segment terminator"}
	}
	dl.comp = d[c]
	dl.term = d[c+1]
	isaLen := c + 2 // through the terminator
	if isLineBreak(dl.term) {
		// A line break that is the terminator is followed by the next
		// segment's tag (or indentation); one followed by a delimiter
		// character only wrapped the line, and that character is the
		// terminator.
		j := c + 1
		for j < len(d) && isLineBreak(d[j]) {
			j++
		}
		if j+1 < len(d) && !isAlnum(d[j]) && !isSpace(d[j]) && d[j] != 0x1A && d[j] != 0 && d[j] != dl.elem && d[j] != dl.comp &&
			(isAlnum(d[j+1]) || isSpace(d[j+1])) {
			dl.term = d[j]
			isaLen = j + 1
		}
	}
	if dl.term == '\r' && isaLen < len(d) && d[isaLen] == '\n' {
		// CR LF ends segments: split on LF, CR is trimmed as space.
		dl.term = '\n'
	}
	// Line breaks that are not the terminator are no data: X12's
	// character sets have no control characters, so they are a mailbox's
	// line wrapping and are dropped wherever they fall.
	dl.unwrap = !isLineBreak(dl.term) && !isLineBreak(dl.elem) && !isLineBreak(dl.comp)
	if dl.comp == dl.elem || dl.term == dl.elem || dl.term == dl.comp || isAlnum(dl.term) {
		return Interchange{}, Problem{Segment: p.segs + 1, Check: "ISA separator", Message: fmt.Sprintf("ISA delimiters clash or are letters: element %q, component %q, segment %q", dl.elem, dl.comp, dl.term)}
	}
	// Delimiters are bytes: string(byte) would make a character ≥ 0x80 two
	// bytes of UTF-8 and find no separator.
	el := strings.Split(string(d[:k+1]), string([]byte{dl.elem})) // tag + 16, the last empty
	isa := make([]string, 17)
	for i := 1; i <= 15; i++ {
		if dl.unwrap {
			el[i] = dropLineBreaks(el[i])
		}
		isa[i] = trimISA(el[i])
	}
	isa[16] = string([]byte{dl.comp})
	p.segs++
	isaPos := p.segs
	ic := Interchange{Standard: X12, Version: isa[12], Control: isa[13],
		Sender: isa[5] + ":" + isa[6], Receiver: isa[7] + ":" + isa[8], Test: isa[15] == "T"}
	if t, ok := yymmdd(isa[9]); ok {
		ic.Date = t
	}
	if !allDigits(isa[12]) || len(isa[12]) != 5 {
		return ic, Problem{Segment: isaPos, Check: "ISA12 version", Message: fmt.Sprintf("ISA12 version %q is not five digits", isa[12])}
	}
	if v, _ := strconv.Atoi(isa[12]); v > 899 {
		return ic, Problem{Segment: isaPos, Check: "ISA12 version", Message: fmt.Sprintf("ISA12 version %q is unknown (X12 control versions run from 00200 to 00801)", isa[12])}
	}
	if isa[12] >= "00402" && len(el[11]) == 1 && !isAlnum(el[11][0]) && el[11][0] != ' ' {
		dl.rep = el[11][0]
	}
	isaText := d[:isaLen]
	if dl.unwrap {
		isaText = []byte(dropLineBreaks(string(isaText)))
	}
	if n := len(isaText); n != isaStandardLen {
		if c := utf8.RuneCount(isaText); c == isaStandardLen {
			n = c
		}
		if n != isaStandardLen {
			ic.Problems = append(ic.Problems, Problem{Interchange: ic.Control, Segment: isaPos, Check: fmt.Sprintf("ISA length %d", n), Warning: true,
				Message: fmt.Sprintf("ISA is %d characters, not the fixed %d; its delimiters were found by counting separators", n, isaStandardLen)})
		}
	}
	p.i = start + isaLen
	var (
		grp    *Group
		set    *Set
		groups int
		// Control numbers are compared as written: a component separator
		// inside one (ISA16 "~" with line-break terminators) is no part of
		// a simple element, so "1~" does not match "1".
		stControl, gsControl string
	)
	raw := func(seg Segment, i int) string {
		if i < 1 || i > len(seg.Elems) {
			return ""
		}
		return strings.Join(seg.Elems[i-1], string([]byte{dl.comp}))
	}
	bad := func(pr Problem) {
		pr.Interchange = ic.Control
		if grp != nil && pr.Group == "" {
			pr.Group = grp.Control
		}
		ic.Problems = append(ic.Problems, pr)
		ic.BadEnvelope = true
	}
	closeSet := func(why string, pos int) {
		if set == nil {
			return
		}
		set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: pos, Check: "SE missing", Message: why})
		grp.Sets = append(grp.Sets, *set)
		set = nil
	}
	closeGroup := func(why string, pos int) {
		if grp == nil {
			return
		}
		closeSet("no SE before "+why, pos)
		grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: pos, Check: "GE missing", Message: "no GE before " + why})
		ic.BadEnvelope = true
		ic.Groups = append(ic.Groups, *grp)
		grp = nil
	}
	for {
		seg, ok, err := p.x12Segment(dl)
		if err != nil {
			closeGroup("the input was refused", p.segs)
			err.Interchange = ic.Control
			return ic, err
		}
		if !ok {
			closeGroup("the input ends", p.segs)
			bad(Problem{Segment: p.segs, Check: "IEA missing", Message: "truncated interchange: the input ends before IEA"})
			return ic, nil
		}
		switch seg.Tag {
		case "ISA":
			closeGroup("the next ISA", seg.Pos)
			// Read the next interchange from its ISA on.
			p.i = p.lastStart
			p.segs--
			bad(Problem{Segment: seg.Pos, Check: "IEA missing", Message: "a new ISA starts before this interchange's IEA"})
			return ic, nil
		case "GS":
			closeGroup("the next GS", seg.Pos)
			grp = &Group{ID: seg.El(1), Sender: seg.El(2), Receiver: seg.El(3), Control: seg.El(6), Version: seg.El(8)}
			gsControl = raw(seg, 6)
			groups++
		case "ST":
			if grp == nil {
				bad(Problem{Segment: seg.Pos, Check: "GS missing", Message: "ST outside a GS…GE group"})
				grp = &Group{Implicit: true}
				groups++
			}
			closeSet("no SE before the next ST", seg.Pos)
			v := seg.El(3)
			if v == "" {
				v = grp.Version
			}
			set = &Set{Type: seg.El(1), Control: seg.El(2), Version: v, Segments: []Segment{seg}}
			stControl = raw(seg, 2)
		case "SE":
			if set == nil {
				bad(Problem{Segment: seg.Pos, Check: "ST missing", Message: "SE without ST"})
				continue
			}
			set.Segments = append(set.Segments, seg)
			if n, err := strconv.Atoi(raw(seg, 1)); err != nil || n != len(set.Segments) {
				set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: seg.Pos,
					Check: fmt.Sprintf("SE01 %s!=%d", seg.El(1), len(set.Segments)), Message: fmt.Sprintf("SE01 says %q segments, the set has %d", seg.El(1), len(set.Segments))})
			}
			if raw(seg, 2) != stControl {
				set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: seg.Pos,
					Check: "SE02!=ST02", Message: fmt.Sprintf("SE02 %q does not match ST02 %q", raw(seg, 2), stControl)})
			}
			grp.Sets = append(grp.Sets, *set)
			set = nil
		case "GE":
			if grp == nil {
				bad(Problem{Segment: seg.Pos, Check: "GS missing", Message: "GE without GS"})
				continue
			}
			closeSet("no SE before GE", seg.Pos)
			if n, err := strconv.Atoi(raw(seg, 1)); err != nil || n != len(grp.Sets) {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: seg.Pos,
					Check: fmt.Sprintf("GE01 %s!=%d", seg.El(1), len(grp.Sets)), Message: fmt.Sprintf("GE01 says %q transaction sets, the group has %d", seg.El(1), len(grp.Sets))})
				ic.BadEnvelope = true
			}
			if ge02 := raw(seg, 2); sameNumber(ge02, gsControl) {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: seg.Pos, Warning: true,
					Check: "GE02~GS06", Message: fmt.Sprintf("GE02 %q is GS06 %q written with other leading zeros", ge02, gsControl)})
			} else if ge02 != gsControl {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: seg.Pos,
					Check: "GE02!=GS06", Message: fmt.Sprintf("GE02 %q does not match GS06 %q", ge02, gsControl)})
				ic.BadEnvelope = true
			}
			ic.Groups = append(ic.Groups, *grp)
			grp = nil
		case "IEA":
			closeGroup("IEA", seg.Pos)
			if n, err := strconv.Atoi(raw(seg, 1)); err != nil || n != groups {
				bad(Problem{Segment: seg.Pos, Check: fmt.Sprintf("IEA01 %s!=%d", seg.El(1), groups), Message: fmt.Sprintf("IEA01 says %q groups, the interchange has %d", seg.El(1), groups)})
			}
			if iea02 := raw(seg, 2); sameNumber(iea02, ic.Control) {
				ic.Problems = append(ic.Problems, Problem{Interchange: ic.Control, Segment: seg.Pos, Warning: true,
					Check: "IEA02~ISA13", Message: fmt.Sprintf("IEA02 %q is ISA13 %q written with other leading zeros", iea02, ic.Control)})
			} else if iea02 != ic.Control {
				bad(Problem{Segment: seg.Pos, Check: "IEA02!=ISA13", Message: fmt.Sprintf("IEA02 %q does not match ISA13 %q", iea02, ic.Control)})
			}
			return ic, nil
		default:
			if seg.Tag == "TA1" && set == nil && grp == nil {
				// An interchange acknowledgment belongs to the envelope
				// (X12.5: after ISA, before any GS) and is no group of
				// IEA01's count.
				continue
			}
			if set == nil {
				bad(Problem{Segment: seg.Pos, Check: "ST missing", Message: fmt.Sprintf("segment %s outside a transaction set", seg.Tag)})
				continue
			}
			set.Segments = append(set.Segments, seg)
		}
	}
}

// x12Segment reads the next segment; ok is false at the end of the input.
func (p *parser) x12Segment(dl x12Delims) (Segment, bool, *Problem) {
	for {
		// Whitespace between segments (line breaks after "~", indentation)
		// is not data, unless it is a delimiter.
		for p.i < len(p.data) && (isSpace(p.data[p.i]) || p.data[p.i] == 0x1A) && p.data[p.i] != dl.term && p.data[p.i] != dl.elem {
			p.i++
		}
		if p.i >= len(p.data) {
			return Segment{}, false, nil
		}
		p.lastStart = p.i
		if rest := p.data[p.i:]; len(rest) > 3 && bytes.HasPrefix(rest, []byte("ISA")) && !isAlnum(rest[3]) {
			// The next interchange, whose delimiters may differ: the
			// caller reads it anew from here.
			p.segs++
			return Segment{Tag: "ISA", Pos: p.segs}, true, nil
		}
		end := bytes.IndexByte(p.data[p.i:], dl.term)
		var raw []byte
		if end < 0 {
			raw = p.data[p.i:]
			p.i = len(p.data)
		} else {
			raw = p.data[p.i : p.i+end]
			p.i += end + 1
		}
		raw = bytes.TrimRightFunc(raw, func(r rune) bool {
			return r < utf8.RuneSelf && isSpace(byte(r)) && byte(r) != dl.elem && byte(r) != dl.comp || r == 0x1A
		})
		if dl.unwrap && bytes.ContainsAny(raw, "\r\n") {
			raw = []byte(dropLineBreaks(string(raw)))
		}
		if len(raw) == 0 {
			continue
		}
		p.segs++
		if p.segs > p.lim.MaxSegments {
			return Segment{}, false, &Problem{Segment: p.segs, Check: "limit", Message: fmt.Sprintf("more than %d segments", p.lim.MaxSegments)}
		}
		// One string per segment: elements and components are substrings
		// of it, so a segment costs a few allocations, not one per value.
		text := string(raw)
		parts := strings.Split(text, string([]byte{dl.elem}))
		seg := Segment{Tag: parts[0], Pos: p.segs, Elems: make([][]string, len(parts)-1)}
		if !validTag(seg.Tag) {
			return Segment{}, false, &Problem{Segment: p.segs, Check: "segment tag", Message: fmt.Sprintf("%q does not start with a segment tag (two or three capitals and digits)", clip(raw, 24))}
		}
		one := make([]string, len(parts)-1) // backing store of the simple elements
		for i, e := range parts[1:] {
			if len(e) > p.lim.MaxElementLen {
				return Segment{}, false, &Problem{Segment: p.segs, Check: "limit", Message: fmt.Sprintf("%s%02d is %d bytes, over the %d byte element limit", seg.Tag, i+1, len(e), p.lim.MaxElementLen)}
			}
			if !utf8.ValidString(e) && len(toUTF8(e)) > p.lim.MaxElementLen {
				// Read as Latin-1 it grows: the limit holds for what is kept.
				return Segment{}, false, &Problem{Segment: p.segs, Check: "limit", Message: fmt.Sprintf("%s%02d is over the %d byte element limit", seg.Tag, i+1, p.lim.MaxElementLen)}
			}
			if seg.Tag != "ISA" && strings.IndexByte(e, dl.comp) >= 0 {
				seg.Elems[i] = strings.Split(e, string([]byte{dl.comp}))
				for j, v := range seg.Elems[i] {
					seg.Elems[i][j] = toUTF8(v)
				}
			} else {
				one[i] = toUTF8(e)
				seg.Elems[i] = one[i : i+1 : i+1]
			}
		}
		return seg, true, nil
	}
}

// trimISA trims the fixed-width padding of an ISA field, spaces and
// non-breaking spaces alike.
func trimISA(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == ' ' || r == '\u00a0' || r == '\t' })
}

func validTag(t string) bool {
	if len(t) < 2 || len(t) > 3 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return t[0] >= 'A' && t[0] <= 'Z'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLineBreak(c byte) bool { return c == '\r' || c == '\n' }

func dropLineBreaks(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// toUTF8 returns s unchanged when it is UTF-8 (ASCII included) and reads it
// as ISO 8859-1 otherwise: a partner's names and addresses with accents come
// in Latin-1 (EDIFACT UNOC, and the X12 senders that go beyond ASCII), and
// text that is not valid UTF-8 would reach people as replacement marks.
// Bytes 0x80–0x9F are control characters in ISO 8859-1 and never text, so
// they are read as Windows-1252 (€, ‘ ’, “ ”, –), which is what sends them.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
		if c := s[i]; c >= 0x80 && c <= 0x9F && cp1252[c-0x80] != 0 {
			r[i] = cp1252[c-0x80]
		}
	}
	return string(r)
}

// cp1252 maps Windows-1252's 0x80–0x9F; 0 where it has no character.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// sameNumber reports whether a and b differ only in leading zeros. ISA13,
// IEA02, GS06 and GE02 are numeric (N0) elements, so such a pair names the
// same interchange or group: a formal slip, not a mismatch.
func sameNumber(a, b string) bool {
	if a == b || !allDigits(a) || !allDigits(b) {
		return false
	}
	return strings.TrimLeft(a, "0") == strings.TrimLeft(b, "0")
}
