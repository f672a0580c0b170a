package cases

import "sync"

// Grouper hands calls from many goroutines to one loop that runs them in
// groups: each group is every call waiting when the loop frees up, at most
// max, so a lone call runs at once and groups grow only under load, with no
// timer. The stores commit concurrent Updates this way (one transaction and
// one commit per group).
type Grouper[T any] struct {
	calls chan T
	max   int
	run   func([]T)

	mu     sync.RWMutex
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// NewGrouper starts the loop; run gets each group in turn.
func NewGrouper[T any](max, buffer int, run func([]T)) *Grouper[T] {
	return NewGrouperLoops(1, max, buffer, run)
}

// NewGrouperLoops starts loops loops that take calls from one queue, so
// that up to loops groups run at once: a store whose commit waits on a
// server (PostgreSQL) keeps it busy while one group waits.
func NewGrouperLoops[T any](loops, max, buffer int, run func([]T)) *Grouper[T] {
	g := &Grouper[T]{calls: make(chan T, buffer), max: max, run: run, stop: make(chan struct{}), done: make(chan struct{})}
	if loops < 1 {
		loops = 1
	}
	var wg sync.WaitGroup
	wg.Add(loops)
	for range loops {
		go func() {
			defer wg.Done()
			g.loop()
		}()
	}
	go func() {
		wg.Wait()
		close(g.done)
	}()
	return g
}

// Submit hands c to the loop; it reports false once the Grouper is closed.
func (g *Grouper[T]) Submit(c T) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false
	}
	g.calls <- c
	return true
}

// Close runs the calls already submitted and stops the loop; closing again
// does nothing.
func (g *Grouper[T]) Close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	<-g.done
}

func (g *Grouper[T]) loop() {
	for {
		select {
		case first := <-g.calls:
			g.run(g.collect(first))
		case <-g.stop:
			for {
				select {
				case c := <-g.calls:
					g.run(g.collect(c))
				default:
					return
				}
			}
		}
	}
}

func (g *Grouper[T]) collect(first T) []T {
	group := []T{first}
	for len(group) < g.max {
		select {
		case c := <-g.calls:
			group = append(group, c)
		default:
			return group
		}
	}
	return group
}
