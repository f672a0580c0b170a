package connectors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

const (
	erp       = "erp.test"
	erpSecret = "erp-s3cret"
	wms       = "wms.test"
	wmsSecret = "wms-s3cret"
)

// fakeIngester records every call and answers one result per event, or err.
type fakeIngester struct {
	mu    sync.Mutex
	calls [][]cases.Event
	err   error
}

func (f *fakeIngester) Ingest(_ context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, evs)
	if f.err != nil {
		return nil, f.err
	}
	out := make([]cases.IngestResult, len(evs))
	for i, ev := range evs {
		out[i] = cases.IngestResult{Source: ev.Source, ID: ev.ID, Case: fmt.Sprintf("EX-%06d", i+1), Outcome: "opened"}
	}
	return out, nil
}

func (f *fakeIngester) Calls() [][]cases.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]cases.Event(nil), f.calls...)
}

// envelope builds a CloudEvent as a map so tests can break any attribute.
func envelope(id, source, typ string, data any) map[string]any {
	return map[string]any{"specversion": "1.0", "id": id, "source": source, "type": typ,
		"time": "2026-11-26T09:00:00Z", "datacontenttype": "application/json", "data": data}
}

func creditHold(id, source string) map[string]any {
	return envelope(id, source, "order.credit_hold", map[string]any{"order": "SO-1042", "customer": "C-ACME", "order_value": 48250.0})
}

// without returns a copy of an envelope without attribute k, or with k set
// to v when v is given.
func without(ev map[string]any, k string, v ...any) map[string]any {
	out := map[string]any{}
	for x, y := range ev {
		out[x] = y
	}
	delete(out, k)
	if len(v) > 0 {
		out[k] = v[0]
	}
	return out
}

func withData(ev map[string]any, k string, v any) map[string]any {
	data := map[string]any{}
	for x, y := range ev["data"].(map[string]any) {
		data[x] = y
	}
	if v == nil {
		delete(data, k)
	} else {
		data[k] = v
	}
	return without(ev, "data", data)
}

func js(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// req is one request to the intake.
type req struct {
	method      string // default POST
	contentType string
	source      string // X-Exops-Source
	secret      string // signs with this; "" leaves the request unsigned
	sig         string // overrides the signature when set
	body        []byte
	chunked     bool // no Content-Length
	header      http.Header
}

func (r req) do(t *testing.T, in *connectors.Intake) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(bytes.NewReader(r.body)) // length unknown
	}
	m := r.method
	if m == "" {
		m = http.MethodPost
	}
	hr := httptest.NewRequest(m, "/v1/events", body)
	if r.chunked && hr.ContentLength != -1 {
		t.Fatalf("request has Content-Length %d, want unknown", hr.ContentLength)
	}
	for k, vs := range r.header {
		hr.Header[k] = vs
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	if r.source != "" {
		hr.Header.Set(connectors.HeaderSource, r.source)
	}
	switch {
	case r.sig != "":
		hr.Header.Set(connectors.HeaderSignature, r.sig)
	case r.secret != "":
		hr.Header.Set(connectors.HeaderSignature, connectors.Sign(r.secret, r.body))
	}
	w := httptest.NewRecorder()
	in.ServeHTTP(w, hr)
	return w
}

func signed(ct string, body []byte) req {
	return req{contentType: ct, source: erp, secret: erpSecret, body: body}
}

func newIntake(ing connectors.Ingester) *connectors.Intake {
	return &connectors.Intake{Ingester: ing, Secrets: map[string]string{erp: erpSecret, wms: wmsSecret, "blank.test": ""}}
}

type apiError struct {
	Error      string   `json:"error"`
	KnownTypes []string `json:"known_types"`
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder) apiError {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, w.Body)
	}
	if e.Error == "" {
		t.Errorf("error body has no message: %s", w.Body)
	}
	return e
}

const (
	ctEvent = "application/cloudevents+json"
	ctJSON  = "application/json"
	ctBatch = "application/cloudevents-batch+json"
)

func TestIntakeAccepts(t *testing.T) {
	one := func(t *testing.T) []byte { return js(t, creditHold("e1", erp)) }
	two := func(t *testing.T) []byte {
		return js(t, []any{creditHold("e1", erp), envelope("e2", erp, "inventory.mismatch",
			map[string]any{"sku": "SKU-88", "warehouse": "ATL", "system_quantity": 640, "counted_quantity": 590})})
	}
	tests := []struct {
		name string
		r    func(t *testing.T) req
		ids  []string
	}{
		{"structured event", func(t *testing.T) req { return signed(ctEvent, one(t)) }, []string{"e1"}},
		{"plain JSON", func(t *testing.T) req { return signed(ctJSON, one(t)) }, []string{"e1"}},
		{"content type with charset", func(t *testing.T) req { return signed(ctEvent+"; charset=utf-8", one(t)) }, []string{"e1"}},
		{"content type in capitals", func(t *testing.T) req { return signed("Application/JSON", one(t)) }, []string{"e1"}},
		{"batch of two", func(t *testing.T) req { return signed(ctBatch, two(t)) }, []string{"e1", "e2"}},
		{"no Content-Length", func(t *testing.T) req { r := signed(ctEvent, one(t)); r.chunked = true; return r }, []string{"e1"}},
		{"second source with its own secret", func(t *testing.T) req {
			return req{contentType: ctEvent, source: wms, secret: wmsSecret, body: js(t, creditHold("w1", wms))}
		}, []string{"w1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeIngester{}
			w := tt.r(t).do(t, newIntake(ing))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
			}
			calls := ing.Calls()
			if len(calls) != 1 {
				t.Fatalf("Ingest called %d times, want once", len(calls))
			}
			var ids []string
			for _, ev := range calls[0] {
				ids = append(ids, ev.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("ingested %v, want %v in order", ids, tt.ids)
			}
			var got struct {
				Results []cases.IngestResult `json:"results"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("response: %v: %s", err, w.Body)
			}
			if len(got.Results) != len(tt.ids) {
				t.Fatalf("%d results, want %d: %s", len(got.Results), len(tt.ids), w.Body)
			}
			for i, r := range got.Results {
				if r.ID != tt.ids[i] || r.Case == "" || r.Outcome != "opened" {
					t.Errorf("result %d = %+v", i, r)
				}
			}
		})
	}
}

// The events handed to the Ingester are validated and normalized.
func TestIntakeNormalizes(t *testing.T) {
	ing := &fakeIngester{}
	w := signed(ctEvent, js(t, creditHold("e1", erp))).do(t, newIntake(ing))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	ev := ing.Calls()[0][0]
	if v, ok := ev.Data["order_value"].(float64); !ok || v != 48250 {
		t.Errorf("order_value = %#v, want float64 48250", ev.Data["order_value"])
	}
	if ev.Source != erp || ev.Type != "order.credit_hold" || ev.Time.IsZero() {
		t.Errorf("event %+v", ev)
	}
}

func TestIntakeRefuses(t *testing.T) {
	ev := creditHold("e1", erp)
	big := js(t, withData(ev, "reason", strings.Repeat("x", 1500)))
	tests := []struct {
		name   string
		r      func(t *testing.T) req
		max    int64 // MaxBody; 0 default
		maxEv  int   // MaxEvents; 0 default
		status int
		want   string // in the error message
	}{
		// Method and media type.
		{"GET", func(t *testing.T) req { r := signed(ctEvent, nil); r.method = http.MethodGet; return r }, 0, 0, http.StatusMethodNotAllowed, "POST"},
		{"text/plain", func(t *testing.T) req { return signed("text/plain", js(t, ev)) }, 0, 0, http.StatusUnsupportedMediaType, "text/plain"},
		{"no content type", func(t *testing.T) req { return signed("", js(t, ev)) }, 0, 0, http.StatusUnsupportedMediaType, "Content-Type"},
		{"form post", func(t *testing.T) req { return signed("application/x-www-form-urlencoded", js(t, ev)) }, 0, 0, http.StatusUnsupportedMediaType, "Content-Type"},
		{"binary content mode", func(t *testing.T) req {
			r := signed("application/json", js(t, ev["data"]))
			r.header = http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"e1"}, "Ce-Source": {erp}, "Ce-Type": {"order.credit_hold"}}
			return r
		}, 0, 0, http.StatusUnsupportedMediaType, "structured mode"},
		// Authentication.
		{"unsigned", func(t *testing.T) req { r := signed(ctEvent, js(t, ev)); r.secret = ""; return r }, 0, 0, http.StatusUnauthorized, connectors.HeaderSignature},
		{"signed with another source's secret", func(t *testing.T) req { r := signed(ctEvent, js(t, ev)); r.secret = wmsSecret; return r }, 0, 0, http.StatusUnauthorized, connectors.HeaderSignature},
		{"signature of another body", func(t *testing.T) req {
			r := signed(ctEvent, js(t, ev))
			r.sig = connectors.Sign(erpSecret, js(t, creditHold("e2", erp)))
			return r
		}, 0, 0, http.StatusUnauthorized, connectors.HeaderSignature},
		{"bare hex signature", func(t *testing.T) req {
			r := signed(ctEvent, js(t, ev))
			r.sig = strings.TrimPrefix(connectors.Sign(erpSecret, r.body), "sha256=")
			return r
		}, 0, 0, http.StatusUnauthorized, connectors.HeaderSignature},
		{"unknown source", func(t *testing.T) req { r := signed(ctEvent, js(t, ev)); r.source = "crm.test"; return r }, 0, 0, http.StatusUnauthorized, connectors.HeaderSource},
		{"no source header", func(t *testing.T) req { r := signed(ctEvent, js(t, ev)); r.source = ""; return r }, 0, 0, http.StatusUnauthorized, connectors.HeaderSource},
		{"source with a blank secret", func(t *testing.T) req {
			b := js(t, creditHold("e1", "blank.test"))
			return req{contentType: ctEvent, source: "blank.test", sig: connectors.Sign("", b), body: b}
		}, 0, 0, http.StatusUnauthorized, connectors.HeaderSource},
		{"event source is not the signer", func(t *testing.T) req { return signed(ctEvent, js(t, creditHold("e1", wms))) }, 0, 0, http.StatusForbidden, `"wms.test"`},
		// Malformed events.
		{"not JSON", func(t *testing.T) req { return signed(ctEvent, []byte(`{"specversion":`)) }, 0, 0, http.StatusBadRequest, "JSON"},
		// Unbounded data, in fields the event type does not list.
		{"unlisted field over the data limit", func(t *testing.T) req {
			return signed(ctEvent, js(t, withData(ev, "note", strings.Repeat("x", 100_000))))
		}, 0, 0, http.StatusRequestEntityTooLarge, "data: larger than 65536 bytes"},
		{"unlisted field too deep", func(t *testing.T) req {
			var deep any = "x"
			for i := 0; i < 40; i++ {
				deep = []any{deep}
			}
			return signed(ctEvent, js(t, withData(ev, "deep", deep)))
		}, 0, 0, http.StatusBadRequest, "nested deeper than 32 levels"},
		{"JSON array as single event", func(t *testing.T) req { return signed(ctEvent, js(t, []any{ev})) }, 0, 0, http.StatusBadRequest, "JSON object"},
		{"trailing data", func(t *testing.T) req { return signed(ctEvent, append(js(t, ev), js(t, ev)...)) }, 0, 0, http.StatusBadRequest, "after the JSON object"},
		{"missing id", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "id"))) }, 0, 0, http.StatusBadRequest, "id: required"},
		{"missing specversion", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "specversion"))) }, 0, 0, http.StatusBadRequest, "specversion"},
		{"wrong specversion", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "specversion", "0.3"))) }, 0, 0, http.StatusBadRequest, "specversion"},
		{"missing time", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "time"))) }, 0, 0, http.StatusBadRequest, "time"},
		{"bad time", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "time", "yesterday"))) }, 0, 0, http.StatusBadRequest, "time"},
		{"missing source attribute", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "source"))) }, 0, 0, http.StatusBadRequest, "source: required"},
		{"missing data", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "data"))) }, 0, 0, http.StatusBadRequest, "data: required"},
		{"data not an object", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "data", "SO-1042"))) }, 0, 0, http.StatusBadRequest, "data: must be a JSON object"},
		{"xml data", func(t *testing.T) req {
			return signed(ctEvent, js(t, without(ev, "datacontenttype", "application/xml")))
		}, 0, 0, http.StatusBadRequest, "datacontenttype"},
		{"missing data field", func(t *testing.T) req { return signed(ctEvent, js(t, withData(ev, "order", nil))) }, 0, 0, http.StatusBadRequest, "data.order"},
		{"empty data field", func(t *testing.T) req { return signed(ctEvent, js(t, withData(ev, "order", " "))) }, 0, 0, http.StatusBadRequest, "data.order"},
		{"wrong data type", func(t *testing.T) req { return signed(ctEvent, js(t, withData(ev, "order_value", "lots"))) }, 0, 0, http.StatusBadRequest, "data.order_value"},
		{"number as string field", func(t *testing.T) req { return signed(ctEvent, js(t, withData(ev, "customer", 42))) }, 0, 0, http.StatusBadRequest, "data.customer"},
		{"unknown type", func(t *testing.T) req { return signed(ctEvent, js(t, without(ev, "type", "order.teleported"))) }, 0, 0, http.StatusUnprocessableEntity, "order.teleported"},
		// Size.
		{"body over MaxBody", func(t *testing.T) req { return signed(ctEvent, big) }, 1024, 0, http.StatusRequestEntityTooLarge, "1024 byte limit"},
		{"body over MaxBody, no Content-Length", func(t *testing.T) req { r := signed(ctEvent, big); r.chunked = true; return r }, 1024, 0, http.StatusRequestEntityTooLarge, "1024 byte limit"},
		{"body over the default 1 MiB", func(t *testing.T) req {
			r := signed(ctEvent, js(t, withData(ev, "reason", strings.Repeat("x", connectors.DefaultMaxBody))))
			r.chunked = true
			return r
		}, 0, 0, http.StatusRequestEntityTooLarge, "byte limit"},
		// Batches.
		{"batch over MaxEvents", func(t *testing.T) req {
			return signed(ctBatch, js(t, []any{creditHold("e1", erp), creditHold("e2", erp), creditHold("e3", erp)}))
		}, 0, 2, http.StatusRequestEntityTooLarge, "at most 2"},
		{"batch over the default 1000 events", func(t *testing.T) req {
			evs := make([]any, connectors.DefaultMaxEvents+1)
			for i := range evs {
				evs[i] = creditHold(fmt.Sprintf("e%d", i), erp)
			}
			return signed(ctBatch, js(t, evs))
		}, 0, 0, http.StatusRequestEntityTooLarge, "at most 1000"},
		{"empty batch", func(t *testing.T) req { return signed(ctBatch, []byte(`[]`)) }, 0, 0, http.StatusBadRequest, "empty"},
		{"null batch", func(t *testing.T) req { return signed(ctBatch, []byte(`null`)) }, 0, 0, http.StatusBadRequest, "empty"},
		{"batch that is one event", func(t *testing.T) req { return signed(ctBatch, js(t, ev)) }, 0, 0, http.StatusBadRequest, "JSON array"},
		{"batch event missing data field", func(t *testing.T) req {
			return signed(ctBatch, js(t, []any{ev, withData(creditHold("e2", erp), "order", nil)}))
		}, 0, 0, http.StatusBadRequest, "event[1].data.order"},
		{"batch event wrong data type", func(t *testing.T) req {
			return signed(ctBatch, js(t, []any{withData(ev, "order_value", true), creditHold("e2", erp)}))
		}, 0, 0, http.StatusBadRequest, "event[0].data.order_value"},
		{"batch event unknown type", func(t *testing.T) req {
			return signed(ctBatch, js(t, []any{ev, without(creditHold("e2", erp), "type", "x.y")}))
		}, 0, 0, http.StatusUnprocessableEntity, "event[1].type"},
		{"batch event from another source", func(t *testing.T) req {
			return signed(ctBatch, js(t, []any{ev, creditHold("e2", wms)}))
		}, 0, 0, http.StatusForbidden, "event[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeIngester{}
			in := newIntake(ing)
			in.MaxBody, in.MaxEvents = tt.max, tt.maxEv
			w := tt.r(t).do(t, in)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ra := w.Header().Get("Retry-After"); (w.Code == http.StatusServiceUnavailable) != (ra != "") {
				t.Errorf("status %d with Retry-After %q: a 503 says when to retry, others do not", w.Code, ra)
			}
			e := decodeError(t, w)
			if !strings.Contains(e.Error, tt.want) {
				t.Errorf("error %q does not mention %q", e.Error, tt.want)
			}
			if tt.status == http.StatusUnprocessableEntity {
				if !contains(e.KnownTypes, "order.credit_hold") || len(e.KnownTypes) != len(cases.EventTypeNames()) {
					t.Errorf("known_types = %v, want every known type", e.KnownTypes)
				}
			} else if e.KnownTypes != nil {
				t.Errorf("known_types on a %d: %v", w.Code, e.KnownTypes)
			}
			if tt.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
			if n := len(ing.Calls()); n != 0 {
				t.Errorf("Ingest called %d times on a refused request", n)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The body limit is inclusive: MaxBody bytes pass, one more is refused.
func TestIntakeMaxBodyBoundary(t *testing.T) {
	body := js(t, creditHold("e1", erp))
	tests := []struct {
		name    string
		max     int64
		chunked bool
		status  int
	}{
		{"exactly MaxBody", int64(len(body)), false, http.StatusOK},
		{"exactly MaxBody, no Content-Length", int64(len(body)), true, http.StatusOK},
		{"one byte over", int64(len(body)) - 1, false, http.StatusRequestEntityTooLarge},
		{"one byte over, no Content-Length", int64(len(body)) - 1, true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeIngester{}
			in := newIntake(ing)
			in.MaxBody = tt.max
			r := signed(ctEvent, body)
			r.chunked = tt.chunked
			if w := r.do(t, in); w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

// Over a real connection a chunked body with no Content-Length is cut off at
// the limit too.
func TestIntakeChunkedOverHTTP(t *testing.T) {
	ing := &fakeIngester{}
	in := newIntake(ing)
	in.MaxBody = 4096
	srv := httptest.NewServer(in)
	defer srv.Close()
	body := js(t, withData(creditHold("e1", erp), "reason", strings.Repeat("y", 8000)))
	hr, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", ctEvent)
	hr.Header.Set(connectors.HeaderSource, erp)
	hr.Header.Set(connectors.HeaderSignature, connectors.Sign(erpSecret, body))
	resp, err := srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("status %d, want 413: %s", resp.StatusCode, b)
	}
	if len(ing.Calls()) != 0 {
		t.Error("Ingest called")
	}
}

func TestIntakeIngestErrors(t *testing.T) {
	secretDetail := "bolt: write /var/lib/exops/exops.db: input/output error"
	tests := []struct {
		name   string
		err    error
		status int
		want   string
		leak   string
	}{
		{"conflict", cases.Errorf(cases.KindConflict, "event %q from %q was already taken with other content", "e1", erp), http.StatusConflict, "already taken", ""},
		{"invalid", cases.Errorf(cases.KindInvalid, "event e1 cannot be encoded"), http.StatusBadRequest, "cannot be encoded", ""},
		{"unknown type", cases.Errorf(cases.KindUnknownType, "event 0: unknown type"), http.StatusUnprocessableEntity, "unknown type", ""},
		{"store failure", errors.New(secretDetail), http.StatusServiceUnavailable, "try again", secretDetail},
		{"wrapped store failure", fmt.Errorf("ingest: %w", errors.New(secretDetail)), http.StatusServiceUnavailable, "try again", "/var/lib"},
		{"transient", &cases.Error{Kind: cases.KindTransient, Msg: "store busy", Err: errors.New(secretDetail)}, http.StatusServiceUnavailable, "try again", "/var/lib"},
		{"not found", &cases.Error{Kind: cases.KindNotFound, Msg: "case gone", Err: errors.New(secretDetail)}, http.StatusServiceUnavailable, "try again", "/var/lib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeIngester{err: tt.err}
			in := newIntake(ing)
			in.Logger = discardLogger()
			w := signed(ctEvent, js(t, creditHold("e1", erp))).do(t, in)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			e := decodeError(t, w)
			if !strings.Contains(e.Error, tt.want) {
				t.Errorf("error %q does not mention %q", e.Error, tt.want)
			}
			if tt.leak != "" && strings.Contains(w.Body.String(), tt.leak) {
				t.Errorf("response leaks internals: %s", w.Body)
			}
			if n := len(ing.Calls()); n != 1 {
				t.Errorf("Ingest called %d times, want once", n)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// failingBody hands out some bytes and then the error a dropped or stalled
// connection gives, which names both socket addresses.
type failingBody struct {
	data []byte
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	return 0, b.err
}

func TestIntakeReadErrorsDoNotLeak(t *testing.T) {
	addrErr := &net.OpError{Op: "read", Net: "tcp",
		Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		Addr:   &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 54321},
		Err:    os.ErrDeadlineExceeded}
	tests := []struct {
		name string
		err  error
	}{
		{"stalled client (i/o timeout)", addrErr},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Source: addrErr.Source, Addr: addrErr.Addr, Err: syscall.ECONNRESET}},
		{"truncated body", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeIngester{}
			in := newIntake(ing)
			var logs bytes.Buffer
			in.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			body := js(t, creditHold("e1", erp))
			req := httptest.NewRequest(http.MethodPost, "/events", &failingBody{data: body[:10], err: tt.err})
			req.Header.Set("Content-Type", ctEvent)
			req.Header.Set(connectors.HeaderSource, erp)
			req.Header.Set(connectors.HeaderSignature, connectors.Sign(erpSecret, body))
			w := httptest.NewRecorder()
			in.ServeHTTP(w, req)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			for _, leak := range []string{"127.0.0.1", "10.1.2.3", "54321", "tcp", tt.err.Error()} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("answer leaks %q: %s", leak, w.Body)
				}
			}
			if e := decodeError(t, w); !strings.Contains(e.Error, "request body") {
				t.Errorf("answer %q does not say the body could not be read", e.Error)
			}
			if !strings.Contains(logs.String(), tt.err.Error()) {
				t.Errorf("log does not keep the detail %q: %s", tt.err, logs.String())
			}
			if len(ing.calls) != 0 {
				t.Errorf("%d ingest calls for an unreadable body", len(ing.calls))
			}
		})
	}
}
