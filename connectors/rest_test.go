package connectors_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

// fakeClock is the time the breaker and the client read.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// sleeps records the backoff waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func newClient(t *testing.T, url string, mod func(*connectors.SystemConfig)) (*connectors.Client, *sleeps, *fakeClock) {
	t.Helper()
	sl, clk := &sleeps{}, &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	cfg := connectors.SystemConfig{Name: "ERP", BaseURL: url, Token: "tok", Timeout: time.Second, Attempts: 3,
		Now: clk.Now, Sleep: sl.Sleep}
	if mod != nil {
		mod(&cfg)
	}
	c, err := connectors.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl, clk
}

func TestClientAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantKind   cases.Kind // -1: no error
		wantTries  int
		wantSleeps []time.Duration // nil: not checked
		wantMsg    string
	}{
		{name: "ok", status: 200, body: `{"customer":"C-1","credit_limit":10,"balance":2}`, wantKind: -1, wantTries: 1},
		{name: "404 is not found and not retried", status: 404, body: `{"error":"no customer C-1"}`, wantKind: cases.KindNotFound, wantTries: 1, wantMsg: "ERP has no customer C-1"},
		{name: "500 is retried to the limit", status: 500, wantKind: cases.KindTransient, wantTries: 3, wantMsg: "ERP failed (HTTP 500)"},
		{name: "502 is retried", status: 502, wantKind: cases.KindTransient, wantTries: 3},
		{name: "429 waits Retry-After", status: 429, header: map[string]string{"Retry-After": "2"}, wantKind: cases.KindTransient, wantTries: 3,
			wantSleeps: []time.Duration{2 * time.Second, 2 * time.Second}, wantMsg: "ERP is busy (HTTP 429)"},
		{name: "429 with a long Retry-After is left to the caller", status: 429, header: map[string]string{"Retry-After": "600"}, wantKind: cases.KindTransient, wantTries: 1, wantSleeps: []time.Duration{}},
		{name: "400 is invalid, not retried", status: 400, body: `{"error":"bad id"}`, wantKind: cases.KindInvalid, wantTries: 1, wantMsg: "bad id"},
		{name: "401 is denied, not retried", status: 401, wantKind: cases.KindDenied, wantTries: 1, wantMsg: "ERP refused exops's credentials"},
		{name: "409 is conflict", status: 409, wantKind: cases.KindConflict, wantTries: 1},
		{name: "200 with a broken body", status: 200, body: `{"credit_limit":`, wantKind: cases.KindInternal, wantTries: 1, wantMsg: "not the contract's JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tries.Add(1)
				if r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				}
				if r.URL.Path != "/erp/v1/customers/C-1/credit" {
					t.Errorf("path = %s", r.URL.Path)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, sl, _ := newClient(t, srv.URL+"/erp", nil)
			var cs connectors.CreditStatus
			err := c.Get(context.Background(), "/v1/customers/C-1/credit", "customer C-1", &cs)
			if tt.wantKind == -1 {
				if err != nil || cs.CreditLimit != 10 {
					t.Fatalf("got %+v, %v", cs, err)
				}
			} else if err == nil || cases.KindOf(err) != tt.wantKind {
				t.Fatalf("err = %v (kind %v), want kind %v", err, cases.KindOf(err), tt.wantKind)
			}
			if err != nil && !strings.Contains(err.Error(), "ERP") {
				t.Errorf("error %q does not name the system", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantMsg)
			}
			if got := int(tries.Load()); got != tt.wantTries {
				t.Errorf("tries = %d, want %d", got, tt.wantTries)
			}
			if tt.wantSleeps != nil && len(sl.d) != len(tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", sl.d, tt.wantSleeps)
			}
			for i := range tt.wantSleeps {
				if i < len(sl.d) && sl.d[i] != tt.wantSleeps[i] {
					t.Errorf("sleeps = %v, want %v", sl.d, tt.wantSleeps)
				}
			}
		})
	}
}

func TestClientTimeoutIsTransientAndNamed(t *testing.T) {
	var tries atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		select { // hang until the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, sl, _ := newClient(t, srv.URL, func(c *connectors.SystemConfig) { c.Timeout = 200 * time.Millisecond; c.Attempts = 2 })
	err := c.Get(context.Background(), "/v1/orders/SO-1", "order SO-1", nil)
	if cases.KindOf(err) != cases.KindTransient || !strings.Contains(err.Error(), "ERP timed out after 200ms") {
		t.Fatalf("err = %v, want a transient \"ERP timed out after 200ms\"", err)
	}
	if tries.Load() != 2 || len(sl.d) != 1 {
		t.Errorf("tries = %d, sleeps = %v; want 2 tries and 1 backoff", tries.Load(), sl.d)
	}
	if sl.d[0] < 50*time.Millisecond || sl.d[0] > 100*time.Millisecond {
		t.Errorf("first backoff %v, want within [50ms, 100ms] (jittered 100ms)", sl.d[0])
	}
}

func TestClientCallerCancelDoesNotTripBreaker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c, _, _ := newClient(t, srv.URL, func(c *connectors.SystemConfig) { c.BreakerFailures = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := c.Get(ctx, "/v1/orders/SO-1", "order SO-1", nil)
	if cases.KindOf(err) != cases.KindTransient {
		t.Fatalf("err = %v", err)
	}
	if st := c.Breaker().State(); st != connectors.BreakerClosed {
		t.Errorf("breaker %v after the caller's own cancel, want closed", st)
	}
}

// TestBreakerFlappingSystem: a system that fails, recovers and fails again
// opens the circuit, lets one trial through after the cooldown, closes on
// its success and opens again on its failure.
func TestBreakerFlappingSystem(t *testing.T) {
	var down atomic.Bool
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, _, clk := newClient(t, srv.URL, func(c *connectors.SystemConfig) {
		c.Attempts = 1
		c.BreakerFailures = 3
		c.BreakerCooldown = 10 * time.Second
	})
	get := func() error { return c.Get(context.Background(), "/v1/orders/SO-1", "order SO-1", nil) }
	step := func(what string, wantErr bool, wantHits int32, wantState connectors.BreakerState) {
		t.Helper()
		before := hits.Load()
		err := get()
		if (err != nil) != wantErr {
			t.Fatalf("%s: err = %v, want error %v", what, err, wantErr)
		}
		if d := hits.Load() - before; d != wantHits {
			t.Errorf("%s: %d calls reached the system, want %d", what, d, wantHits)
		}
		if st := c.Breaker().State(); st != wantState {
			t.Errorf("%s: breaker %v, want %v", what, st, wantState)
		}
	}
	step("healthy", false, 1, connectors.BreakerClosed)
	down.Store(true)
	step("failure 1", true, 1, connectors.BreakerClosed)
	step("failure 2", true, 1, connectors.BreakerClosed)
	step("failure 3 opens", true, 1, connectors.BreakerOpen)
	step("open: fails fast", true, 0, connectors.BreakerOpen)
	if err := get(); !strings.Contains(err.Error(), "ERP unavailable (circuit open") {
		t.Errorf("open error %q", err)
	}
	clk.Add(9 * time.Second)
	step("still cooling down", true, 0, connectors.BreakerOpen)
	clk.Add(time.Second)
	step("trial fails: open again", true, 1, connectors.BreakerOpen)
	step("open again: fails fast", true, 0, connectors.BreakerOpen)
	down.Store(false)
	clk.Add(10 * time.Second)
	step("trial succeeds: closed", false, 1, connectors.BreakerClosed)
	step("closed: calls go through", false, 1, connectors.BreakerClosed)
	// A 404 is an answer from a healthy system: it must not count.
	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	c404, _, _ := newClient(t, nf.URL, func(c *connectors.SystemConfig) { c.Attempts = 1; c.BreakerFailures = 1 })
	for range 3 {
		if err := c404.Get(context.Background(), "/v1/orders/SO-9", "order SO-9", nil); cases.KindOf(err) != cases.KindNotFound {
			t.Fatalf("404: %v", err)
		}
	}
	if st := c404.Breaker().State(); st != connectors.BreakerClosed {
		t.Errorf("breaker %v after 404s, want closed", st)
	}
}

func TestBreakerHalfOpenLetsOneTrialThrough(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	b := connectors.NewBreaker("WMS", 1, time.Minute, clk.Now)
	b.Failure()
	if b.Allow() == nil {
		t.Fatal("open breaker allowed a call")
	}
	clk.Add(time.Minute)
	if err := b.Allow(); err != nil {
		t.Fatalf("trial refused: %v", err)
	}
	if err := b.Allow(); err == nil || !strings.Contains(err.Error(), "WMS") {
		t.Fatalf("second call during the trial: %v, want refused naming WMS", err)
	}
	b.Success()
	if err := b.Allow(); err != nil {
		t.Fatalf("closed breaker refused: %v", err)
	}
}

func TestActSendsTheSameKeyOnEveryTry(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get(connectors.HeaderIdempotencyKey))
		n := len(keys)
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/actions/release_credit_hold" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"action":"release_credit_hold","outcome":"released"}`))
	}))
	defer srv.Close()
	c, _, _ := newClient(t, srv.URL, nil)
	res, err := c.Act(context.Background(), "release_credit_hold", "EX-000001/r1", connectors.ActionCall{Case: "EX-000001"})
	if err != nil || res.Outcome != "released" {
		t.Fatalf("Act = %+v, %v", res, err)
	}
	if len(keys) != 2 || keys[0] != "EX-000001/r1" || keys[1] != keys[0] {
		t.Errorf("keys = %q, want the same key on both tries", keys)
	}
	if _, err := c.Act(context.Background(), "release_credit_hold", "", connectors.ActionCall{}); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("Act without a key: %v, want invalid", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"EXOPS_ERP_URL": "http://127.0.0.1:8089/erp", "EXOPS_ERP_TOKEN": "s3cret", "EXOPS_WMS_URL": "http://127.0.0.1:8089/wms",
		"EXOPS_CONNECTOR_TIMEOUT": "750ms"}
	rc, err := connectors.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Configured() || len(rc.Systems) != 2 || rc.Systems[0].Name != "ERP" || rc.Systems[0].Token != "s3cret" || rc.Systems[1].Timeout != 750*time.Millisecond {
		t.Errorf("config = %+v", rc)
	}
	for k, v := range map[string]string{"EXOPS_TMS_URL": "ftp://x", "EXOPS_CONNECTOR_TIMEOUT": "soon", "EXOPS_CONNECTOR_ATTEMPTS": "0"} {
		if _, err := connectors.ConfigFromEnv(func(n string) string {
			if n == k {
				return v
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err = %v, want one naming it", k, v, err)
		}
	}
	if rc, _ := connectors.ConfigFromEnv(func(string) string { return "" }); rc.Configured() {
		t.Error("empty environment is configured")
	}
}
