package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchBuffer is how many converted events a watcher holds for a slow reader
// before it stops reading from etcd.
const watchBuffer = 128

// Watch delivers every event under prefix with a revision greater than
// fromRevision, in revision order; fromRevision 0 means the whole retained
// history. It fails at once with ErrCompacted when fromRevision+1 is
// compacted, and with ErrFuture when fromRevision is ahead of etcd's current
// revision. A compaction that overtakes a running watch ends it, with
// ErrCompacted from Err.
func (e *Etcd) Watch(ctx context.Context, prefix string, fromRevision int64) (Watcher, error) {
	fail := func(err error) (Watcher, error) {
		return nil, fmt.Errorf("watching %q from revision %d: %w", prefix, fromRevision, err)
	}
	if err := e.checkOpen(); err != nil {
		return fail(err)
	}
	ep, err := e.etcdPrefix(prefix)
	if err != nil {
		return fail(err)
	}
	if fromRevision < 0 {
		return fail(errors.New("revision is negative"))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	// The watch ends with wctx: when the caller's context ends, on Stop, or
	// on Close. WithRequireLeader makes etcd end the watch (rather than go
	// silent) when its member loses the leader.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))

	// etcd reports a compacted start revision only once its watcher sync
	// loop runs (up to 100ms later, and after the "created" response), so
	// ask first: a read at fromRevision+1 fails exactly when the watch
	// would. A read beyond the current revision fails with ErrFuture, which
	// is fine here (the watch starts at the head); the created response
	// below tells whether fromRevision itself is ahead.
	_, err = e.client.Get(wctx, ep, clientv3.WithRev(fromRevision+1), clientv3.WithCountOnly())
	if err = translate(wctx, err); err != nil && !errors.Is(err, ErrFuture) {
		cancel()
		return fail(err)
	}

	wch := e.client.Watch(wctx, ep,
		clientv3.WithPrefix(),
		clientv3.WithRev(fromRevision+1),
		clientv3.WithPrevKV(),
		clientv3.WithCreatedNotify(),
	)
	var first clientv3.WatchResponse
	select {
	case resp, ok := <-wch:
		if !ok {
			cancel()
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			return fail(errors.New("etcd closed the watch before it started"))
		}
		first = resp
	case <-ctx.Done():
		cancel()
		return fail(ctx.Err())
	}
	if err := first.Err(); err != nil {
		cancel()
		return fail(translate(wctx, err))
	}
	if first.Created && first.Header.Revision < fromRevision {
		cancel()
		return fail(fmt.Errorf("%w: current revision is %d", ErrFuture, first.Header.Revision))
	}

	w := &etcdWatcher{
		store:  e,
		prefix: prefix,
		events: make(chan Event, watchBuffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		return fail(errClosed)
	}
	e.watchers[w] = struct{}{}
	e.mu.Unlock()

	e.log.DebugContext(ctx, "watch started", "watch_prefix", prefix, "from_revision", fromRevision)
	go w.run(wctx, wch, first)
	return w, nil
}

// etcdWatcher is one running watch: a goroutine that converts etcd's watch
// responses into Events until its context ends.
type etcdWatcher struct {
	store  *Etcd
	prefix string
	events chan Event
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned

	mu  sync.Mutex
	err error
}

func (w *etcdWatcher) Events() <-chan Event { return w.events }

func (w *etcdWatcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends the watch and waits for its goroutine to return. It never blocks
// on the reader: the goroutine's sends give way to the cancelled context.
func (w *etcdWatcher) Stop() {
	w.cancel()
	<-w.done
}

func (w *etcdWatcher) run(ctx context.Context, wch clientv3.WatchChan, first clientv3.WatchResponse) {
	defer func() {
		w.cancel()
		w.store.mu.Lock()
		delete(w.store.watchers, w)
		w.store.mu.Unlock()
		close(w.events)
		close(w.done)
	}()
	if !w.deliver(ctx, first) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case resp, ok := <-wch:
			if !ok {
				if ctx.Err() == nil {
					w.fail(errors.New("etcd closed the watch channel"))
				}
				return
			}
			if !w.deliver(ctx, resp) {
				return
			}
		}
	}
}

// deliver sends the events of one response, and reports whether the watch
// goes on.
func (w *etcdWatcher) deliver(ctx context.Context, resp clientv3.WatchResponse) bool {
	if err := resp.Err(); err != nil {
		if ctx.Err() == nil {
			w.fail(translate(ctx, err))
		}
		return false
	}
	for _, ev := range resp.Events {
		select {
		case w.events <- w.store.toEvent(ev):
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (w *etcdWatcher) fail(err error) {
	err = fmt.Errorf("watching %q: %w", w.prefix, err)
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	level := slog.LevelWarn
	if errors.Is(err, ErrCompacted) {
		level = slog.LevelInfo // routine: the watcher lists and watches again
	}
	w.store.log.Log(context.Background(), level, "watch ended", "watch_prefix", w.prefix, "error", err)
}

// toEvent converts an etcd event. A put whose key was created at its own
// revision is a creation; a delete carries the last value from PrevKv.
func (e *Etcd) toEvent(ev *clientv3.Event) Event {
	if ev.Type == mvccpb.DELETE {
		kv := KV{
			Key:         e.toKV(ev.Kv).Key,
			ModRevision: ev.Kv.ModRevision,
		}
		if ev.PrevKv != nil {
			kv.Value = ev.PrevKv.Value
			kv.CreateRevision = ev.PrevKv.CreateRevision
		}
		return Event{Type: EventDeleted, KV: kv, PrevValue: kv.Value}
	}
	out := Event{Type: EventUpdated, KV: e.toKV(ev.Kv)}
	if ev.IsCreate() {
		out.Type = EventCreated
		return out
	}
	if ev.PrevKv != nil {
		out.PrevValue = ev.PrevKv.Value
	}
	return out
}
