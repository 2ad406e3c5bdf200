package workqueue

import (
	"container/heap"
	"time"
)

// delayState is the part of a Queue that holds keys waiting out an AddAfter
// delay. It is guarded by the Queue's mu.
//
// One goroutine per queue (delayLoop) sleeps until the earliest deadline and
// then moves every due key to the ready queue, so the cost of a delayed add
// is a heap push, not a goroutine or a runtime timer per key.
type delayState[T comparable] struct {
	delays delayHeap[T]
	// waiting indexes delays by key, so a second AddAfter of a key updates
	// its entry instead of adding another.
	waiting map[T]*delayed[T]
	// seq numbers entries so keys due at the same instant come out in the
	// order they were added: the heap alone isn't stable.
	seq uint64

	// wake (capacity 1) tells delayLoop to look at the heap again: the
	// earliest deadline moved, or the queue is shutting down. A full buffer
	// already guarantees a wake-up, so senders never block.
	wake         chan struct{}
	delayStarted bool
	// delayDone is closed as delayLoop returns, so ShutDown returns only
	// once the loop has stopped touching the queue.
	delayDone chan struct{}
}

func (q *Queue[T]) initDelay() {
	q.waiting = make(map[T]*delayed[T])
	q.wake = make(chan struct{}, 1)
	q.delayDone = make(chan struct{})
}

// AddAfter adds key once d has passed; d <= 0 adds it now. If key is already
// waiting out a delay, the earlier of the two deadlines wins, so a short
// retry is never pushed back by a longer one. It is ignored after ShutDown.
//
// The delay is independent of the ready queue: an Add in the meantime hands
// the key out now, and the delayed add still happens when it is due.
func (q *Queue[T]) AddAfter(key T, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	readyAt := time.Now().Add(d)
	e, ok := q.waiting[key]
	if ok {
		if !readyAt.Before(e.readyAt) {
			return
		}
		e.readyAt = readyAt
		heap.Fix(&q.delays, e.index)
	} else {
		q.seq++
		e = &delayed[T]{key: key, readyAt: readyAt, seq: q.seq}
		heap.Push(&q.delays, e)
		q.waiting[key] = e
	}
	if !q.delayStarted {
		q.delayStarted = true
		go q.delayLoop()
	} else if q.delays[0] == e {
		// Only a new earliest deadline changes when the loop must wake.
		q.pokeDelayLoop()
	}
}

func (q *Queue[T]) pokeDelayLoop() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// stopDelayLocked drops the waiting keys and tells delayLoop to exit.
func (q *Queue[T]) stopDelayLocked() {
	clear(q.delays)
	q.delays = nil
	clear(q.waiting)
	q.pokeDelayLoop()
}

// waitDelayLoop waits for delayLoop to exit, if it was ever started. It must
// be called without holding mu and after shuttingDown is set: AddAfter starts
// the loop only before shutdown, so the delayStarted read here is final.
func (q *Queue[T]) waitDelayLoop() {
	q.mu.Lock()
	started := q.delayStarted
	q.mu.Unlock()
	if started {
		<-q.delayDone
	}
}

func (q *Queue[T]) delayLoop() {
	defer close(q.delayDone)
	// One timer, reset to the earliest deadline on every pass. Since Go 1.23
	// Reset and Stop leave no stale tick in the channel, so no draining.
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		if q.shuttingDown {
			q.mu.Unlock()
			return
		}
		now := time.Now()
		for len(q.delays) > 0 && !q.delays[0].readyAt.After(now) {
			e := heap.Pop(&q.delays).(*delayed[T])
			delete(q.waiting, e.key)
			q.addLocked(e.key)
		}
		var due <-chan time.Time
		if len(q.delays) > 0 {
			timer.Reset(q.delays[0].readyAt.Sub(now))
			due = timer.C
		} else {
			timer.Stop()
		}
		q.mu.Unlock()

		// With nothing waiting, due is nil and only a poke wakes the loop.
		select {
		case <-q.wake:
		case <-due:
		}
	}
}

// delayed is one key waiting in the heap.
type delayed[T comparable] struct {
	key     T
	readyAt time.Time
	seq     uint64
	index   int // position in the heap, kept current for heap.Fix
}

// delayHeap is a min-heap on (readyAt, seq).
type delayHeap[T comparable] []*delayed[T]

func (h delayHeap[T]) Len() int { return len(h) }

func (h delayHeap[T]) Less(i, j int) bool {
	if h[i].readyAt.Equal(h[j].readyAt) {
		return h[i].seq < h[j].seq
	}
	return h[i].readyAt.Before(h[j].readyAt)
}

func (h delayHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *delayHeap[T]) Push(x any) {
	e := x.(*delayed[T])
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *delayHeap[T]) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil // don't pin the popped entry through the backing array
	*h = old[:n-1]
	return e
}
