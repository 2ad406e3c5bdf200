package workqueue

import "sync"

// Queue hands keys to workers. A key is never handed to two workers at once; a
// key added while it is being processed is re-queued once when Done is called;
// repeated adds of a waiting key merge into one.
//
// Create queues with New; the zero value is not usable. All methods are safe
// for concurrent use.
type Queue[T comparable] struct {
	name    string
	limiter RateLimiter

	// mu guards everything below, including the delay heap in delaying.go:
	// a single lock means a delayed key moves to the ready queue without any
	// lock-ordering concerns.
	mu sync.Mutex
	// ready wakes workers blocked in Get.
	ready *sync.Cond
	// drained wakes ShutDownWithDrain once nothing is being processed. It is
	// separate from ready so a Done that re-queues a key during a drain can
	// never spend its wake-up on the wrong kind of waiter.
	drained *sync.Cond

	// queue holds the keys ready to be handed out, oldest first. Every key
	// in it is also in dirty and not in processing.
	queue []T
	// dirty holds every key that needs processing: the keys in queue plus
	// keys added while they were being processed. Done moves a key that is
	// dirty back into queue.
	dirty map[T]struct{}
	// processing holds the keys handed out by Get and not yet Done.
	processing map[T]struct{}

	shuttingDown bool
	// drain is set while ShutDownWithDrain waits; ShutDown clears it to cut
	// such a wait short.
	drain bool

	delayState[T]
}

// Option configures a Queue.
type Option func(*options)

type options struct {
	name    string
	limiter RateLimiter
}

// WithRateLimiter sets the limiter AddRateLimited, Forget and NumRequeues
// use. A nil limiter means the default, DefaultControllerRateLimiter.
func WithRateLimiter(l RateLimiter) Option {
	return func(o *options) { o.limiter = l }
}

// WithName names the queue; the name will label the queue's metrics.
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// New returns an empty queue. Its delay goroutine is started by the first
// AddAfter (or AddRateLimited) that needs it and stopped by ShutDown, so a
// queue that never delays a key runs no goroutine at all.
func New[T comparable](opts ...Option) *Queue[T] {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.limiter == nil {
		o.limiter = DefaultControllerRateLimiter()
	}
	q := &Queue[T]{
		name:       o.name,
		limiter:    o.limiter,
		dirty:      make(map[T]struct{}),
		processing: make(map[T]struct{}),
	}
	q.ready = sync.NewCond(&q.mu)
	q.drained = sync.NewCond(&q.mu)
	q.initDelay()
	return q
}

// Add marks key as needing processing. It is ignored after ShutDown.
func (q *Queue[T]) Add(key T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue[T]) addLocked(key T) {
	if q.shuttingDown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		// Already waiting, or already due for another pass after Done:
		// either way one more pass covers this add too.
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		// Handing it out now would let two workers process it at once;
		// Done re-queues it instead.
		return
	}
	q.queue = append(q.queue, key)
	q.ready.Signal()
}

// AddRateLimited adds key after the delay the queue's RateLimiter gives it,
// which for the default limiter grows with every call until Forget. It is
// ignored after ShutDown.
func (q *Queue[T]) AddRateLimited(key T) {
	// Checked first so a shut-down queue doesn't keep growing backoffs for
	// keys it will never hand out.
	if q.ShuttingDown() {
		return
	}
	q.AddAfter(key, q.limiter.When(key))
}

// Forget resets key's backoff in the RateLimiter. Call it once key has been
// processed successfully; it doesn't remove key from the queue.
func (q *Queue[T]) Forget(key T) {
	q.limiter.Forget(key)
}

// NumRequeues reports how many times key has been rate-limited since it was
// last forgotten.
func (q *Queue[T]) NumRequeues(key T) int {
	return q.limiter.NumRequeues(key)
}

// Get blocks until a key is ready and hands it to the caller, who must call
// Done with it when finished. Once the queue is shut down, Get keeps handing
// out the keys that were queued and then returns the zero key and
// shutdown=true.
func (q *Queue[T]) Get() (key T, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shuttingDown {
		q.ready.Wait()
	}
	if len(q.queue) == 0 {
		return key, true
	}
	key = q.queue[0]
	// Clear the slot so the backing array doesn't pin what the key points
	// to; append reallocates as the slice walks forward, so the array itself
	// doesn't grow without bound.
	var zero T
	q.queue[0] = zero
	q.queue = q.queue[1:]
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, false
}

// Done marks key as finished. If key was added while it was being processed,
// it is queued again now. Done for a key that isn't being processed is a
// no-op.
func (q *Queue[T]) Done(key T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.processing[key]; !ok {
		// Without this check a stray Done for a waiting key would queue it
		// a second time.
		return
	}
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		// Re-queued even when shutting down: the add happened before the
		// shutdown, and Get drains what was added before it.
		q.queue = append(q.queue, key)
		q.ready.Signal()
	}
	if len(q.processing) == 0 && q.drain {
		q.drained.Broadcast()
	}
}

// Len reports the number of keys ready to be handed out. Keys being
// processed or still waiting out an AddAfter delay are not counted.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown makes the queue ignore further adds, drops keys still waiting out
// an AddAfter delay, stops the delay goroutine, and makes Get return
// shutdown=true once the keys already queued have been handed out. It doesn't
// wait for keys being processed; it does end a ShutDownWithDrain wait early.
// Calling it more than once is harmless.
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	q.drain = false
	q.drained.Broadcast()
	q.shutDownLocked()
	q.mu.Unlock()
	q.waitDelayLoop()
}

// ShutDownWithDrain shuts the queue down like ShutDown and then waits until
// every key handed out by Get has been passed to Done. Workers must keep
// running meanwhile, or it waits forever; a concurrent ShutDown ends the wait.
//
// It waits for keys in flight, not for the ready queue to empty: a key
// re-queued by the last Done is still handed out by Get afterwards.
func (q *Queue[T]) ShutDownWithDrain() {
	q.mu.Lock()
	q.drain = true
	q.shutDownLocked()
	for q.drain && len(q.processing) > 0 {
		q.drained.Wait()
	}
	q.mu.Unlock()
	q.waitDelayLoop()
}

func (q *Queue[T]) shutDownLocked() {
	if q.shuttingDown {
		return
	}
	q.shuttingDown = true
	q.stopDelayLocked()
	// Every blocked Get must wake to see it has nothing more to wait for.
	q.ready.Broadcast()
}

// ShuttingDown reports whether ShutDown or ShutDownWithDrain has been called.
func (q *Queue[T]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}
