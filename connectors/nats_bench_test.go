package connectors

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/exops/exops/cases"
)

// BenchmarkNATSIntake measures events per second and publish-to-commit
// latency through the NATS intake into a fake ingester, beside a baseline
// measured in the same run: raw JetStream publish and consume with an ack per
// message, no parsing and no trust check. At most benchInFlight events are
// published and not yet acknowledged, so latency measures the path and not a
// backlog that would grow with b.N.
//
//	go test ./connectors -run '^$' -bench NATSIntake -benchtime 3000x -count 3
func BenchmarkNATSIntake(b *testing.B) {
	b.Run("baseline=raw-jetstream", func(b *testing.B) { benchNATS(b, false) })
	b.Run("exops-intake", func(b *testing.B) { benchNATS(b, true) })
}

const (
	benchPublishers = 8
	benchInFlight   = 64
)

func benchNATS(b *testing.B, throughExops bool) {
	e := newNATSEnv(b)
	ctx := context.Background()
	var published sync.Map // event id → time.Time of publish
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var done atomic.Int64
	all := make(chan struct{})
	window := make(chan struct{}, benchInFlight)
	record := func(id string) {
		<-window
		if t0, ok := published.Load(id); ok {
			d := time.Since(t0.(time.Time))
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}
		if done.Add(1) == int64(b.N) {
			close(all)
		}
	}
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = natsEvent(b, "/erp/sap-prod", fmt.Sprintf("b%d", i), nil)
	}
	if throughExops {
		ing := newKeyed()
		ing.seen = func(ev cases.Event) { record(ev.ID) }
		e.start(b, ing)
	} else {
		s, err := e.js.CreateStream(ctx, jetstream.StreamConfig{Name: e.cfg.Stream, Subjects: e.cfg.Subjects,
			Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: e.cfg.Consumer, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			b.Fatal(err)
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			_ = m.Ack()
			record(m.Headers().Get("Bench-Id"))
		}, jetstream.PullMaxMessages(e.cfg.Batch))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cc.Stop)
	}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				id := fmt.Sprintf("b%d", i)
				m := nats.NewMsg(e.prefix + ".events.erp.bench")
				m.Data = bodies[i]
				m.Header.Set("Bench-Id", id)
				window <- struct{}{}
				published.Store(id, time.Now())
				if _, err := e.js.PublishMsg(ctx, m, jetstream.WithMsgID(id)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		b.Fatalf("only %d of %d events arrived", done.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
