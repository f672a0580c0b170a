package cases

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DisplayText makes untrusted text (from events, documents, people) safe to
// show a person on a terminal, in Slack or in a spreadsheet. C0 and C1
// control characters (NUL, BEL, ESC and the rest; newline and tab only when
// keepLines is false) and the bidirectional embeddings, overrides and
// isolates (U+202A–U+202E, U+2066–U+2069) are shown as visible \u escapes,
// so they cannot move a terminal's cursor, ring its bell, recolour it, or
// make text read in another order than it is stored. Invalid UTF-8 bytes
// are shown as \x escapes. The stored data is never changed: this is for
// display edges only.
func DisplayText(s string, keepLines bool) string {
	if displaySafe(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r, keepLines):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func displaySafe(s string, keepLines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			goto slow
		}
	}
	return true
slow:
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || hidden(r, keepLines) {
			return false
		}
		i += size
	}
	return true
}

// hidden reports whether r must not reach a display as it is.
func hidden(r rune, keepLines bool) bool {
	switch {
	case keepLines && (r == '\n' || r == '\t'):
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
