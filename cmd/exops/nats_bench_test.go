package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// BenchmarkReplicaIntakeNATS is BenchmarkReplicaIntake's comparison over
// NATS JetStream: bbolt with one replica, PostgreSQL with one and three
// replicas sharing the stream's durable consumer. Latency runs from the
// publish to the commit of the event in the store (when exops acknowledges
// it to JetStream). At most natsBenchInFlight events are published and not
// yet committed, so latency measures the path, not a backlog that grows
// with b.N.
//
//	go test ./cmd/exops -run '^$' -bench ReplicaIntakeNATS -benchtime 20000x -count 3
func BenchmarkReplicaIntakeNATS(b *testing.B) {
	b.Run("bbolt/replicas=1", func(b *testing.B) {
		store, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		natsBench(b, []cases.Store{store})
	})
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("postgres/replicas=%d", n), func(b *testing.B) {
			natsBench(b, replicaStores(b, n))
		})
	}
}

const (
	natsBenchPublishers = 16
	natsBenchInFlight   = 1600 // as many as 16 HTTP senders of 100-event batches hold
)

// committed tells when the engine committed each event it ingested.
type committed struct {
	connectors.Ingester
	done func(id string)
}

func (c committed) Ingest(ctx context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	res, err := c.Ingester.Ingest(ctx, evs)
	if err == nil {
		for _, ev := range evs {
			c.done(ev.ID)
		}
	}
	return res, err
}

func natsBench(b *testing.B, stores []cases.Store) {
	addr := natsURL(b)
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		b.Fatal(err)
	}
	var r [4]byte
	rand.Read(r[:])
	run := hex.EncodeToString(r[:])
	const source = "/erp/bench"
	cfg := connectors.NATSConfig{URL: addr, Stream: "BENCH_" + run, Subjects: []string{"bench." + run + ".>"},
		Consumer: "exops_" + run, DeadLetter: "bench." + run + "_dead", DeadLetterStream: "BENCH_" + run + "_DLQ",
		Sources: map[string][]string{"bench." + run + ".": {source}}, Batch: 100}
	nc, err := nats.Connect(addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		js.DeleteStream(context.Background(), cfg.Stream)
		js.DeleteStream(context.Background(), cfg.DeadLetterStream)
	}()

	var published sync.Map // event id → time of publish
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var done atomic.Int64
	all := make(chan struct{})
	window := make(chan struct{}, natsBenchInFlight)
	record := func(id string) {
		t0, ok := published.LoadAndDelete(id)
		if !ok {
			return // a redelivery of one already counted
		}
		<-window
		mu.Lock()
		lat = append(lat, time.Since(t0.(time.Time)))
		mu.Unlock()
		if done.Add(1) == int64(b.N) {
			close(all)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	var intakes []*connectors.NATSIntake
	defer func() {
		cancel()
		running.Wait()
		for _, in := range intakes {
			in.Close()
		}
	}()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, store := range stores {
		sim := connectors.NewSimulator(testClock)
		eng, err := cases.New(cases.Config{Store: store, Policy: pol, Agents: agents.NewRules(testClock), Enricher: sim, Executor: sim, Notifier: nopNotifier{}, Now: testClock})
		if err != nil {
			b.Fatal(err)
		}
		in, err := connectors.NewNATSIntake(cfg, committed{eng, record}, quiet)
		if err != nil {
			b.Fatal(err)
		}
		intakes = append(intakes, in)
		running.Add(1)
		go func() { defer running.Done(); in.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for in.Ready(ctx) != nil {
			if time.Now().After(deadline) {
				b.Fatalf("NATS intake not ready: %v", in.Ready(ctx))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	now := time.Now().UTC()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i], _ = json.Marshal(benchEvent(source, i+1, now))
	}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range natsBenchPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				id := fmt.Sprintf("bench-%d", i+1)
				window <- struct{}{}
				published.Store(id, time.Now())
				if _, err := js.Publish(ctx, "bench."+run+".erp", bodies[i], jetstream.WithMsgID(id)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d events committed", done.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportRate(b, b.N, elapsed, lat)
}
