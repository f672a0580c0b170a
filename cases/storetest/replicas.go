package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/exops/exops/cases"
)

// RunReplicas runs the tests that matter when several processes write one
// store at once: open returns n stores on the same, new, empty data (for a
// store that allows one process, the same store n times). Run closes each
// distinct store when the subtest ends.
func RunReplicas(t *testing.T, open func(t *testing.T, n int) []cases.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, rs []cases.Store)
	}{
		{"AuditChainAcrossReplicas", testReplicasAudit},
		{"OneCasePerKey", testReplicasOneCasePerKey},
		{"EventOnce", testReplicasEventOnce},
		{"DedupeAcrossReplicas", testReplicasDedupe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := open(t, 3)
			t.Cleanup(func() {
				closed := map[cases.Store]bool{}
				for _, s := range rs {
					if closed[s] {
						continue
					}
					closed[s] = true
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tt.fn(t, rs)
		})
	}
}

// hammer runs fn from perReplica goroutines on each replica, rounds times
// each, and fails the test on any error.
func hammer(t *testing.T, rs []cases.Store, perReplica, rounds int, fn func(s cases.Store, tag string) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(rs)*perReplica*rounds)
	for r, s := range rs {
		for g := 0; g < perReplica; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					if err := fn(s, fmt.Sprintf("r%d/g%d/i%d", r, g, i)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Update: %v", err)
	}
}

// testReplicasAudit appends from every replica at once: the chain has no
// gap or fork, and every replica verifies it.
func testReplicasAudit(t *testing.T, rs []cases.Store) {
	const perReplica, rounds = 8, 10
	hammer(t, rs, perReplica, rounds, func(s cases.Store, tag string) error {
		return s.Update(context.Background(), func(tx cases.Tx) error {
			n, err := tx.NextCaseNumber()
			if err != nil {
				return err
			}
			id := cases.FormatCaseID(n)
			if err := tx.PutCase(&cases.Case{ID: id, Severity: cases.SeverityLow, Status: cases.StatusOpen, OpenedAt: base,
				Context: map[string]string{"tag": tag}}); err != nil {
				return err
			}
			for k := 0; k < 2; k++ {
				if _, err := tx.Audit(cases.AuditEntry{Time: base, Case: id, Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: fmt.Sprint(tag, "#", k)}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	total := len(rs) * perReplica * rounds
	for _, s := range rs {
		verify(t, s, 2*total)
	}
	seen := map[string]int{}
	for _, r := range records(t, rs[0], 1) {
		seen[r.Detail]++
	}
	if len(seen) != 2*total {
		t.Errorf("%d distinct audit records, want %d", len(seen), 2*total)
	}
	for d, n := range seen {
		if n != 1 {
			t.Errorf("audit record %q appears %d times", d, n)
		}
	}
	view(t, rs[len(rs)-1], func(tx cases.ReadTx) error {
		for n := 1; n <= total; n++ {
			if _, err := tx.Case(cases.FormatCaseID(uint64(n))); err != nil {
				t.Errorf("case number %d: %v (numbers doubled or skipped)", n, err)
			}
		}
		return nil
	})
}

// testReplicasOneCasePerKey has every replica deliver events for the same
// few correlation keys: each key opens one case, which every event joins;
// no case is doubled and no join is lost to a concurrent one.
func testReplicasOneCasePerKey(t *testing.T, rs []cases.Store) {
	const perReplica, rounds, keys = 6, 8, 3
	hammer(t, rs, perReplica, rounds, func(s cases.Store, tag string) error {
		key := fmt.Sprintf("order:SO-%d", len(tag)%keys) // spread over the keys
		for _, r := range tag {
			key = fmt.Sprintf("order:SO-%d", (int(r)+len(key))%keys)
		}
		return s.Update(context.Background(), func(tx cases.Tx) error {
			ref, err := tx.Key(key)
			var c *cases.Case
			switch {
			case cases.KindOf(err) == cases.KindNotFound:
				n, err := tx.NextCaseNumber()
				if err != nil {
					return err
				}
				c = &cases.Case{ID: cases.FormatCaseID(n), Severity: cases.SeverityMedium, Status: cases.StatusOpen, OpenedAt: base, Keys: []string{key}}
				if err := tx.PutKey(key, cases.KeyRef{Case: c.ID, LastSeen: base}); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				if c, err = tx.Case(ref.Case); err != nil {
					return err
				}
			}
			c.Version++
			c.Events = append(c.Events, cases.CaseEvent{ID: tag, Source: "erp", Type: "order.credit_hold", Time: base})
			return tx.PutCase(c)
		})
	})
	total := len(rs) * perReplica * rounds
	events, opened := 0, 0
	view(t, rs[0], func(tx cases.ReadTx) error {
		return tx.ForEachCase(func(c *cases.Case) error {
			opened++
			events += len(c.Events)
			if c.Version != uint64(len(c.Events)) {
				t.Errorf("case %s: version %d but %d events: a join overwrote another", c.ID, c.Version, len(c.Events))
			}
			ref, err := tx.Key(c.Keys[0])
			if err != nil || ref.Case != c.ID {
				t.Errorf("case %s for %s, but the key points at %q (%v): case doubled", c.ID, c.Keys[0], ref.Case, err)
			}
			return nil
		})
	})
	if opened > keys {
		t.Errorf("%d cases opened for %d keys", opened, keys)
	}
	if events != total {
		t.Errorf("cases hold %d events, want %d: joins lost", events, total)
	}
}

// testReplicasEventOnce delivers each event to every replica at once, as
// retries and redeliveries do: each is accepted, and audited, once.
func testReplicasEventOnce(t *testing.T, rs []cases.Store) {
	const events = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[string]int{}
	errs := make(chan error, events*len(rs)*2)
	for e := 0; e < events; e++ {
		for _, s := range rs {
			for copies := 0; copies < 2; copies++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("evt-%d", e)
					first := false
					err := s.Update(context.Background(), func(tx cases.Tx) error {
						first = false
						_, err := tx.Event("erp", id)
						if err == nil {
							return nil // a duplicate: answered from the stored event
						}
						if cases.KindOf(err) != cases.KindNotFound {
							return err
						}
						ev := sampleEvent("erp", id)
						if err := tx.PutEvent(ev); err != nil {
							return err
						}
						first = true
						_, err = tx.Audit(cases.AuditEntry{Time: base, Kind: cases.AuditCaseOpened, Actor: "erp", Detail: id})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if first {
						mu.Lock()
						accepted[id]++
						mu.Unlock()
					}
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	for e := 0; e < events; e++ {
		if id := fmt.Sprintf("evt-%d", e); accepted[id] != 1 {
			t.Errorf("event %s accepted %d times, want once", id, accepted[id])
		}
	}
	verify(t, rs[1], events)
}

// testReplicasDedupe enqueues one card job per case from every replica at
// once: one job per case waits.
func testReplicasDedupe(t *testing.T, rs []cases.Store) {
	const perReplica, rounds, cs = 4, 6, 5
	hammer(t, rs, perReplica, rounds, func(s cases.Store, tag string) error {
		c := cases.FormatCaseID(uint64(len(tag)+int(tag[len(tag)-1]))%cs + 1)
		return s.Update(context.Background(), func(tx cases.Tx) error {
			return tx.Enqueue(cases.QueueOutbox, &cases.Job{Kind: "card", Case: c, Dedupe: "card:" + c, Created: base})
		})
	})
	per := map[string]int{}
	for _, j := range jobsOf(t, rs[2], cases.QueueOutbox) {
		per[j.Case]++
	}
	for c, n := range per {
		if n != 1 {
			t.Errorf("%d card jobs for %s, want 1", n, c)
		}
	}
	if len(per) == 0 {
		t.Error("no card job queued")
	}
}
