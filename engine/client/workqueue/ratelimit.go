package workqueue

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// RateLimiter decides how long a key waits before it is retried. The queue
// passes keys as any so one limiter type serves queues of every key type;
// implementations must be safe for concurrent use.
type RateLimiter interface {
	// When records a failure of item and returns how long to wait before
	// retrying it.
	When(item any) time.Duration
	// Forget clears item's failure history, so its next failure waits the
	// shortest time again.
	Forget(item any)
	// NumRequeues reports how many failures of item have been recorded
	// since it was last forgotten.
	NumRequeues(item any) int
}

// DefaultControllerRateLimiter is the limiter queues use unless given
// another: per-key exponential backoff from 5ms up to 1000s, so one key that
// keeps failing backs off without delaying others, combined with a shared
// token bucket of 10 qps and burst 100, so a storm of failures across many
// keys can't turn into a storm of retries against the API server.
func DefaultControllerRateLimiter() RateLimiter {
	return NewMaxOfRateLimiter(
		NewItemExponentialFailureRateLimiter(5*time.Millisecond, 1000*time.Second),
		NewBucketRateLimiter(10, 100),
	)
}

// NewItemExponentialFailureRateLimiter returns a limiter that delays an
// item baseDelay*2^n after its n-th failure since it was last forgotten (n
// counted from 0), capped at maxDelay.
func NewItemExponentialFailureRateLimiter(baseDelay, maxDelay time.Duration) RateLimiter {
	return &itemExponentialFailureRateLimiter{
		failures: make(map[any]int),
		base:     baseDelay,
		max:      maxDelay,
	}
}

type itemExponentialFailureRateLimiter struct {
	mu       sync.Mutex
	failures map[any]int
	base     time.Duration
	max      time.Duration
}

func (r *itemExponentialFailureRateLimiter) When(item any) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp := r.failures[item]
	r.failures[item] = exp + 1

	// In floating point so a long failure streak saturates at max instead
	// of overflowing into a negative (that is, immediate) delay.
	backoff := float64(r.base.Nanoseconds()) * math.Pow(2, float64(exp))
	if backoff >= math.MaxInt64 {
		return r.max
	}
	return min(time.Duration(backoff), r.max)
}

func (r *itemExponentialFailureRateLimiter) Forget(item any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Deleting rather than zeroing keeps the map from growing with every
	// key that ever failed once.
	delete(r.failures, item)
}

func (r *itemExponentialFailureRateLimiter) NumRequeues(item any) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[item]
}

// NewBucketRateLimiter returns a limiter shared by all items: a token bucket
// holding up to burst tokens and refilled at qps tokens per second. Each When
// takes a token, waiting for one if the bucket is empty; Forget and
// NumRequeues do nothing, since the bucket keeps no per-item state.
//
// qps must be positive (math.Inf(1) means no limit) and burst at least 1:
// a bucket that never refills would delay keys forever, so other values
// panic.
func NewBucketRateLimiter(qps float64, burst int) RateLimiter {
	if !(qps > 0) || burst < 1 {
		panic(fmt.Sprintf("workqueue: NewBucketRateLimiter(%v, %d): qps must be > 0 and burst >= 1", qps, burst))
	}
	// Rounded to whole nanoseconds: the error is below one part in a
	// billion for any rate a controller would use, and integer arithmetic
	// keeps long runs free of floating-point drift.
	interval := time.Duration(float64(time.Second) / qps)
	return &bucketRateLimiter{
		interval:  interval,
		tolerance: time.Duration(burst-1) * interval,
	}
}

// bucketRateLimiter implements the token bucket as GCRA (the generic cell
// rate algorithm), which gives the same delays as counting tokens but keeps a
// single timestamp: tat, the time at which the bucket would be full again if
// nothing else were taken. Taking a token pushes tat one interval later; a
// caller has to wait until tat is no more than burst-1 intervals ahead.
type bucketRateLimiter struct {
	interval  time.Duration // time to refill one token
	tolerance time.Duration // (burst-1) * interval

	mu  sync.Mutex
	tat time.Time
}

func (r *bucketRateLimiter) When(any) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.tat.Before(now) {
		// The bucket has filled up; unused capacity doesn't accumulate
		// past burst.
		r.tat = now
	}
	delay := max(r.tat.Sub(now)-r.tolerance, 0)
	r.tat = r.tat.Add(r.interval)
	return delay
}

func (r *bucketRateLimiter) Forget(any) {}

func (r *bucketRateLimiter) NumRequeues(any) int { return 0 }

// NewMaxOfRateLimiter returns a limiter that consults every limiter and
// delays by the longest answer, so each constraint holds at once.
func NewMaxOfRateLimiter(limiters ...RateLimiter) RateLimiter {
	return &maxOfRateLimiter{limiters: limiters}
}

type maxOfRateLimiter struct {
	limiters []RateLimiter
}

func (r *maxOfRateLimiter) When(item any) time.Duration {
	var longest time.Duration
	// Every limiter is asked, not just until one gives the longest delay,
	// because When also records the failure in each of them.
	for _, l := range r.limiters {
		longest = max(longest, l.When(item))
	}
	return longest
}

func (r *maxOfRateLimiter) Forget(item any) {
	for _, l := range r.limiters {
		l.Forget(item)
	}
}

func (r *maxOfRateLimiter) NumRequeues(item any) int {
	var most int
	for _, l := range r.limiters {
		most = max(most, l.NumRequeues(item))
	}
	return most
}
