// Package connectors links exops to the systems of record: the signed event
// webhook, lookups for enrichment, action execution, and the built-in
// simulator of ERP, WMS, TMS and CRM.
package connectors

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"

	"github.com/exops/exops/cases"
)

// Header names of the event API. A sender signs the raw body with its own
// shared secret: X-Exops-Signature: sha256=<hex HMAC-SHA256(secret, body)>,
// and names itself in X-Exops-Source (the CloudEvents source of its events).
const (
	HeaderSource    = "X-Exops-Source"
	HeaderSignature = "X-Exops-Signature"
)

// Defaults for the intake's bounds.
const (
	DefaultMaxBody   = 1 << 20
	DefaultMaxEvents = 1000
)

// Ingester takes validated events and answers after they are committed.
type Ingester interface {
	Ingest(ctx context.Context, events []cases.Event) ([]cases.IngestResult, error)
}

// Intake is the HTTP handler for POST /v1/events.
type Intake struct {
	Ingester  Ingester
	Secrets   map[string]string // CloudEvents source → shared secret
	MaxBody   int64             // default 1 MiB
	MaxEvents int               // per batch, default 1000
	Logger    *slog.Logger
}

// Sign returns the X-Exops-Signature value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type apiError struct {
	Error      string   `json:"error"`
	KnownTypes []string `json:"known_types,omitempty"`
}

type apiResult struct {
	Results []cases.IngestResult `json:"results"`
}

func (in *Intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: "use POST"})
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	batch := false
	switch {
	case r.Header.Get("Ce-Specversion") != "":
		// CloudEvents' binary content mode (the SDKs' default for HTTP)
		// carries the attributes in ce- headers, which X-Exops-Signature
		// does not cover: a captured request could be sent again under
		// another id or type. Say so rather than read the data as an
		// envelope and answer "no specversion".
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "CloudEvents binary content mode (ce- headers) is not accepted: send the event in structured mode, Content-Type application/cloudevents+json, so that X-Exops-Signature covers its attributes"})
		return
	case err != nil:
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "Content-Type must be application/cloudevents+json, application/json or application/cloudevents-batch+json"})
		return
	case mt == "application/cloudevents-batch+json":
		batch = true
	case mt == "application/cloudevents+json" || mt == "application/json":
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: fmt.Sprintf("Content-Type %q is not accepted: use application/cloudevents+json, application/json or application/cloudevents-batch+json", mt)})
		return
	}
	body, source, ok := readSigned(w, r, in.Secrets, in.MaxBody, DefaultMaxBody, in.logger())
	if !ok {
		return
	}
	events, status, perr := in.parse(body, batch)
	if perr != nil {
		ae := apiError{Error: perr.Error()}
		if status == http.StatusUnprocessableEntity {
			ae.KnownTypes = cases.EventTypeNames()
		}
		writeJSON(w, status, ae)
		return
	}
	for i, ev := range events {
		if ev.Source != source {
			writeJSON(w, http.StatusForbidden, apiError{Error: fmt.Sprintf("%s source %q does not match %s %q", where(i, batch), ev.Source, HeaderSource, source)})
			return
		}
	}
	results, err := in.Ingester.Ingest(r.Context(), events)
	if err != nil {
		switch cases.KindOf(err) {
		case cases.KindConflict:
			writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
		case cases.KindInvalid:
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		case cases.KindUnknownType:
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error(), KnownTypes: cases.EventTypeNames()})
		default:
			in.logger().Error("ingest events", "source", source, "events", len(events), "err", err)
			// Nothing was stored: the sender may retry, with the same ids.
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "events not stored; try again"})
		}
		return
	}
	writeJSON(w, http.StatusOK, apiResult{Results: results})
}

func (in *Intake) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.Default()
}

// readSigned reads a body of at most limit bytes (def when limit is not
// set) and checks that its X-Exops-Signature is the HMAC of the secret of
// the source X-Exops-Source names. On failure it has answered (413, 400 or
// 401) and ok is false. /v1/events and /v1/edi share it.
func readSigned(w http.ResponseWriter, r *http.Request, secrets map[string]string, limit, def int64, log *slog.Logger) (body []byte, source string, ok bool) {
	if limit <= 0 {
		limit = def
	}
	body, err := readLimited(r, limit)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("body is over the %d byte limit", limit)})
			return nil, "", false
		}
		// The read error names socket addresses (read tcp a->b: i/o
		// timeout): keep that in the log, tell the client only what failed.
		log.Warn("read request body", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		writeJSON(w, http.StatusBadRequest, apiError{Error: "could not read the request body (client too slow or connection broken)"})
		return nil, "", false
	}
	source = r.Header.Get(HeaderSource)
	secret, known := secrets[source]
	if source == "" || !known || secret == "" {
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "unknown or missing " + HeaderSource})
		return nil, "", false
	}
	if !hmac.Equal([]byte(r.Header.Get(HeaderSignature)), []byte(Sign(secret, body))) {
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "missing or wrong " + HeaderSignature + " for source " + source})
		return nil, "", false
	}
	return body, source, true
}

func readLimited(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return buf.Bytes(), err
}

func where(i int, batch bool) string {
	if batch {
		return fmt.Sprintf("event[%d]", i)
	}
	return "event"
}

// parse decodes one event or a batch; the status says how to answer an error.
func (in *Intake) parse(body []byte, batch bool) ([]cases.Event, int, error) {
	if !batch {
		ev, err := cases.ParseEvent(body)
		if err != nil {
			return nil, statusOf(err), err
		}
		return []cases.Event{ev}, 0, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("batch must be a JSON array of events: %v", err)
	}
	if len(raws) == 0 {
		return nil, http.StatusBadRequest, errors.New("batch is empty")
	}
	max := in.MaxEvents
	if max <= 0 {
		max = DefaultMaxEvents
	}
	if len(raws) > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("batch has %d events; at most %d", len(raws), max)
	}
	events := make([]cases.Event, len(raws))
	for i, raw := range raws {
		ev, err := cases.ParseEvent(raw)
		if err != nil {
			return nil, statusOf(err), &cases.Error{Kind: cases.KindOf(err), Msg: fmt.Sprintf("event[%d].%s", i, err.Error())}
		}
		events[i] = ev
	}
	return events, 0, nil
}

func statusOf(err error) int {
	switch cases.KindOf(err) {
	case cases.KindUnknownType:
		return http.StatusUnprocessableEntity
	case cases.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
