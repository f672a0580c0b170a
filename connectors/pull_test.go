package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

// crashIngester keeps what it accepted, answers repeats as the engine does
// (duplicate), and can fail the nth call, before or after committing, the
// way a crash would.
type crashIngester struct {
	mu          sync.Mutex
	seen        map[string]int // source/id → deliveries
	order       []string
	calls       int
	failCall    int  // 1-based call to fail; 0: never
	afterCommit bool // fail after keeping the events (crash before the checkpoint)
}

func (f *crashIngester) Ingest(_ context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	if f.calls == f.failCall && !f.afterCommit {
		return nil, errors.New("store closed: process dying")
	}
	var out []cases.IngestResult
	for _, ev := range evs {
		k := ev.Source + "/" + ev.ID
		f.seen[k]++
		if f.seen[k] == 1 {
			f.order = append(f.order, ev.ID)
		}
		out = append(out, cases.IngestResult{Source: ev.Source, ID: ev.ID, Duplicate: f.seen[k] > 1})
	}
	if f.calls == f.failCall {
		return nil, errors.New("process died after commit")
	}
	return out, nil
}

func writeDrop(t *testing.T, dir, name string, from, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,type,time,sku,warehouse,system_quantity,counted_quantity\n")
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "cnt-%04d,inventory.mismatch,2026-11-27T08:00:00Z,SKU-%d,DAL,100,%d\n", i, i, 90+i%10)
	}
	tmp := filepath.Join(dir, "."+name+".part")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestDropFolderAcrossRestart: a crash in the middle of a file, before or
// after the batch is committed, then a new puller on the same checkpoint:
// every row reaches the ingester, none is skipped, and at most the one
// batch in flight is delivered again (the intake answers it as duplicate).
func TestDropFolderAcrossRestart(t *testing.T) {
	tests := []struct {
		name        string
		afterCommit bool
		wantRedeliv int
	}{
		{"crash before the batch commits", false, 0},
		{"crash after commit, before the checkpoint", true, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDrop(t, dir, "2026-11-27-a.csv", 0, 35)
			writeDrop(t, dir, "2026-11-27-b.csv", 35, 5)
			os.WriteFile(filepath.Join(dir, "2026-11-27-c.csv.tmp"), []byte("id,type\nx,y\n"), 0o644) // still being written
			cp := connectors.Checkpoint{Path: filepath.Join(t.TempDir(), "drop.checkpoint")}
			in := &crashIngester{failCall: 3, afterCommit: tt.afterCommit}
			first := &connectors.DropFolder{Dir: dir, Source: "/wms/counts", Ingester: in, Checkpoint: cp, Batch: 10}
			res, err := first.Poll(context.Background())
			if err == nil {
				t.Fatal("the crash did not stop the poll")
			}
			if res.Files != 0 {
				t.Fatalf("files finished before the crash: %d", res.Files)
			}
			// Restart: a new puller, the same folder and checkpoint.
			second := &connectors.DropFolder{Dir: dir, Source: "/wms/counts", Ingester: in, Checkpoint: cp, Batch: 10}
			res, err = second.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 2 || len(res.Rejected) != 0 {
				t.Errorf("second poll: %+v", res)
			}
			if len(in.order) != 40 {
				t.Fatalf("%d distinct events ingested, want 40", len(in.order))
			}
			for i, id := range in.order {
				if want := fmt.Sprintf("cnt-%04d", i); id != want {
					t.Fatalf("event %d is %s, want %s (skipped or out of order)", i, id, want)
				}
			}
			redelivered := 0
			for _, n := range in.seen {
				redelivered += n - 1
			}
			if redelivered != tt.wantRedeliv || res.Duplicates != tt.wantRedeliv {
				t.Errorf("%d redelivered (%d answered duplicate), want %d", redelivered, res.Duplicates, tt.wantRedeliv)
			}
			// A third run finds nothing new; the files are in processed/.
			res, err = second.Poll(context.Background())
			if err != nil || res.Events != 0 || res.Files != 0 {
				t.Errorf("third poll: %+v, %v", res, err)
			}
			done, _ := filepath.Glob(filepath.Join(dir, "processed", "*.csv"))
			if len(done) != 2 {
				t.Errorf("processed: %v", done)
			}
		})
	}
}

func TestDropFolderRowsAndReuse(t *testing.T) {
	dir := t.TempDir()
	csv := "id,type,time,order,customer,sku,quantity,allocations,orders\n" +
		"a-1,order.allocation_conflict,2026-11-27,SO-1042,C-ACME,SKU-88,1200,DAL:700;ATL:500,\n" +
		"a-2,order.allocation_conflict,2026-11-27,SO-1043,C-ACME,SKU-88,ten,DAL:700,\n" +
		"a-3,order.teleported,2026-11-27,SO-1044,,,,,\n"
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte(csv), 0o644)
	cp := connectors.Checkpoint{Path: filepath.Join(dir, ".checkpoint")}
	in := &crashIngester{}
	d := &connectors.DropFolder{Dir: dir, Source: "/erp/drop", Ingester: in, Checkpoint: cp}
	res, err := d.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || len(res.Rejected) != 2 || !strings.Contains(res.Rejected[0], "x.csv line 3: quantity: want a number") ||
		!strings.Contains(res.Rejected[1], "x.csv line 4") {
		t.Errorf("result %+v", res)
	}
	// A new file under the same name is new content: read from row 0.
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("id,type,time,sku,warehouse,system_quantity,counted_quantity\nb-1,inventory.mismatch,2026-11-28,SKU-1,DAL,5,4\n"), 0o644)
	res, err = d.Poll(context.Background())
	if err != nil || res.Events != 1 {
		t.Errorf("reused name: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "processed", "x.csv.1")); err != nil {
		t.Errorf("second x.csv not kept apart in processed: %v", err)
	}
}

// TestHTTPPollerAcrossRestart reads the simulator's feed over HTTP in pages
// and resumes from the checkpoint after a crash.
func TestHTTPPollerAcrossRestart(t *testing.T) {
	sim, srv := simServer(t, nil)
	for i := range 25 {
		ev := caseEvent(t, "supplier.confirmation_missing", map[string]any{"po": fmt.Sprintf("PO-%d", 4000+i), "supplier": "Contoso", "expected_by": "2026-11-25"}).Event()
		ev.ID = fmt.Sprintf("conf-%03d", i)
		ev.Source = "/erp/feed"
		sim.AddFeedEvents(ev)
	}
	cp := connectors.Checkpoint{Path: filepath.Join(t.TempDir(), "erp.cursor")}
	client, err := connectors.NewClient(connectors.SystemConfig{Name: "ERP", BaseURL: srv.URL + "/erp", Token: "sim-token",
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	in := &crashIngester{failCall: 2}
	p := &connectors.HTTPPoller{Client: client, Ingester: in, Checkpoint: cp, Source: "/erp/feed", Limit: 10}
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("no crash")
	}
	if c, _ := cp.Load(); c != "10" {
		t.Fatalf("checkpoint after the crash = %q, want 10", c)
	}
	p2 := &connectors.HTTPPoller{Client: client, Ingester: in, Checkpoint: cp, Source: "/erp/feed", Limit: 10}
	res, err := p2.Poll(context.Background())
	if err != nil || res.Events != 15 || len(in.order) != 25 {
		t.Fatalf("after restart: %+v, %v; %d distinct", res, err, len(in.order))
	}
	res, err = p2.Poll(context.Background())
	if err != nil || res.Events != 0 {
		t.Errorf("nothing new: %+v, %v", res, err)
	}
	// An event claiming another source is refused, not ingested.
	ev := caseEvent(t, "supplier.confirmation_missing", map[string]any{"po": "PO-9", "supplier": "X", "expected_by": "2026-11-25"}).Event()
	ev.ID, ev.Source = "forged", "/crm/other"
	sim.AddFeedEvents(ev)
	res, _ = p2.Poll(context.Background())
	if res.Events != 0 || len(res.Rejected) != 1 {
		t.Errorf("forged source: %+v", res)
	}
}

func TestCheckpointAtomicReplace(t *testing.T) {
	cp := connectors.Checkpoint{Path: filepath.Join(t.TempDir(), "cp")}
	if v, err := cp.Load(); err != nil || v != "" {
		t.Fatalf("fresh: %q, %v", v, err)
	}
	for _, v := range []string{"1", "22", "333"} {
		if err := cp.Save(v); err != nil {
			t.Fatal(err)
		}
		if got, _ := cp.Load(); got != v {
			t.Errorf("Load = %q, want %q", got, v)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(cp.Path), ".cp.*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
