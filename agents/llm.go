package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// model is one configured language model behind langchaingo, with the
// timeouts, retries and error reasons the agents need. langchaingo's
// clients report HTTP failures as text only, and Ollama's client returns no
// error at all for an error status with an empty body; so the status of
// every response is read on the way through (statusTransport), and a
// failure is classified from that, not from error strings.
type model struct {
	llm   llms.Model
	name  string // provider:model, as the card credits it
	tools bool   // the client sends tool definitions (openai, anthropic)
	cfg   Config
	log   *slog.Logger
	sleep func(ctx context.Context, d time.Duration) error
}

// maxRetryWait caps a Retry-After a server asks for: the work queue would
// rather fall back to the rules than hold a worker for minutes.
const maxRetryWait = 5 * time.Second

func newModel(cfg Config, logger *slog.Logger) (*model, error) {
	base := http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		base = cfg.HTTPClient.Transport
	}
	hc := &http.Client{Transport: statusTransport{base}}
	m := &model{name: string(cfg.Provider) + ":" + cfg.Model, cfg: cfg, log: logger, sleep: cases.Sleep}
	var err error
	switch cfg.Provider {
	case ProviderOpenAI:
		opts := []openai.Option{openai.WithModel(cfg.Model), openai.WithHTTPClient(hc),
			// langchaingo insists on a token even for a local server that
			// checks none; "unused" goes to such a server only.
			openai.WithToken(or(cfg.APIKey, "unused"))}
		if cfg.BaseURL != "" {
			opts = append(opts, openai.WithBaseURL(cfg.BaseURL))
		} else {
			opts = append(opts, openai.WithBaseURL("https://api.openai.com/v1"))
		}
		m.llm, err = openai.New(opts...)
		m.tools = true
	case ProviderOllama:
		m.llm, err = ollama.New(ollama.WithModel(cfg.Model), ollama.WithServerURL(cfg.BaseURL), ollama.WithHTTPClient(hc))
		m.tools = true // declined in askModel: see noToolsReason
	case ProviderAnthropic:
		opts := []anthropic.Option{anthropic.WithModel(cfg.Model), anthropic.WithToken(cfg.APIKey), anthropic.WithHTTPClient(hc)}
		if cfg.BaseURL != "" {
			// langchaingo's default includes the version path; the SDKs'
			// ANTHROPIC_BASE_URL does not.
			u := cfg.BaseURL
			if !strings.HasSuffix(u, "/v1") {
				u += "/v1"
			}
			opts = append(opts, anthropic.WithBaseURL(u))
		}
		m.llm, err = anthropic.New(opts...)
		m.tools = true
	default:
		return nil, fmt.Errorf("no model for provider %q", cfg.Provider)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return m, nil
}

// callInfo receives what statusTransport saw of one request.
type callInfo struct {
	status     int
	retryAfter time.Duration
}

type callInfoKey struct{}

// statusTransport records each response's status in the request's callInfo.
type statusTransport struct{ base http.RoundTripper }

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if ci, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok && resp != nil {
		ci.status = resp.StatusCode
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			ci.retryAfter = time.Duration(s) * time.Second
		}
	}
	return resp, err
}

// ModelError says why a model could not be used, in words short enough for
// the card ("timeout", "rate limited (HTTP 429)").
type ModelError struct {
	Reason    string
	Transient bool // worth another try
	Err       error
}

func (e *ModelError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *ModelError) Unwrap() error { return e.Err }

// reasonOf gives the card's words for an error.
func reasonOf(err error) string {
	var me *ModelError
	if errors.As(err, &me) {
		return me.Reason
	}
	return "error"
}

func classify(ctx context.Context, err error, ci *callInfo) *ModelError {
	switch {
	case ci.status == http.StatusTooManyRequests:
		return &ModelError{Reason: "rate limited (HTTP 429)", Transient: true, Err: err}
	case ci.status >= 500:
		return &ModelError{Reason: fmt.Sprintf("server error (HTTP %d)", ci.status), Transient: true, Err: err}
	case ci.status >= 400:
		return &ModelError{Reason: fmt.Sprintf("request refused (HTTP %d)", ci.status), Err: err}
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &ModelError{Reason: "timeout", Err: err}
	case errors.Is(err, context.Canceled):
		return &ModelError{Reason: "canceled", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &ModelError{Reason: "timeout", Err: err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) || ci.status == 0 {
		// No response at all: the server is down or unreachable.
		return &ModelError{Reason: "unreachable", Transient: true, Err: err}
	}
	return &ModelError{Reason: "malformed response", Err: err}
}

// generate sends one request, retrying transient failures with backoff.
// spend is called before every attempt and may refuse it (the case's
// budget); its error is returned as it is.
func (m *model) generate(ctx context.Context, spend func() error, msgs []llms.MessageContent, opts ...llms.CallOption) (*llms.ContentResponse, error) {
	var last *ModelError
	var retryAfter time.Duration
	for attempt := 0; attempt <= m.cfg.Retries; attempt++ {
		if attempt > 0 {
			wait := time.Duration(200<<(attempt-1)) * time.Millisecond
			wait += time.Duration(rand.Int64N(int64(wait/2) + 1))
			if retryAfter > 0 {
				wait = min(retryAfter, maxRetryWait)
			}
			if err := m.sleep(ctx, wait); err != nil {
				return nil, &ModelError{Reason: "canceled", Err: err}
			}
		}
		if err := spend(); err != nil {
			if last != nil {
				return nil, last
			}
			return nil, err
		}
		resp, ra, merr := m.once(ctx, msgs, opts...)
		retryAfter = ra
		if merr == nil {
			return resp, nil
		}
		last = merr
		m.log.Warn("model request failed", "model", m.name, "attempt", attempt+1, "reason", merr.Reason, "transient", merr.Transient, "err", redact(merr.Err))
		if !merr.Transient {
			break
		}
	}
	return nil, last
}

func (m *model) once(ctx context.Context, msgs []llms.MessageContent, opts ...llms.CallOption) (*llms.ContentResponse, time.Duration, *ModelError) {
	ci := &callInfo{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, ci), m.cfg.Timeout)
	defer cancel()
	resp, err := m.llm.GenerateContent(cctx, msgs, opts...)
	if merr := classify(cctx, err, ci); merr != nil {
		return nil, ci.retryAfter, merr
	}
	if resp == nil || len(resp.Choices) == 0 {
		return nil, 0, &ModelError{Reason: "empty response"}
	}
	return resp, 0, nil
}

// redact keeps anything that looks like a key out of a logged error: some
// clients echo request details in their errors.
func redact(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	for _, marker := range []string{"Bearer ", "sk-", "x-api-key"} {
		if i := strings.Index(s, marker); i >= 0 {
			s = s[:i] + "[redacted]"
		}
	}
	return s
}

// text joins the text of a response's choices.
func text(resp *llms.ContentResponse) string {
	var parts []string
	for _, ch := range resp.Choices {
		if ch != nil && strings.TrimSpace(ch.Content) != "" {
			parts = append(parts, ch.Content)
		}
	}
	return strings.TrimSpace(strings.Join(parts, "\n"))
}
