package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Event is a business event from a system of record: a CloudEvents 1.0
// structured-mode envelope whose data is a JSON object.
type Event struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	Time            time.Time      `json:"time"`
	Subject         string         `json:"subject,omitempty"`
	DataContentType string         `json:"datacontenttype,omitempty"`
	Data            map[string]any `json:"data"`
}

// Limits on untrusted event content, so one sender cannot make a case
// document grow without bound.
const (
	MaxIDLen       = 256
	MaxStringField = 2048
	MaxListItems   = 200
)

// FieldKind is the JSON shape a data field must have.
type FieldKind int

const (
	FieldString FieldKind = iota
	FieldNumber
	FieldDate // RFC 3339 date-time or YYYY-MM-DD
	FieldStrings
	FieldAllocations // [{"warehouse": string, "quantity": number}]
)

func (k FieldKind) String() string {
	return [...]string{"string", "number", "date", "list of strings", "list of {warehouse, quantity}"}[k]
}

// Field describes one data field of an event type.
type Field struct {
	Name     string
	Kind     FieldKind
	Required bool
	Doc      string
}

// KeyKind names a correlation key: events that share a key of the same kind
// and value within the correlation window belong to one case.
type KeyKind string

const (
	KeyOrder    KeyKind = "order"
	KeyCustomer KeyKind = "customer"
	KeyPO       KeyKind = "po"
	KeyShipment KeyKind = "shipment"
	KeyInvoice  KeyKind = "invoice"
	KeySKUAt    KeyKind = "sku@warehouse"
)

// EventType is what exops knows about one CloudEvents type.
type EventType struct {
	Name     string
	Family   Family
	Severity Severity // before the data raises it
	Doc      string
	Fields   []Field
	// Keys lists the data fields whose values are correlation keys. The
	// sku@warehouse key is taken from the "sku" and "warehouse" fields.
	Keys    []KeyKind
	Example map[string]any
}

var eventTypes = map[string]EventType{}

func register(t EventType) { eventTypes[t.Name] = t }

// LookupEventType returns the registered type with that name.
func LookupEventType(name string) (EventType, bool) {
	t, ok := eventTypes[name]
	return t, ok
}

// EventTypes lists the known event types sorted by name.
func EventTypes() []EventType {
	out := make([]EventType, 0, len(eventTypes))
	for _, t := range eventTypes {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EventTypeNames lists the known type names, sorted.
func EventTypeNames() []string {
	var names []string
	for _, t := range EventTypes() {
		names = append(names, t.Name)
	}
	return names
}

// ParseEvent decodes and validates one structured-mode CloudEvent. Errors are
// KindInvalid naming the field, or KindUnknownType listing the known types.
func ParseEvent(raw []byte) (Event, error) {
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&env); err != nil {
		return Event{}, Errorf(KindInvalid, "body is not a JSON object: %v", err)
	}
	if dec.More() {
		return Event{}, Errorf(KindInvalid, "body has data after the JSON object")
	}
	if env == nil {
		return Event{}, Errorf(KindInvalid, "event is null")
	}
	str := func(name string, required bool) (string, error) {
		v, ok := env[name]
		if !ok || string(v) == "null" {
			if required {
				return "", Errorf(KindInvalid, "%s: required", name)
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", Errorf(KindInvalid, "%s: must be a string", name)
		}
		if required && strings.TrimSpace(s) == "" {
			return "", Errorf(KindInvalid, "%s: must not be empty", name)
		}
		if len(s) > MaxStringField {
			return "", Errorf(KindInvalid, "%s: longer than %d bytes", name, MaxStringField)
		}
		return s, nil
	}
	var e Event
	var err error
	if e.SpecVersion, err = str("specversion", true); err != nil {
		return Event{}, err
	}
	if e.SpecVersion != "1.0" {
		return Event{}, Errorf(KindInvalid, "specversion: must be \"1.0\", got %q", e.SpecVersion)
	}
	if e.ID, err = str("id", true); err != nil {
		return Event{}, err
	}
	if len(e.ID) > MaxIDLen {
		return Event{}, Errorf(KindInvalid, "id: longer than %d bytes", MaxIDLen)
	}
	if e.Source, err = str("source", true); err != nil {
		return Event{}, err
	}
	if len(e.Source) > MaxIDLen {
		return Event{}, Errorf(KindInvalid, "source: longer than %d bytes", MaxIDLen)
	}
	if e.Type, err = str("type", true); err != nil {
		return Event{}, err
	}
	if e.Subject, err = str("subject", false); err != nil {
		return Event{}, err
	}
	if e.DataContentType, err = str("datacontenttype", false); err != nil {
		return Event{}, err
	}
	if e.DataContentType != "" && !strings.HasPrefix(e.DataContentType, "application/json") {
		return Event{}, Errorf(KindInvalid, "datacontenttype: only application/json data is accepted, got %q", e.DataContentType)
	}
	ts, err := str("time", true)
	if err != nil {
		return Event{}, err
	}
	if e.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return Event{}, Errorf(KindInvalid, "time: not an RFC 3339 timestamp: %q", ts)
	}
	e.Time = e.Time.UTC()
	t, ok := eventTypes[e.Type]
	if !ok {
		return Event{}, Errorf(KindUnknownType, "type: unknown event type %q; known types: %s", e.Type, strings.Join(EventTypeNames(), ", "))
	}
	rawData, ok := env["data"]
	if !ok || string(rawData) == "null" {
		return Event{}, Errorf(KindInvalid, "data: required")
	}
	lim := DefaultDataLimits
	if d := scanDepth(rawData); d > lim.MaxDepth {
		return Event{}, Errorf(KindInvalid, "data: nested deeper than %d levels", lim.MaxDepth)
	}
	dd := json.NewDecoder(bytes.NewReader(rawData))
	dd.UseNumber()
	if err := dd.Decode(&e.Data); err != nil || e.Data == nil {
		return Event{}, Errorf(KindInvalid, "data: must be a JSON object")
	}
	if err := lim.check(e.Data, len(rawData)); err != nil {
		return Event{}, err
	}
	if err := t.validate(e.Data); err != nil {
		return Event{}, err
	}
	return e, nil
}

func (t EventType) validate(data map[string]any) error {
	for _, f := range t.Fields {
		v, ok := data[f.Name]
		if !ok || v == nil {
			if f.Required {
				return Errorf(KindInvalid, "data.%s: required for %s", f.Name, t.Name)
			}
			continue
		}
		nv, err := normalizeField(f, v)
		if err != nil {
			return Errorf(KindInvalid, "data.%s: %v", f.Name, err)
		}
		data[f.Name] = nv
	}
	return nil
}

// normalizeField checks one value against its kind and returns it in the form
// the rest of exops reads (float64 numbers, []string lists, canonical dates).
func normalizeField(f Field, v any) (any, error) {
	switch f.Kind {
	case FieldString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		if f.Required && strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("must not be empty")
		}
		if len(s) > MaxStringField {
			return nil, fmt.Errorf("longer than %d bytes", MaxStringField)
		}
		return s, nil
	case FieldNumber:
		n, err := toNumber(v)
		if err != nil {
			return nil, err
		}
		return n, nil
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a date string")
		}
		d, err := ParseDate(s)
		if err != nil {
			return nil, err
		}
		return d.Format(time.RFC3339), nil
	case FieldStrings:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a list of strings")
		}
		if len(list) > MaxListItems {
			return nil, fmt.Errorf("more than %d items", MaxListItems)
		}
		out := make([]string, 0, len(list))
		for i, it := range list {
			s, ok := it.(string)
			if !ok || s == "" || len(s) > MaxStringField {
				return nil, fmt.Errorf("item %d must be a non-empty string", i)
			}
			out = append(out, s)
		}
		return out, nil
	case FieldAllocations:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a list of {warehouse, quantity}")
		}
		if len(list) > MaxListItems {
			return nil, fmt.Errorf("more than %d items", MaxListItems)
		}
		out := make([]Allocation, 0, len(list))
		for i, it := range list {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("item %d must be an object", i)
			}
			w, ok := m["warehouse"].(string)
			if !ok || w == "" {
				return nil, fmt.Errorf("item %d: warehouse must be a non-empty string", i)
			}
			q, err := toNumber(m["quantity"])
			if err != nil {
				return nil, fmt.Errorf("item %d: quantity %v", i, err)
			}
			out = append(out, Allocation{Warehouse: w, Quantity: q})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported field kind")
}

// Allocation is a quantity of an order line planned from one warehouse.
type Allocation struct {
	Warehouse string  `json:"warehouse"`
	Quantity  float64 `json:"quantity"`
}

func toNumber(v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("must be a number")
		}
		f = x
	case float64:
		f = n
	case int:
		f = float64(n)
	default:
		return 0, fmt.Errorf("must be a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("must be a finite number")
	}
	return f, nil
}

// ParseDate reads an RFC 3339 timestamp or a plain YYYY-MM-DD date (UTC).
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("not a date (want YYYY-MM-DD or RFC 3339): %q", s)
}

// Keys returns the event's correlation keys, such as "order:SO-1042".
func (e Event) Keys() []string {
	t := eventTypes[e.Type]
	var keys []string
	add := func(kind KeyKind, v string) {
		if v == "" {
			return
		}
		keys = append(keys, string(kind)+":"+v)
	}
	for _, k := range t.Keys {
		switch k {
		case KeySKUAt:
			sku, _ := e.Data["sku"].(string)
			wh, _ := e.Data["warehouse"].(string)
			if sku != "" && wh != "" {
				add(k, sku+"@"+wh)
			}
		case KeyOrder:
			add(k, e.Str("order"))
			for _, o := range e.Strs("orders") {
				add(k, o)
			}
		default:
			add(k, e.Str(string(k)))
		}
	}
	sort.Strings(keys)
	return dedupe(keys)
}

// Str returns a string data field, or "".
func (e Event) Str(name string) string { s, _ := e.Data[name].(string); return s }

// Num returns a numeric data field and whether it was present.
func (e Event) Num(name string) (float64, bool) {
	n, err := toNumber(e.Data[name])
	return n, err == nil
}

// Strs returns a list-of-strings data field.
func (e Event) Strs(name string) []string {
	switch v := e.Data[name].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
