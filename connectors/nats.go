package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/exops/exops/cases"
)

// Defaults of the NATS JetStream intake.
const (
	DefaultNATSStream           = "EXOPS_EVENTS"
	DefaultNATSSubjects         = "exops.events.>"
	DefaultNATSConsumer         = "exops-intake"
	DefaultNATSDeadLetter       = "exops.deadletter"
	DefaultNATSDeadLetterStream = "EXOPS_DEADLETTER"
	DefaultNATSBatch            = 100
	DefaultNATSAckWait          = 30 * time.Second
	DefaultNATSNakDelay         = time.Second
	DefaultNATSMaxNakDelay      = time.Minute
	DefaultNATSLinger           = 2 * time.Millisecond
	DefaultNATSWorkers          = 4
	maxNATSBatch                = 1000
	maxNATSWorkers              = 64
	maxDeadLetterReason         = 1024
)

// Headers exops sets on a dead-lettered message, beside the original's own.
const (
	HeaderDeadLetterReason  = "Exops-Deadletter-Reason"
	HeaderDeadLetterKind    = "Exops-Deadletter-Kind"
	HeaderDeadLetterSubject = "Exops-Deadletter-Subject"
	HeaderDeadLetterSeq     = "Exops-Deadletter-Stream-Seq"
)

// NATSConfig says where the JetStream intake reads events and whom it trusts.
type NATSConfig struct {
	URL      string
	Creds    string   // a NATS credentials file (JWT + NKey), optional
	Stream   string   // the stream exops creates when missing
	Subjects []string // the stream's subjects and the consumer's filter
	Consumer string   // durable pull consumer shared by all replicas
	// DeadLetter is the subject prefix never-valid messages are published
	// under (<DeadLetter>.<original subject>), into DeadLetterStream. It must
	// lie outside Subjects, so the intake never reads its own rejects.
	DeadLetter       string
	DeadLetterStream string
	// Sources: subject prefix → the CloudEvents sources a message on a
	// subject with that prefix may carry. The longest matching prefix decides.
	Sources    map[string][]string
	MaxMessage int           // bytes per message; default DefaultMaxBody
	Batch      int           // messages fetched and ingested together
	AckWait    time.Duration // before JetStream redelivers an unacknowledged message
	NakDelay   time.Duration // first wait after a transient failure; doubles per delivery
	Linger     time.Duration // how long a batch waits for more messages once it has one
	// Workers is how many batches one replica ingests at once. One at a time
	// leaves the store idle while a batch is fetched and acknowledged;
	// several let the store's group commit take them in one transaction.
	Workers int
	Name    string // connection name NATS shows in its monitoring, e.g. the replica
}

// NATSConfigFromEnv reads the EXOPS_NATS_* variables. It returns ok=false
// when EXOPS_NATS_URL is empty: the NATS intake is off.
func NATSConfigFromEnv(getenv func(string) string) (cfg NATSConfig, ok bool, err error) {
	cfg.URL = strings.TrimSpace(getenv("EXOPS_NATS_URL"))
	if cfg.URL == "" {
		return NATSConfig{}, false, nil
	}
	or := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg.Creds = or("EXOPS_NATS_CREDS", "")
	cfg.Stream = or("EXOPS_NATS_STREAM", DefaultNATSStream)
	for _, s := range strings.Split(or("EXOPS_NATS_SUBJECTS", DefaultNATSSubjects), ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Subjects = append(cfg.Subjects, s)
		}
	}
	cfg.Consumer = or("EXOPS_NATS_CONSUMER", DefaultNATSConsumer)
	cfg.DeadLetter = or("EXOPS_NATS_DEADLETTER", DefaultNATSDeadLetter)
	cfg.DeadLetterStream = or("EXOPS_NATS_DEADLETTER_STREAM", DefaultNATSDeadLetterStream)
	if cfg.Sources, err = ParseNATSSources(getenv("EXOPS_NATS_SOURCES")); err != nil {
		return NATSConfig{}, false, err
	}
	ints := []struct {
		name string
		dst  *int
	}{{"EXOPS_NATS_MAX_MESSAGE", &cfg.MaxMessage}, {"EXOPS_NATS_BATCH", &cfg.Batch}, {"EXOPS_NATS_WORKERS", &cfg.Workers}}
	for _, f := range ints {
		if v := getenv(f.name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				return NATSConfig{}, false, cases.Errorf(cases.KindInvalid, "%s: must be a positive whole number, got %q", f.name, v)
			}
			*f.dst = n
		}
	}
	if v := getenv("EXOPS_NATS_ACK_WAIT"); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < time.Second {
			return NATSConfig{}, false, cases.Errorf(cases.KindInvalid, "EXOPS_NATS_ACK_WAIT: must be a duration of at least 1s, got %q", v)
		}
		cfg.AckWait = d
	}
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return NATSConfig{}, false, err
	}
	return cfg, true, nil
}

// ParseNATSSources reads 'prefix=source,prefix=source'. A prefix may be
// named more than once to allow several sources.
func ParseNATSSources(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		prefix, source, found := strings.Cut(item, "=")
		prefix, source = strings.TrimSpace(prefix), strings.TrimSpace(source)
		if !found || prefix == "" || source == "" {
			return nil, cases.Errorf(cases.KindInvalid, "EXOPS_NATS_SOURCES: %q is not subject-prefix=source", item)
		}
		if strings.ContainsAny(prefix, "*> \t") {
			return nil, cases.Errorf(cases.KindInvalid, "EXOPS_NATS_SOURCES: prefix %q must be a literal subject prefix, without wildcards or spaces", prefix)
		}
		if len(source) > cases.MaxIDLen {
			return nil, cases.Errorf(cases.KindInvalid, "EXOPS_NATS_SOURCES: source for %q is longer than %d bytes", prefix, cases.MaxIDLen)
		}
		out[prefix] = append(out[prefix], source)
	}
	if len(out) == 0 {
		return nil, cases.Errorf(cases.KindInvalid, "EXOPS_NATS_SOURCES is empty: no subject may speak for any source, so every event would be dead-lettered; set e.g. 'exops.events.erp.=/erp/sap-prod'")
	}
	return out, nil
}

func (c *NATSConfig) defaults() {
	if c.Stream == "" {
		c.Stream = DefaultNATSStream
	}
	if len(c.Subjects) == 0 {
		c.Subjects = []string{DefaultNATSSubjects}
	}
	if c.Consumer == "" {
		c.Consumer = DefaultNATSConsumer
	}
	if c.DeadLetter == "" {
		c.DeadLetter = DefaultNATSDeadLetter
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = DefaultNATSDeadLetterStream
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxBody
	}
	if c.Batch <= 0 {
		c.Batch = DefaultNATSBatch
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultNATSAckWait
	}
	if c.NakDelay <= 0 {
		c.NakDelay = DefaultNATSNakDelay
	}
	if c.Linger <= 0 {
		c.Linger = DefaultNATSLinger
	}
	if c.Workers <= 0 {
		c.Workers = DefaultNATSWorkers
	}
}

// Validate refuses a configuration that would loop, trust nobody or be
// unbounded.
func (c *NATSConfig) Validate() error {
	if c.URL == "" {
		return cases.Errorf(cases.KindInvalid, "NATS URL is empty")
	}
	if c.Batch > maxNATSBatch {
		return cases.Errorf(cases.KindInvalid, "NATS batch %d is over %d", c.Batch, maxNATSBatch)
	}
	if c.Workers > maxNATSWorkers {
		return cases.Errorf(cases.KindInvalid, "NATS workers %d is over %d", c.Workers, maxNATSWorkers)
	}
	if c.Stream == c.DeadLetterStream {
		return cases.Errorf(cases.KindInvalid, "the dead-letter stream must not be the event stream %q", c.Stream)
	}
	dl := c.DeadLetter + ".x"
	for _, s := range c.Subjects {
		if subjectMatches(s, dl) {
			return cases.Errorf(cases.KindInvalid, "dead-letter subject %q.> lies inside the intake's subjects %q: the intake would read its own rejects", c.DeadLetter, s)
		}
	}
	if len(c.Sources) == 0 {
		return cases.Errorf(cases.KindInvalid, "no subject prefix is trusted for any source (EXOPS_NATS_SOURCES)")
	}
	return nil
}

// subjectMatches says whether a NATS subject filter (with * and >) matches subject.
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(f) == len(s)
}

// allowedSources returns the sources a subject may speak for, by the
// longest matching prefix.
func (c *NATSConfig) allowedSources(subject string) ([]string, string) {
	best := ""
	for p := range c.Sources {
		if strings.HasPrefix(subject, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return nil, ""
	}
	return c.Sources[best], best
}

// NATSStats counts what the intake did since it started; the lead exports
// them as Prometheus counters.
type NATSStats struct {
	Consumed     int64 // messages whose events were committed (duplicates included) and acknowledged
	DeadLettered int64 // messages that can never be valid, published to the dead-letter subject
	Redelivered  int64 // messages JetStream delivered more than once
	Retried      int64 // transient failures: the message was NAKed to come back later
}

// NATSIntake consumes CloudEvents from a JetStream stream through a durable
// pull consumer that every replica shares, and hands them to the Ingester.
// A message is acknowledged only after its events are committed.
type NATSIntake struct {
	cfg   NATSConfig
	ing   Ingester
	log   *slog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream
	ready atomic.Bool // stream and consumer are set up
	mu    sync.Mutex
	cons  jetstream.Consumer

	consumed, deadLettered, redelivered, retried atomic.Int64
}

// NewNATSIntake connects to NATS. It does not fail when NATS is down: the
// connection keeps retrying, Run sets up the stream when it can, and Ready
// reports the outage to /readyz meanwhile.
func NewNATSIntake(cfg NATSConfig, ing Ingester, logger *slog.Logger) (*NATSIntake, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ing == nil {
		return nil, errors.New("NATS intake needs an ingester")
	}
	if logger == nil {
		logger = slog.Default()
	}
	n := &NATSIntake{cfg: cfg, ing: ing, log: logger.With("intake", "nats")}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: we closed it
				n.log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("NATS reconnected", "server", c.ConnectedUrlRedacted()) }),
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", redactURL(cfg.URL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream on %s: %w", redactURL(cfg.URL), err)
	}
	n.nc, n.js = nc, js
	return n, nil
}

// redactURL keeps passwords in a NATS URL out of logs and errors.
func redactURL(s string) string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			out = append(out, "<unparsable URL>")
			continue
		}
		out = append(out, u.Redacted())
	}
	return strings.Join(out, ",")
}

// Stats returns the counters.
func (n *NATSIntake) Stats() NATSStats {
	return NATSStats{Consumed: n.consumed.Load(), DeadLettered: n.deadLettered.Load(),
		Redelivered: n.redelivered.Load(), Retried: n.retried.Load()}
}

// Ready says whether NATS is reachable and the stream is set up, for /readyz.
func (n *NATSIntake) Ready(ctx context.Context) error {
	if !n.nc.IsConnected() {
		return cases.Errorf(cases.KindTransient, "NATS is not connected (%s)", n.nc.Status())
	}
	if !n.ready.Load() {
		return cases.Errorf(cases.KindTransient, "NATS stream %s is not set up yet", n.cfg.Stream)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := n.js.Stream(ctx, n.cfg.Stream); err != nil {
		return &cases.Error{Kind: cases.KindTransient, Msg: "NATS stream " + n.cfg.Stream, Err: err}
	}
	return nil
}

// Close closes the connection; call it after Run returned.
func (n *NATSIntake) Close() error {
	n.nc.Close()
	return nil
}

// Setup creates the event stream, the dead-letter stream and the durable
// consumer when they are missing. Existing ones are left as their owners
// configured them: exops never updates a stream or consumer it finds.
func (n *NATSIntake) Setup(ctx context.Context) error {
	if _, err := n.ensureStream(ctx, jetstream.StreamConfig{
		Name:        n.cfg.Stream,
		Description: "CloudEvents for exops (created by exops)",
		Subjects:    n.cfg.Subjects,
		Retention:   jetstream.WorkQueuePolicy, // exops is its one reader: acknowledged events leave the stream
		Storage:     jetstream.FileStorage,
		MaxMsgSize:  int32(n.cfg.MaxMessage),
		Duplicates:  2 * time.Minute, // the window in which a publisher's Nats-Msg-Id is de-duplicated
	}); err != nil {
		return err
	}
	if _, err := n.ensureStream(ctx, jetstream.StreamConfig{
		Name:        n.cfg.DeadLetterStream,
		Description: "events exops can never accept, with the reason in " + HeaderDeadLetterReason + " (created by exops)",
		Subjects:    []string{n.cfg.DeadLetter + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      30 * 24 * time.Hour,
	}); err != nil {
		return err
	}
	stream, err := n.js.Stream(ctx, n.cfg.Stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", n.cfg.Stream, err)
	}
	cons, err := stream.Consumer(ctx, n.cfg.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cc := jetstream.ConsumerConfig{
			Durable:       n.cfg.Consumer,
			Description:   "exops intake, shared by all replicas (created by exops)",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       n.cfg.AckWait,
			MaxDeliver:    -1, // a transient outage must never drop an event; never-valid ones are dead-lettered instead
			MaxAckPending: 10 * maxNATSBatch,
		}
		if len(n.cfg.Subjects) == 1 {
			cc.FilterSubject = n.cfg.Subjects[0]
		} else {
			cc.FilterSubjects = n.cfg.Subjects
		}
		// Another replica may create it at the same moment with the same
		// configuration; CreateConsumer accepts that.
		cons, err = stream.CreateConsumer(ctx, cc)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = stream.Consumer(ctx, n.cfg.Consumer)
		}
	}
	if err != nil {
		return fmt.Errorf("consumer %s on stream %s: %w", n.cfg.Consumer, n.cfg.Stream, err)
	}
	n.mu.Lock()
	n.cons = cons
	n.mu.Unlock()
	n.ready.Store(true)
	return nil
}

func (n *NATSIntake) ensureStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := n.js.Stream(ctx, cfg.Name)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %s: %w", cfg.Name, err)
	}
	s, err = n.js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another replica was first.
		s, err = n.js.Stream(ctx, cfg.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	n.log.Info("created NATS stream", "stream", cfg.Name, "subjects", cfg.Subjects)
	return s, nil
}

// Run sets up the stream (retrying while NATS is unreachable) and consumes
// until ctx is cancelled. The batch in hand when ctx ends is still committed
// and acknowledged; messages fetched but not started are handed back at once.
func (n *NATSIntake) Run(ctx context.Context) error {
	wait := time.Second
	for !n.ready.Load() {
		err := n.Setup(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		n.log.Warn("NATS intake not set up; retrying", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
	n.mu.Lock()
	cons := n.cons
	n.mu.Unlock()
	for ctx.Err() == nil {
		err := n.consume(ctx, cons)
		if ctx.Err() != nil {
			return nil
		}
		n.log.Warn("NATS consumer stopped; restarting", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (n *NATSIntake) consume(ctx context.Context, cons jetstream.Consumer) error {
	it, err := cons.Messages(
		jetstream.PullMaxMessagesWithBytesLimit(n.cfg.Batch, n.cfg.Batch*(n.cfg.MaxMessage+4096)),
	)
	if err != nil {
		return err
	}
	// Batches are ingested by up to Workers goroutines. On the way out the
	// ones in hand are finished first, then what was fetched and not
	// started is handed back.
	var inFlight sync.WaitGroup
	slots := make(chan struct{}, n.cfg.Workers)
	defer n.handBack(it)
	defer inFlight.Wait()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		batch := make([]jetstream.Msg, 1, n.cfg.Batch)
		batch[0] = m
		for len(batch) < n.cfg.Batch {
			m, err := it.Next(jetstream.NextMaxWait(n.cfg.Linger))
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			for _, m := range batch {
				_ = m.Nak() // not started: another replica takes it now
			}
			return ctx.Err()
		}
		inFlight.Add(1)
		go func() {
			defer func() { <-slots; inFlight.Done() }()
			// The batch in hand is finished even when shutdown begins: its
			// commit and acks should not be cut in half.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.AckWait)
			defer cancel()
			n.handle(hctx, batch)
		}()
	}
}

// handBack NAKs what was fetched but not started, so another replica takes
// it now rather than after AckWait.
func (n *NATSIntake) handBack(it jetstream.MessagesContext) {
	it.Drain()
	for {
		m, err := it.Next(jetstream.NextMaxWait(200 * time.Millisecond))
		if err != nil {
			return
		}
		_ = m.Nak()
	}
}

// pending is one message on its way through a batch.
type pending struct {
	msg jetstream.Msg
	ev  cases.Event
}

func (n *NATSIntake) handle(ctx context.Context, msgs []jetstream.Msg) {
	ok := make([]pending, 0, len(msgs))
	for _, m := range msgs {
		if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
			n.redelivered.Add(1)
		}
		ev, err := n.parse(m)
		if err != nil {
			n.deadLetter(ctx, m, err)
			continue
		}
		ok = append(ok, pending{m, ev})
	}
	if len(ok) == 0 {
		return
	}
	events := make([]cases.Event, len(ok))
	for i, p := range ok {
		events[i] = p.ev
	}
	_, err := n.ing.Ingest(ctx, events)
	switch {
	case err == nil:
		for _, p := range ok {
			n.ack(p.msg)
		}
	case !neverValid(err):
		n.log.Warn("ingest from NATS failed; will retry", "events", len(events), "err", err)
		for _, p := range ok {
			n.retry(p.msg)
		}
	case len(ok) == 1:
		n.deadLetter(ctx, ok[0].msg, err)
	default:
		// One event spoils the whole transaction: take them one by one so
		// only it is dead-lettered.
		for _, p := range ok {
			_, err := n.ing.Ingest(ctx, []cases.Event{p.ev})
			switch {
			case err == nil:
				n.ack(p.msg)
			case neverValid(err):
				n.deadLetter(ctx, p.msg, err)
			default:
				n.retry(p.msg)
			}
		}
	}
}

// neverValid says whether an error will be the same however often the
// message comes back.
func neverValid(err error) bool {
	switch cases.KindOf(err) {
	case cases.KindInvalid, cases.KindUnknownType, cases.KindConflict, cases.KindTooLarge, cases.KindDenied:
		return true
	}
	return false
}

// parse applies the HTTP intake's validation (cases.ParseEvent) and the
// subject's trust.
func (n *NATSIntake) parse(m jetstream.Msg) (cases.Event, error) {
	data := m.Data()
	// Headers count: in binary content mode they carry the attributes.
	size := len(data)
	for k, vs := range m.Headers() {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	if size > n.cfg.MaxMessage {
		return cases.Event{}, cases.Errorf(cases.KindTooLarge, "message is %d bytes with its headers, over the %d byte limit", size, n.cfg.MaxMessage)
	}
	if ct := m.Headers().Get("Content-Type"); strings.HasPrefix(ct, "application/cloudevents-batch") {
		return cases.Event{}, cases.Errorf(cases.KindInvalid, "batches are not accepted over NATS: publish one event per message")
	}
	if structured, err := binaryEvent(m.Headers(), data); err != nil {
		return cases.Event{}, err
	} else if structured != nil {
		data = structured
	}
	ev, err := cases.ParseEvent(data)
	if err != nil {
		return cases.Event{}, err
	}
	allowed, prefix := n.cfg.allowedSources(m.Subject())
	if prefix == "" {
		return cases.Event{}, cases.Errorf(cases.KindDenied, "subject %q speaks for no source: no EXOPS_NATS_SOURCES prefix matches it", m.Subject())
	}
	for _, s := range allowed {
		if s == ev.Source {
			return ev, nil
		}
	}
	return cases.Event{}, cases.Errorf(cases.KindDenied, "source %q may not be sent on subject %q (prefix %q speaks for %s)", ev.Source, m.Subject(), prefix, strings.Join(allowed, ", "))
}

// binaryEvent rebuilds the structured form of a CloudEvent sent in the NATS
// binding's binary content mode (attributes in ce- headers, percent-encoded;
// the data is the body; the CloudEvents SDKs' default), so that it passes the
// same validation as every other event. It returns nil when the message has
// no ce-specversion header. Over HTTP exops refuses this mode because its
// signature covers only the body; over NATS the subject, not a signature,
// says who sent the event, so headers are as trusted as the body.
func binaryEvent(h nats.Header, body []byte) ([]byte, error) {
	attrs := map[string]string{}
	contentType := ""
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		name := strings.ToLower(k)
		if name == "content-type" {
			contentType = vs[0]
			continue
		}
		attr, ok := strings.CutPrefix(name, "ce-")
		if !ok || attr == "" {
			continue
		}
		if attr == "data" || attr == "data_base64" {
			return nil, cases.Errorf(cases.KindInvalid, "header %s: the data of a binary-mode event is the message body", k)
		}
		if _, dup := attrs[attr]; dup || len(vs) > 1 {
			return nil, cases.Errorf(cases.KindInvalid, "header %s: given more than once", k)
		}
		v, err := url.PathUnescape(vs[0])
		if err != nil {
			return nil, cases.Errorf(cases.KindInvalid, "header %s: not percent-encoded as the NATS binding says", k)
		}
		attrs[attr] = v
	}
	if _, ok := attrs["specversion"]; !ok {
		if len(attrs) > 0 {
			return nil, cases.Errorf(cases.KindInvalid, "ce- headers without ce-specversion: send a binary-mode event with all its attributes, or a structured one")
		}
		return nil, nil
	}
	if strings.HasPrefix(contentType, "application/cloudevents") {
		return nil, cases.Errorf(cases.KindInvalid, "ce-specversion header on a structured event (Content-Type %s): use one content mode", contentType)
	}
	if _, ok := attrs["datacontenttype"]; !ok && contentType != "" {
		attrs["datacontenttype"] = contentType
	}
	env := make(map[string]any, len(attrs)+1)
	for k, v := range attrs {
		env[k] = v
	}
	// The body must be the JSON object ParseEvent wants as data; a body that
	// is not JSON is refused there as "data: must be a JSON object".
	if !json.Valid(body) {
		return nil, cases.Errorf(cases.KindInvalid, "data: the body of a binary-mode event is not JSON")
	}
	env["data"] = json.RawMessage(body)
	return json.Marshal(env)
}

func (n *NATSIntake) ack(m jetstream.Msg) {
	// A plain ack: should it be lost, the message comes back and (source, id)
	// answers it as a duplicate, so waiting for the server's confirmation
	// would only add a round trip.
	if err := m.Ack(); err != nil {
		n.log.Warn("ack NATS message", "subject", m.Subject(), "err", err)
		return
	}
	n.consumed.Add(1)
}

func (n *NATSIntake) retry(m jetstream.Msg) {
	delay := n.cfg.NakDelay
	if md, err := m.Metadata(); err == nil {
		for i := uint64(1); i < md.NumDelivered && delay < DefaultNATSMaxNakDelay; i++ {
			delay *= 2
		}
	}
	_ = m.NakWithDelay(min(delay, DefaultNATSMaxNakDelay))
	n.retried.Add(1)
}

// deadLetter publishes the message under the dead-letter prefix with the
// reason, and terminates it once JetStream has stored the copy. If the copy
// cannot be stored, the message is NAKed: it is never dropped.
func (n *NATSIntake) deadLetter(ctx context.Context, m jetstream.Msg, why error) {
	out := nats.NewMsg(n.cfg.DeadLetter + "." + m.Subject())
	for k, vs := range m.Headers() {
		// Nats-* headers steer JetStream (de-duplication, expectations); the
		// copy gets its own.
		if strings.HasPrefix(strings.ToLower(k), "nats-") {
			continue
		}
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	reason := headerSafe(why.Error())
	out.Header.Set(HeaderDeadLetterReason, reason)
	out.Header.Set(HeaderDeadLetterKind, cases.KindOf(why).String())
	out.Header.Set(HeaderDeadLetterSubject, m.Subject())
	var opts []jetstream.PublishOpt
	if md, err := m.Metadata(); err == nil {
		seq := strconv.FormatUint(md.Sequence.Stream, 10)
		out.Header.Set(HeaderDeadLetterSeq, seq)
		// A redelivery after a crash between publish and term stores no second copy.
		opts = append(opts, jetstream.WithMsgID(md.Stream+":"+seq))
	}
	data := m.Data()
	if len(data) > n.cfg.MaxMessage {
		data = data[:n.cfg.MaxMessage]
		out.Header.Set("Exops-Deadletter-Truncated", "true")
	}
	out.Data = data
	if _, err := n.js.PublishMsg(ctx, out, opts...); err != nil {
		n.log.Error("could not dead-letter NATS message; it will come back", "subject", m.Subject(), "reason", reason, "err", err)
		n.retry(m)
		return
	}
	n.log.Warn("dead-lettered NATS message", "subject", m.Subject(), "reason", reason)
	// Plain Term, not TermWithReason: servers before 2.10.4 ignore the
	// latter and would redeliver. The reason travels in the copy's header.
	if err := m.Term(); err != nil {
		n.log.Warn("terminate NATS message", "subject", m.Subject(), "err", err)
	}
	n.deadLettered.Add(1)
}

// headerSafe makes text fit one header line of bounded length.
func headerSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxDeadLetterReason {
		s = strings.ToValidUTF8(s[:maxDeadLetterReason], "")
	}
	return s
}
