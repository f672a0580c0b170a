package edi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/exops/exops/cases"
)

// Order is a purchase order exops saw in an 850 or ORDERS, remembered until
// its supplier acknowledges it, so that the acknowledgment, the ship notice
// and a missing acknowledgment can be compared with it.
type Order struct {
	Key       string      `json:"key"` // partner "/" PO number
	PO        string      `json:"po"`
	Partner   string      `json:"partner"` // the supplier's interchange id
	Supplier  string      `json:"supplier"`
	Sent      time.Time   `json:"sent"`
	Due       time.Time   `json:"due"`
	Value     float64     `json:"value,omitempty"`
	Currency  string      `json:"currency,omitempty"`
	Requested string      `json:"requested,omitempty"`
	Lines     []OrderLine `json:"lines,omitempty"`
	Confirmed bool        `json:"confirmed,omitempty"`
	// Control is how the supplier's 997 or CONTRL names the order's set:
	// group and set control numbers.
	Control string `json:"control,omitempty"`
}

// OrderLine is one remembered PO line.
type OrderLine struct {
	Item      string  `json:"item"`
	Quantity  float64 `json:"quantity"`
	UnitPrice float64 `json:"unit_price,omitempty"`
	Requested string  `json:"requested,omitempty"`
}

func (o Order) line(item string) (OrderLine, bool) {
	for _, l := range o.Lines {
		if l.Item == item {
			return l, true
		}
	}
	return OrderLine{}, false
}

// Ledger keeps the remembered orders.
type Ledger interface {
	// Remember stores orders not yet known; a known order keeps what it
	// had, so a resent 850 changes nothing.
	Remember(ctx context.Context, orders []Order) error
	Order(ctx context.Context, key string) (Order, bool, error)
	// ByControl finds the order whose set a functional acknowledgment names.
	ByControl(ctx context.Context, partner, control string) (Order, bool, error)
	// Confirm marks orders acknowledged: they are no longer overdue.
	Confirm(ctx context.Context, keys []string) error
	// Overdue lists unconfirmed orders due at or before now, earliest first.
	Overdue(ctx context.Context, now time.Time, max int) ([]Order, error)
	// Settle takes orders whose missing confirmation was raised off the
	// overdue list.
	Settle(ctx context.Context, keys []string) error
}

// MaxOpenOrders bounds the orders waiting for an acknowledgment; beyond it
// new orders are refused with an error (and named), not silently dropped.
const MaxOpenOrders = 20000

func orderKey(partner, po string) string { return partner + "/" + po }

// MemoryLedger is a Ledger in memory, for `exops edi parse` and tests.
type MemoryLedger struct {
	mu     sync.Mutex
	orders map[string]Order
	ctl    map[string]string
	open   map[string]time.Time
}

func (m *MemoryLedger) init() {
	if m.orders == nil {
		m.orders, m.ctl, m.open = map[string]Order{}, map[string]string{}, map[string]time.Time{}
	}
}

func (m *MemoryLedger) Remember(_ context.Context, orders []Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	for _, o := range orders {
		if _, ok := m.orders[o.Key]; ok {
			continue
		}
		if len(m.open) >= MaxOpenOrders {
			return fmt.Errorf("order %s not remembered: %d orders already wait for an acknowledgment", o.PO, MaxOpenOrders)
		}
		m.orders[o.Key] = o
		m.ctl[o.Partner+"|"+o.Control] = o.Key
		if !o.Confirmed {
			m.open[o.Key] = o.Due
		}
	}
	return nil
}

func (m *MemoryLedger) Order(_ context.Context, key string) (Order, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[key]
	return o, ok, nil
}

func (m *MemoryLedger) ByControl(_ context.Context, partner, control string) (Order, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[m.ctl[partner+"|"+control]]
	return o, ok, nil
}

func (m *MemoryLedger) Confirm(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if o, ok := m.orders[k]; ok {
			o.Confirmed = true
			m.orders[k] = o
		}
		delete(m.open, k)
	}
	return nil
}

func (m *MemoryLedger) Overdue(_ context.Context, now time.Time, max int) ([]Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Order
	for k, due := range m.open {
		if !due.After(now) {
			out = append(out, m.orders[k])
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Due.Before(out[j].Due) || out[i].Due.Equal(out[j].Due) && out[i].Key < out[j].Key
	})
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (m *MemoryLedger) Settle(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.open, k)
	}
	return nil
}

// StoreLedger keeps the orders in the case store, so they survive a restart
// and every replica sees them: each order is a record under the source
// LedgerSource (id "order:" + key), the acknowledgment index another
// ("ctl:" + partner + control), and the orders still waiting one record
// ("open"), all written in one transaction. Only the engine's own event
// lookups read that source; no case refers to it.
type StoreLedger struct {
	Store cases.Store
}

// LedgerSource is the CloudEvents source the ledger's records are kept under.
const LedgerSource = "/exops/edi/ledger"

type openList struct {
	Due map[string]time.Time `json:"due"`
}

func putRecord(tx cases.Tx, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.PutEvent(&cases.StoredEvent{Event: cases.Event{SpecVersion: "1.0", Source: LedgerSource, ID: id, Type: "edi.ledger",
		Data: map[string]any{"json": string(b)}}})
}

func getRecord(tx cases.ReadTx, id string, v any) (bool, error) {
	se, err := tx.Event(LedgerSource, id)
	if cases.KindOf(err) == cases.KindNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s, _ := se.Event.Data["json"].(string)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return false, fmt.Errorf("edi ledger record %s is damaged: %w", id, err)
	}
	return true, nil
}

func (l StoreLedger) Remember(ctx context.Context, orders []Order) error {
	if len(orders) == 0 {
		return nil
	}
	return l.changeOpen(ctx, func(tx cases.Tx, open *openList) error {
		for _, o := range orders {
			var old Order
			if ok, err := getRecord(tx, "order:"+o.Key, &old); err != nil {
				return err
			} else if ok {
				continue
			}
			if len(open.Due) >= MaxOpenOrders {
				return cases.Errorf(cases.KindInvalid, "order %s not remembered: %d orders already wait for an acknowledgment", o.PO, MaxOpenOrders)
			}
			if err := putRecord(tx, "order:"+o.Key, o); err != nil {
				return err
			}
			if err := putRecord(tx, "ctl:"+o.Partner+"|"+o.Control, o.Key); err != nil {
				return err
			}
			if !o.Confirmed {
				open.Due[o.Key] = o.Due
			}
		}
		return nil
	})
}

// changeOpen runs change on the list of orders waiting for an
// acknowledgment, in one transaction, and writes the list back.
func (l StoreLedger) changeOpen(ctx context.Context, change func(tx cases.Tx, open *openList) error) error {
	return l.Store.Update(ctx, func(tx cases.Tx) error {
		var open openList
		if _, err := getRecord(tx, "open", &open); err != nil {
			return err
		}
		if open.Due == nil {
			open.Due = map[string]time.Time{}
		}
		if err := change(tx, &open); err != nil {
			return err
		}
		return putRecord(tx, "open", open)
	})
}

func (l StoreLedger) Order(ctx context.Context, key string) (o Order, ok bool, err error) {
	err = l.Store.View(ctx, func(tx cases.ReadTx) error {
		ok, err = getRecord(tx, "order:"+key, &o)
		return err
	})
	return o, ok, err
}

func (l StoreLedger) ByControl(ctx context.Context, partner, control string) (o Order, ok bool, err error) {
	err = l.Store.View(ctx, func(tx cases.ReadTx) error {
		var key string
		if found, err := getRecord(tx, "ctl:"+partner+"|"+control, &key); err != nil || !found {
			return err
		}
		ok, err = getRecord(tx, "order:"+key, &o)
		return err
	})
	return o, ok, err
}

func (l StoreLedger) Confirm(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return l.changeOpen(ctx, func(tx cases.Tx, open *openList) error {
		for _, k := range keys {
			var o Order
			ok, err := getRecord(tx, "order:"+k, &o)
			if err != nil {
				return err
			}
			if ok && !o.Confirmed {
				o.Confirmed = true
				if err := putRecord(tx, "order:"+k, o); err != nil {
					return err
				}
			}
			delete(open.Due, k)
		}
		return nil
	})
}

func (l StoreLedger) Overdue(ctx context.Context, now time.Time, max int) ([]Order, error) {
	var out []Order
	err := l.Store.View(ctx, func(tx cases.ReadTx) error {
		out = out[:0]
		var open openList
		if _, err := getRecord(tx, "open", &open); err != nil {
			return err
		}
		keys := make([]string, 0, len(open.Due))
		for k, due := range open.Due {
			if !due.After(now) {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := open.Due[keys[i]], open.Due[keys[j]]
			return a.Before(b) || a.Equal(b) && keys[i] < keys[j]
		})
		if len(keys) > max {
			keys = keys[:max]
		}
		for _, k := range keys {
			var o Order
			if ok, err := getRecord(tx, "order:"+k, &o); err != nil {
				return err
			} else if ok {
				out = append(out, o)
			}
		}
		return nil
	})
	return out, err
}

func (l StoreLedger) Settle(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return l.changeOpen(ctx, func(_ cases.Tx, open *openList) error {
		for _, k := range keys {
			delete(open.Due, k)
		}
		return nil
	})
}
