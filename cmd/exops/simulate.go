package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"encoding/json"

	"github.com/exops/exops/connectors"
)

// simulate serves the simulated ERP, WMS, TMS and CRM over the REST
// contract, or sends a signed stream of business events to an exops.
// Both stay on loopback: the simulator is for demos and load tests, not a
// service to expose.
func (c *cli) simulate(args []string) int {
	fs := c.flags("simulate", "simulate --addr HOST:PORT [--token T] | simulate --events N [--rate R] --to URL [--source S] [--seed N]")
	addr := fs.String("addr", "", "serve the simulator's REST contract on loopback `HOST:PORT`")
	token := fs.String("token", "", "bearer `token` the simulator requires (default $EXOPS_SIM_TOKEN; empty: none)")
	events := fs.Int("events", 0, "send `N` events (1 to 100000)")
	rate := fs.Float64("rate", 50, "events per `second` (at most 10000)")
	to := fs.String("to", "", "exops event API `URL`, e.g. http://127.0.0.1:8080/v1/events")
	source := fs.String("source", "/sim/erp", "CloudEvents `source` of the events; its secret is $EXOPS_SIM_SECRET or the entry in $EXOPS_SOURCE_SECRETS")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random `seed`; the same seed sends the same events")
	if code, stop := parse(fs, args); stop {
		return code
	}
	switch {
	case *addr != "" && *events == 0 && *to == "":
		if *token == "" {
			*token = c.getenv("EXOPS_SIM_TOKEN")
		}
		return c.serveSimulator(*addr, *token)
	case *addr == "" && *events > 0 && *to != "":
		if *events > 100000 || !(*rate > 0) || *rate > 10000 {
			return c.usageError("simulate: --events 1 to 100000 and --rate above 0, at most 10000")
		}
		secret := c.getenv("EXOPS_SIM_SECRET")
		if secret == "" {
			secrets, err := parseSourceSecrets(c.getenv("EXOPS_SOURCE_SECRETS"))
			if err != nil {
				return c.fail(err)
			}
			secret = secrets[*source]
		}
		if secret == "" {
			return c.usageError(fmt.Sprintf("simulate: no secret for source %s: set EXOPS_SIM_SECRET or EXOPS_SOURCE_SECRETS=%s=SECRET", *source, *source))
		}
		sent, err := sendEvents(c.ctx, *to, *source, secret, *events, *rate, *seed, c.clock(), c.stdout)
		fmt.Fprintf(c.stdout, "sent %d of %d events to %s\n", sent, *events, *to)
		if err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	return c.usageError("simulate needs either --addr HOST:PORT, or --events N and --to URL")
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *cli) serveSimulator(addr, token string) int {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !loopback(host) {
		return c.usageError(fmt.Sprintf("simulate --addr: %q must be a loopback HOST:PORT such as 127.0.0.1:8089", addr))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return c.fail(fmt.Errorf("listen on %s: %w", addr, err))
	}
	srv := &http.Server{Handler: connectors.NewSimulator(c.clock).Handler(token), ReadHeaderTimeout: 5 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(c.stdout, "simulator serving ERP, WMS, TMS and CRM on %s\n", base)
	for _, s := range connectors.SystemNames() {
		fmt.Fprintf(c.stdout, "  EXOPS_%s_URL=%s/%s\n", s, base, strings.ToLower(s))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-c.ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return exitOK
	case err := <-errc:
		return c.fail(fmt.Errorf("simulator: %w", err))
	}
}

// sendEvents posts n generated events, one per request, signed with the
// source's secret, paced at rate per second. It stops at the first refusal.
func sendEvents(ctx context.Context, to, source, secret string, n int, rate float64, seed uint64, now time.Time, out io.Writer) (int, error) {
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "http" || !loopback(u.Hostname()) {
		return 0, fmt.Errorf("--to %q: the simulator sends only to a loopback http URL", to)
	}
	evs := connectors.GenerateEvents(n, seed, source, now.UTC().Truncate(time.Second), fmt.Sprintf("sim-%x-", seed&0xffffff))
	hc := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i, ev := range evs {
		if i > 0 {
			select {
			case <-ctx.Done():
				return i, ctx.Err()
			case <-tick.C:
			}
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return i, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
		if err != nil {
			return i, err
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set(connectors.HeaderSource, source)
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, body))
		resp, err := hc.Do(req)
		if err != nil {
			return i, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return i, errors.New("event " + ev.ID + " refused: " + resp.Status + ": " + strings.TrimSpace(string(msg)))
		}
		if (i+1)%1000 == 0 {
			fmt.Fprintf(out, "%d events sent\n", i+1)
		}
	}
	return len(evs), nil
}
