package documents

import (
	"math"
	"sort"
	"strings"
)

// Glyph is one character drawn on a page, as the PDF parser reports it: X, Y
// in points from the bottom left, W its advance width (0 when the font has no
// width table, as with the standard 14 fonts most generators use), Size the
// font size.
type Glyph struct {
	X, Y, W, Size float64
	S             string
	// Rot is the text's direction in degrees, counter-clockwise (0 upright,
	// 90 bottom-to-top). Rotated glyphs carry X and Y in their own rotated
	// frame, in which they run left to right.
	Rot float64
}

// PageLines lays out a page's glyphs: the upright text first, top to
// bottom, then each rotated run of text (by direction) as lines of its
// own, so that a sideways margin note neither is lost nor splits the rows
// of the page.
func PageLines(glyphs []Glyph) []TextLine {
	groups := map[float64][]Glyph{}
	var upright []Glyph
	for _, g := range glyphs {
		if g.Rot == 0 {
			upright = append(upright, g)
		} else {
			groups[g.Rot] = append(groups[g.Rot], g)
		}
	}
	lines := BuildLines(upright)
	rots := make([]float64, 0, len(groups))
	for r := range groups {
		rots = append(rots, r)
	}
	sort.Float64s(rots)
	for _, r := range rots {
		lines = append(lines, BuildLines(groups[r])...)
	}
	return lines
}

// Cell is a run of text on one line with no wide gap inside: usually one
// table cell or one "label: value" pair.
type Cell struct {
	X    float64 `json:"x"`  // left edge, points
	X2   float64 `json:"x2"` // right edge (estimated when the font has no widths)
	Size float64 `json:"size"`
	Text string  `json:"text"`
}

// TextLine is the cells sharing one baseline, left to right.
type TextLine struct {
	Y     float64 `json:"y"`
	Cells []Cell  `json:"cells"`
}

// PageText is one page's lines, top to bottom.
type PageText struct {
	Lines []TextLine `json:"lines"`
}

// Text returns the line's cells joined as pdftotext -layout would roughly
// show them (two spaces between cells), for classification and the model.
func (l TextLine) Text() string {
	parts := make([]string, len(l.Cells))
	for i, c := range l.Cells {
		parts[i] = c.Text
	}
	return strings.Join(parts, "  ")
}

// avgAdvance estimates a glyph's advance when the font reports no widths:
// about half an em for Helvetica and Times text.
const avgAdvance = 0.52

// BuildLines turns glyphs in content-stream order into lines of cells. The
// library's own GetTextByRow only sees Tm operators and puts every Td-placed
// string (what most generators write) on one row at 0,0, so exops builds
// rows and columns itself from each glyph's position.
func BuildLines(glyphs []Glyph) []TextLine {
	type run struct {
		x, x2, y, size float64
		b              strings.Builder
		spaces         int // trailing spaces in b
	}
	var runs []*run
	var cur *run
	flush := func() {
		if cur != nil && strings.TrimSpace(cur.b.String()) != "" {
			runs = append(runs, cur)
		}
		cur = nil
	}
	// The pen: where the previous glyph was reported and where the next one
	// would start, kept across cell breaks so that "A  B" typed in one
	// zero-width string still puts B to the right of A.
	var penRawX, penY, penNext float64
	havePen := false
	for _, g := range glyphs {
		if g.S == "" || g.Size <= 0 || math.IsNaN(g.X) || math.IsNaN(g.Y) || math.IsInf(g.X, 0) || math.IsInf(g.Y, 0) {
			continue
		}
		size := g.Size
		x := g.X
		newString := true
		if havePen && g.W == 0 && g.X == penRawX && math.Abs(g.Y-penY) < 0.01 {
			// Zero-width font: the parser reports every glyph of a string at
			// the string's origin. Lay them out at an estimated advance.
			x, newString = penNext, false
		}
		w := g.W
		if w <= 0 {
			w = avgAdvance * size
		}
		havePen, penRawX, penY, penNext = true, g.X, g.Y, x+w
		if cur != nil {
			sameLine := math.Abs(g.Y-cur.y) < 0.3*math.Max(size, cur.size)
			gap := x - cur.x2
			if !sameLine || gap > 0.8*size || gap < -0.5*size {
				flush()
			} else if (gap > 0.2*size || newString && g.W == 0) && cur.spaces == 0 {
				cur.b.WriteByte(' ')
			}
		}
		if cur == nil {
			if strings.TrimSpace(g.S) == "" {
				continue
			}
			cur = &run{x: x, y: g.Y, size: size}
		}
		if strings.TrimSpace(g.S) == "" {
			cur.spaces++
			if cur.spaces >= 2 {
				// Two spaces inside one string: a column gap typed with spaces.
				s := strings.TrimRight(cur.b.String(), " ")
				cur.b.Reset()
				cur.b.WriteString(s)
				flush()
				continue
			}
			cur.b.WriteByte(' ')
		} else {
			cur.spaces = 0
			cur.b.WriteString(g.S)
		}
		cur.x2 = x + w
		if size > cur.size {
			cur.size = size
		}
	}
	flush()

	// Group runs into lines by baseline, top to bottom.
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].y > runs[j].y })
	var lines []TextLine
	for _, r := range runs {
		c := Cell{X: round2(r.x), X2: round2(r.x2), Size: round2(r.size), Text: normSpace(r.b.String())}
		n := len(lines)
		if n > 0 && math.Abs(lines[n-1].Y-r.y) < 0.35*r.size {
			lines[n-1].Cells = append(lines[n-1].Cells, c)
			continue
		}
		lines = append(lines, TextLine{Y: round2(r.y), Cells: []Cell{c}})
	}
	for i := range lines {
		cells := lines[i].Cells
		sort.SliceStable(cells, func(a, b int) bool { return cells[a].X < cells[b].X })
		// Adjacent runs that touch are one cell (a string split by a font
		// change). The merged text is built once per cell: appending to a
		// string per run is quadratic when a page draws thousands of runs
		// over each other (a form drawn again and again).
		out := cells[:0]
		var texts [][]byte // out[k]'s text while merging
		for _, c := range cells {
			if k := len(out); k > 0 && c.X-out[k-1].X2 < 0.25*c.Size && c.X >= out[k-1].X {
				if c.X-out[k-1].X2 > 0.1*c.Size {
					texts[k-1] = append(texts[k-1], ' ')
				}
				texts[k-1] = append(texts[k-1], c.Text...)
				out[k-1].X2 = math.Max(out[k-1].X2, c.X2)
				continue
			}
			out = append(out, c)
			texts = append(texts, []byte(c.Text))
		}
		for k := range out {
			out[k].Text = string(texts[k])
		}
		lines[i].Cells = out
	}
	return lines
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
