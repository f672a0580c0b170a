package cases_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/exops/exops/cases"
)

// Every part of an event's data is bounded, the fields its type lists and
// the ones it does not; each refusal names the limit.
func TestEventDataBounds(t *testing.T) {
	base := func(extra string) []byte {
		return []byte(`{"specversion":"1.0","id":"e1","source":"/erp","type":"order.credit_hold","time":"2026-11-27T09:00:00Z",` +
			`"data":{"order":"SO-1","customer":"C-1"` + extra + `}}`)
	}
	nested := func(n int) string { return strings.Repeat(`[`, n) + strings.Repeat(`]`, n) }
	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":1`, i)
		}
		return b.String() + "}"
	}
	items := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat(`1,`, n), ",") + "]" }
	pdf := base64.StdEncoding.EncodeToString(make([]byte, 300<<10))
	tests := []struct {
		name  string
		extra string
		kind  cases.Kind // 0: accepted
		says  string
	}{
		{"plain", ``, 0, ""},
		{"a huge string in an unlisted field", `,"note":"` + strings.Repeat("x", 1_000_000) + `"`, cases.KindTooLarge, "data: larger than 65536 bytes"},
		{"a long string in an unlisted field", `,"note":"` + strings.Repeat("x", 3000) + `"`, cases.KindTooLarge, "data.note: longer than 2048 bytes"},
		{"9,000 levels of nesting", `,"deep":` + nested(9000), cases.KindInvalid, "nested deeper than 32 levels"},
		{"33 levels", `,"deep":` + nested(32), cases.KindInvalid, "nested deeper than 32 levels"},
		{"31 levels", `,"deep":` + nested(30), 0, ""},
		{"too many keys", `,"m":` + keys(257), cases.KindTooLarge, "data.m: more than 256 keys"},
		{"too many items", `,"l":` + items(201), cases.KindTooLarge, "data.l: more than 200 items"},
		{"over 64 KiB in all", strings.Repeat(`,"x`+strings.Repeat("y", 20)+`":"`+strings.Repeat("z", 2000)+`"`, 40), cases.KindTooLarge, "data: larger than 65536 bytes"},
		{"a long key", `,"` + strings.Repeat("k", 3000) + `":1`, cases.KindTooLarge, "a key is longer than 2048 bytes"},
		{"an inline document counts against its own limit", `,"document":{"name":"a.pdf","content_base64":"` + pdf + `"}`, 0, ""},
		{"a document's other fields are still bounded", `,"document":{"name":"` + strings.Repeat("n", 3000) + `","content_base64":"` + pdf + `"}`, cases.KindTooLarge, "data.document.name: longer than 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cases.ParseEvent(base(tt.extra))
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if cases.KindOf(err) != tt.kind || !strings.Contains(fmt.Sprint(err), tt.says) {
				t.Fatalf("got %v (kind %v), want kind %v saying %q", err, cases.KindOf(err), tt.kind, tt.says)
			}
		})
	}
}

// Events exops raises itself are bounded the same way.
func TestNewEventIsBounded(t *testing.T) {
	_, err := cases.NewEvent(cases.Event{ID: "x", Source: "/exops/documents", Type: "order.credit_hold", Time: t0,
		Data: map[string]any{"order": "SO-1", "customer": "C-1", "note": strings.Repeat("x", 5000)}})
	if cases.KindOf(err) != cases.KindTooLarge {
		t.Fatalf("got %v", err)
	}
}
