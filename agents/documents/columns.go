package documents

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// ReadingOrder returns a page's lines in the order a person reads them:
// where a region of the page is set in columns of running text (a letter in
// two columns, a terms block, side-by-side paragraphs), the left column's
// lines come before the right column's; everything else keeps its row order.
//
// Lines are built per baseline across the whole page (BuildLines), which is
// what the field rules want: a table row or a "label: value" pair is one
// line. Running text in columns, read that way, interleaves the columns
// sentence by sentence. So this is a view for running text (the text layer
// API, the model's prompt), not for the positioned rules.
//
// A region is a run of consecutive lines through which one vertical gutter
// (a band of x that no cell crosses) runs; it is taken as columns only when
// both sides hold multi-word running text on many lines, left-aligned, with
// letters rather than figures (see looksLikeColumns). Table rows and label
// columns fail that test and stay whole. This is the idea of pdftotext's
// flows (blocks of lines read one after the other), narrowed to what can be
// told safely from cells.
func ReadingOrder(lines []TextLine) []TextLine {
	// Upright lines come top to bottom; rotated runs (PageLines appends them
	// after, in their own frame) start a new descending run of baselines.
	var out []TextLine
	budget := columnBudgetPerLine*len(lines) + columnBudgetBase
	start := 0
	for i := 1; i <= len(lines); i++ {
		if i == len(lines) || lines[i].Y > lines[i-1].Y {
			out = append(out, columnOrder(lines[start:i], 0, &budget)...)
			start = i
		}
	}
	return out
}

// readingPages returns the pages with their lines in reading order.
func readingPages(pages []PageText) []PageText {
	out := make([]PageText, len(pages))
	for i, p := range pages {
		out[i] = PageText{Lines: ReadingOrder(p.Lines)}
	}
	return out
}

// maxColumnDepth bounds the recursion into a column (three or four columns
// are found by splitting a side again).
const maxColumnDepth = 3

// minColumnLines is how many lines must have text on both sides of a
// gutter: fewer is a pair of boxes, not columns.
const minColumnLines = 4

// The search for regions visits lines again from each start; a page's
// visits are capped at columnBudgetPerLine a line (plus a base), after which
// the rest of the page keeps row order. Real pages need far fewer; a
// crafted page of thousands of aligned rows stays linear.
const (
	columnBudgetPerLine = 100
	columnBudgetBase    = 20000
)

// columnOrder orders one top-to-bottom run of lines.
func columnOrder(lines []TextLine, depth int, budget *int) []TextLine {
	if depth >= maxColumnDepth || len(lines) < minColumnLines {
		return lines
	}
	var out []TextLine
	for i := 0; i < len(lines); {
		if *budget <= 0 {
			return append(out, lines[i:]...)
		}
		end, left, right := columnRegion(lines, i, budget)
		if end == i {
			out = append(out, lines[i])
			i++
			continue
		}
		out = append(out, columnOrder(left, depth+1, budget)...)
		out = append(out, columnOrder(right, depth+1, budget)...)
		i = end
	}
	return out
}

// maxColumnRun bounds a region's lines (a dense column holds about 80 on a
// page), so that a page of thousands of table rows costs linear time.
const maxColumnRun = 200

type span struct{ lo, hi float64 }

// columnRegion looks for columns starting at lines[i]: it grows the run of
// lines while some gutter survives in all of them and returns the end of the
// run and its lines split at the gutter, or end == i when there are none.
func columnRegion(lines []TextLine, i int, budget *int) (end int, left, right []TextLine) {
	minGap := func(l TextLine) float64 { return math.Max(6, 0.9*lineSize(l)) }
	// A region starts on a line of running text on both sides of its gutter.
	var gutters []span
	for _, g := range innerGaps(lines[i], minGap(lines[i])) {
		if textOnBothSides(lines[i], (g.lo+g.hi)/2) {
			gutters = append(gutters, g)
		}
	}
	if len(gutters) == 0 {
		return i, nil, nil
	}
	j := i + 1
	for ; j < len(lines) && j-i < maxColumnRun && len(gutters) > 0; j++ {
		prev, l := lines[j-1], lines[j]
		if prev.Y-l.Y > 3*math.Max(lineSize(prev), lineSize(l)) {
			break // a blank band: a new block starts
		}
		*budget--
		next := intersectFree(gutters, l, minGap(l))
		if len(next) == 0 {
			break // a cell crosses every gutter: a heading or a table row
		}
		gutters = next
	}
	if j-i < minColumnLines {
		return i, nil, nil
	}
	// The widest gutter first: in real columns it is the one between them.
	sort.Slice(gutters, func(a, b int) bool { return gutters[a].hi-gutters[a].lo > gutters[b].hi-gutters[b].lo })
	for _, g := range gutters {
		x := (g.lo + g.hi) / 2
		// The run may have grown past the columns into table rows that merely
		// miss the gutter: try it also cut before the first line that is no
		// running text (more than two cells on a side, or a side with
		// figures only), and that first, so such rows stay out of the
		// columns. Two tries a gutter keep this linear.
		ends := []int{j}
		for k := i; k < j; k++ {
			if !textOnBothSides(lines[k], x) {
				if k-i >= minColumnLines {
					ends = []int{k, j}
				}
				break
			}
		}
		for _, end := range ends {
			*budget -= end - i
			if looksLikeColumns(lines[i:end], x) {
				left, right = splitAt(lines[i:end], x)
				return end, left, right
			}
		}
	}
	return i, nil, nil
}

// textOnBothSides tells whether each side of x that has cells on line l
// holds at most two of them and some letters.
func textOnBothSides(l TextLine, x float64) bool {
	var n [2]int
	var letters [2]bool
	for _, c := range l.Cells {
		k := 0
		if c.X2 > x {
			k = 1
		}
		n[k]++
		letters[k] = letters[k] || strings.IndexFunc(c.Text, unicode.IsLetter) >= 0
	}
	for k := range n {
		if n[k] > 2 || n[k] > 0 && !letters[k] {
			return false
		}
	}
	return true
}

func lineSize(l TextLine) float64 {
	s := 0.0
	for _, c := range l.Cells {
		s = math.Max(s, c.Size)
	}
	return s
}

// innerGaps lists the gaps between a line's cells at least min wide.
func innerGaps(l TextLine, min float64) []span {
	var gaps []span
	for k := 1; k < len(l.Cells); k++ {
		lo, hi := l.Cells[k-1].X2, l.Cells[k].X
		if hi-lo >= min {
			gaps = append(gaps, span{lo, hi})
		}
	}
	return gaps
}

// intersectFree narrows each gutter to the part no cell of l covers, keeping
// those at least min wide.
func intersectFree(gutters []span, l TextLine, min float64) []span {
	var out []span
	for _, g := range gutters {
		parts := []span{g}
		for _, c := range l.Cells {
			var cut []span
			for _, p := range parts {
				if c.X2 <= p.lo || c.X >= p.hi {
					cut = append(cut, p)
					continue
				}
				if c.X > p.lo {
					cut = append(cut, span{p.lo, c.X})
				}
				if c.X2 < p.hi {
					cut = append(cut, span{c.X2, p.hi})
				}
			}
			parts = cut
		}
		for _, p := range parts {
			if p.hi-p.lo >= min {
				out = append(out, p)
			}
		}
	}
	return out
}

// splitAt divides each line's cells at x; a side with no cells on a line is
// left out of that side.
func splitAt(lines []TextLine, x float64) (left, right []TextLine) {
	for _, l := range lines {
		var a, b []Cell
		for _, c := range l.Cells {
			if c.X2 <= x {
				a = append(a, c)
			} else {
				b = append(b, c)
			}
		}
		if len(a) > 0 {
			left = append(left, TextLine{Y: l.Y, Cells: a})
		}
		if len(b) > 0 {
			right = append(right, TextLine{Y: l.Y, Cells: b})
		}
	}
	return left, right
}

// looksLikeColumns tells running text in two columns (split at x) from a
// table or a label column, which also have gaps running down the page:
//   - at least minColumnLines lines carry text on both sides;
//   - each side averages at least 2.5 words a line, and most of its lines
//     hold two or more (a label column holds one or two, a value column one);
//   - most of each side's words have letters (an amount column has none);
//   - each side is left-aligned (running text starts at the column's edge;
//     amount columns are right-aligned) and has at most two cells a line
//     (a table's side has a cell per column);
//   - the left side is not a column of labels ending in ':'.
//
// It counts without building the sides: it runs for every candidate region.
func looksLikeColumns(lines []TextLine, x float64) bool {
	var st [2]sideStats
	both := 0
	for _, l := range lines {
		var has [2]bool
		for k := range st {
			first, n, words := -1, 0, 0
			for ci, c := range l.Cells {
				if (c.X2 > x) != (k == 1) {
					continue
				}
				if first < 0 {
					first = ci
				}
				n++
				w, lettered := countWords(c.Text)
				words += w
				st[k].lettered += lettered
			}
			if n == 0 {
				continue
			}
			if n > 2 {
				return false
			}
			has[k] = true
			st[k].lines++
			st[k].words += words
			if words >= 2 {
				st[k].wordy++
			}
			if strings.HasSuffix(strings.TrimSpace(l.Cells[first+n-1].Text), ":") {
				st[k].colons++
			}
			st[k].edges = append(st[k].edges, l.Cells[first].X)
			st[k].sizes = append(st[k].sizes, lineSize(l))
		}
		if has[0] && has[1] {
			both++
		}
	}
	return both >= minColumnLines && st[0].running(true) && st[1].running(false)
}

// sideStats counts one side of a candidate gutter.
type sideStats struct {
	lines, words, wordy, lettered, colons int
	edges, sizes                          []float64 // per line: left edge, font size
}

func (s sideStats) running(isLeft bool) bool {
	n := s.lines
	if n == 0 {
		return false
	}
	sorted := append([]float64(nil), s.edges...)
	sort.Float64s(sorted)
	edge := sorted[n/4] // the column's edge: most lines start there, indents and centred lines to the right
	aligned := 0
	for i, e := range s.edges {
		if math.Abs(e-edge) <= math.Max(2, 0.3*s.sizes[i]) {
			aligned++
		}
	}
	switch {
	case 2*s.words < 5*n, 10*s.wordy < 7*n, 10*s.lettered < 7*s.words, 10*aligned < 6*n:
		return false
	case isLeft && 4*s.colons > n:
		return false
	}
	return true
}

// countWords counts the whitespace-separated words of s and those with a
// letter, without allocating.
func countWords(s string) (words, lettered int) {
	in, letter := false, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if in && letter {
				lettered++
			}
			in, letter = false, false
			continue
		}
		if !in {
			words++
			in = true
		}
		letter = letter || unicode.IsLetter(r)
	}
	if in && letter {
		lettered++
	}
	return words, lettered
}
