package connectors_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
)

// simServer serves a fresh simulator over HTTP; wrap may put faults in front.
func simServer(t testing.TB, wrap func(http.Handler) http.Handler) (*connectors.Simulator, *httptest.Server) {
	t.Helper()
	sim := connectors.NewSimulator(simClock)
	var h http.Handler = sim.Handler("sim-token")
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sim, srv
}

func remoteFor(t testing.TB, base string, mod func(*connectors.SystemConfig)) *connectors.Remote {
	t.Helper()
	var rc connectors.RemoteConfig
	for _, name := range connectors.SystemNames() {
		sc := connectors.SystemConfig{Name: name, BaseURL: base + "/" + strings.ToLower(name), Token: "sim-token",
			Sleep: func(context.Context, time.Duration) error { return nil }}
		if mod != nil {
			mod(&sc)
		}
		rc.Systems = append(rc.Systems, sc)
	}
	r, err := connectors.NewRemote(rc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// demoCase carries every lookup: customer, stock, shipment and orders,
// PO lines and receipts.
func demoCase(t testing.TB) *cases.Case {
	tt, ok := t.(*testing.T)
	if !ok {
		tt = &testing.T{}
	}
	return caseOf(storedEvent(tt, "order.credit_hold", dataCreditAcme), storedEvent(tt, "order.allocation_conflict", dataAlloc88),
		storedEvent(tt, "shipment.delayed", dataDelay7781), storedEvent(tt, "invoice.price_variance", dataPrice3298),
		storedEvent(tt, "receipt.variance", dataReceipt3305))
}

// TestRemoteEnrichMatchesSimulator: over HTTP, the REST adapters fill the
// same context keys as the in-process simulator, so the agents see the same
// case either way.
func TestRemoteEnrichMatchesSimulator(t *testing.T) {
	_, srv := simServer(t, nil)
	c := demoCase(t)
	want, wantMissing := connectors.NewSimulator(simClock).Enrich(context.Background(), c)
	got, missing := remoteFor(t, srv.URL, nil).Enrich(context.Background(), c)
	if len(missing) != 0 || len(wantMissing) != 0 {
		t.Errorf("missing: remote %q, simulator %q", missing, wantMissing)
	}
	if !reflect.DeepEqual(got, want) {
		var diff []string
		for k, v := range want {
			if got[k] != v {
				diff = append(diff, k+": want "+v+", got "+got[k])
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				diff = append(diff, k+": extra "+v)
			}
		}
		sort.Strings(diff)
		t.Errorf("remote facts differ from the simulator's:\n%s", strings.Join(diff, "\n"))
	}
}

func TestRemoteEnrichNamesWhatIsMissing(t *testing.T) {
	tests := []struct {
		name        string
		fault       func(w http.ResponseWriter, r *http.Request) bool // true: handled (the fault)
		wantMissing []string
		wantKept    []string // keys still filled
	}{
		{
			name: "ERP hangs",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/erp/") {
					<-r.Context().Done()
					return true
				}
				return false
			},
			wantMissing: []string{"PO line unavailable: ERP timed out after 300ms", "credit status unavailable: ERP timed out after 300ms",
				"goods receipt unavailable: ERP timed out after 300ms", "promise date unavailable: ERP timed out after 300ms"},
			wantKept: []string{cases.CtxCustomerTier("C-ACME"), cases.CtxStock("SKU-88", "RNO"), cases.CtxShipmentETA("ASN-7781")},
		},
		{
			name: "WMS 500s",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/wms/") {
					w.WriteHeader(http.StatusInternalServerError)
					return true
				}
				return false
			},
			wantMissing: []string{"stock unavailable: WMS failed (HTTP 500)"},
			wantKept:    []string{cases.CtxCreditLimit("C-ACME"), cases.CtxPOPrice("PO-3298", "SKU-12")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := simServer(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !tt.fault(w, r) {
						h.ServeHTTP(w, r)
					}
				})
			})
			r := remoteFor(t, srv.URL, func(sc *connectors.SystemConfig) {
				sc.Timeout = 300 * time.Millisecond // long enough for the healthy systems on a loaded machine
				sc.Attempts = 2
				sc.BreakerFailures = 100
			})
			facts, missing := r.Enrich(context.Background(), demoCase(t))
			if !reflect.DeepEqual(missing, tt.wantMissing) {
				t.Errorf("missing = %q\nwant      %q", missing, tt.wantMissing)
			}
			for _, k := range tt.wantKept {
				if facts[k] == "" {
					t.Errorf("fact %s lost to the other system's failure", k)
				}
			}
		})
	}
}

func TestRemoteEnrichUnknownRecords(t *testing.T) {
	_, srv := simServer(t, nil)
	c := caseOf(storedEvent(t, "order.credit_hold", dataWith(dataCreditAcme, "customer", "C-NOPE")),
		storedEvent(t, "invoice.price_variance", dataWith(dataPrice3298, "sku", "SKU-99")))
	_, missing := remoteFor(t, srv.URL, nil).Enrich(context.Background(), c)
	want := []string{"PO line unavailable: ERP has no SKU-99 on PO-3298", "credit status unavailable: ERP has no customer C-NOPE",
		"customer tier unavailable: CRM has no customer C-NOPE"}
	if !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %q\nwant      %q", missing, want)
	}
}

func TestRemoteExecuteHonoursIdempotencyKey(t *testing.T) {
	sim, srv := simServer(t, nil)
	r := remoteFor(t, srv.URL, nil)
	req := cases.ActionRequest{Key: "EX-000001/r1", Case: "EX-000001", Action: "release_credit_hold",
		Params: map[string]string{"order": "SO-1042", "customer": "C-ACME"}}
	first, err := r.Execute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Execute(context.Background(), req)
	if err != nil || again != first {
		t.Fatalf("second try = %q, %v; want the first outcome %q", again, err, first)
	}
	if n := len(sim.Executed()); n != 1 || sim.CustomerOnHold("C-ACME") {
		t.Errorf("executed %d times, on hold %v; want once, released", n, sim.CustomerOnHold("C-ACME"))
	}
	req.Action = "hold_invoice"
	if _, err := r.Execute(context.Background(), req); cases.KindOf(err) != cases.KindConflict {
		t.Errorf("key reused for another action: %v, want conflict", err)
	}
	tests := []struct {
		action string
		params map[string]string
		kind   cases.Kind
		msg    string
	}{
		{"reallocate_order", map[string]string{"order": "SO-1042", "sku": "SKU-88", "warehouse": "RNO", "quantity": "99999"}, cases.KindConflict, "WMS refused reallocate_order"},
		{"release_credit_hold", map[string]string{"customer": "C-NOPE"}, cases.KindNotFound, "ERP could not run release_credit_hold"},
		{"teleport_goods", nil, cases.KindInvalid, "no system runs action"},
	}
	for i, tt := range tests {
		_, err := r.Execute(context.Background(), cases.ActionRequest{Key: "k" + string(rune('a'+i)), Action: tt.action, Params: tt.params})
		if cases.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v (kind %v), want kind %v containing %q", tt.action, err, cases.KindOf(err), tt.kind, tt.msg)
		}
	}
}

func TestSimulatorHandlerRefusesWithoutToken(t *testing.T) {
	_, srv := simServer(t, nil)
	resp, err := http.Get(srv.URL + "/erp/v1/orders/SO-1042")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	r := remoteFor(t, srv.URL, func(sc *connectors.SystemConfig) { sc.Token = "wrong" })
	_, missing := r.Enrich(context.Background(), demoCase(t))
	if len(missing) == 0 || !slices.ContainsFunc(missing, func(s string) bool { return strings.Contains(s, "refused exops's credentials") }) {
		t.Errorf("missing = %q, want credential refusals", missing)
	}
}

func TestRemoteUnconfiguredSystem(t *testing.T) {
	_, srv := simServer(t, nil)
	r, err := connectors.NewRemote(connectors.RemoteConfig{Systems: []connectors.SystemConfig{{Name: "ERP", BaseURL: srv.URL + "/erp", Token: "sim-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, missing := r.Enrich(context.Background(), caseOf(storedEvent(t, "order.credit_hold", dataCreditAcme)))
	if want := []string{"customer tier unavailable: CRM not configured (set EXOPS_CRM_URL)"}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %q, want %q", missing, want)
	}
}
