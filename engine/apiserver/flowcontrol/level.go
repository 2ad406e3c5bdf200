package flowcontrol

import (
	"context"
	"sync"
	"time"
)

// level hands out the seats of one priority level: a request takes a free
// seat if its identity holds less than its share and has nobody waiting
// ahead of it; otherwise it waits in its identity's queue. A freed seat
// goes to the queues in turn (round-robin over identities), skipping
// identities at their share, so every identity with waiting requests gets
// seats at the same pace however long another's backlog is.
type level struct {
	name    Level
	cfg     LevelConfig
	metrics *levelMetrics

	mu     sync.Mutex
	inUse  int
	held   map[string]int       // seats per identity
	queues map[string][]*waiter // waiting requests per identity, oldest first
	ring   []string             // identities with waiting requests, in turn
	next   int                  // where the next turn starts in ring
}

type waiter struct {
	ready   chan struct{} // closed when granted
	granted bool
}

func newLevel(name Level, cfg LevelConfig, m *levelMetrics) *level {
	if cfg.PerIdentity <= 0 || cfg.PerIdentity > cfg.Seats {
		cfg.PerIdentity = cfg.Seats
	}
	m.seats.Set(float64(cfg.Seats))
	return &level{name: name, cfg: cfg, metrics: m, held: map[string]int{}, queues: map[string][]*waiter{}}
}

// acquire waits for a seat; the returned function gives it back.
func (l *level) acquire(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.inUse < l.cfg.Seats && l.held[id] < l.cfg.PerIdentity && len(l.queues[id]) == 0 {
		l.take(id)
		l.mu.Unlock()
		l.metrics.waited.Observe(0)
		return l.releaser(id), nil
	}
	if len(l.queues[id]) >= l.cfg.QueueLength {
		l.mu.Unlock()
		l.metrics.rejected.WithLabelValues(ReasonQueueFull).Inc()
		return nil, reject(l.name, ReasonQueueFull, time.Second,
			"too many requests: the %s priority level has %d seats, this identity may hold %d and queue %d more; retry shortly",
			l.name, l.cfg.Seats, l.cfg.PerIdentity, l.cfg.QueueLength)
	}
	w := &waiter{ready: make(chan struct{})}
	if len(l.queues[id]) == 0 {
		l.ring = append(l.ring, id)
	}
	l.queues[id] = append(l.queues[id], w)
	l.metrics.waiting.Inc()
	l.mu.Unlock()

	start := time.Now()
	timer := time.NewTimer(l.cfg.QueueWait)
	defer timer.Stop()
	select {
	case <-w.ready:
		l.metrics.waited.Observe(time.Since(start).Seconds())
		return l.releaser(id), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	if w.granted { // granted as the wait ended: keep the seat
		l.mu.Unlock()
		l.metrics.waited.Observe(time.Since(start).Seconds())
		return l.releaser(id), nil
	}
	l.dequeue(id, w)
	l.mu.Unlock()
	l.metrics.waiting.Dec()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.metrics.rejected.WithLabelValues(ReasonTimeout).Inc()
	return nil, reject(l.name, ReasonTimeout, time.Second,
		"too many requests: no seat of the %s priority level freed up within %s; retry shortly", l.name, l.cfg.QueueWait)
}

func (l *level) take(id string) {
	l.inUse++
	l.held[id]++
	l.metrics.inflight.Inc()
}

func (l *level) releaser(id string) func() {
	var once sync.Once
	return func() { once.Do(func() { l.release(id) }) }
}

func (l *level) release(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inUse--
	if l.held[id]--; l.held[id] == 0 {
		delete(l.held, id)
	}
	l.metrics.inflight.Dec()
	l.dispatch()
}

// dispatch grants free seats to waiting requests, one identity per turn.
func (l *level) dispatch() {
	for l.inUse < l.cfg.Seats && len(l.ring) > 0 {
		granted := false
		for range len(l.ring) {
			l.next %= len(l.ring)
			id := l.ring[l.next]
			if l.held[id] >= l.cfg.PerIdentity {
				l.next++
				continue
			}
			w := l.queues[id][0]
			l.dequeue(id, w)
			w.granted = true
			l.take(id)
			l.metrics.waiting.Dec()
			close(w.ready)
			if _, still := l.queues[id]; still {
				l.next++ // the next identity's turn
			}
			granted = true
			break
		}
		if !granted {
			return // every waiting identity is at its share
		}
	}
}

// dequeue removes w from id's queue, and id from the ring when its queue
// empties.
func (l *level) dequeue(id string, w *waiter) {
	q := l.queues[id]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		l.queues[id] = q
		return
	}
	delete(l.queues, id)
	for i, x := range l.ring {
		if x == id {
			l.ring = append(l.ring[:i], l.ring[i+1:]...)
			if l.next > i {
				l.next--
			}
			break
		}
	}
}
