package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/exops/exops/cases"
)

// SystemConfig points exops at one system of record's implementation of the
// canonical contract.
type SystemConfig struct {
	Name    string // ERP, WMS, TMS or CRM: errors and metrics name it
	BaseURL string // e.g. https://erp-facade.internal/exops
	Token   string // sent as "Authorization: Bearer TOKEN"; never logged

	// Timeout bounds one try (default 2 s); Attempts is how many tries a
	// call gets when the failures are transient (default 3).
	Timeout  time.Duration
	Attempts int
	// BackoffBase doubles per retry up to BackoffMax (defaults 100 ms, 2 s),
	// with jitter so that many callers do not retry in step.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter is the longest 429/503 Retry-After the client waits
	// in-line (default 5 s); a longer one fails the call as transient and
	// leaves the retry to the caller's own queue.
	MaxRetryAfter time.Duration
	// BreakerFailures consecutive transient failures open the circuit for
	// BreakerCooldown (defaults 5 and 30 s).
	BreakerFailures int
	BreakerCooldown time.Duration

	HTTPClient *http.Client // default: a client with no overall timeout (Timeout applies per try)
	Observer   Observer     // optional: metrics
	// Now and Sleep are injected so tests drive the breaker and the backoff
	// without waiting.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Observer is told about every try of every call, for metrics.
type Observer interface {
	// ConnectorCall reports one try: the system, the operation ("lookup" or
	// the action name), how long it took and its error (nil on success).
	ConnectorCall(system, op string, took time.Duration, err error)
}

// Client calls one system of record over the canonical contract, with a
// timeout per try, retries with backoff on transient failures only, and a
// circuit breaker. Its errors are *cases.Error whose message names the
// system ("ERP timed out after 2s").
type Client struct {
	cfg     SystemConfig
	base    *url.URL
	hc      *http.Client
	breaker *Breaker
}

// maxResponse bounds what a system may send back: a facade that streams
// without end must not exhaust memory.
const maxResponse = 4 << 20

// NewClient checks the configuration and builds a client.
func NewClient(cfg SystemConfig) (*Client, error) {
	if cfg.Name == "" {
		return nil, errors.New("connector: no system name")
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("connector %s: base URL %q must be an absolute http or https URL", cfg.Name, cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 100 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 2 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = cases.Sleep
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			DialContext: (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		}}
	}
	return &Client{cfg: cfg, base: u, hc: hc,
		breaker: NewBreaker(cfg.Name, cfg.BreakerFailures, cfg.BreakerCooldown, cfg.Now)}, nil
}

// Name is the system's name.
func (c *Client) Name() string { return c.cfg.Name }

// Breaker returns the client's circuit breaker (for tests and health).
func (c *Client) Breaker() *Breaker { return c.breaker }

// Get fetches path (relative to the base URL) into out. what names the
// record for a 404 ("customer C-ACME" gives "ERP has no customer C-ACME").
func (c *Client) Get(ctx context.Context, path, what string, out any) error {
	return c.call(ctx, http.MethodGet, path, "lookup", what, "", nil, out)
}

// Act posts an action with its idempotency key. Retrying it is safe because
// the key is the same on every try.
func (c *Client) Act(ctx context.Context, action, key string, body ActionCall) (ActionResult, error) {
	var res ActionResult
	if key == "" {
		return res, cases.Errorf(cases.KindInvalid, "%s: action %s has no idempotency key", c.cfg.Name, action)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return res, fmt.Errorf("%s: encode %s: %w", c.cfg.Name, action, err)
	}
	err = c.call(ctx, http.MethodPost, "/v1/actions/"+url.PathEscape(action), action, action, key, b, &res)
	return res, err
}

func (c *Client) call(ctx context.Context, method, path, op, what, key string, body []byte, out any) error {
	for attempt := 1; ; attempt++ {
		if err := c.breaker.Allow(); err != nil {
			c.observe(op, 0, err)
			return err
		}
		start := c.cfg.Now()
		retryAfter, err := c.try(ctx, method, path, what, key, body, out)
		c.observe(op, c.cfg.Now().Sub(start), err)
		transient := err != nil && cases.KindOf(err) == cases.KindTransient
		switch {
		case err != nil && ctx.Err() != nil:
			// The caller gave up: that says nothing about the system. Its
			// deadline passing (the enrichment budget) still reads as a
			// timeout to people.
			c.breaker.Abandon()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return cases.Errorf(cases.KindTransient, "%s timed out (no answer within the time allowed)", c.cfg.Name)
			}
			return &cases.Error{Kind: cases.KindTransient, Msg: c.cfg.Name + " call abandoned", Err: ctx.Err()}
		case transient:
			c.breaker.Failure()
		default:
			c.breaker.Success()
		}
		if !transient || attempt >= c.cfg.Attempts {
			return err
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > c.cfg.MaxRetryAfter {
				return err
			}
			wait = retryAfter
		}
		if serr := c.cfg.Sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

func (c *Client) observe(op string, took time.Duration, err error) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ConnectorCall(c.cfg.Name, op, took, err)
	}
}

// backoff is full-jitter exponential: between half and all of base·2^(n-1).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffBase << min(attempt-1, 16)
	d = min(d, c.cfg.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// try makes one request. It returns the server's Retry-After, if any, and
// an error whose kind says whether to try again.
func (c *Client) try(ctx context.Context, method, path, what, key string, body []byte, out any) (time.Duration, error) {
	name := c.cfg.Name
	tctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(tctx, method, c.base.String()+path, rd)
	if err != nil {
		return 0, fmt.Errorf("%s: build request: %w", name, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.transportError(ctx, tctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, c.transportError(ctx, tctx, err)
	}
	if len(raw) > maxResponse {
		return 0, cases.Errorf(cases.KindInternal, "%s sent more than %d bytes", name, maxResponse)
	}
	if resp.StatusCode/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return 0, &cases.Error{Kind: cases.KindInternal, Msg: name + " sent an answer that is not the contract's JSON", Err: err}
			}
		}
		return 0, nil
	}
	var eb ErrorBody
	_ = json.Unmarshal(raw, &eb)
	detail := ""
	if eb.Error != "" {
		detail = ": " + eb.Error
	}
	status := resp.StatusCode
	switch {
	case status == http.StatusNotFound && key != "":
		return 0, cases.Errorf(cases.KindNotFound, "%s could not run %s%s", name, what, detail)
	case status == http.StatusNotFound:
		return 0, cases.Errorf(cases.KindNotFound, "%s has no %s", name, what)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return retryAfter(resp.Header.Get("Retry-After"), c.cfg.Now()),
			cases.Errorf(cases.KindTransient, "%s is busy (HTTP %d)%s", name, status, detail)
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly || status >= 500:
		return 0, cases.Errorf(cases.KindTransient, "%s failed (HTTP %d)%s", name, status, detail)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return 0, cases.Errorf(cases.KindDenied, "%s refused exops's credentials (HTTP %d)%s", name, status, detail)
	case status == http.StatusConflict:
		return 0, cases.Errorf(cases.KindConflict, "%s refused %s%s", name, what, detail)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return 0, cases.Errorf(cases.KindInvalid, "%s rejected %s%s", name, what, detail)
	}
	return 0, cases.Errorf(cases.KindInternal, "%s answered HTTP %d%s", name, status, detail)
}

// transportError names what went wrong below HTTP. Only the try's own
// deadline is a timeout; the caller's cancellation is reported by call.
func (c *Client) transportError(ctx, tctx context.Context, err error) error {
	name := c.cfg.Name
	if ctx.Err() == nil && tctx.Err() != nil {
		return cases.Errorf(cases.KindTransient, "%s timed out after %s", name, c.cfg.Timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return cases.Errorf(cases.KindTransient, "%s timed out after %s", name, c.cfg.Timeout)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return cases.Errorf(cases.KindTransient, "%s unreachable (connection refused)", name)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return cases.Errorf(cases.KindTransient, "%s dropped the connection", name)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return cases.Errorf(cases.KindTransient, "%s unreachable (cannot resolve %s)", name, dns.Name)
	}
	return &cases.Error{Kind: cases.KindTransient, Msg: name + " unreachable", Err: err}
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
