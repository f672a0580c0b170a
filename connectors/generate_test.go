package connectors_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

// Every generated event passes the intake's validation, and a seed repeats.
func TestGenerateEventsAreValid(t *testing.T) {
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	evs := connectors.GenerateEvents(500, 7, "/sim/erp", start, "gen-")
	types := map[string]int{}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if _, err := cases.ParseEvent(b); err != nil {
			t.Fatalf("%s (%s) refused: %v", ev.ID, ev.Type, err)
		}
		types[ev.Type]++
	}
	if len(types) != 9 {
		t.Errorf("types generated: %v, want all 9", types)
	}
	if again := connectors.GenerateEvents(500, 7, "/sim/erp", start, "gen-"); !reflect.DeepEqual(again, evs) {
		t.Error("the same seed gave different events")
	}
}
