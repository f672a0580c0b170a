package connectors

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/exops/exops/cases"
)

// Handler serves the simulator over the canonical REST contract: ERP under
// /erp, WMS under /wms, TMS under /tms and CRM under /crm, so the REST
// adapters run against it exactly as against real facades
// (EXOPS_ERP_URL=http://HOST:PORT/erp and so on). A non-empty token is
// required as "Authorization: Bearer TOKEN" on every call.
func (s *Simulator) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /erp/v1/orders/{id}", s.getOrder)
	mux.HandleFunc("GET /erp/v1/customers/{id}/credit", s.getCredit)
	mux.HandleFunc("GET /erp/v1/purchase-orders/{po}", s.getPO)
	mux.HandleFunc("GET /erp/v1/purchase-orders/{po}/receipts", s.getReceipts)
	mux.HandleFunc("GET /crm/v1/customers/{id}", s.getProfile)
	mux.HandleFunc("GET /wms/v1/stock/{sku}", s.getStock)
	mux.HandleFunc("GET /tms/v1/shipments/{id}", s.getShipment)
	for _, sys := range SystemNames() {
		prefix := "/" + strings.ToLower(sys)
		mux.HandleFunc("POST "+prefix+"/v1/actions/{action}", s.postAction(sys))
		mux.HandleFunc("GET "+prefix+"/v1/events", s.getEvents)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	if token == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: "missing or wrong bearer token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func notFound(w http.ResponseWriter, what string) {
	writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no " + what})
}

func (s *Simulator) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	o, ok := s.orders[id]
	promise, hasPromise := s.promises[id]
	s.mu.Unlock()
	if !ok && !hasPromise {
		notFound(w, "order "+id)
		return
	}
	o.ID = id
	if hasPromise {
		o.PromiseDate = promise
	}
	if o.Lines == nil {
		o.Lines = []OrderLine{}
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Simulator) getCredit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	cu, ok := s.customers[id]
	s.mu.Unlock()
	if !ok {
		notFound(w, "customer "+id)
		return
	}
	writeJSON(w, http.StatusOK, CreditStatus{Customer: id, CreditLimit: cu.CreditLimit, Balance: cu.Balance,
		AvgDaysBeyondTerms: cu.AvgDaysBeyondTerm, OnHold: cu.OnHold, Currency: "USD"})
}

func (s *Simulator) getProfile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	cu, ok := s.customers[id]
	s.mu.Unlock()
	if !ok {
		notFound(w, "customer "+id)
		return
	}
	writeJSON(w, http.StatusOK, CustomerProfile{ID: id, Name: cu.Name, Tier: cu.Tier})
}

func (s *Simulator) getStock(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	s.mu.Lock()
	wh, ok := s.stock[sku]
	st := Stock{SKU: sku, Warehouses: []WarehouseStock{}}
	for w, q := range wh {
		st.Warehouses = append(st.Warehouses, WarehouseStock{Warehouse: w, Available: q})
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, "item "+sku)
		return
	}
	sort.Slice(st.Warehouses, func(i, j int) bool { return st.Warehouses[i].Warehouse < st.Warehouses[j].Warehouse })
	writeJSON(w, http.StatusOK, st)
}

func (s *Simulator) getShipment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	eta, ok := s.shipments[id]
	s.mu.Unlock()
	if !ok {
		notFound(w, "shipment "+id)
		return
	}
	writeJSON(w, http.StatusOK, Shipment{ID: id, ETA: eta, Status: "in_transit"})
}

func (s *Simulator) getPO(w http.ResponseWriter, r *http.Request) {
	po := r.PathValue("po")
	doc, _, err := s.PurchaseOrder(r.Context(), po)
	if err != nil {
		notFound(w, "PO "+po)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Simulator) getReceipts(w http.ResponseWriter, r *http.Request) {
	po := r.PathValue("po")
	_, rc, err := s.PurchaseOrder(r.Context(), po)
	if err != nil {
		notFound(w, "PO "+po)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

// postAction runs an action once per Idempotency-Key: a repeated key gets
// the first outcome back, marked Idempotent-Replayed.
func (s *Simulator) postAction(system string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		action := r.PathValue("action")
		key := r.Header.Get(HeaderIdempotencyKey)
		if key == "" {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "actions need an " + HeaderIdempotencyKey + " header"})
			return
		}
		if owner, ok := ActionSystems[action]; !ok || owner != system {
			writeJSON(w, http.StatusNotFound, ErrorBody{Error: system + " does not run " + action})
			return
		}
		var call ActionCall
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&call); err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "body is not an action call: " + err.Error()})
			return
		}
		s.mu.Lock()
		_, replay := s.done[key]
		s.mu.Unlock()
		out, err := s.Execute(r.Context(), cases.ActionRequest{Key: key, Case: call.Case, Action: action, Params: call.Params})
		if err != nil {
			writeJSON(w, actionStatus(err), ErrorBody{Error: message(err)})
			return
		}
		if replay {
			w.Header().Set(HeaderReplayed, "true")
		}
		ref := ""
		if i := strings.LastIndex(out, "(ref "); i >= 0 {
			ref = strings.TrimSuffix(out[i+5:], ")")
		}
		writeJSON(w, http.StatusOK, ActionResult{Action: action, Outcome: out, Ref: ref})
	}
}

func actionStatus(err error) int {
	switch cases.KindOf(err) {
	case cases.KindNotFound:
		return http.StatusNotFound
	case cases.KindInvalid:
		return http.StatusUnprocessableEntity
	case cases.KindConflict:
		return http.StatusConflict
	case cases.KindDenied:
		return http.StatusForbidden
	case cases.KindTransient:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// AddFeedEvents appends events to the feed served at GET /{system}/v1/events,
// for systems that cannot push.
func (s *Simulator) AddFeedEvents(evs ...cases.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feed = append(s.feed, evs...)
}

// getEvents serves the feed: the cursor is the number of events already
// read; limit defaults to 100, at most 1000.
func (s *Simulator) getEvents(w http.ResponseWriter, r *http.Request) {
	after, limit := 0, 100
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "after: want a cursor from a previous page"})
			return
		}
		after = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "limit: want 1 to 1000"})
			return
		}
		limit = n
	}
	s.mu.Lock()
	evs := s.feed[min(after, len(s.feed)):min(after+limit, len(s.feed))]
	page := EventPage{Events: make([]json.RawMessage, 0, len(evs))}
	var err error
	for _, ev := range evs {
		var b []byte
		if b, err = json.Marshal(ev); err != nil {
			break
		}
		page.Events = append(page.Events, b)
	}
	page.Next = strconv.Itoa(min(after, len(s.feed)) + len(evs))
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ErrorBody{Error: errors.Join(errors.New("encode feed"), err).Error()})
		return
	}
	writeJSON(w, http.StatusOK, page)
}
