package connectors

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/exops/exops/cases"
)

// testNATS connects to the NATS server of EXOPS_TEST_NATS, skipping (or
// failing under CI) when it is not running.
func testNATS(t testing.TB) (string, jetstream.JetStream) {
	t.Helper()
	u := os.Getenv("EXOPS_TEST_NATS")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err == nil {
		var js jetstream.JetStream
		if js, err = jetstream.New(nc); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			if err == nil {
				t.Cleanup(nc.Close)
				return u, js
			}
		}
		nc.Close()
	}
	msg := fmt.Sprintf("NATS JetStream not reachable at %s (%v); start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log, or set EXOPS_TEST_NATS", u, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", nil
}

// natsEnv is one test's own streams and subjects, deleted at the end.
type natsEnv struct {
	js     jetstream.JetStream
	cfg    NATSConfig
	prefix string // unique first subject token
}

func newNATSEnv(t testing.TB) *natsEnv {
	u, js := testNATS(t)
	var b [6]byte
	rand.Read(b[:])
	id := "t" + hex.EncodeToString(b[:])
	e := &natsEnv{js: js, prefix: id, cfg: NATSConfig{
		URL:              u,
		Stream:           "EV_" + id,
		Subjects:         []string{id + ".events.>"},
		Consumer:         "exops-" + id,
		DeadLetter:       id + ".deadletter",
		DeadLetterStream: "DL_" + id,
		Sources: map[string][]string{
			id + ".events.erp.": {"/erp/sap-prod"},
			id + ".events.tms.": {"/tms/carrier-hub"},
		},
		NakDelay: 20 * time.Millisecond,
		AckWait:  5 * time.Second,
		Batch:    10,
	}}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, s := range []string{e.cfg.Stream, e.cfg.DeadLetterStream} {
			if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("delete stream %s: %v", s, err)
			}
		}
	})
	return e
}

// start runs an intake until the test ends.
func (e *natsEnv) start(t testing.TB, ing Ingester) *NATSIntake {
	t.Helper()
	in, err := NewNATSIntake(e.cfg, ing, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		in.Close()
	})
	deadline := time.Now().Add(5 * time.Second)
	for in.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("intake not ready: %v", in.Ready(context.Background()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return in
}

func (e *natsEnv) publish(t testing.TB, subject string, body []byte, msgID string) {
	t.Helper()
	m := nats.NewMsg(e.prefix + "." + subject)
	m.Data = body
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := e.js.PublishMsg(context.Background(), m, opts...); err != nil {
		t.Fatal(err)
	}
}

func natsEvent(t testing.TB, source, id string, mutate func(map[string]any)) []byte {
	t.Helper()
	et := cases.EventTypes()[0]
	ev := map[string]any{"specversion": "1.0", "id": id, "source": source, "type": et.Name,
		"time": "2026-11-27T09:30:00Z", "data": et.Example}
	if mutate != nil {
		mutate(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyedIngester is idempotent on (source, id) like the engine, refuses the
// same id with other content as a conflict, and can be told to fail.
type keyedIngester struct {
	mu         sync.Mutex
	stored     map[string]cases.Event
	calls      int
	deliveries map[string]int // per key, duplicates included
	duplicates int
	failNext   int   // this many calls fail with failErr
	failErr    error // default: a transient error
	delay      time.Duration
	seen       func(cases.Event)
}

func newKeyed() *keyedIngester {
	return &keyedIngester{stored: map[string]cases.Event{}, deliveries: map[string]int{}}
}

func (k *keyedIngester) Ingest(ctx context.Context, evs []cases.Event) ([]cases.IngestResult, error) {
	if k.delay > 0 {
		time.Sleep(k.delay)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	if k.failNext > 0 {
		k.failNext--
		if k.failErr != nil {
			return nil, k.failErr
		}
		return nil, cases.Errorf(cases.KindTransient, "store is down")
	}
	for _, ev := range evs {
		key := ev.Source + "\x00" + ev.ID
		if prev, ok := k.stored[key]; ok {
			a, _ := json.Marshal(prev)
			b, _ := json.Marshal(ev)
			if string(a) != string(b) {
				return nil, cases.Errorf(cases.KindConflict, "event %q from %q was already taken with other content", ev.ID, ev.Source)
			}
		}
	}
	res := make([]cases.IngestResult, len(evs))
	for i, ev := range evs {
		key := ev.Source + "\x00" + ev.ID
		k.deliveries[key]++
		if _, ok := k.stored[key]; ok {
			k.duplicates++
			res[i].Duplicate = true
		}
		k.stored[key] = ev
		res[i].Source, res[i].ID = ev.Source, ev.ID
		if k.seen != nil {
			k.seen(ev)
		}
	}
	return res, nil
}

func (k *keyedIngester) snapshot() (stored, duplicates, calls int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.stored), k.duplicates, k.calls
}

// waitFor polls cond; the tests wait for the intake's goroutine, not for a set time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settled says the consumer has nothing left to deliver or acknowledge.
func (e *natsEnv) settled(t testing.TB) bool {
	s, err := e.js.Stream(context.Background(), e.cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Consumer(context.Background(), e.cfg.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ci.NumPending == 0 && ci.NumAckPending == 0 && ci.NumRedelivered == 0
}

func (e *natsEnv) streamMsgs(t testing.TB) uint64 {
	s, err := e.js.Stream(context.Background(), e.cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return si.State.Msgs
}

func TestNATSConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	const src = "exops.events.erp.=/erp/sap-prod,exops.events.tms.=/tms/carrier-hub,exops.events.tms.=/tms/backup"
	cfg, ok, err := NATSConfigFromEnv(env("EXOPS_NATS_URL", "nats://u:secret@127.0.0.1:4222", "EXOPS_NATS_SOURCES", src))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if cfg.Stream != DefaultNATSStream || len(cfg.Subjects) != 1 || cfg.Subjects[0] != DefaultNATSSubjects ||
		cfg.Consumer != DefaultNATSConsumer || cfg.DeadLetter != DefaultNATSDeadLetter || cfg.Batch != DefaultNATSBatch || cfg.MaxMessage != DefaultMaxBody ||
		cfg.Workers != DefaultNATSWorkers {
		t.Errorf("defaults: %+v", cfg)
	}
	if got := cfg.Sources["exops.events.tms."]; len(got) != 2 {
		t.Errorf("a prefix named twice should allow both sources, got %v", got)
	}
	if _, ok, err := NATSConfigFromEnv(env()); ok || err != nil {
		t.Errorf("no URL: want off, got ok=%v err=%v", ok, err)
	}
	bad := []struct {
		name string
		env  []string
		want string
	}{
		{"no sources", []string{"EXOPS_NATS_URL", "nats://x"}, "EXOPS_NATS_SOURCES is empty"},
		{"source without prefix", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", "=/erp"}, "not subject-prefix=source"},
		{"wildcard prefix", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", "exops.*.erp=/erp"}, "wildcards"},
		{"dead letters read back", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_DEADLETTER", "exops.events.dead"}, "would read its own rejects"},
		{"dead letters under >", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_SUBJECTS", ">"}, "would read its own rejects"},
		{"batch not a number", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_BATCH", "many"}, "EXOPS_NATS_BATCH"},
		{"batch unbounded", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_BATCH", "100000"}, "over 1000"},
		{"workers unbounded", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_WORKERS", "1000"}, "over 64"},
		{"workers zero", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_WORKERS", "0"}, "EXOPS_NATS_WORKERS"},
		{"same stream", []string{"EXOPS_NATS_URL", "nats://x", "EXOPS_NATS_SOURCES", src, "EXOPS_NATS_DEADLETTER_STREAM", DefaultNATSStream}, "must not be the event stream"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NATSConfigFromEnv(env(tc.env...))
			if err == nil || !strings.Contains(err.Error(), tc.want) || cases.KindOf(err) != cases.KindInvalid {
				t.Errorf("want invalid %q, got %v", tc.want, err)
			}
		})
	}
	if got := redactURL("nats://u:secret@h:4222,nats://h2:4222"); strings.Contains(got, "secret") {
		t.Errorf("password in %q", got)
	}
}

func TestNATSSetupCreatesMissingAndLeavesExisting(t *testing.T) {
	ctx := context.Background()
	t.Run("missing", func(t *testing.T) {
		e := newNATSEnv(t)
		e.start(t, newKeyed())
		s, err := e.js.Stream(ctx, e.cfg.Stream)
		if err != nil {
			t.Fatalf("stream not created: %v", err)
		}
		si, _ := s.Info(ctx)
		if si.Config.Retention != jetstream.WorkQueuePolicy || si.Config.Subjects[0] != e.cfg.Subjects[0] || si.Config.Duplicates == 0 {
			t.Errorf("created stream: %+v", si.Config)
		}
		c, err := s.Consumer(ctx, e.cfg.Consumer)
		if err != nil {
			t.Fatalf("consumer not created: %v", err)
		}
		ci, _ := c.Info(ctx)
		if ci.Config.AckPolicy != jetstream.AckExplicitPolicy || ci.Config.Durable != e.cfg.Consumer {
			t.Errorf("created consumer: %+v", ci.Config)
		}
		if _, err := e.js.Stream(ctx, e.cfg.DeadLetterStream); err != nil {
			t.Errorf("dead-letter stream not created: %v", err)
		}
		// The stream exops creates bounds messages too: JetStream refuses
		// to store one over the limit, so the publisher learns of it.
		m := nats.NewMsg(e.prefix + ".events.erp.big")
		m.Data = make([]byte, DefaultMaxBody+1)
		if _, err := e.js.PublishMsg(ctx, m); err == nil {
			t.Errorf("stream took a message of %d bytes", len(m.Data))
		}
	})
	t.Run("present", func(t *testing.T) {
		e := newNATSEnv(t)
		owned := jetstream.StreamConfig{Name: e.cfg.Stream, Subjects: []string{e.prefix + ".events.>", e.prefix + ".other"},
			Retention: jetstream.LimitsPolicy, MaxAge: time.Hour, Storage: jetstream.MemoryStorage}
		s, err := e.js.CreateStream(ctx, owned)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: e.cfg.Consumer, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: 7 * time.Second, MaxDeliver: 50, Description: "the owner's"}); err != nil {
			t.Fatal(err)
		}
		ing := newKeyed()
		e.start(t, ing)
		si, _ := s.Info(ctx)
		if si.Config.Retention != jetstream.LimitsPolicy || si.Config.MaxAge != time.Hour || len(si.Config.Subjects) != 2 || si.Config.Storage != jetstream.MemoryStorage {
			t.Errorf("owner's stream changed: %+v", si.Config)
		}
		c, _ := s.Consumer(ctx, e.cfg.Consumer)
		ci, _ := c.Info(ctx)
		if ci.Config.AckWait != 7*time.Second || ci.Config.MaxDeliver != 50 || ci.Config.Description != "the owner's" {
			t.Errorf("owner's consumer changed: %+v", ci.Config)
		}
		// And it is used.
		e.publish(t, "events.erp.a", natsEvent(t, "/erp/sap-prod", "e1", nil), "")
		waitFor(t, "event through the owner's consumer", func() bool { n, _, _ := ing.snapshot(); return n == 1 })
	})
}

func TestNATSAckOnlyAfterCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"transient", cases.Errorf(cases.KindTransient, "store is down")},
		{"internal", errors.New("connection refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newNATSEnv(t)
			ing := newKeyed()
			ing.failNext, ing.failErr = 3, tc.err
			in := e.start(t, ing)
			e.publish(t, "events.erp.a", natsEvent(t, "/erp/sap-prod", "e1", nil), "")
			waitFor(t, "the event after the store comes back", func() bool { n, _, _ := ing.snapshot(); return n == 1 })
			waitFor(t, "the ack", func() bool { return e.settled(t) && e.streamMsgs(t) == 0 })
			_, _, calls := ing.snapshot()
			st := in.Stats()
			if calls != 4 || st.Retried != 3 || st.Redelivered != 3 || st.Consumed != 1 || st.DeadLettered != 0 {
				t.Errorf("calls=%d stats=%+v; want 3 failures redelivered, then one commit", calls, st)
			}
		})
	}
}

func TestNATSUnackedMessageSurvivesAReplicaThatStops(t *testing.T) {
	e := newNATSEnv(t)
	e.cfg.AckWait = time.Second
	// The first replica takes the message and stops while the store is down.
	first := newKeyed()
	first.failNext = 1 << 30
	in, err := NewNATSIntake(e.cfg, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	e.publish(t, "events.erp.a", natsEvent(t, "/erp/sap-prod", "e1", nil), "")
	waitFor(t, "the first replica's attempt", func() bool { _, _, c := first.snapshot(); return c > 0 })
	cancel()
	<-done
	in.Close()
	second := newKeyed()
	e.start(t, second)
	waitFor(t, "the second replica to commit it", func() bool { n, _, _ := second.snapshot(); return n == 1 })
}

func TestNATSDuplicateMsgIDDeliveredOnce(t *testing.T) {
	e := newNATSEnv(t)
	ing := newKeyed()
	in := e.start(t, ing)
	body := natsEvent(t, "/erp/sap-prod", "e1", nil)
	for range 3 {
		e.publish(t, "events.erp.a", body, "pub-1")
	}
	e.publish(t, "events.erp.a", natsEvent(t, "/erp/sap-prod", "marker", nil), "pub-2")
	waitFor(t, "both events", func() bool { n, _, _ := ing.snapshot(); return n == 2 })
	waitFor(t, "acks", func() bool { return e.settled(t) })
	ing.mu.Lock()
	got := ing.deliveries["/erp/sap-prod\x00e1"]
	ing.mu.Unlock()
	if got != 1 || in.Stats().Consumed != 2 {
		t.Errorf("one Nats-Msg-Id published 3 times was delivered %d times (stats %+v)", got, in.Stats())
	}
}

func TestNATSSameEventOtherMsgIDIsADuplicate(t *testing.T) {
	e := newNATSEnv(t)
	ing := newKeyed()
	in := e.start(t, ing)
	body := natsEvent(t, "/erp/sap-prod", "e1", nil)
	e.publish(t, "events.erp.a", body, "pub-1")
	e.publish(t, "events.erp.a", body, "pub-2")
	waitFor(t, "both deliveries", func() bool { return in.Stats().Consumed == 2 })
	stored, dups, _ := ing.snapshot()
	if stored != 1 || dups != 1 || in.Stats().DeadLettered != 0 {
		t.Errorf("stored=%d duplicates=%d stats=%+v; want one event and one duplicate answer", stored, dups, in.Stats())
	}
}

// deadLetters reads the dead-letter stream.
func (e *natsEnv) deadLetters(t testing.TB, want int) []jetstream.Msg {
	t.Helper()
	s, err := e.js.Stream(context.Background(), e.cfg.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(want+1, jetstream.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for m := range b.Messages() {
		out = append(out, m)
	}
	return out
}

// smallBoundLargeStream sets exops' message bound to 4 KiB and creates the
// stream as an owner would, taking larger messages than exops does: exops'
// own bound must hold on its own.
func (e *natsEnv) smallBoundLargeStream(t testing.TB) {
	t.Helper()
	e.cfg.MaxMessage = 4096
	if _, err := e.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: e.cfg.Stream,
		Subjects: e.cfg.Subjects, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
}

func TestNATSNeverValidGoesToDeadLetter(t *testing.T) {
	e := newNATSEnv(t)
	e.smallBoundLargeStream(t)
	ing := newKeyed()
	in := e.start(t, ing)
	big := natsEvent(t, "/erp/sap-prod", "big", func(m map[string]any) { m["subject"] = strings.Repeat("x", 5000) })
	poison := []struct {
		subject, why string
		body         []byte
	}{
		{"events.erp.a", "not a JSON object", []byte("{not json")},
		{"events.erp.b", "unknown event type", natsEvent(t, "/erp/sap-prod", "u1", func(m map[string]any) { m["type"] = "order.teleported" })},
		{"events.erp.c", "id: required", natsEvent(t, "/erp/sap-prod", "", func(m map[string]any) { delete(m, "id") })},
		{"events.erp.d", "over the 4096 byte limit", big},
		{"events.tms.a", `source "/erp/sap-prod" may not be sent on subject`, natsEvent(t, "/erp/sap-prod", "spoof", nil)},
		{"events.wms.a", "speaks for no source", natsEvent(t, "/wms/x", "w1", nil)},
	}
	for _, p := range poison {
		e.publish(t, p.subject, p.body, "")
	}
	e.publish(t, "events.erp.ok", natsEvent(t, "/erp/sap-prod", "good", nil), "")
	waitFor(t, "every message handled", func() bool {
		st := in.Stats()
		return st.DeadLettered == int64(len(poison)) && st.Consumed == 1
	})
	dl := e.deadLetters(t, len(poison))
	if len(dl) != len(poison) {
		t.Fatalf("%d dead letters, want %d", len(dl), len(poison))
	}
	for i, m := range dl {
		p := poison[i]
		reason := m.Headers().Get(HeaderDeadLetterReason)
		if !strings.Contains(reason, p.why) {
			t.Errorf("%s: reason %q, want it to say %q", p.subject, reason, p.why)
		}
		if m.Subject() != e.cfg.DeadLetter+"."+e.prefix+"."+p.subject || m.Headers().Get(HeaderDeadLetterSubject) != e.prefix+"."+p.subject {
			t.Errorf("dead letter subject %q / header %q", m.Subject(), m.Headers().Get(HeaderDeadLetterSubject))
		}
		if len(p.body) <= e.cfg.MaxMessage && string(m.Data()) != string(p.body) {
			t.Errorf("%s: dead letter does not carry the original body", p.subject)
		}
	}
	// Not redelivered: nothing is pending, the stream holds nothing, and
	// the ingester saw only the good event.
	waitFor(t, "terminated messages to leave", func() bool {
		ok := e.settled(t) && e.streamMsgs(t) == 0
		if !ok {
			s, _ := e.js.Stream(context.Background(), e.cfg.Stream)
			c, _ := s.Consumer(context.Background(), e.cfg.Consumer)
			ci, _ := c.Info(context.Background())
			t.Logf("pending %d ackpending %d redelivered %d msgs %d", ci.NumPending, ci.NumAckPending, ci.NumRedelivered, e.streamMsgs(t))
		}
		return ok
	})
	time.Sleep(3 * e.cfg.NakDelay)
	if stored, _, calls := ing.snapshot(); stored != 1 || calls != 1 || in.Stats().Redelivered != 0 {
		t.Errorf("stored=%d calls=%d stats=%+v", stored, calls, in.Stats())
	}
}

func TestNATSConflictInBatchDeadLettersOnlyTheOffender(t *testing.T) {
	e := newNATSEnv(t)
	ing := newKeyed()
	ing.stored["/erp/sap-prod\x00taken"] = cases.Event{ID: "taken", Source: "/erp/sap-prod", Type: "other"}
	// Publish before the intake starts, so one fetch takes them as one batch.
	ctx := context.Background()
	in, err := NewNATSIntake(e.cfg, ing, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	in.Close()
	for _, id := range []string{"a", "taken", "b"} {
		e.publish(t, "events.erp.x", natsEvent(t, "/erp/sap-prod", id, nil), "")
	}
	in = e.start(t, ing)
	waitFor(t, "all three handled", func() bool { st := in.Stats(); return st.Consumed == 2 && st.DeadLettered == 1 })
	dl := e.deadLetters(t, 1)
	if len(dl) != 1 || cases.KindConflict.String() != dl[0].Headers().Get(HeaderDeadLetterKind) {
		t.Fatalf("dead letters: %d %v", len(dl), dl)
	}
	if stored, _, _ := ing.snapshot(); stored != 3 { // the two new ones and the one taken before
		t.Errorf("stored %d", stored)
	}
}

func TestNATSReplicasShareTheConsumer(t *testing.T) {
	e := newNATSEnv(t)
	const total = 300
	var mu sync.Mutex
	by := map[string][]int{} // event id → replicas that received it
	mk := func(replica int) *keyedIngester {
		k := newKeyed()
		k.delay = time.Millisecond
		k.seen = func(ev cases.Event) { mu.Lock(); by[ev.ID] = append(by[ev.ID], replica); mu.Unlock() }
		return k
	}
	a, b := mk(0), mk(1)
	ia, ib := e.start(t, a), e.start(t, b)
	for i := range total {
		e.publish(t, "events.erp.x", natsEvent(t, "/erp/sap-prod", fmt.Sprintf("e%d", i), nil), "")
	}
	waitFor(t, "all events", func() bool { return ia.Stats().Consumed+ib.Stats().Consumed == total })
	mu.Lock()
	defer mu.Unlock()
	perReplica := [2]int{}
	for i := range total {
		got := by[fmt.Sprintf("e%d", i)]
		if len(got) != 1 {
			t.Errorf("e%d delivered to replicas %v", i, got)
			continue
		}
		perReplica[got[0]]++
	}
	if perReplica[0] == 0 || perReplica[1] == 0 {
		t.Errorf("one replica did all the work: %v", perReplica)
	}
	t.Logf("per replica: %v", perReplica)
}

func TestNATSStopHandsBackWhatItFetched(t *testing.T) {
	e := newNATSEnv(t)
	e.cfg.AckWait = 30 * time.Second // far beyond the wait below: only a hand-back can bring them back in time
	e.cfg.Batch = 5
	first := newKeyed()
	first.delay = 200 * time.Millisecond
	in, err := NewNATSIntake(e.cfg, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	const total = 20
	for i := range total {
		e.publish(t, "events.erp.x", natsEvent(t, "/erp/sap-prod", fmt.Sprintf("e%d", i), nil), "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, "the first replica to start a batch", func() bool { _, _, c := first.snapshot(); return c > 0 })
	cancel()
	<-done
	in.Close()
	got, _, _ := first.snapshot()
	if got == total {
		t.Skip("the first replica took everything before it stopped")
	}
	second := newKeyed()
	in2 := e.start(t, second)
	waitFor(t, "the rest, well before AckWait", func() bool { n, _, _ := second.snapshot(); return got+n == total })
	if in2.Stats().Consumed != int64(total-got) {
		t.Errorf("second replica acked %d, want %d", in2.Stats().Consumed, total-got)
	}
}

// A binary-mode CloudEvent (attributes in ce- headers, data as the body, the
// SDKs' default) is the same event as its structured form: the same checks,
// the same idempotency key, so a publisher that switches modes causes no
// conflict, and a spoofed source in a header is refused like one in a body.
func TestNATSBinaryContentMode(t *testing.T) {
	e := newNATSEnv(t)
	e.smallBoundLargeStream(t) // headers count toward exops' own bound
	ing := newKeyed()
	in := e.start(t, ing)
	et := cases.EventTypes()[0]
	data, err := json.Marshal(et.Example)
	if err != nil {
		t.Fatal(err)
	}
	binary := func(subject, source, id string, extra map[string]string) {
		t.Helper()
		m := nats.NewMsg(e.prefix + "." + subject)
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", id)
		m.Header.Set("ce-source", source)
		m.Header.Set("ce-type", et.Name)
		m.Header.Set("ce-time", "2026-11-27T09%3A30%3A00Z") // percent-encoded, as the binding allows
		m.Header.Set("Content-Type", "application/json")
		for k, v := range extra {
			m.Header.Set(k, v)
		}
		m.Data = data
		if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	binary("events.erp.orders", "/erp/sap-prod", "bin-1", nil)
	e.publish(t, "events.erp.orders", natsEvent(t, "/erp/sap-prod", "bin-1", nil), "") // the same event, structured
	binary("events.erp.orders", "/tms/carrier-hub", "bin-spoof", nil)
	binary("events.erp.orders", "/erp/sap-prod", "bin-mixed", map[string]string{"Content-Type": "application/cloudevents+json"})
	binary("events.erp.orders", "/erp/sap-prod", "bin-big", map[string]string{"ce-subject": strings.Repeat("x", 5000)})
	waitFor(t, "every message handled", func() bool {
		st := in.Stats()
		return st.DeadLettered == 3 && st.Consumed == 2
	})
	stored, dups, _ := ing.snapshot()
	if stored != 1 || dups != 1 {
		t.Fatalf("stored %d, duplicates %d; want the binary and structured forms to be one event", stored, dups)
	}
	ing.mu.Lock()
	ev := ing.stored["/erp/sap-prod\x00bin-1"]
	ing.mu.Unlock()
	if ev.Type != et.Name || !ev.Time.Equal(time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)) || len(ev.Data) == 0 {
		t.Errorf("binary event read as %+v", ev)
	}
	dl := e.deadLetters(t, 3)
	if len(dl) != 3 {
		t.Fatalf("%d dead letters", len(dl))
	}
	// Workers may dead-letter in any order.
	var reasons string
	for _, m := range dl {
		reasons += m.Headers().Get(HeaderDeadLetterReason) + " | "
	}
	for _, want := range []string{`source "/tms/carrier-hub" may not be sent`, "use one content mode", "with its headers, over the 4096 byte limit"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("dead letter reasons %q, want one to say %q", reasons, want)
		}
	}
}

// binaryEvent's refusals need no server.
func TestBinaryEventRefusals(t *testing.T) {
	base := func() nats.Header {
		return nats.Header{"Ce-Specversion": {"1.0"}, "ce-id": {"e1"}, "ce-source": {"/erp/sap-prod"},
			"ce-type": {cases.EventTypes()[0].Name}, "ce-time": {"2026-11-27T09:30:00Z"}}
	}
	body, _ := json.Marshal(cases.EventTypes()[0].Example)
	tests := []struct {
		name string
		edit func(nats.Header)
		body []byte
		want string // "" means accepted
	}{
		{"accepted, header names in any case", func(nats.Header) {}, body, ""},
		{"no ce- headers is structured", func(h nats.Header) {
			for k := range h {
				delete(h, k)
			}
		}, body, "structured"},
		{"attributes without specversion", func(h nats.Header) { delete(h, "Ce-Specversion") }, body, "without ce-specversion"},
		{"repeated attribute", func(h nats.Header) { h["ce-id"] = []string{"a", "b"} }, body, "more than once"},
		{"data in a header", func(h nats.Header) { h["ce-data"] = []string{"{}"} }, body, "is the message body"},
		{"bad percent-encoding", func(h nats.Header) { h["ce-source"] = []string{"/erp/%zz"} }, body, "percent-encoded"},
		{"body not JSON", func(nats.Header) {}, []byte("<xml/>"), "not JSON"},
		{"empty body", func(nats.Header) {}, nil, "not JSON"},
		{"data not an object", func(nats.Header) {}, []byte(`[1,2]`), "data"},
		{"not JSON data by its content type", func(h nats.Header) { h["Content-Type"] = []string{"text/csv"} }, body, "datacontenttype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := base()
			tt.edit(h)
			out, err := binaryEvent(h, tt.body)
			if tt.want == "structured" {
				if out != nil || err != nil {
					t.Fatalf("got %s, %v; want nil, nil", out, err)
				}
				return
			}
			if err == nil && out != nil {
				_, err = cases.ParseEvent(out)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err %v, want it to say %q", err, tt.want)
			}
		})
	}
}
