package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/connectors/edi"
	"github.com/exops/exops/policies"
)

// benchAck is interchange i: an 855 for PO-B<i> whose lines are all
// rejected, so each line raises one supplier.order_changed event.
func benchAck(i, lines int) []byte {
	control := fmt.Sprintf("%09d", i+1)
	segs := []string{"BAK*00*AC*PO-B" + fmt.Sprint(i) + "*20261201"}
	for l := 1; l <= lines; l++ {
		segs = append(segs, fmt.Sprintf("PO1*%d*10*EA*2.5**BP*SKU-%d", l, l%500), "ACK*IR")
	}
	return interchange("ACMESUPPLY", "BUYER", "PR", control, set("855", "0001", segs...)...)
}

// BenchmarkEDIIntake measures events per second through POST /v1/edi over
// loopback (signature, parse, decode, the order ledger's look-ups, intake
// into a bbolt store, answer after the commit) against a baseline in the
// same run: the very same events posted as a CloudEvents batch to
// /v1/events. The engine's queue workers are off, as in BenchmarkIntake.
// b.N is the number of interchanges, each of 100 lines (100 events).
func BenchmarkEDIIntake(b *testing.B) {
	const lines, senders = 100, 16
	for _, path := range []string{"events-baseline", "edi"} {
		b.Run(path, func(b *testing.B) {
			store, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			pol, err := policies.Parse(policies.Example)
			if err != nil {
				b.Fatal(err)
			}
			sim := connectors.NewSimulator(testClock)
			eng, err := cases.New(cases.Config{Store: store, Policy: pol, Agents: agents.NewRules(testClock), Enricher: sim, Executor: sim, Notifier: nopNotifier{}, Now: testClock})
			if err != nil {
				b.Fatal(err)
			}
			reader := &edi.Reader{Ingester: eng, Ledger: edi.StoreLedger{Store: store}, Now: testClock}
			secrets := map[string]string{ediSource: ediSecret, edi.Source: ediSecret}
			var h http.Handler = &connectors.EDIIntake{Reader: reader, Secrets: secrets}
			source, ctype := ediSource, "application/edi-x12"
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = benchAck(i, lines)
			}
			if path == "events-baseline" {
				h = &connectors.Intake{Ingester: eng, Secrets: secrets, MaxBody: 16 << 20}
				source, ctype = edi.Source, "application/cloudevents-batch+json"
				plan := &edi.Reader{Now: testClock}
				for i, body := range bodies {
					res, err := plan.Preview(context.Background(), body)
					if err != nil || len(res.Sets[0].Events) != lines {
						b.Fatalf("plan %d: %v %d", i, err, len(res.Events))
					}
					bodies[i], _ = json.Marshal(res.Sets[0].Events)
				}
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
			lat, elapsed := runSenders(b, b.N, senders, func(i int) error {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", ctype)
				req.Header.Set(connectors.HeaderSource, source)
				req.Header.Set(connectors.HeaderSignature, connectors.Sign(ediSecret, bodies[i]))
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				var ans struct {
					Events  []cases.IngestResult `json:"events"`
					Results []cases.IngestResult `json:"results"`
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				json.Unmarshal(body, &ans)
				if resp.StatusCode != http.StatusOK || len(ans.Events)+len(ans.Results) != lines {
					return fmt.Errorf("status %d, %d results: %s", resp.StatusCode, len(ans.Events)+len(ans.Results),
						strings.TrimSpace(string(body[:min(len(body), 300)])))
				}
				return nil
			})
			reportRate(b, b.N*lines, elapsed, lat)
		})
	}
}
