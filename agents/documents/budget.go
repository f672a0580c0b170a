package documents

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ledongthuc/pdf"
)

// Bounds on the work one document may cost the reader. The library has
// none of its own: it follows /Prev and /Extends chains without noticing a
// loop, re-reads an indirect object each time it is looked up, inflates a
// stream for as long as it yields bytes, and its tokenizer spins forever on
// a hex string that a stream ends inside. The child's time and memory
// limits stop all of that, but as a killed child ("timed out", "out of
// memory") where a clear answer is possible; these budgets give the answer.
const (
	// maxStreamBytes is the most one content stream, form XObject or
	// ToUnicode CMap may inflate to. Dense text pages are well under 1 MiB;
	// the biggest vector drawings reach a few MiB.
	maxStreamBytes = 32 << 20
	// maxInflatedBytes is what all the streams of a document (each form
	// counted each time it is drawn) may inflate to together.
	maxInflatedBytes = 256 << 20
	// streamRunCost is what drawing a stream costs at least, so that a
	// form drawing itself a thousand times at each of maxFormDepth levels
	// runs out of budget instead of running 1000^8 times.
	streamRunCost = 4 << 10
	// maxOperands is the most operands the tokenizer may stack up before
	// an operator: the library keeps them all (32 bytes each), so a stream
	// of bare numbers would otherwise cost 16 times its size in memory.
	// Real content has a few operands per operator; a TJ array a few
	// hundred.
	maxOperands = 1 << 20
	// fileReadFactor bounds the bytes read from the file, as a multiple of
	// its size (plus readSlack): the library re-reads an object from the
	// file on every lookup, so a normal parse reads a file several times,
	// but a loop in the cross-reference chain or the object streams reads
	// it forever. The corpus of real invoices reads at most 11 times its size.
	fileReadFactor = 64
	readSlack      = 16 << 20
)

// errBudget is the kind of every budget error; each carries the worker's
// error code and the message a person sees.
var errBudget = errors.New("over the reader's budget")

type budgetError struct{ code, msg string }

func (e *budgetError) Error() string { return e.msg }
func (e *budgetError) Unwrap() error { return errBudget }

// errUnterminatedHex is a stream that ends inside a hex string, on which the
// library's tokenizer would loop forever.
var errUnterminatedHex = errors.New("it ends inside a hex string")

// countingReaderAt is the file as the library sees it. Once the read budget
// is spent, every read panics: the library ignores some read errors and
// retries, and a panic is recovered at the reader's entry points.
type countingReaderAt struct {
	r    io.ReaderAt
	left int64
}

func newCountingReaderAt(data []byte) *countingReaderAt {
	return &countingReaderAt{r: bytes.NewReader(data), left: int64(len(data))*fileReadFactor + readSlack}
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.left -= int64(len(p)); c.left < 0 {
		panic(&budgetError{codeDamaged, fmt.Sprintf("damaged PDF: reading it went over %d times its size (a loop in its cross-references, object streams or forms)", fileReadFactor)})
	}
	return c.r.ReadAt(p, off)
}

// inflateBudget is what the streams of one document may still inflate to.
type inflateBudget struct {
	left int64
}

func newInflateBudget() *inflateBudget { return &inflateBudget{left: maxInflatedBytes} }

// check reads the stream (or array of streams) v through to its end before
// the library's tokenizer gets it: it charges what it inflates to, and
// refuses one that inflates past maxStreamBytes, stacks up more than
// maxOperands operands, or ends inside a hex string. what names the stream
// in the error.
func (b *inflateBudget) check(v pdf.Value, what string) error {
	if b.left -= streamRunCost; b.left < 0 {
		return b.over()
	}
	var rd io.Reader
	if v.Kind() == pdf.Array {
		var rs []io.Reader
		for i := 0; i < v.Len(); i++ {
			rs = append(rs, v.Index(i).Reader())
		}
		rd = io.MultiReader(rs...)
	} else {
		rd = v.Reader()
	}
	limit := min(int64(maxStreamBytes), b.left)
	lr := &io.LimitedReader{R: rd, N: limit + 1}
	var sc streamScanner
	if err := sc.scan(bufio.NewReaderSize(lr, 32<<10)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n := limit + 1 - lr.N
	b.left -= n
	if n > limit {
		if limit < maxStreamBytes {
			return b.over()
		}
		return &budgetError{codeTooLarge, fmt.Sprintf("PDF too large: %s inflates to more than %s", what, bytesHuman(maxStreamBytes))}
	}
	return nil
}

func (b *inflateBudget) over() error {
	b.left = -1
	return &budgetError{codeTooLarge, fmt.Sprintf("PDF too large: its pages draw more than %s of content streams (a form drawn many times counts each time)", bytesHuman(maxInflatedBytes))}
}

// streamScanner follows the library's tokenizer (lex.go) just far enough to
// know where strings, hex strings, names and comments start and end, and to
// count operands between operators.
type streamScanner struct {
	operands int
}

func (s *streamScanner) scan(r io.ByteReader) error {
	next := func() (byte, bool) {
		c, err := r.ReadByte()
		return c, err == nil
	}
	// The library's readByte gives '\n' at the end of the stream.
	nextOrNL := func() (byte, bool) {
		c, ok := next()
		if !ok {
			return '\n', false
		}
		return c, true
	}
	var pending []byte // a byte read ahead, given back
	get := func() (byte, bool) {
		if n := len(pending); n > 0 {
			c := pending[n-1]
			pending = pending[:n-1]
			return c, true
		}
		return next()
	}
	for {
		c, ok := get()
		if !ok {
			return nil
		}
		switch {
		case isPDFSpace(c):
			continue
		case c == '%':
			for c != '\r' && c != '\n' {
				if c, ok = nextOrNL(); !ok {
					return nil
				}
			}
		case c == '(':
			if err := s.operand(); err != nil {
				return err
			}
			if !scanLiteral(nextOrNL) {
				return nil
			}
		case c == '<':
			c2, ok := next()
			if !ok {
				return errUnterminatedHex
			}
			if c2 == '<' {
				continue // a dictionary; its keys and values are counted
			}
			if err := s.operand(); err != nil {
				return err
			}
			pending = append(pending, c2)
			if err := scanHex(get); err != nil {
				return err
			}
		case c == '/':
			if err := s.operand(); err != nil {
				return err
			}
			for {
				c, ok = get()
				if !ok {
					return nil
				}
				if isPDFDelim(c) || isPDFSpace(c) {
					pending = append(pending, c)
					break
				}
				if c == '#' {
					// Two bytes taken as hex digits, whatever they are.
					if _, ok = get(); !ok {
						return nil
					}
					if _, ok = get(); !ok {
						return nil
					}
				}
			}
		case c == '[' || c == ']' || c == '{' || c == '}' || c == '>' || c == ')':
			// Delimiters: not operands themselves ('>' and ')' alone are
			// errors the library reports).
		default:
			var kw []byte
			for ; ok && !isPDFDelim(c) && !isPDFSpace(c); c, ok = get() {
				if len(kw) < 16 {
					kw = append(kw, c)
				}
			}
			if ok {
				pending = append(pending, c)
			}
			switch {
			case isOperandWord(kw):
				if err := s.operand(); err != nil {
					return err
				}
			case interpreterWords[string(kw)]:
				// Interpret handles these itself and pops at most two.
			default:
				s.operands = 0 // an operator takes its operands
			}
			if !ok {
				return nil
			}
		}
	}
}

func (s *streamScanner) operand() error {
	if s.operands++; s.operands > maxOperands {
		return &budgetError{codeTooLarge, fmt.Sprintf("PDF too large: a content stream has more than %d operands in a row", maxOperands)}
	}
	return nil
}

// scanLiteral skips a literal string after its '('. It reports false at
// the end of the stream. An invalid escape ends the string the way the
// library's error does.
func scanLiteral(read func() (byte, bool)) bool {
	depth := 1
	var back []byte
	next := func() (byte, bool) {
		if n := len(back); n > 0 {
			c := back[n-1]
			back = back[:n-1]
			return c, true
		}
		return read()
	}
	for {
		c, ok := next()
		if !ok {
			return false
		}
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return true
			}
		case '\\':
			c, ok = next()
			if !ok {
				return false
			}
			switch c {
			case 'n', 'r', 'b', 't', 'f', '(', ')', '\\', '\r', '\n':
			case '0', '1', '2', '3', '4', '5', '6', '7':
				// Up to two more octal digits; a non-digit is given back.
				// A value over 255 is the library's error, which ends the
				// string.
				x := int(c - '0')
				for i := 0; i < 2; i++ {
					if c, ok = next(); !ok {
						return false
					}
					if c < '0' || c > '7' {
						back = append(back, c)
						break
					}
					x = x*8 + int(c-'0')
				}
				if x > 255 {
					return true
				}
			default:
				return true // the library errors out of the string here
			}
		}
	}
}

// scanHex skips a hex string after its '<': pairs of hex digits, white
// space between them, up to '>'. The library's tokenizer treats the end of
// the stream as white space and waits for the '>' forever.
func scanHex(get func() (byte, bool)) error {
	for {
		c, ok := get()
		if !ok {
			return errUnterminatedHex
		}
		if c == '>' {
			return nil
		}
		if isPDFSpace(c) {
			continue
		}
		var c2 byte
		for {
			if c2, ok = get(); !ok {
				return errUnterminatedHex
			}
			if !isPDFSpace(c2) {
				break
			}
		}
		if pdfUnhex(c) < 0 || pdfUnhex(c2) < 0 {
			return nil // the library errors out of the string here
		}
	}
}

// interpreterWords are the keywords pdf.Interpret runs itself instead of
// passing them to the caller, who clears the operand stack.
var interpreterWords = map[string]bool{"dict": true, "currentdict": true, "begin": true, "end": true, "def": true, "pop": true}

// isOperandWord reports whether a bare word is a value (number, boolean,
// null) rather than an operator.
func isOperandWord(w []byte) bool {
	switch string(w) {
	case "true", "false", "null":
		return true
	}
	if len(w) == 0 {
		return false
	}
	for _, c := range w {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+') {
			return false
		}
	}
	return true
}

func isPDFSpace(c byte) bool {
	switch c {
	case '\x00', '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isPDFDelim(c byte) bool {
	switch c {
	case '<', '>', '(', ')', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func pdfUnhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
