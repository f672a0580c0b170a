package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: secret-host refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	for _, tc := range []struct {
		name   string
		checks map[string]ReadyCheck
		status int
		want   map[string]string
	}{
		{"all up", map[string]ReadyCheck{"store": up, "nats": up}, 200, map[string]string{"store": "ok", "nats": "ok"}},
		{"store down", map[string]ReadyCheck{"store": down, "nats": up}, 503, map[string]string{"store": "unavailable", "nats": "ok"}},
		{"nats hangs", map[string]ReadyCheck{"store": up, "nats": slow}, 503, map[string]string{"store": "ok", "nats": "unavailable"}},
		{"nothing to check", nil, 200, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := &Readiness{Checks: tc.checks, Timeout: 50 * time.Millisecond, RetryAfter: 3 * time.Second}
			w := httptest.NewRecorder()
			rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if ra := w.Header().Get("Retry-After"); (tc.status == 503) != (ra == "3") {
				t.Errorf("Retry-After %q", ra)
			}
			if strings.Contains(w.Body.String(), "secret-host") {
				t.Errorf("the answer carries the error text: %s", w.Body)
			}
			var ans readyAnswer
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
				t.Fatal(err)
			}
			if ans.Ready != (tc.status == 200) || len(ans.Checks) != len(tc.want) {
				t.Errorf("answer %+v", ans)
			}
			for k, v := range tc.want {
				if ans.Checks[k] != v {
					t.Errorf("%s: %q, want %q", k, ans.Checks[k], v)
				}
			}
		})
	}
}

func TestNATSReadyFollowsTheServer(t *testing.T) {
	e := newNATSEnv(t)
	in := e.start(t, newKeyed())
	if err := in.Ready(context.Background()); err != nil {
		t.Fatalf("ready: %v", err)
	}
	// The stream goes away (an operator deletes it): not ready, and transient.
	if err := e.js.DeleteStream(context.Background(), e.cfg.Stream); err != nil {
		t.Fatal(err)
	}
	if err := in.Ready(context.Background()); err == nil {
		t.Error("ready without its stream")
	}
	// A NATS that is not there at all: the intake starts, and says not ready.
	cfg := e.cfg
	cfg.URL = "nats://127.0.0.1:1"
	down, err := NewNATSIntake(cfg, newKeyed(), nil)
	if err != nil {
		t.Fatalf("an unreachable NATS must not stop the process: %v", err)
	}
	defer down.Close()
	if err := down.Ready(context.Background()); err == nil {
		t.Error("ready while NATS is unreachable")
	}
}
