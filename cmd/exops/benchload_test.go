package main

import (
	neturl "net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// runSenders is the load loop of the intake benchmarks: senders goroutines
// call send(i) for i from 0 to n-1, each i once, with the benchmark's timer
// running only around them. It returns each call's latency and the wall
// time; the benchmark fails, naming the first error, if any call failed.
func runSenders(b *testing.B, n, senders int, send func(i int) error) ([]time.Duration, time.Duration) {
	b.Helper()
	lat := make([]time.Duration, n)
	var next, failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := send(i)
				lat[i] = time.Since(t)
				if err != nil && failed.Add(1) == 1 {
					first.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d calls failed; the first: %v", f, n, first.Load())
	}
	return lat, elapsed
}

// reportRate reports events per second and the p50 and p99 latency, the
// figures every intake benchmark gives (ns/op says nothing here).
func reportRate(b *testing.B, events int, elapsed time.Duration, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		b.Fatal("no latency measured")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// replicaStores opens n stores on one PostgreSQL schema of its own, as n
// replicas would; they are closed when the benchmark ends.
// EXOPS_BENCH_COMMITS sets the group transactions per replica (the store
// URL's commits=N), to compare settings on one machine.
func replicaStores(b *testing.B, n int) []cases.Store {
	b.Helper()
	url := postgresURL(b)
	if c := os.Getenv("EXOPS_BENCH_COMMITS"); c != "" {
		url += "&commits=" + neturl.QueryEscape(c)
	}
	var stores []cases.Store
	for i := 0; i < n; i++ {
		s, err := openStore(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	return stores
}
