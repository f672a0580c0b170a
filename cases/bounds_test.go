package cases_test

import (
	"encoding/base64"
	"encoding/json"
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

// FuzzParseEvent: whatever arrives at the intake, ParseEvent refuses it
// with a kinded error or returns an event that is within the bounds and
// reads back as itself, so what was stored is what was checked.
func FuzzParseEvent(f *testing.F) {
	for _, et := range cases.EventTypes() {
		raw, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "e1", "source": "/erp", "type": et.Name,
			"time": "2026-11-27T09:00:00Z", "data": et.Example})
		f.Add(raw)
	}
	f.Add([]byte(`{"specversion":"1.0","id":"e1","source":"/erp","type":"order.credit_hold","time":"2026-11-27T09:00:00Z","data":{"order":"SO-1","customer":"C-1","x":[[[[{"a":"\u202e"}]]]]}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"e1","source":"/erp","type":"order.credit_hold","time":"2026-11-27T09:00:00Z","data":{"order":"SO-1","customer":"C-1"}}{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			if cases.KindOf(err) != cases.KindInvalid && cases.KindOf(err) != cases.KindUnknownType && cases.KindOf(err) != cases.KindTooLarge {
				t.Fatalf("refusal of kind %v: %v", cases.KindOf(err), err)
			}
			return
		}
		if ev.ID == "" || ev.Source == "" || ev.Data == nil {
			t.Fatalf("accepted an event without id, source or data: %+v", ev)
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		ev2, err := cases.ParseEvent(again)
		if err != nil {
			t.Fatalf("accepted event refused when read back: %v\n%s", err, again)
		}
		b1, _ := json.Marshal(ev)
		b2, _ := json.Marshal(ev2)
		if string(b1) != string(b2) {
			t.Fatalf("event changes when read back:\n%s\n%s", b1, b2)
		}
	})
}
