package connectors_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exops/exops/connectors"
	"github.com/exops/exops/connectors/edi"
)

// ackFile is an 855 that rejects its one line: one event.
func ackFile(control string) string {
	pad := func(s string) string { return s + strings.Repeat(" ", 15-len(s)) }
	isa := strings.Join([]string{"ISA", "00", strings.Repeat(" ", 10), "00", strings.Repeat(" ", 10), "ZZ", pad("ACMESUPPLY"), "ZZ", pad("BUYER"),
		"261201", "0900", "U", "00401", control, "0", "P", ">"}, "*")
	return isa + "~\nGS*PR*ACMESUPPLY*BUYER*20261201*0900*1*X*004010~\nST*855*0001~\nBAK*00*AC*PO-D1*20261201~\n" +
		"PO1*1*5*EA*3**BP*SKU-9~\nACK*IR~\nSE*5*0001~\nGE*1*1~\nIEA*1*" + control + "~\n"
}

func TestDropFolderReadsEDIFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.x12"), []byte(ackFile("000000001")), 0o644)
	os.WriteFile(filepath.Join(dir, "b.EDI"), []byte(ackFile("000000001")), 0o644) // not *.edi: the glob is case-sensitive
	os.WriteFile(filepath.Join(dir, "c.edi"), []byte(ackFile("000000001")), 0o644) // the same interchange again
	os.WriteFile(filepath.Join(dir, "d.edi"), []byte("ISA*00*broken"), 0o644)
	in := &crashIngester{}
	cp := connectors.Checkpoint{Path: filepath.Join(t.TempDir(), "drop.checkpoint")}
	d := &connectors.DropFolder{Dir: dir, Source: "/erp/drop", Ingester: in, Checkpoint: cp,
		EDI: &edi.Reader{Ingester: in, Ledger: &edi.MemoryLedger{}}}
	res, err := d.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || res.Events != 2 || res.Duplicates != 1 {
		t.Errorf("result %+v", res)
	}
	if len(res.Rejected) != 1 || !strings.HasPrefix(res.Rejected[0], "d.edi: ") || !strings.Contains(res.Rejected[0], "truncated ISA") {
		t.Errorf("rejected %q", res.Rejected)
	}
	if len(in.order) != 1 || !strings.HasSuffix(in.order[0], ":line1") {
		t.Errorf("events %v", in.order)
	}
	for _, name := range []string{"a.x12", "c.edi", "d.edi"} {
		if _, err := os.Stat(filepath.Join(dir, "processed", name)); err != nil {
			t.Errorf("%s not moved to processed: %v", name, err)
		}
	}
	// Without an EDI reader the files stay where they are.
	os.WriteFile(filepath.Join(dir, "e.x12"), []byte(ackFile("000000002")), 0o644)
	d.EDI = nil
	res, err = d.Poll(context.Background())
	if err != nil || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "no EDI reader") {
		t.Errorf("no reader: %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "e.x12")); err != nil {
		t.Errorf("e.x12 moved: %v", err)
	}
}
