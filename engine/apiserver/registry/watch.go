package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Watch streams filtered changes to a kind.
type Watch struct {
	events chan Event
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// Events is closed when the watch ends; Err then says why.
func (w *Watch) Events() <-chan Event { return w.events }

// Err is the reason the watch ended (nil when stopped, when its context
// ended, or when it fell behind and must resume from its last event).
func (w *Watch) Err() error {
	<-w.done
	return w.err
}

// Stop ends the watch.
func (w *Watch) Stop() { w.cancel() }

// source is a stream of changes after some revision: a hub subscription
// or a watch of its own on the store.
type source struct {
	changes <-chan *change
	err     func() error
	stop    func()
}

// Watch delivers every change after fromRevision to objects of kind in
// namespace ("" = all) matching sel. With fromRevision 0 it first delivers
// the current objects as ADDED and a BOOKMARK carrying the list revision,
// then changes after it. An object that starts or stops matching the
// selectors is ADDED or DELETED, as Kubernetes does, so a cache fed by the
// watch stays exact. A compacted revision is an api error with reason
// Expired (410): the client must list again.
func (r *Registry) Watch(ctx context.Context, kind *api.KindInfo, namespace string, fromRevision int64, sel Selectors) (*Watch, error) {
	ctx, cancel := context.WithCancel(ctx)
	var initial []api.Object
	if fromRevision == 0 {
		objs, rev, err := r.List(ctx, kind, namespace, sel)
		if err != nil {
			cancel()
			return nil, err
		}
		initial, fromRevision = append(make([]api.Object, 0, len(objs)), objs...), rev
	}
	src, err := r.watchSource(ctx, kind, namespace, fromRevision)
	if err != nil {
		cancel()
		return nil, watchError(err, fromRevision)
	}
	w := &Watch{events: make(chan Event, 64), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, kind, src, initial, fromRevision, namespace, sel)
	return w, nil
}

// watchSource subscribes to the kind's hub, or watches the store directly
// when the hub cannot serve the revision.
func (r *Registry) watchSource(ctx context.Context, kind *api.KindInfo, namespace string, from int64) (source, error) {
	h := r.hubFor(kind)
	sub, err := h.subscribe(ctx, from)
	if err == nil {
		return source{changes: sub.ch, err: func() error { return sub.err }, stop: func() { h.unsubscribe(sub) }}, nil
	}
	if !errors.Is(err, errNotBuffered) {
		return source{}, err
	}
	sw, err := r.store.Watch(ctx, Prefix(kind, namespace), from)
	if err != nil {
		return source{}, err
	}
	ch := make(chan *change, 64)
	var srcErr error
	go func() {
		defer close(ch)
		for se := range sw.Events() {
			c, err := newChange(kind, se)
			if err != nil {
				srcErr = err
				return
			}
			select {
			case ch <- c:
			case <-ctx.Done():
				return
			}
		}
		srcErr = sw.Err()
	}()
	return source{changes: ch, err: func() error { return srcErr }, stop: sw.Stop}, nil
}

func (r *Registry) hubFor(kind *api.KindInfo) *hub {
	r.hubsMu.Lock()
	defer r.hubsMu.Unlock()
	h, ok := r.hubs[kind.Kind]
	if !ok {
		h = newHub(kind, r.store, r.hubQueueSize)
		r.hubs[kind.Kind] = h
	}
	return h
}

func (w *Watch) run(ctx context.Context, kind *api.KindInfo, src source, initial []api.Object, rev int64, namespace string, sel Selectors) {
	defer close(w.done)
	defer close(w.events)
	defer src.stop()
	for _, obj := range initial {
		if !w.send(ctx, Event{Type: api.WatchAdded, Object: obj, Revision: rev}) {
			return
		}
	}
	if initial != nil {
		// Marks the end of the initial objects: a client resuming after
		// this point continues from rev.
		bookmark := kind.New()
		bookmark.GetObjectMeta().ResourceVersion = rev
		api.SetTypeMeta(bookmark)
		if !w.send(ctx, Event{Type: api.WatchBookmark, Object: bookmark, Revision: rev}) {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-src.changes:
			if !ok {
				if err := src.err(); err != nil && ctx.Err() == nil {
					w.err = watchError(err, rev)
				}
				return
			}
			ev, visible, err := c.seenBy(namespace, sel)
			if err != nil {
				w.err = err
				return
			}
			if visible && !w.send(ctx, ev) {
				return
			}
			rev = c.rev
		}
	}
}

func (w *Watch) send(ctx context.Context, ev Event) bool {
	select {
	case w.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func watchError(err error, rev int64) error {
	switch {
	case errors.Is(err, store.ErrCompacted):
		return api.NewStatusError(http.StatusGone, api.ReasonGone,
			"resourceVersion %d is too old (compacted): list again and watch from the list's resourceVersion", rev)
	case errors.Is(err, store.ErrFuture):
		return api.NewBadRequest("resourceVersion %d is newer than the store's current revision", rev)
	}
	return fmt.Errorf("watching: %w", err)
}
