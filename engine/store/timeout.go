package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultRequestTimeout bounds one store call when the server is not told
// otherwise: long enough for a large list on a busy etcd, short enough that
// a request during an etcd outage answers 503 within 5 s instead of hanging
// (the etcd client waits for a connection as long as the context allows).
const DefaultRequestTimeout = 3 * time.Second

// WithTimeout returns s with a deadline on every call: a call the store has
// not answered within d fails with ErrUnavailable (wrapping the deadline
// error). A Watch's start is bounded; its stream is not. The caller's own
// earlier deadline or cancellation is reported as it is, never as
// ErrUnavailable. d <= 0 returns s unchanged.
func WithTimeout(s Store, d time.Duration) Store {
	if d <= 0 {
		return s
	}
	return &timeoutStore{Store: s, d: d}
}

// timeoutStore embeds the Store it decorates, so any method it does not
// bound still reaches the inner store.
type timeoutStore struct {
	Store
	d time.Duration
}

// bound runs f under the store deadline and tells a store that did not
// answer from a caller that gave up.
func (t *timeoutStore) bound(ctx context.Context, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.classify(ctx, cctx, f(cctx))
}

func (t *timeoutStore) classify(caller, bounded context.Context, err error) error {
	if err != nil && caller.Err() == nil && bounded.Err() != nil {
		return fmt.Errorf("%w: no answer within %s: %w", ErrUnavailable, t.d, err)
	}
	return err
}

func (t *timeoutStore) Get(ctx context.Context, key string) (kv KV, err error) {
	err = t.bound(ctx, func(ctx context.Context) error { kv, err = t.Store.Get(ctx, key); return err })
	return kv, err
}

func (t *timeoutStore) List(ctx context.Context, prefix string) (kvs []KV, rev int64, err error) {
	err = t.bound(ctx, func(ctx context.Context) error { kvs, rev, err = t.Store.List(ctx, prefix); return err })
	return kvs, rev, err
}

func (t *timeoutStore) CurrentRevision(ctx context.Context) (rev int64, err error) {
	err = t.bound(ctx, func(ctx context.Context) error { rev, err = t.Store.CurrentRevision(ctx); return err })
	return rev, err
}

func (t *timeoutStore) Create(ctx context.Context, key string, value []byte, pre ...Precondition) (rev int64, err error) {
	err = t.bound(ctx, func(ctx context.Context) error { rev, err = t.Store.Create(ctx, key, value, pre...); return err })
	return rev, err
}

func (t *timeoutStore) Update(ctx context.Context, key string, value []byte, expected int64, pre ...Precondition) (rev int64, err error) {
	err = t.bound(ctx, func(ctx context.Context) error {
		rev, err = t.Store.Update(ctx, key, value, expected, pre...)
		return err
	})
	return rev, err
}

func (t *timeoutStore) Delete(ctx context.Context, key string, expected int64, pre ...Precondition) (kv KV, err error) {
	err = t.bound(ctx, func(ctx context.Context) error { kv, err = t.Store.Delete(ctx, key, expected, pre...); return err })
	return kv, err
}

func (t *timeoutStore) Compact(ctx context.Context, revision int64) error {
	return t.bound(ctx, func(ctx context.Context) error { return t.Store.Compact(ctx, revision) })
}

// Watch bounds only the start: the stream lives as long as ctx. The watch
// runs on a child context that a timer cancels if the start has not
// returned in time.
func (t *timeoutStore) Watch(ctx context.Context, prefix string, from int64) (Watcher, error) {
	wctx, cancel := context.WithCancel(ctx)
	var late atomic.Bool
	timer := time.AfterFunc(t.d, func() { late.Store(true); cancel() })
	w, err := t.Store.Watch(wctx, prefix, from)
	if !timer.Stop() && err == nil {
		// Started just as the timer fired: the watch is being cancelled.
		w.Stop()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		if late.Load() && ctx.Err() == nil {
			return nil, fmt.Errorf("%w: watch of %q did not start within %s: %w", ErrUnavailable, prefix, t.d, err)
		}
		return nil, err
	}
	return &cancelWatcher{Watcher: w, cancel: cancel}, nil
}

// cancelWatcher releases the watch's context when it is stopped.
type cancelWatcher struct {
	Watcher
	cancel context.CancelFunc
}

func (w *cancelWatcher) Stop() {
	w.Watcher.Stop()
	w.cancel()
}
