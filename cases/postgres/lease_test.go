package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// replicasOf opens n stores on one new schema.
func replicasOf(t *testing.T, n int) []*Store {
	t.Helper()
	first, url, schema := openTest(t)
	t.Cleanup(func() { first.Close() })
	rs := []*Store{first}
	for len(rs) < n {
		s, err := Open(context.Background(), url, Options{Schema: schema, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		rs = append(rs, s)
	}
	return rs
}

func enqueue(t *testing.T, s *Store, q cases.Queue, js ...*cases.Job) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx cases.Tx) error {
		for _, j := range js {
			if err := tx.Enqueue(q, j); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestClaimJob(t *testing.T) {
	rs := replicasOf(t, 3)
	ctx := context.Background()
	now := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC) // any date: the clock is the caller's
	const lease = time.Minute
	j1 := &cases.Job{Kind: "card", Case: "EX-000001", Created: now}
	j2 := &cases.Job{Kind: "reply", Case: "EX-000001", Created: now}
	j3 := &cases.Job{Kind: "card", Case: "EX-000002", Created: now}
	j4 := &cases.Job{Kind: "card", Case: "EX-000003", Created: now, NotBefore: now.Add(time.Hour)}
	enqueue(t, rs[0], cases.QueueOutbox, j1, j2, j3, j4)
	claim := func(s *Store, owner string, at time.Time) uint64 {
		t.Helper()
		j, ok, err := s.ClaimJob(ctx, cases.QueueOutbox, owner, lease, at)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return 0
		}
		return j.ID
	}
	if got := claim(rs[0], "r0", now); got != j1.ID {
		t.Fatalf("first claim = %d, want the oldest job %d", got, j1.ID)
	}
	if got := claim(rs[1], "r1", now); got != j3.ID {
		t.Errorf("second claim = %d, want %d (job %d of the same case waits for %d)", got, j3.ID, j2.ID, j1.ID)
	}
	if got := claim(rs[2], "r2", now); got != 0 {
		t.Errorf("third claim = %d, want none: the rest is leased, behind its case, or not due", got)
	}
	// r0 dies: its lease runs out and another replica takes the job.
	if got := claim(rs[2], "r2", now.Add(lease)); got != j1.ID {
		t.Errorf("claim after the lease ran out = %d, want %d", got, j1.ID)
	}
	// Done: the case's next job comes free.
	if err := rs[2].Update(ctx, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueOutbox, j1.ID) }); err != nil {
		t.Fatal(err)
	}
	if got := claim(rs[0], "r0", now.Add(lease)); got != j2.ID {
		t.Errorf("claim after the case's first job = %d, want %d", got, j2.ID)
	}
	// A retry later: the job is rewritten and its lease released (as the
	// engine does); it waits for NotBefore.
	retry := *j2
	retry.ID, retry.Attempts, retry.NotBefore = j2.ID, 1, now.Add(10*time.Minute)
	if err := rs[0].Update(ctx, func(tx cases.Tx) error { return tx.UpdateJob(cases.QueueOutbox, retry) }); err != nil {
		t.Fatal(err)
	}
	if err := rs[0].ReleaseJob(ctx, cases.QueueOutbox, j2.ID, "r0"); err != nil {
		t.Fatal(err)
	}
	if got := claim(rs[1], "r1", now.Add(lease+time.Second)); got != 0 && got != j3.ID {
		t.Errorf("claim before the retry is due = %d", got)
	}
	if got := claim(rs[1], "r1", now.Add(10*time.Minute)); got != j2.ID {
		t.Errorf("claim when the retry is due = %d, want %d", got, j2.ID)
	}
	if err := rs[1].Update(ctx, func(tx cases.Tx) error {
		if err := tx.DeleteJob(cases.QueueOutbox, j2.ID); err != nil {
			return err
		}
		return tx.DeleteJob(cases.QueueOutbox, j3.ID)
	}); err != nil {
		t.Fatal(err)
	}
	if got := claim(rs[1], "r1", now.Add(59*time.Minute)); got != 0 {
		t.Errorf("claim of a job due in an hour, a minute early = %d, want none", got)
	}
	if got := claim(rs[1], "r1", now.Add(time.Hour)); got != j4.ID {
		t.Errorf("claim of the job not due before an hour = %d, want %d", got, j4.ID)
	}
	if _, _, err := rs[0].ClaimJob(ctx, cases.QueueOutbox, "", lease, now); cases.KindOf(err) != cases.KindInvalid {
		t.Errorf("claim without an owner = %v, want invalid", err)
	}
}

// TestClaimJobConcurrent has twelve workers on three replicas drain one
// queue: every job is done exactly once.
func TestClaimJobConcurrent(t *testing.T) {
	rs := replicasOf(t, 3)
	ctx := context.Background()
	now := time.Date(2029, 5, 5, 0, 0, 0, 0, time.UTC)
	const jobs = 200
	var js []*cases.Job
	for i := 0; i < jobs; i++ {
		js = append(js, &cases.Job{Kind: "execute", Case: fmt.Sprintf("EX-%06d", i%40+1), Recommendation: fmt.Sprint(i), Created: now})
	}
	enqueue(t, rs[0], cases.QueueActions, js...)
	var done sync.Map
	var doubles atomic.Int32
	var wg sync.WaitGroup
	for r, s := range rs {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("r%d-w%d", r, w)
				for idle := 0; idle < 3; {
					j, ok, err := s.ClaimJob(ctx, cases.QueueActions, owner, time.Hour, now)
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						idle++
						time.Sleep(5 * time.Millisecond) // jobs behind a claimed one of their case
						continue
					}
					idle = 0
					if _, loaded := done.LoadOrStore(j.ID, owner); loaded {
						doubles.Add(1)
					}
					if err := s.Update(ctx, func(tx cases.Tx) error { return tx.DeleteJob(cases.QueueActions, j.ID) }); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	n := 0
	done.Range(func(any, any) bool { n++; return true })
	if n != jobs || doubles.Load() != 0 {
		t.Errorf("%d of %d jobs done, %d done twice", n, jobs, doubles.Load())
	}
}

func TestTryLead(t *testing.T) {
	rs := replicasOf(t, 2)
	ctx := context.Background()
	t0 := time.Date(2040, 2, 29, 12, 0, 0, 0, time.UTC)
	const ttl = 30 * time.Second
	steps := []struct {
		r     int
		at    time.Duration
		leads bool
	}{
		{0, 0, true},                 // nobody led: r0 takes it
		{1, time.Second, false},      // r0 holds it
		{0, 20 * time.Second, true},  // r0 renews until 50 s
		{1, 40 * time.Second, false}, // still r0's
		{1, 50 * time.Second, true},  // r0 died after 20 s: r1 takes over at 20 s + ttl
		{0, 51 * time.Second, false}, // r0 is back, but r1 leads
		{1, 70 * time.Second, true},  // r1 renews
		{0, 100 * time.Second, true}, // r1 ran out at 100 s
	}
	for i, st := range steps {
		got, err := rs[st.r].TryLead(ctx, "timers", fmt.Sprint("r", st.r), ttl, t0.Add(st.at))
		if err != nil {
			t.Fatal(err)
		}
		if got != st.leads {
			t.Errorf("step %d: r%d TryLead at +%s = %v, want %v", i, st.r, st.at, got, st.leads)
		}
	}
	// Another lease is another leader; resigning frees at once.
	if ok, _ := rs[1].TryLead(ctx, "digest", "r1", ttl, t0); !ok {
		t.Error("r1 could not lead the digest")
	}
	if err := rs[0].Resign(ctx, "timers", "r0"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := rs[1].TryLead(ctx, "timers", "r1", ttl, t0.Add(101*time.Second)); !ok {
		t.Error("r1 could not lead after r0 resigned")
	}
}

func TestSeenOnce(t *testing.T) {
	rs := replicasOf(t, 3)
	ctx := context.Background()
	now := time.Date(2035, 7, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for _, s := range rs {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, err := s.SeenOnce(ctx, "event:Ev0123", now, exp)
				if err != nil {
					t.Error(err)
				}
				if first {
					firsts.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Errorf("%d replicas saw the event first, want 1", firsts.Load())
	}
	if first, _ := rs[0].SeenOnce(ctx, "event:Ev0123", exp.Add(-time.Second), exp.Add(time.Hour)); first {
		t.Error("seen again before the memory expired")
	}
	if first, _ := rs[1].SeenOnce(ctx, "event:Ev0123", exp, exp.Add(time.Hour)); !first {
		t.Error("not seen as new after the memory expired")
	}
	rs[2].SeenOnce(ctx, "event:old", now, now.Add(time.Minute))
	if n, err := rs[2].ForgetExpired(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("ForgetExpired = %d %v, want 1", n, err)
	}
	for _, bad := range []string{"", string(make([]byte, maxLeaseName+1)), "nul\x00"} {
		if _, err := rs[0].SeenOnce(ctx, bad, now, exp); cases.KindOf(err) != cases.KindInvalid {
			t.Errorf("SeenOnce(%q…) = %v, want invalid", bad[:min(len(bad), 8)], err)
		}
	}
}

// TestReleaseLeases: a stopped replica gives back every lease it holds, on
// every queue, and only its own; the jobs are taken at once, not after the
// lease runs out.
func TestReleaseLeases(t *testing.T) {
	rs := replicasOf(t, 2)
	ctx := context.Background()
	now := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)
	const lease = time.Hour
	a := &cases.Job{Kind: "card", Case: "EX-000001", Created: now}
	b := &cases.Job{Kind: "process", Case: "EX-000002", Created: now}
	c := &cases.Job{Kind: "card", Case: "EX-000003", Created: now}
	enqueue(t, rs[0], cases.QueueOutbox, a, c)
	enqueue(t, rs[0], cases.QueueWork, b)
	for _, q := range []cases.Queue{cases.QueueOutbox, cases.QueueWork} {
		if _, ok, err := rs[0].ClaimJob(ctx, q, "r0", lease, now); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", q, ok, err)
		}
	}
	if _, ok, err := rs[1].ClaimJob(ctx, cases.QueueOutbox, "r1", lease, now); err != nil || !ok {
		t.Fatalf("r1 claim: %v %v", ok, err)
	}
	if err := rs[0].ReleaseLeases(ctx, "r0"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []cases.Queue{cases.QueueOutbox, cases.QueueWork} {
		j, ok, err := rs[1].ClaimJob(ctx, q, "r2", lease, now.Add(time.Second))
		if err != nil || !ok {
			t.Errorf("%s: r0's job not free after ReleaseLeases: %v %v", q, ok, err)
			continue
		}
		if j.ID == c.ID {
			t.Errorf("%s: r1's lease was released too", q)
		}
	}
	if _, ok, _ := rs[1].ClaimJob(ctx, cases.QueueOutbox, "r2", lease, now.Add(time.Second)); ok {
		t.Errorf("a job under r1's lease was claimed")
	}
}

var _ cases.LeaseReleaser = (*Store)(nil)
