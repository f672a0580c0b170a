package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// x12File writes an interchange from the supplier's or the buyer's side;
// segments use * and ~.
func x12File(t *testing.T, name, from, to, control string, segs ...string) string {
	t.Helper()
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
	isa := strings.Join([]string{"ISA", "00", pad("", 10), "00", pad("", 10), "ZZ", pad(from, 15), "ZZ", pad(to, 15),
		"200106", "0900", "U", "00401", control, "0", "P", ">"}, "*") + "~\n"
	body := isa + "GS*PO*" + from + "*" + to + "*20200106*0900*1*X*004010~\n" + strings.Join(segs, "~\n") + "~\nGE*1*1~\nIEA*1*" + control + "~\n"
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEDIParseComparesAcknowledgmentWithOrder(t *testing.T) {
	po := x12File(t, "po.x12", "BUYER", "ACMESUPPLY", "000000101",
		"ST*850*0001", "BEG*00*SA*PO-77**20200106", "N1*VN*Acme Supply", "PO1*1*10*EA*2.5**BP*SKU-1", "DTM*002*20200115", "CTT*1", "SE*7*0001")
	ack := x12File(t, "ack.x12", "ACMESUPPLY", "BUYER", "000000900",
		"ST*855*0001", "BAK*00*AC*PO-77*20200107", "PO1*1*10*EA*2.75**BP*SKU-1", "ACK*IP*10*EA*068*20200115", "SE*5*0001")
	code, out, errOut := exops(t, "edi", "parse", po, ack)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON object per set (2), got %d:\n%s", len(lines), out)
	}
	var sets []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"standard", "version", "type", "control", "sender", "receiver", "document_number", "po_number", "lines", "errors", "events"} {
			if _, ok := m[k]; !ok {
				t.Errorf("key %q missing in %s", k, l)
			}
		}
		sets = append(sets, m)
	}
	if sets[0]["type"] != "850" || sets[0]["po_number"] != "PO-77" || sets[0]["lines"] != 1.0 || len(sets[0]["events"].([]any)) != 0 {
		t.Errorf("850: %v", sets[0])
	}
	evs := sets[1]["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("855 events: %v", evs)
	}
	ev := evs[0].(map[string]any)
	data := ev["data"].(map[string]any)
	if ev["type"] != "supplier.order_changed" || data["change"] != "price" || data["po_unit_price"] != 2.5 || data["confirmed_unit_price"] != 2.75 || data["supplier"] != "Acme Supply" {
		t.Errorf("855 event: %v", ev)
	}
}

func TestEDIParseOverdueOrder(t *testing.T) {
	po := x12File(t, "po.x12", "BUYER", "ACMESUPPLY", "000000101",
		"ST*850*0001", "BEG*00*SA*PO-78**20200106", "PO1*1*4*EA*10**BP*SKU-2", "SE*4*0001")
	code, out, errOut := exops(t, "edi", "parse", po)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Overdue []struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		} `json:"overdue"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || len(last.Overdue) != 1 {
		t.Fatalf("no overdue object (%v):\n%s", err, out)
	}
	if o := last.Overdue[0]; o.Type != "supplier.confirmation_missing" || o.Data["po"] != "PO-78" || o.Data["po_value"] != 40.0 ||
		!strings.HasPrefix(o.Data["expected_by"].(string), "2020-01-08") {
		t.Errorf("overdue event %+v", o)
	}
}

func TestEDIParseNothingReadable(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.edi")
	os.WriteFile(bad, []byte("ISA*00*trunc"), 0o644)
	code, out, errOut := exops(t, "edi", "parse", bad)
	if code != exitFail || out != "" || !strings.Contains(errOut, "truncated ISA") {
		t.Errorf("exit %d, out %q, err %q", code, out, errOut)
	}
	if code, _, _ := exops(t, "edi"); code != exitUsage {
		t.Errorf("edi without parse: exit %d", code)
	}
}

// A partner's text cannot reorder the operator's terminal, and the JSON
// still holds it exactly.
func TestEDIParseEscapesBidi(t *testing.T) {
	po := x12File(t, "po.x12", "BUYER", "ACMESUPPLY", "000000101",
		"ST*850*0001", "BEG*00*SA*PO-79**20200106", "N1*VN*Acme\u202eSupply", "PO1*1*4*EA*10**BP*SKU-2", "SE*5*0001")
	code, out, _ := exops(t, "edi", "parse", po)
	if code != exitOK || strings.Contains(out, "\u202e") || !strings.Contains(out, `Acme\u202eSupply`) {
		t.Fatalf("exit %d, output %q", code, out)
	}
	var m struct {
		Parties []struct{ Name string } `json:"parties"`
	}
	json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &m)
	if len(m.Parties) != 1 || m.Parties[0].Name != "Acme\u202eSupply" {
		t.Errorf("parties %+v", m.Parties)
	}
}
