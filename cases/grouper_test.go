package cases

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGrouperLoops: with two loops, a second group runs while the first is
// still running (a store's second transaction while the first commits),
// every call submitted before Close runs exactly once, and no more groups
// run at once than there are loops.
func TestGrouperLoops(t *testing.T) {
	release := make(chan struct{})
	var running, most atomic.Int32
	var mu sync.Mutex
	ran := map[int]int{}
	g := NewGrouperLoops(2, 4, 64, func(group []int) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if group[0] == 0 {
			<-release // the first group holds its loop
		}
		mu.Lock()
		for _, c := range group {
			ran[c]++
		}
		mu.Unlock()
		running.Add(-1)
	})
	if !g.Submit(0) {
		t.Fatal("Submit refused before Close")
	}
	// The call after the held one still runs: the second loop takes it.
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first group never started")
		}
		time.Sleep(time.Millisecond)
	}
	g.Submit(1)
	for {
		mu.Lock()
		done := ran[1] == 1
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a call waited for a held group although a second loop was free")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 2; i < 40; i++ {
		g.Submit(i)
	}
	close(release)
	g.Close()
	if g.Submit(99) {
		t.Error("Submit accepted after Close")
	}
	for i := 0; i < 40; i++ {
		if ran[i] != 1 {
			t.Errorf("call %d ran %d times, want once", i, ran[i])
		}
	}
	if m := most.Load(); m > 2 {
		t.Errorf("%d groups ran at once with two loops", m)
	}
}
