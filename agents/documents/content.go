package documents

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// exops's own content-stream reader, on ledongthuc/pdf's lower-level API
// (Interpret, Value, Font.Encoder). The library's Page.Content takes every
// byte as one character code and widths only from /Widths, so CID fonts
// (Type0, Identity-H, two-byte codes, widths in the descendant's /W array)
// come out as one "word" per glyph, and it never enters form XObjects, where
// many generators put the whole page. This reader splits codes by the font's
// code length, takes widths from /W and /DW, /Widths, or a Type 3
// FontMatrix, applies Tc, Tw, Tz, TJ offsets and the CTM, recurses into
// form XObjects (bounded), and reports each glyph with its advance so that
// BuildLines can find word gaps from positions.

const (
	maxFormDepth  = 8
	maxPageGlyphs = 400000
	// maxFontWidths caps the widths taken from one CID font's /W: two-byte
	// codes have 65536 values.
	maxFontWidths = 1 << 17
)

type textFont struct {
	enc      pdf.TextEncoding
	twoByte  bool
	widths   map[int]float64 // code → width in text space units × 1000
	dw       float64         // default width; 0 = unknown
	scale    float64         // glyph space → text space (1/1000, or the Type 3 FontMatrix)
	vertical bool
}

func newTextFont(f pdf.Font, budget *inflateBudget) (*textFont, error) {
	tf := &textFont{widths: map[int]float64{}, scale: 0.001}
	v := f.V
	// A ToUnicode CMap goes through the library's tokenizer like a content
	// stream: it gets the same checks first. exops reads it itself where
	// the library would (Identity-H or no /Encoding; see cmap.go).
	encv := v.Key("Encoding")
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream && (encv.Kind() == pdf.Null || encv.Kind() == pdf.Name && encv.Name() == "Identity-H") {
		if err := budget.check(tu, "a font's ToUnicode CMap"); err != nil {
			return nil, err
		}
		if m := readToUnicode(tu); m != nil {
			tf.enc = m
		} else {
			tf.enc = nopEnc{}
		}
	} else {
		tf.enc = (&f).Encoder()
	}
	if tf.enc == nil {
		tf.enc = nopEnc{}
	}
	tf.enc = &memoEnc{enc: tf.enc, cache: map[string]string{}}
	switch v.Key("Subtype").Name() {
	case "Type0":
		enc := v.Key("Encoding").Name()
		tf.twoByte = enc == "" || strings.HasPrefix(enc, "Identity") || strings.HasSuffix(enc, "UCS2-H") || strings.HasSuffix(enc, "UCS2-V")
		if v.Key("Encoding").Kind() == pdf.Stream {
			tf.twoByte = true
		}
		tf.vertical = strings.HasSuffix(enc, "-V")
		d := v.Key("DescendantFonts").Index(0)
		tf.dw = 1000
		if x := d.Key("DW"); x.Kind() == pdf.Integer || x.Kind() == pdf.Real {
			tf.dw = x.Float64()
		}
		w := d.Key("W")
		// left bounds the widths set in all: each entry is bounded, but
		// twenty thousand "first last width" entries of 65536 codes each
		// would be a billion map entries.
		left := maxFontWidths
		for i := 0; i < w.Len() && i < 1<<16 && left > 0; {
			first := int(w.Index(i).Int64())
			next := w.Index(i + 1)
			if next.Kind() == pdf.Array {
				for j := 0; j < next.Len() && j < 1<<16 && left > 0; j++ {
					tf.widths[first+j] = next.Index(j).Float64()
					left--
				}
				i += 2
				continue
			}
			last := int(next.Int64())
			wd := w.Index(i + 2).Float64()
			for c := first; c <= last && c-first < 1<<16 && left > 0; c++ {
				tf.widths[c] = wd
				left--
			}
			i += 3
		}
	default:
		first := int(v.Key("FirstChar").Int64())
		ws := v.Key("Widths")
		for i := 0; i < ws.Len() && i < 256; i++ {
			tf.widths[first+i] = ws.Index(i).Float64()
		}
		if v.Key("Subtype").Name() == "Type3" {
			if m := v.Key("FontMatrix"); m.Len() == 6 {
				tf.scale = m.Index(0).Float64()
			}
		}
		if dw := v.Key("FontDescriptor").Key("MissingWidth").Float64(); dw > 0 {
			tf.dw = dw
		}
	}
	return tf, nil
}

type nopEnc struct{}

func (nopEnc) Decode(raw string) string { return raw }

// width of one code in glyph space; 0 when the font does not say.
func (tf *textFont) width(code int) float64 {
	if w, ok := tf.widths[code]; ok {
		return w
	}
	return tf.dw
}

type mat [6]float64 // a b c d e f

var identity = mat{1, 0, 0, 1, 0, 0}

func (m mat) mul(n mat) mat {
	return mat{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type gstate struct {
	ctm, tm, tlm     mat
	font             *textFont
	size, tc, tw, th float64
	tl, rise         float64
}

// readPageGlyphs interprets a page's content and its form XObjects,
// charging what their streams inflate to against budget.
func readPageGlyphs(p pdf.Page, budget *inflateBudget) (glyphs []Glyph, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e // keeps a *budgetError for the worker's answer
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	// Resources may be inherited from the page tree (bounded: trees can be
	// cyclic).
	res := p.V.Key("Resources")
	cur := p.V
	for i := 0; res.IsNull() && i < 32 && !cur.IsNull(); i++ {
		cur = cur.Key("Parent")
		res = cur.Key("Resources")
	}
	r := &contentReader{fonts: map[string]*textFont{}, budget: budget}
	contents := p.V.Key("Contents")
	g := gstate{ctm: identity, tm: identity, tlm: identity, th: 1}
	if contents.Kind() == pdf.Array {
		for i := 0; i < contents.Len() && i < 1000; i++ {
			g = r.run(contents.Index(i), res, g, 0)
		}
	} else if !contents.IsNull() {
		r.run(contents, res, g, 0)
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.glyphs, nil
}

type contentReader struct {
	fonts  map[string]*textFont
	glyphs []Glyph
	budget *inflateBudget
	err    error // the first stream refused; the page fails with it
}

func (r *contentReader) font(res pdf.Value, name string, local map[string]*textFont) *textFont {
	// local caches by name within one stream (one resource dictionary):
	// the key below formats the whole font dictionary, which a stream
	// repeating Tf would otherwise pay for at every Tf.
	if f, ok := local[name]; ok {
		return f
	}
	fv := res.Key("Font").Key(name)
	key := fv.String() + "/" + name
	f, ok := r.fonts[key]
	if !ok {
		var err error
		if f, err = newTextFont(pdf.Font{V: fv}, r.budget); err != nil {
			r.err = err
			return nil
		}
		r.fonts[key] = f
	}
	local[name] = f
	return f
}

func (r *contentReader) run(strm, res pdf.Value, g gstate, depth int) gstate {
	if r.err != nil {
		return g
	}
	what := "a page's content stream"
	if depth > 0 {
		what = "a form XObject"
	}
	if err := r.budget.check(strm, what); err != nil {
		r.err = err
		return g
	}
	var stack []gstate
	local := map[string]*textFont{}
	show := func(s string) {
		f := g.font
		if f == nil {
			f = &textFont{enc: nopEnc{}, widths: map[int]float64{}, scale: 0.001}
			g.font = f
		}
		step := 1
		if f.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(s); i += step {
			code := int(s[i])
			if step == 2 {
				code = int(s[i])<<8 | int(s[i+1])
			}
			text := f.enc.Decode(s[i : i+step])
			w := f.width(code) * f.scale // text space units per unit font size
			wEst := w
			if wEst <= 0 {
				wEst = avgAdvance
			}
			trm := mat{g.size * g.th, 0, 0, g.size, 0, g.rise}.mul(g.tm).mul(g.ctm)
			fontSize := math.Hypot(trm[2], trm[3])
			upright := math.Abs(trm[1]) < 0.01*math.Abs(trm[0]) && trm[0] > 0
			if text != "" && text != "\x00" && len(r.glyphs) < maxPageGlyphs && utf8.ValidString(text) {
				if upright {
					r.glyphs = append(r.glyphs, Glyph{X: trm[4], Y: trm[5], W: wEst * trm[0], Size: fontSize, S: expandLigature(text)})
				} else if scale := math.Hypot(trm[0], trm[1]); scale > 0 {
					// Rotated text (margin notes, sideways table headers):
					// placed in its own frame, where it runs left to right,
					// and laid out apart from the upright text.
					a := math.Atan2(trm[1], trm[0])
					cos, sin := math.Cos(a), math.Sin(a)
					r.glyphs = append(r.glyphs, Glyph{X: trm[4]*cos + trm[5]*sin, Y: -trm[4]*sin + trm[5]*cos,
						W: wEst * scale, Size: fontSize, S: expandLigature(text), Rot: math.Round(a * 180 / math.Pi)})
				}
			}
			tx := (wEst*g.size + g.tc) * g.th
			if step == 1 && s[i] == ' ' {
				tx += g.tw * g.th
			}
			g.tm = mat{1, 0, 0, 1, tx, 0}.mul(g.tm)
		}
	}
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		if r.err != nil {
			return
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, g)
			}
		case "Q":
			if k := len(stack); k > 0 {
				g, stack = stack[k-1], stack[:k-1]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = mat{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(g.ctm)
			}
		case "BT":
			g.tm, g.tlm = identity, identity
		case "Tf":
			if len(args) == 2 {
				g.font = r.font(res, args[0].Name(), local)
				g.size = num(1)
			}
		case "Tc":
			g.tc = num(0)
		case "Tw":
			g.tw = num(0)
		case "Tz":
			g.th = num(0) / 100
		case "TL":
			g.tl = num(0)
		case "Ts":
			g.rise = num(0)
		case "TD":
			g.tl = -num(1)
			fallthrough
		case "Td":
			g.tlm = mat{1, 0, 0, 1, num(0), num(1)}.mul(g.tlm)
			g.tm = g.tlm
		case "Tm":
			if len(args) == 6 {
				g.tlm = mat{num(0), num(1), num(2), num(3), num(4), num(5)}
				g.tm = g.tlm
			}
		case "T*":
			g.tlm = mat{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
			g.tm = g.tlm
		case "'", "\"":
			if op == "\"" && len(args) == 3 {
				g.tw, g.tc = num(0), num(1)
				args = args[2:]
			}
			g.tlm = mat{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
			g.tm = g.tlm
			fallthrough
		case "Tj":
			if len(args) >= 1 {
				show(args[len(args)-1].RawString())
			}
		case "TJ":
			if len(args) == 1 {
				a := args[0]
				for i := 0; i < a.Len(); i++ {
					x := a.Index(i)
					if x.Kind() == pdf.String {
						show(x.RawString())
					} else {
						tx := -x.Float64() / 1000 * g.size * g.th
						g.tm = mat{1, 0, 0, 1, tx, 0}.mul(g.tm)
					}
				}
			}
		case "Do":
			if len(args) != 1 || depth >= maxFormDepth {
				return
			}
			xo := res.Key("XObject").Key(args[0].Name())
			if xo.Kind() != pdf.Stream || xo.Key("Subtype").Name() != "Form" {
				return
			}
			sub := g
			if m := xo.Key("Matrix"); m.Len() == 6 {
				sub.ctm = mat{m.Index(0).Float64(), m.Index(1).Float64(), m.Index(2).Float64(), m.Index(3).Float64(), m.Index(4).Float64(), m.Index(5).Float64()}.mul(g.ctm)
			}
			xres := xo.Key("Resources")
			if xres.IsNull() {
				xres = res
			}
			r.run(xo, xres, sub, depth+1)
		}
	})
	return g
}

// expandLigature turns presentation-form ligatures into their letters, so
// that "ﬁnal" is found as "final".
func expandLigature(s string) string {
	if !strings.ContainsAny(s, "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06") {
		return s
	}
	return strings.NewReplacer("\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\ufb05", "st", "\ufb06", "st").Replace(s)
}
