package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/exops/exops/cases"
)

var update = flag.Bool("update", false, "rewrite docs/events.md from the event type table")

// TestEventsDoc keeps docs/events.md true: it is rendered from the same table
// the intake validates against. Run "go test ./cmd/exops -run EventsDoc -update"
// after changing an event type.
func TestEventsDoc(t *testing.T) {
	got := renderEventsDoc()
	const path = "../../docs/events.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("docs/events.md is out of date with the event types; run go test ./cmd/exops -run EventsDoc -update")
	}
	// Every example must pass the intake's own validation.
	for _, et := range cases.EventTypes() {
		raw, _ := json.Marshal(exampleEvent(et))
		if _, err := cases.ParseEvent(raw); err != nil {
			t.Errorf("example of %s is refused: %v", et.Name, err)
		}
	}
}

func exampleEvent(et cases.EventType) map[string]any {
	return map[string]any{"specversion": "1.0", "id": "evt-0001", "source": "/erp/sap-prod", "type": et.Name,
		"time": "2026-11-27T09:30:00Z", "datacontenttype": "application/json", "data": et.Example}
}

func renderEventsDoc() string {
	var b strings.Builder
	b.WriteString(`# Event types

Systems of record send business events to ` + "`POST /v1/events`" + ` as CloudEvents 1.0 JSON in
structured mode (see [operations.md](operations.md) for signing, batches and answers).
Binary content mode (attributes in ` + "`ce-`" + ` headers, the CloudEvents SDKs' default for HTTP) is
refused with 415 and a message saying so: ` + "`X-Exops-Signature`" + ` signs the body, which in that
mode leaves the id and type outside the signature. With an SDK, choose structured encoding
(in Go, ` + "`cloudevents.WithEncodingStructured`" + `). Over NATS both modes are read (see
[connectors.md](connectors.md#nats-jetstream-intake)).
Every event needs ` + "`specversion` (\"1.0\"), `id`, `source`, `type`, `time` (RFC 3339) and `data`" + `
(a JSON object); ` + "`subject`" + ` is optional. ` + "`(source, id)`" + ` is the idempotency key: a retry is
answered as the first delivery was and changes nothing.

Dates in data are ` + "`YYYY-MM-DD`" + ` or RFC 3339. Numbers are JSON numbers. Strings are at most
2,048 bytes, lists at most 200 items. Fields not listed are kept but not read.

The **correlation keys** of an event decide which case it joins: an open case that
holds the same key, seen within the policy's correlation window, takes the event;
an event whose keys lead to two open cases merges them (see [cases.md](cases.md)).
An ` + "`order`" + ` key comes from the ` + "`order`" + ` field and from each item of ` + "`orders`" + `; an
` + "`sku@warehouse`" + ` key needs both ` + "`sku`" + ` and ` + "`warehouse`" + `.

This page is generated from the code (` + "`go test ./cmd/exops -run EventsDoc -update`" + `).

| type | family | default severity | correlation keys |
| --- | --- | --- | --- |
`)
	for _, et := range cases.EventTypes() {
		keys := make([]string, len(et.Keys))
		for i, k := range et.Keys {
			keys[i] = string(k)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", et.Name, et.Family, et.Severity, strings.Join(keys, ", "))
	}
	for _, et := range cases.EventTypes() {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s Family: `%s`.\n\n| field | type | required | meaning |\n| --- | --- | --- | --- |\n", et.Name, et.Doc, et.Family)
		for _, f := range et.Fields {
			req := ""
			if f.Required {
				req = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, f.Kind, req, f.Doc)
		}
		ex, _ := json.MarshalIndent(exampleEvent(et), "", "  ")
		fmt.Fprintf(&b, "\n```json\n%s\n```\n", ex)
	}
	return b.String()
}
