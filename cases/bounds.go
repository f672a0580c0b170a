package cases

import "fmt"

// DataLimits bound every part of an event's data, listed in its type's
// schema or not, so that no sender can make a case, the store or a reader
// of `cases show` grow without bound.
type DataLimits struct {
	MaxBytes   int // the data object's JSON encoding
	MaxDepth   int // objects and lists inside one another
	MaxString  int // bytes of any one string, keys included
	MaxKeys    int // keys of any one object
	MaxItems   int // items of any one list
	MaxStrings int // strings and numbers in all (every leaf value)
}

// DefaultDataLimits are the limits ParseEvent applies.
var DefaultDataLimits = DataLimits{
	MaxBytes: 64 << 10, MaxDepth: 32, MaxString: MaxStringField, MaxKeys: 256, MaxItems: MaxListItems, MaxStrings: 8192,
}

// check applies the limits to decoded data whose JSON is size bytes. An
// inline document (data.document.content_base64) is bounded by
// MaxDocumentBytes instead: it is read once and never kept on the case.
func (l DataLimits) check(data map[string]any, size int) error {
	if doc, ok := data["document"].(map[string]any); ok {
		if b64, ok := doc["content_base64"].(string); ok {
			if len(b64) > (MaxDocumentBytes+2)/3*4 {
				return Errorf(KindTooLarge, "data.document.content_base64: a document over %d MB", MaxDocumentBytes>>20)
			}
			size -= len(b64)
			rest := make(map[string]any, len(doc))
			for k, v := range doc {
				if k != "content_base64" {
					rest[k] = v
				}
			}
			data = withDocument(data, rest)
		}
	}
	if size > l.MaxBytes {
		return Errorf(KindTooLarge, "data: larger than %d bytes", l.MaxBytes)
	}
	leaves := 0
	return l.checkData("data", data, 1, &leaves)
}

// withDocument is data with its document replaced, for checking only.
func withDocument(data map[string]any, doc map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = v
	}
	out["document"] = doc
	return out
}

// scanDepth reports the deepest nesting of objects and lists in raw JSON
// without decoding it, so that a body of 10,000 brackets is refused before
// the decoder walks it.
func scanDepth(raw []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// checkData walks decoded data against the limits; path names where a
// limit was passed ("data.lines[3].note").
func (l DataLimits) checkData(path string, v any, depth int, leaves *int) error {
	if depth > l.MaxDepth {
		return Errorf(KindInvalid, "%s: nested deeper than %d levels", path, l.MaxDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) > l.MaxKeys {
			return Errorf(KindTooLarge, "%s: more than %d keys", path, l.MaxKeys)
		}
		for k, e := range x {
			if len(k) > l.MaxString {
				return Errorf(KindTooLarge, "%s: a key is longer than %d bytes", path, l.MaxString)
			}
			if err := l.checkData(path+"."+printableKey(k), e, depth+1, leaves); err != nil {
				return err
			}
		}
	case []any:
		if len(x) > l.MaxItems {
			return Errorf(KindTooLarge, "%s: more than %d items", path, l.MaxItems)
		}
		for i, e := range x {
			if err := l.checkData(fmt.Sprintf("%s[%d]", path, i), e, depth+1, leaves); err != nil {
				return err
			}
		}
	case string:
		if len(x) > l.MaxString {
			return Errorf(KindTooLarge, "%s: longer than %d bytes", path, l.MaxString)
		}
		*leaves++
	default:
		*leaves++
	}
	if *leaves > l.MaxStrings {
		return Errorf(KindTooLarge, "data: more than %d values", l.MaxStrings)
	}
	return nil
}

// printableKey shows a key in an error message: at most 40 bytes, control
// characters dropped.
func printableKey(k string) string {
	out := make([]rune, 0, len(k))
	for _, r := range k {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			continue
		}
		out = append(out, r)
		if len(string(out)) >= 40 {
			return string(out) + "…"
		}
	}
	return string(out)
}
