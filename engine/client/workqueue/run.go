package workqueue

import (
	"context"
	"sync"
)

// Run starts n workers calling process for each key until ctx ends; an error
// re-queues the key with rate limiting, success forgets its backoff. It shuts
// the queue down when ctx ends and returns after the workers exit.
//
// onError, if not nil, sees every error before the key is re-queued; it is
// the place to log or count failures. It may be called concurrently, and
// errors caused by ctx ending are passed to it like any other.
//
// Once ctx has ended, workers finish the key they hold and exit; keys still
// queued are dropped with the queue. Run also returns if the queue is shut
// down some other way. A workers value below 1 starts one worker.
//
// A panic in process propagates (crashing the program, as an unhandled panic
// in any goroutine does); the key is marked Done on the way out.
func Run[T comparable](ctx context.Context, q *Queue[T], workers int, process func(ctx context.Context, key T) error, onError func(key T, err error)) {
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for processNext(ctx, q, process, onError) {
			}
		})
	}

	// Get has no context of its own; shutting the queue down is what wakes
	// workers blocked in it. This is a goroutine Run waits for, rather than
	// context.AfterFunc, so that when Run returns the queue is shut down
	// and nothing Run started is still running.
	workersDone := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		select {
		case <-ctx.Done():
		case <-workersDone:
		}
		// Either way the queue is finished: workers stop only when ctx
		// has ended or the queue was already shut down.
		q.ShutDown()
	})
	wg.Wait()
	close(workersDone)
	watcher.Wait()
}

// processNext handles one key and reports whether the worker should go on.
func processNext[T comparable](ctx context.Context, q *Queue[T], process func(context.Context, T) error, onError func(T, error)) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	if ctx.Err() != nil {
		// Get hands out queued keys even after ShutDown (which the
		// watcher may not have called yet); processing them with a dead
		// context would only produce errors.
		return false
	}
	if err := process(ctx, key); err != nil {
		if onError != nil {
			onError(key, err)
		}
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}
