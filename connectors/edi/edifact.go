package edi

import (
	"fmt"
	"strconv"
	"strings"
)

type edifactDelims struct {
	comp, elem, release, term byte
	// latin1: a value that is not UTF-8 is read as ISO 8859-1 (UNOC's
	// repertoire, and the likeliest for UNOA/UNOB/UNOW/UNOY senders that
	// break theirs); UNOD…UNOK name other ISO 8859 parts.
	latin1 bool
}

// defaultEdifact is what applies without a UNA service string advice.
var defaultEdifact = edifactDelims{comp: ':', elem: '+', release: '?', term: '\''}

// levelBEdifact is what applies without UNA to syntax level B (UNOB): ISO
// 9735 gives it the information separators IS1 (component), IS3 (element)
// and IS4 (segment terminator), and no release character, since its
// repertoire cannot hold them as data.
var levelBEdifact = edifactDelims{comp: 0x1F, elem: 0x1D, term: 0x1C}

// edifact reads one UNA?UNB…UNZ interchange starting at p.i.
func (p *parser) edifact() (Interchange, error) {
	dl := defaultEdifact
	if strings.HasPrefix(string(p.data[p.i:min(len(p.data), p.i+3)]), "UNA") {
		if len(p.data) < p.i+9 {
			return Interchange{}, Problem{Segment: p.segs + 1, Check: "UNA truncated", Message: "truncated UNA: the service string advice needs six characters"}
		}
		u := p.data[p.i+3 : p.i+9]
		// UNA: component, element, decimal mark, release, reserved or
		// repetition, segment terminator.
		dl = edifactDelims{comp: u[0], elem: u[1], release: u[3], term: u[5]}
		if u[3] == ' ' {
			dl.release = 0 // a space says there is no release character
		}
		rel := dl.release != 0 && (dl.release == dl.comp || dl.release == dl.elem || dl.release == dl.term)
		if rel || dl.comp == dl.elem || dl.comp == dl.term || dl.elem == dl.term || isAlnum(dl.comp) || isAlnum(dl.elem) || isAlnum(dl.term) {
			return Interchange{}, Problem{Segment: p.segs + 1, Check: "UNA separator", Message: fmt.Sprintf("UNA delimiters clash or are letters: %q", u)}
		}
		p.i += 9
		p.segs++
	} else if p.i+3 < len(p.data) && p.data[p.i+3] == levelBEdifact.elem {
		dl = levelBEdifact
	}
	first, ok, perr := p.edifactSegment(dl)
	if perr != nil {
		return Interchange{}, *perr
	}
	if !ok || first.Tag != "UNB" {
		return Interchange{}, Problem{Segment: p.segs, Check: "UNB missing", Message: "no UNB after the service string advice"}
	}
	ic := Interchange{Standard: EDIFACT, Version: first.Comp(1, 1) + ":" + first.Comp(1, 2),
		Sender: joinQual(first.Comp(2, 2), first.Comp(2, 1)), Receiver: joinQual(first.Comp(3, 2), first.Comp(3, 1)),
		Control: first.El(5), Test: first.El(11) == "1"}
	if d := first.Comp(4, 1); len(d) == 8 {
		ic.Date, _ = ccyymmdd(d)
	} else {
		ic.Date, _ = yymmdd(d)
	}
	syntax := first.Comp(1, 1)
	dl.latin1 = !(len(syntax) == 4 && strings.HasPrefix(syntax, "UNO") && syntax[3] >= 'D' && syntax[3] <= 'K')
	if len(syntax) != 4 || !isAlnum(syntax[0]) {
		return ic, Problem{Interchange: ic.Control, Segment: first.Pos, Check: "UNB syntax", Message: fmt.Sprintf("UNB syntax identifier %q is not four letters (UNOA, UNOC, …)", syntax)}
	}
	if v := first.Comp(1, 2); v < "1" || v > "4" || len(v) != 1 {
		return ic, Problem{Interchange: ic.Control, Segment: first.Pos, Check: "UNB syntax version", Message: fmt.Sprintf("UNB syntax version %q is unknown (1 to 4 are)", v)}
	}
	var (
		grp      *Group
		set      *Set
		explicit int // UNG groups
		messages int // UNH outside any UNG
	)
	bad := func(pr Problem) {
		pr.Interchange = ic.Control
		ic.Problems = append(ic.Problems, pr)
		ic.BadEnvelope = true
	}
	closeSet := func(why string, pos int) {
		if set == nil {
			return
		}
		set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: pos, Check: "UNT missing", Message: "no UNT before " + why})
		grp.Sets = append(grp.Sets, *set)
		set = nil
	}
	closeGroup := func(why string, pos int, implicitOK bool) {
		if grp == nil {
			return
		}
		closeSet(why, pos)
		if !grp.Implicit || !implicitOK {
			if !grp.Implicit {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: pos, Check: "UNE missing", Message: "no UNE before " + why})
				ic.BadEnvelope = true
			}
		}
		ic.Groups = append(ic.Groups, *grp)
		grp = nil
	}
	for {
		seg, ok, perr := p.edifactSegment(dl)
		if perr != nil {
			closeGroup("the input was refused", p.segs, false)
			perr.Interchange = ic.Control
			return ic, *perr
		}
		if !ok {
			closeGroup("the input ends", p.segs, false)
			bad(Problem{Segment: p.segs, Check: "UNZ missing", Message: "truncated interchange: the input ends before UNZ"})
			return ic, nil
		}
		switch seg.Tag {
		case "UNA", "UNB":
			closeGroup("the next interchange", seg.Pos, false)
			p.i = p.lastStart
			p.segs--
			bad(Problem{Segment: seg.Pos, Check: "UNZ missing", Message: "a new interchange starts before this one's UNZ"})
			return ic, nil
		case "UNG":
			closeGroup("the next UNG", seg.Pos, true)
			grp = &Group{ID: seg.El(1), Sender: seg.Comp(2, 1), Receiver: seg.Comp(3, 1), Control: seg.El(5), Version: seg.Comp(7, 1) + ":" + seg.Comp(7, 2)}
			explicit++
		case "UNH":
			if grp == nil {
				grp = &Group{Implicit: true}
			}
			closeSet("the next UNH", seg.Pos)
			if grp.Implicit {
				messages++
			}
			set = &Set{Type: seg.Comp(2, 1), Control: seg.El(1), Version: seg.Comp(2, 2) + ":" + seg.Comp(2, 3), Segments: []Segment{seg}}
		case "UNT":
			if set == nil {
				bad(Problem{Segment: seg.Pos, Check: "UNH missing", Message: "UNT without UNH"})
				continue
			}
			set.Segments = append(set.Segments, seg)
			if n, err := strconv.Atoi(seg.El(1)); err != nil || n != len(set.Segments) {
				set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: seg.Pos,
					Check: fmt.Sprintf("UNT01 %s!=%d", seg.El(1), len(set.Segments)), Message: fmt.Sprintf("UNT says %q segments, the message has %d", seg.El(1), len(set.Segments))})
			}
			if seg.El(2) != set.Control {
				set.Problems = append(set.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Set: set.Control, Segment: seg.Pos,
					Check: "UNT02!=UNH01", Message: fmt.Sprintf("UNT reference %q does not match UNH %q", seg.El(2), set.Control)})
			}
			grp.Sets = append(grp.Sets, *set)
			set = nil
		case "UNE":
			if grp == nil || grp.Implicit {
				bad(Problem{Segment: seg.Pos, Check: "UNG missing", Message: "UNE without UNG"})
				continue
			}
			closeSet("UNE", seg.Pos)
			if n, err := strconv.Atoi(seg.El(1)); err != nil || n != len(grp.Sets) {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: seg.Pos,
					Check: fmt.Sprintf("UNE01 %s!=%d", seg.El(1), len(grp.Sets)), Message: fmt.Sprintf("UNE says %q messages, the group has %d", seg.El(1), len(grp.Sets))})
				ic.BadEnvelope = true
			}
			if seg.El(2) != grp.Control {
				grp.Problems = append(grp.Problems, Problem{Interchange: ic.Control, Group: grp.Control, Segment: seg.Pos,
					Check: "UNE02!=UNG05", Message: fmt.Sprintf("UNE reference %q does not match UNG %q", seg.El(2), grp.Control)})
				ic.BadEnvelope = true
			}
			ic.Groups = append(ic.Groups, *grp)
			grp = nil
		case "UNZ":
			closeGroup("UNZ", seg.Pos, true)
			// UNZ counts groups when there are any, else messages.
			want := messages
			if explicit > 0 {
				want = explicit
			}
			if n, err := strconv.Atoi(seg.El(1)); err != nil || n != want {
				bad(Problem{Segment: seg.Pos, Check: fmt.Sprintf("UNZ01 %s!=%d", seg.El(1), want), Message: fmt.Sprintf("UNZ says %q, the interchange has %d", seg.El(1), want)})
			}
			if seg.El(2) != ic.Control {
				bad(Problem{Segment: seg.Pos, Check: "UNZ02!=UNB05", Message: fmt.Sprintf("UNZ reference %q does not match UNB %q", seg.El(2), ic.Control)})
			}
			return ic, nil
		default:
			if set == nil {
				bad(Problem{Segment: seg.Pos, Check: "UNH missing", Message: fmt.Sprintf("segment %s outside a message", seg.Tag)})
				continue
			}
			set.Segments = append(set.Segments, seg)
		}
	}
}

// edifactSegment reads the next segment, honouring the release character.
func (p *parser) edifactSegment(dl edifactDelims) (Segment, bool, *Problem) {
	for p.i < len(p.data) && (isSpace(p.data[p.i]) || p.data[p.i] == 0x1A || p.data[p.i] == 0) && p.data[p.i] != dl.term {
		p.i++
	}
	if p.i >= len(p.data) {
		return Segment{}, false, nil
	}
	p.lastStart = p.i
	if rest := p.data[p.i:]; len(rest) >= 9 && string(rest[:3]) == "UNA" {
		p.segs++
		return Segment{Tag: "UNA", Pos: p.segs}, true, nil
	}
	p.segs++
	if p.segs > p.lim.MaxSegments {
		return Segment{}, false, &Problem{Segment: p.segs, Check: "limit", Message: fmt.Sprintf("more than %d segments", p.lim.MaxSegments)}
	}
	var (
		elems [][]string
		comps []string
		cur   []byte
		elLen int
		// outLen is the element's length as read: Latin-1 read as UTF-8
		// may grow, and the limit holds for what is kept.
		outLen int
	)
	tooLong := func() *Problem {
		return &Problem{Segment: p.segs, Check: "limit", Message: fmt.Sprintf("an element of segment %d is over the %d byte element limit", p.segs, p.lim.MaxElementLen)}
	}
	flushComp := func() {
		v := string(cur)
		if dl.latin1 {
			v = toUTF8(v)
		}
		outLen += len(v)
		comps = append(comps, v)
		cur = cur[:0]
	}
	flushElem := func() {
		flushComp()
		elems = append(elems, comps)
		comps = nil
		elLen = 0
	}
	for {
		if p.i >= len(p.data) {
			// The last segment lacks its terminator: take it as ended.
			break
		}
		c := p.data[p.i]
		p.i++
		if dl.release != 0 && c == dl.release {
			// A wrapped line may break between the release character and
			// the character it releases.
			for p.i < len(p.data) && isLineBreak(p.data[p.i]) && p.data[p.i] != dl.term && p.data[p.i] != dl.elem && p.data[p.i] != dl.comp {
				p.i++
			}
			if p.i >= len(p.data) {
				return Segment{}, false, &Problem{Segment: p.segs, Check: "release", Message: "the input ends right after a release character"}
			}
			cur = append(cur, p.data[p.i])
			p.i++
			elLen++
		} else if c == dl.term {
			break
		} else if c == dl.elem {
			flushElem()
			if outLen > p.lim.MaxElementLen {
				return Segment{}, false, tooLong()
			}
			outLen = 0
			continue
		} else if c == dl.comp {
			flushComp()
			if outLen > p.lim.MaxElementLen {
				return Segment{}, false, tooLong()
			}
			elLen++
			continue
		} else if c == '\r' || c == '\n' {
			// No repertoire holds line breaks as data: one that is not
			// the terminator is a mailbox's line wrapping.
			continue
		} else {
			cur = append(cur, c)
			elLen++
		}
		if elLen > p.lim.MaxElementLen {
			return Segment{}, false, tooLong()
		}
	}
	flushElem()
	if outLen > p.lim.MaxElementLen {
		return Segment{}, false, tooLong()
	}
	tag := strings.TrimSpace(elems[0][0])
	seg := Segment{Tag: tag, Elems: elems[1:], Pos: p.segs}
	if !validTag(tag) || len(tag) != 3 {
		return Segment{}, false, &Problem{Segment: p.segs, Check: "segment tag", Message: fmt.Sprintf("%q does not start with a segment tag (three capitals and digits)", clip([]byte(tag), 24))}
	}
	return seg, true, nil
}

func joinQual(q, id string) string {
	if q == "" {
		return id
	}
	return q + ":" + id
}
