package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
)

// Queue timing defaults.
const (
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
	// DefaultUnschedulableFlush is how long a pod may wait in the
	// unschedulable pool without any event before it is retried anyway:
	// a safety net for changes the event handlers cannot see.
	DefaultUnschedulableFlush = 60 * time.Second
)

// ErrQueueClosed is returned by Pop after Close.
var ErrQueueClosed = errors.New("scheduler: queue closed")

// Reason sets describing which rejections an event can lift. Moving only
// pods whose last failure an event could fix keeps a busy cluster from
// retrying every pending pod on every pod event.
const (
	// AllReasons: a node appeared or changed; anything may fit now.
	AllReasons Status = 1<<numReasons - 1
	// FreedReasons: a pod left (deleted, finished, binding forgotten).
	FreedReasons = Status(1<<ReasonInsufficientCPU | 1<<ReasonInsufficientMemory | 1<<ReasonTooManyPods |
		1<<ReasonHostPorts | 1<<ReasonPodAntiAffinity | 1<<ReasonTopologySpread)
	// PodAddedReasons: a pod was bound, which may satisfy affinity or
	// raise the emptiest spread domain.
	PodAddedReasons = Status(1<<ReasonPodAffinity | 1<<ReasonTopologySpread)
	// VolumeReasons: a Volume was placed, changed or deleted.
	VolumeReasons = Status(1 << ReasonVolume)
	// LabelReasons: a bound pod's labels changed.
	LabelReasons = Status(1<<ReasonPodAffinity | 1<<ReasonPodAntiAffinity | 1<<ReasonTopologySpread)
)

type podState uint8

const (
	stateActive podState = iota
	stateBackoff
	stateUnschedulable
	stateInFlight // handed out by Pop, being scheduled
	stateBinding  // assumed, binding in progress
)

// QueuedPod is a pod waiting for (or going through) scheduling.
type QueuedPod struct {
	info     *PodInfo
	state    podState
	attempts int
	seq      uint64
	// backoffUntil is when a failed pod may be tried again; since when it
	// entered the unschedulable pool (for the periodic flush).
	backoffUntil time.Time
	since        time.Time
	// reasons is why the last attempt failed; moves are what events
	// happened while the pod was in flight.
	reasons Status
	moves   Status
	index   int // in active or backoff heap
}

// Queue is the scheduling queue: an active heap (priority first, then
// first-in first-out), a backoff heap for pods that failed recently, and
// an unschedulable pool for pods that fit nowhere. Pods leave the pool
// only when an event could make them fit (MoveAllToActive) or when the
// periodic flush gives up waiting, so a pending pod costs nothing while
// the cluster is unchanged. Every failure doubles the pod's backoff, from
// 100 ms to a 10 s cap.
//
// Pop is meant for a single scheduling goroutine; the other methods are
// safe for concurrent use.
type Queue struct {
	mu  sync.Mutex
	now func() time.Time

	pods          map[string]*QueuedPod
	inFlight      map[string]*QueuedPod
	active        podHeap
	backoff       podHeap
	unschedulable map[string]*QueuedPod
	seq           uint64
	closed        bool
	wake          chan struct{}
	lastFlush     time.Time

	initialBackoff, maxBackoff, flushAfter time.Duration
}

// QueueOptions configure a Queue; zero values take the defaults.
type QueueOptions struct {
	InitialBackoff, MaxBackoff, UnschedulableFlush time.Duration
	Now                                            func() time.Time
}

// NewQueue returns an empty queue.
func NewQueue(o QueueOptions) *Queue {
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.UnschedulableFlush <= 0 {
		o.UnschedulableFlush = DefaultUnschedulableFlush
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	q := &Queue{
		now: o.Now, pods: map[string]*QueuedPod{}, inFlight: map[string]*QueuedPod{}, unschedulable: map[string]*QueuedPod{},
		wake:           make(chan struct{}, 1),
		initialBackoff: o.InitialBackoff, maxBackoff: o.MaxBackoff, flushAfter: o.UnschedulableFlush,
	}
	q.active.less = func(a, b *QueuedPod) bool {
		if a.info.Priority != b.info.Priority {
			return a.info.Priority > b.info.Priority
		}
		return a.seq < b.seq
	}
	q.backoff.less = func(a, b *QueuedPod) bool { return a.backoffUntil.Before(b.backoffUntil) }
	q.lastFlush = o.Now()
	return q
}

// Add queues a new pod, or updates one already known.
func (q *Queue) Add(pi *PodInfo) { q.Update(pi) }

// Update replaces a known pod's data (a newer object from the watch) and
// adds an unknown one. Status-only changes, like the scheduler's own
// PodScheduled condition, never move a pod out of the unschedulable pool:
// that would be a busy loop. A change of labels does, since the pod's own
// spread and affinity terms may match differently now.
func (q *Queue) Update(pi *PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp := q.pods[pi.Key]; qp != nil {
		q.updateLocked(qp, pi)
		return
	}
	q.seq++
	qp := &QueuedPod{info: pi, seq: q.seq}
	q.pods[pi.Key] = qp
	q.pushActiveLocked(qp)
}

func (q *Queue) updateLocked(qp *QueuedPod, pi *PodInfo) {
	if pi.Pod.ResourceVersion != 0 && pi.Pod.ResourceVersion < qp.info.Pod.ResourceVersion {
		return // an older object than the one we hold
	}
	labelsChanged := !mapsEqual(qp.info.Pod.Labels, pi.Pod.Labels)
	qp.info = pi
	if labelsChanged && qp.state == stateUnschedulable {
		delete(q.unschedulable, pi.Key)
		q.requeueLocked(qp)
	}
}

// Refresh records newer data for a pod the queue holds, and ignores pods
// it does not (already bound, or deleted).
func (q *Queue) Refresh(pi *PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp := q.pods[pi.Key]; qp != nil {
		q.updateLocked(qp, pi)
	}
}

// Delete forgets a pod (deleted, or bound by someone).
func (q *Queue) Delete(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qp := q.pods[key]
	if qp == nil {
		return
	}
	delete(q.pods, key)
	delete(q.inFlight, key)
	switch qp.state {
	case stateActive:
		heap.Remove(&q.active, qp.index)
	case stateBackoff:
		heap.Remove(&q.backoff, qp.index)
	case stateUnschedulable:
		delete(q.unschedulable, key)
	}
}

// Pop blocks until a pod is ready to be scheduled and hands it out.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrQueueClosed
		}
		now := q.now()
		q.flushBackoffLocked(now)
		q.flushUnschedulableLocked(now)
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*QueuedPod)
			qp.state = stateInFlight
			qp.moves = 0
			q.inFlight[qp.info.Key] = qp
			q.mu.Unlock()
			return qp, nil
		}
		wait := q.nextWakeLocked(now)
		q.mu.Unlock()

		var tc <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.wake:
		case <-tc:
		}
	}
}

// nextWakeLocked is how long Pop may sleep before a backoff expires or the
// unschedulable pool is due for its flush; 0 means no deadline.
func (q *Queue) nextWakeLocked(now time.Time) time.Duration {
	var wait time.Duration
	if q.backoff.Len() > 0 {
		wait = max(q.backoff.items[0].backoffUntil.Sub(now), time.Millisecond)
	}
	if len(q.unschedulable) > 0 {
		flush := max(q.lastFlush.Add(q.flushAfter/2).Sub(now), time.Millisecond)
		if wait == 0 || flush < wait {
			wait = flush
		}
	}
	return wait
}

// AddUnschedulable puts back a pod that fit nowhere, with the reasons.
// If an event that could lift those reasons arrived while the pod was
// being scheduled, the pod goes to backoff instead of the pool, so the
// event is not lost.
func (q *Queue) AddUnschedulable(qp *QueuedPod, reasons Status) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pods[qp.info.Key] != qp {
		return // deleted or bound meanwhile
	}
	delete(q.inFlight, qp.info.Key)
	now := q.now()
	qp.attempts++
	qp.backoffUntil = now.Add(q.backoffFor(qp.attempts))
	qp.reasons = reasons
	if qp.moves&reasons != 0 {
		q.pushBackoffLocked(qp)
		return
	}
	qp.state = stateUnschedulable
	qp.since = now
	q.unschedulable[qp.info.Key] = qp
}

// AddBackoff puts back a pod whose attempt failed for a reason other than
// fit (an internal error, a failed binding): it is retried after its
// backoff, without waiting for an event.
func (q *Queue) AddBackoff(qp *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pods[qp.info.Key] != qp {
		return
	}
	delete(q.inFlight, qp.info.Key)
	qp.attempts++
	qp.backoffUntil = q.now().Add(q.backoffFor(qp.attempts))
	q.pushBackoffLocked(qp)
}

// Binding records that a popped pod was assumed and is being bound.
func (q *Queue) Binding(qp *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pods[qp.info.Key] == qp {
		qp.state = stateBinding
		delete(q.inFlight, qp.info.Key)
	}
}

// Done forgets a pod whose binding succeeded.
func (q *Queue) Done(qp *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pods[qp.info.Key] == qp {
		delete(q.pods, qp.info.Key)
		delete(q.inFlight, qp.info.Key)
	}
}

// Latest returns the newest data known for a handed-out pod. The watch
// may replace it at any time, so it is only ever read through here.
func (q *Queue) Latest(qp *QueuedPod) *PodInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	return qp.info
}

// MoveAllToActive retries the unschedulable pods whose last failure an
// event with the given reason set could lift. Pods still within their
// backoff wait in the backoff heap first.
func (q *Queue) MoveAllToActive(event Status) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, qp := range q.unschedulable {
		if qp.reasons&event != 0 || qp.reasons == 0 {
			delete(q.unschedulable, key)
			q.requeueLocked(qp)
		}
	}
	for _, qp := range q.inFlight {
		qp.moves |= event
	}
}

// Close wakes Pop with ErrQueueClosed.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
}

// QueueCounts is the number of pods in each part of the queue; InFlight
// counts pods being scheduled or bound.
type QueueCounts struct {
	Active, Backoff, Unschedulable, InFlight int
}

// Counts reports the queue's sizes (metrics, tests).
func (q *Queue) Counts() QueueCounts {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueCounts{
		Active: q.active.Len(), Backoff: q.backoff.Len(), Unschedulable: len(q.unschedulable),
		InFlight: len(q.pods) - q.active.Len() - q.backoff.Len() - len(q.unschedulable),
	}
}

// backoffFor is initial * 2^(attempts-1), capped.
func (q *Queue) backoffFor(attempts int) time.Duration {
	d := q.initialBackoff
	for i := 1; i < attempts && d < q.maxBackoff; i++ {
		d *= 2
	}
	return min(d, q.maxBackoff)
}

// requeueLocked sends a pod leaving the pool to backoff or straight to
// active if its backoff already expired.
func (q *Queue) requeueLocked(qp *QueuedPod) {
	if q.now().Before(qp.backoffUntil) {
		q.pushBackoffLocked(qp)
	} else {
		q.pushActiveLocked(qp)
	}
}

func (q *Queue) pushActiveLocked(qp *QueuedPod) {
	qp.state = stateActive
	heap.Push(&q.active, qp)
	q.notify()
}

func (q *Queue) pushBackoffLocked(qp *QueuedPod) {
	qp.state = stateBackoff
	heap.Push(&q.backoff, qp)
	q.notify() // Pop may need a shorter sleep
}

func (q *Queue) flushBackoffLocked(now time.Time) {
	for q.backoff.Len() > 0 && !q.backoff.items[0].backoffUntil.After(now) {
		qp := heap.Pop(&q.backoff).(*QueuedPod)
		qp.state = stateActive
		heap.Push(&q.active, qp)
	}
}

// flushUnschedulableLocked retries pods that have waited in the pool for
// the whole flush interval. It runs at most twice per interval.
func (q *Queue) flushUnschedulableLocked(now time.Time) {
	if now.Sub(q.lastFlush) < q.flushAfter/2 {
		return
	}
	q.lastFlush = now
	for key, qp := range q.unschedulable {
		if now.Sub(qp.since) >= q.flushAfter {
			delete(q.unschedulable, key)
			q.requeueLocked(qp)
		}
	}
}

func (q *Queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// podHeap is a heap of queued pods ordered by less.
type podHeap struct {
	items []*QueuedPod
	less  func(a, b *QueuedPod) bool
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}
func (h *podHeap) Push(x any) {
	qp := x.(*QueuedPod)
	qp.index = len(h.items)
	h.items = append(h.items, qp)
}
func (h *podHeap) Pop() any {
	last := len(h.items) - 1
	qp := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	return qp
}
