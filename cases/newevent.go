package cases

import (
	"strings"
	"time"
)

// NewEvent checks an event that exops itself raises (from a supplier
// document's three-way match, from an EDI interchange) as ParseEvent checks
// one from the wire, and returns it with its data normalised the same way.
// Typed values go in; nothing is marshalled and parsed again.
func NewEvent(e Event) (Event, error) {
	if e.SpecVersion == "" {
		e.SpecVersion = "1.0"
	}
	if e.SpecVersion != "1.0" {
		return Event{}, Errorf(KindInvalid, "specversion: must be \"1.0\", got %q", e.SpecVersion)
	}
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"type", e.Type}} {
		if strings.TrimSpace(f.v) == "" {
			return Event{}, Errorf(KindInvalid, "%s: required", f.name)
		}
		if len(f.v) > MaxIDLen {
			return Event{}, Errorf(KindInvalid, "%s: longer than %d bytes", f.name, MaxIDLen)
		}
	}
	if len(e.Subject) > MaxStringField {
		return Event{}, Errorf(KindInvalid, "subject: longer than %d bytes", MaxStringField)
	}
	if e.Time.IsZero() {
		return Event{}, Errorf(KindInvalid, "time: required")
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	t, ok := eventTypes[e.Type]
	if !ok {
		return Event{}, Errorf(KindUnknownType, "type: unknown event type %q; known types: %s", e.Type, strings.Join(EventTypeNames(), ", "))
	}
	if e.Data == nil {
		return Event{}, Errorf(KindInvalid, "data: required")
	}
	data := make(map[string]any, len(e.Data))
	for k, v := range e.Data {
		if list, ok := v.([]string); ok { // the wire form of a list, as validate reads it
			items := make([]any, len(list))
			for i, s := range list {
				items[i] = s
			}
			v = items
		}
		data[k] = v
	}
	leaves := 0
	if err := DefaultDataLimits.checkData("data", data, 1, &leaves); err != nil {
		return Event{}, err
	}
	if err := t.validate(data); err != nil {
		return Event{}, err
	}
	e.Data = data
	return e, nil
}
