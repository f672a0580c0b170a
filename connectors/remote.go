package connectors

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/exops/exops/cases"
)

// RemoteConfig configures the REST adapters: one SystemConfig per system
// (an empty BaseURL leaves that system unconfigured).
type RemoteConfig struct {
	Systems []SystemConfig
	// EnrichTimeout bounds one whole enrichment, retries included
	// (default 5 s): a case is better posted with "unavailable" than late.
	EnrichTimeout time.Duration
}

// Configured reports whether any system has a URL.
func (rc RemoteConfig) Configured() bool {
	for _, s := range rc.Systems {
		if s.BaseURL != "" {
			return true
		}
	}
	return false
}

// ConfigFromEnv reads EXOPS_ERP_URL, EXOPS_ERP_TOKEN, EXOPS_WMS_URL, … and
// EXOPS_CONNECTOR_TIMEOUT (per try, a Go duration) and
// EXOPS_CONNECTOR_ATTEMPTS. Systems whose URL is unset stay unconfigured.
func ConfigFromEnv(getenv func(string) string) (RemoteConfig, error) {
	var rc RemoteConfig
	var timeout time.Duration
	if v := getenv("EXOPS_CONNECTOR_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return rc, fmt.Errorf("EXOPS_CONNECTOR_TIMEOUT: want a positive duration such as 2s, got %q", v)
		}
		timeout = d
	}
	attempts := 0
	if v := getenv("EXOPS_CONNECTOR_ATTEMPTS"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &attempts); err != nil || attempts < 1 || attempts > 10 {
			return rc, fmt.Errorf("EXOPS_CONNECTOR_ATTEMPTS: want 1 to 10, got %q", v)
		}
	}
	for _, name := range SystemNames() {
		u := strings.TrimSpace(getenv("EXOPS_" + name + "_URL"))
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return rc, fmt.Errorf("EXOPS_%s_URL: want an http or https URL, got %q", name, u)
		}
		rc.Systems = append(rc.Systems, SystemConfig{Name: name, BaseURL: u, Token: getenv("EXOPS_" + name + "_TOKEN"),
			Timeout: timeout, Attempts: attempts})
	}
	return rc, nil
}

// Remote is the Enricher and Executor over the REST adapters.
type Remote struct {
	clients map[string]*Client
	timeout time.Duration
}

// NewRemote builds a client per configured system.
func NewRemote(rc RemoteConfig) (*Remote, error) {
	r := &Remote{clients: map[string]*Client{}, timeout: rc.EnrichTimeout}
	if r.timeout <= 0 {
		r.timeout = 5 * time.Second
	}
	for _, sc := range rc.Systems {
		if sc.BaseURL == "" {
			continue
		}
		c, err := NewClient(sc)
		if err != nil {
			return nil, err
		}
		r.clients[sc.Name] = c
	}
	return r, nil
}

// Client returns the client of a system, or nil when it is not configured.
func (r *Remote) Client(system string) *Client { return r.clients[system] }

func (r *Remote) client(system string) (*Client, error) {
	if c := r.clients[system]; c != nil {
		return c, nil
	}
	return nil, cases.Errorf(cases.KindInternal, "%s not configured (set EXOPS_%s_URL)", system, system)
}

// Execute runs an action in the system that owns it, sending the request's
// key as Idempotency-Key; the client retries transient failures with the
// same key, and the engine retries the whole job with it again.
func (r *Remote) Execute(ctx context.Context, req cases.ActionRequest) (string, error) {
	system, ok := ActionSystems[req.Action]
	if !ok {
		return "", cases.Errorf(cases.KindInvalid, "no system runs action %q", req.Action)
	}
	c, err := r.client(system)
	if err != nil {
		return "", err
	}
	res, err := c.Act(ctx, req.Action, req.Key, ActionCall{Case: req.Case, Params: req.Params})
	if err != nil {
		return "", err
	}
	if res.Ref != "" && !strings.Contains(res.Outcome, res.Ref) {
		return fmt.Sprintf("%s (ref %s)", res.Outcome, res.Ref), nil
	}
	return res.Outcome, nil
}

// lookup is one question to one system; facts is called with the answer
// under the enrichment's lock.
type lookup struct {
	what   string // "credit status", for the missing line
	system string
	run    func(ctx context.Context, c *Client, put func(k, v string)) error
	// quietNotFound: a 404 is not worth telling people (no ETA on file is
	// normal), but a failure still is.
	quietNotFound bool
}

// Enrich asks the relevant systems about the case's customers, orders,
// stock, POs, receipts and shipments, all at once. Whatever fails is named
// in missing ("credit status unavailable: ERP timed out after 2s"); what was
// found is kept, so the case stays usable.
func (r *Remote) Enrich(ctx context.Context, c *cases.Case) (map[string]string, []string) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	plan := planLookups(c)
	facts := map[string]string{}
	var missing []string
	var mu sync.Mutex
	put := func(k, v string) {
		mu.Lock()
		facts[k] = v
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, l := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := r.client(l.system)
			if err == nil {
				err = l.run(ctx, cl, put)
			}
			if err == nil || (l.quietNotFound && cases.KindOf(err) == cases.KindNotFound) {
				return
			}
			mu.Lock()
			missing = append(missing, l.what+" unavailable: "+message(err))
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(missing)
	return facts, slices.Compact(missing)
}

// message is an error as people read it: a *cases.Error's own words.
func message(err error) string {
	if e, ok := err.(*cases.Error); ok && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// planLookups turns the case's enrichment plan into REST lookups.
func planLookups(c *cases.Case) []lookup {
	p := planEnrichment(c)
	var plan []lookup
	for _, cu := range p.customers {
		plan = append(plan, creditLookup(cu), profileLookup(cu))
	}
	for _, sku := range p.stock {
		plan = append(plan, stockLookup(sku))
	}
	for _, sh := range p.shipments {
		plan = append(plan, shipmentLookup(sh))
	}
	for _, o := range p.orders {
		plan = append(plan, orderLookup(o))
	}
	for _, po := range p.pos {
		skus := map[string]bool{}
		for _, s := range po.skus {
			skus[s] = true
		}
		plan = append(plan, poLookup(po.po, skus, po.lines))
		if po.lines {
			plan = append(plan, receiptLookup(po.po))
		}
	}
	return plan
}

func creditLookup(cu string) lookup {
	return lookup{what: "credit status", system: ERP, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var cs CreditStatus
		if err := c.Get(ctx, "/v1/customers/"+url.PathEscape(cu)+"/credit", "customer "+cu, &cs); err != nil {
			return err
		}
		put(cases.CtxCreditLimit(cu), num(cs.CreditLimit))
		put(cases.CtxCreditBalance(cu), num(cs.Balance))
		put(cases.CtxDaysBeyondTerms(cu), num(cs.AvgDaysBeyondTerms))
		return nil
	}}
}

func profileLookup(cu string) lookup {
	return lookup{what: "customer tier", system: CRM, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var p CustomerProfile
		if err := c.Get(ctx, "/v1/customers/"+url.PathEscape(cu), "customer "+cu, &p); err != nil {
			return err
		}
		if p.Name != "" {
			put(cases.CtxCustomerName(cu), p.Name)
		}
		if p.Tier != "" {
			put(cases.CtxCustomerTier(cu), p.Tier)
		}
		return nil
	}}
}

func stockLookup(sku string) lookup {
	return lookup{what: "stock", system: WMS, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var st Stock
		if err := c.Get(ctx, "/v1/stock/"+url.PathEscape(sku), "item "+sku, &st); err != nil {
			return err
		}
		for _, w := range st.Warehouses {
			put(cases.CtxStock(sku, w.Warehouse), num(w.Available))
		}
		return nil
	}}
}

func shipmentLookup(id string) lookup {
	return lookup{what: "shipment ETA", system: TMS, quietNotFound: true, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var sh Shipment
		if err := c.Get(ctx, "/v1/shipments/"+url.PathEscape(id), "shipment "+id, &sh); err != nil {
			return err
		}
		if sh.ETA != "" {
			put(cases.CtxShipmentETA(id), sh.ETA)
		}
		return nil
	}}
}

func orderLookup(id string) lookup {
	return lookup{what: "promise date", system: ERP, quietNotFound: true, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var o Order
		if err := c.Get(ctx, "/v1/orders/"+url.PathEscape(id), "order "+id, &o); err != nil {
			return err
		}
		if o.PromiseDate != "" {
			put(cases.CtxPromiseDate(id), o.PromiseDate)
		}
		return nil
	}}
}

// poLookup fills the PO lines asked about. When a price or receipt family
// needs them, a PO without the line is named as missing.
func poLookup(po string, skus map[string]bool, needed bool) lookup {
	return lookup{what: "PO line", system: ERP, quietNotFound: !needed, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var p PurchaseOrder
		if err := c.Get(ctx, "/v1/purchase-orders/"+url.PathEscape(po), "PO "+po, &p); err != nil {
			return err
		}
		found := map[string]bool{}
		for _, l := range p.Lines {
			if skus[l.SKU] {
				put(cases.CtxPOPrice(po, l.SKU), num(l.UnitPrice))
				put(cases.CtxPOQuantity(po, l.SKU), num(l.Quantity))
				found[l.SKU] = true
			}
		}
		if p.PriceChange != "" {
			put("po/"+po+"/price_change", p.PriceChange)
		}
		if needed {
			var absent []string
			for sku := range skus {
				if !found[sku] {
					absent = append(absent, sku)
				}
			}
			if len(absent) > 0 {
				sort.Strings(absent)
				return cases.Errorf(cases.KindNotFound, "ERP has no %s on %s", strings.Join(absent, ", "), po)
			}
		}
		return nil
	}}
}

func receiptLookup(po string) lookup {
	return lookup{what: "goods receipt", system: ERP, quietNotFound: true, run: func(ctx context.Context, c *Client, put func(k, v string)) error {
		var rc Receipt
		if err := c.Get(ctx, "/v1/purchase-orders/"+url.PathEscape(po)+"/receipts", "receipt for "+po, &rc); err != nil {
			return err
		}
		sum := map[string]float64{}
		for _, l := range rc.Lines {
			sum[l.SKU] += l.Quantity
		}
		for sku, q := range sum {
			put(cases.CtxReceived(po, sku), num(q))
		}
		return nil
	}}
}

// PurchaseOrder asks the ERP for a PO and its goods receipts.
func (r *Remote) PurchaseOrder(ctx context.Context, po string) (PurchaseOrder, Receipt, error) {
	c, err := r.client(ERP)
	if err != nil {
		return PurchaseOrder{}, Receipt{}, err
	}
	var doc PurchaseOrder
	if err := c.Get(ctx, "/v1/purchase-orders/"+url.PathEscape(po), "PO "+po, &doc); err != nil {
		return PurchaseOrder{}, Receipt{}, err
	}
	var rc Receipt
	if err := c.Get(ctx, "/v1/purchase-orders/"+url.PathEscape(po)+"/receipts", "receipts of "+po, &rc); err != nil {
		return PurchaseOrder{}, Receipt{}, err
	}
	return doc, rc, nil
}
