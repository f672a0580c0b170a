package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// BenchmarkIntake measures events per second through the event API over
// loopback: HTTP, signature, validation, correlation, storage and audit, each
// request answered only after its commit. The engine's queue workers are off,
// so the figure is the intake path alone; enrichment, agents and Slack run
// behind it from the durable queue. b.N is the number of requests.
func BenchmarkIntake(b *testing.B) {
	for _, batch := range []int{1, 100} {
		for _, senders := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("batch=%d/senders=%d", batch, senders), func(b *testing.B) {
				benchIntake(b, batch, senders)
			})
		}
	}
}

type nopNotifier struct{}

func (nopNotifier) PostCard(context.Context, *cases.Case) (cases.SlackRef, error) {
	return cases.SlackRef{}, nil
}
func (nopNotifier) UpdateCard(context.Context, *cases.Case) error                { return nil }
func (nopNotifier) PostReply(context.Context, *cases.Case, string, string) error { return nil }
func (nopNotifier) FindReply(context.Context, *cases.Case, string) (bool, error) { return false, nil }
func (nopNotifier) PostMessage(context.Context, string, *cases.Case, string, string) error {
	return nil
}
func (nopNotifier) FindMessage(context.Context, string, *cases.Case, string) (bool, error) {
	return false, nil
}
func (nopNotifier) FindCard(context.Context, *cases.Case) (cases.SlackRef, bool, error) {
	return cases.SlackRef{}, false, nil
}

func benchIntake(b *testing.B, batch, senders int) {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	sendBench(b, []cases.Store{store}, batch, senders)
}

// sendBench serves the event API of one engine per store (replicas, when
// the stores share a database) and sends b.N requests of batch events
// from senders goroutines, round-robin across the replicas.
func sendBench(b *testing.B, stores []cases.Store, batch, senders int) {
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		b.Fatal(err)
	}
	const source, secret = "/erp/bench", "bench-secret"
	var urls []string
	for _, store := range stores {
		sim := connectors.NewSimulator(testClock)
		eng, err := cases.New(cases.Config{Store: store, Policy: pol, Agents: agents.NewRules(testClock), Enricher: sim, Executor: sim, Notifier: nopNotifier{}, Now: testClock})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(&connectors.Intake{Ingester: eng, Secrets: map[string]string{source: secret}})
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}

	// Bodies are made before the clock starts. Orders repeat across a pool,
	// so a share of events joins existing cases as in real traffic.
	bodies := make([][]byte, b.N)
	now := time.Now().UTC()
	n := 0
	for i := range bodies {
		evs := make([]map[string]any, batch)
		for j := range evs {
			n++
			evs[j] = benchEvent(source, n, now)
		}
		var body []byte
		if batch == 1 {
			body, _ = json.Marshal(evs[0])
		} else {
			body, _ = json.Marshal(evs)
		}
		bodies[i] = body
	}
	ctype := "application/cloudevents+json"
	if batch > 1 {
		ctype = "application/cloudevents-batch+json"
	}
	type tripCounter interface {
		RoundTrips() int64
		Statements() int64
	}
	var tripsBefore, stmtsBefore int64
	for _, st := range stores {
		if tc, ok := st.(tripCounter); ok {
			tripsBefore += tc.RoundTrips()
			stmtsBefore += tc.Statements()
		}
	}
	cpuBefore := sampleCPU()
	lat, elapsed := runSenders(b, b.N, senders, func(i int) error {
		req, _ := http.NewRequest(http.MethodPost, urls[i%len(urls)], bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set(connectors.HeaderSource, source)
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, bodies[i]))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) // read to the end, so the connection is reused
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	reportRate(b, b.N*batch, elapsed, lat)
	reportCPU(b, cpuBefore, sampleCPU(), b.N*batch)
	// Round trips to the database per event: the intake's cost on
	// PostgreSQL that a loaded machine's noise does not blur.
	var trips, stmts int64
	counted := false
	for _, st := range stores {
		if tc, ok := st.(tripCounter); ok {
			trips += tc.RoundTrips()
			stmts += tc.Statements()
			counted = true
		}
	}
	if counted {
		b.ReportMetric(float64(trips-tripsBefore)/float64(b.N*batch), "trips/event")
		b.ReportMetric(float64(stmts-stmtsBefore)/float64(b.N*batch), "statements/event")
	}
}

var benchTypes = []string{"order.allocation_conflict", "order.credit_hold", "shipment.delayed", "invoice.price_variance", "inventory.mismatch"}

// benchEvent makes event n. Every five events form one business situation:
// an order split across warehouses, a credit hold and a late inbound
// shipment on the same order (one composite case), an invoice variance on
// its PO, and a stock count on one of 2,000 SKUs (so counts of the same SKU
// join). Keys are shared the way they are in real traffic, not so densely
// that every case links to every other.
func benchEvent(source string, n int, now time.Time) map[string]any {
	g := n / len(benchTypes)
	order, customer := fmt.Sprintf("SO-%07d", g), fmt.Sprintf("C-%07d", g)
	typ := benchTypes[n%len(benchTypes)]
	var data map[string]any
	switch typ {
	case "order.allocation_conflict":
		data = map[string]any{"order": order, "customer": customer, "customer_tier": "standard", "order_value": 1000 + g%50000,
			"sku": fmt.Sprintf("SKU-%d", g%2000), "quantity": 100,
			"allocations": []map[string]any{{"warehouse": "DAL", "quantity": 60}, {"warehouse": "ATL", "quantity": 40}}}
	case "order.credit_hold":
		data = map[string]any{"order": order, "customer": customer, "order_value": 5000, "credit_limit": 20000, "balance": 18000}
	case "shipment.delayed":
		data = map[string]any{"shipment": fmt.Sprintf("ASN-%07d", g), "supplier": "Northwind", "original_eta": "2026-11-27", "new_eta": "2026-11-30",
			"orders": []string{order}}
	case "invoice.price_variance":
		data = map[string]any{"invoice": fmt.Sprintf("INV-%07d", g), "po": fmt.Sprintf("PO-%07d", g), "supplier": "Northwind", "sku": "SKU-12",
			"quantity": 100, "invoice_unit_price": 4.05, "po_unit_price": 4.0}
	default:
		data = map[string]any{"sku": fmt.Sprintf("SKU-%d", g%2000), "warehouse": "DAL", "system_quantity": 100, "counted_quantity": 97}
	}
	return map[string]any{"specversion": "1.0", "id": fmt.Sprintf("bench-%d", n), "source": source, "type": typ,
		"time": now.Format(time.RFC3339), "data": data}
}

// BenchmarkReplicaIntake compares the stores on one machine in one run:
// bbolt with one replica, PostgreSQL with one and with three replicas on
// one schema (batches of 100 events, 16 senders, round-robin over the
// replicas' event APIs).
func BenchmarkReplicaIntake(b *testing.B) {
	b.Run("bbolt/replicas=1", func(b *testing.B) { benchIntake(b, 100, 16) })
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("postgres/replicas=%d", n), func(b *testing.B) {
			sendBench(b, replicaStores(b, n), 100, 16)
		})
	}
}

// BenchmarkFsync measures the disk's own rate of small synced writes in the
// directory the intake benchmark uses, so intake figures can be read as
// events per fsync.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := f.WriteAt(buf, int64(i%256)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fsyncs/s")
}
