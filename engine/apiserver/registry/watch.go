package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Watch streams filtered changes to a kind. Read it with Next (the HTTP
// layer: no goroutine or channel hop per event) or with Events, not both.
type Watch struct {
	ctx       context.Context
	kind      *api.KindInfo
	namespace string
	sel       Selectors
	src       source
	rev       int64     // the revision delivered up to
	initial   []*object // initial objects still to deliver
	bookmark  bool      // the bookmark after the initial objects is due
	release   func()    // ends the turn to stream initial objects, once taken
	ahead     *Event    // the event Pending found, for Next

	cancel  context.CancelFunc
	endOnce sync.Once
	err     error
	done    chan struct{}

	eventsOnce sync.Once
	events     chan Event
}

// source is a stream of changes after some revision: a hub subscription
// or a watch of its own on the store. A hub subscription from revision 0
// also carries the objects at that revision.
type source struct {
	changes <-chan *change
	from    int64
	initial []*object
	err     func() error
	stop    func()
	// turn waits for a turn to stream initial objects (nil: no limit).
	turn func(ctx context.Context) (release func(), err error)
}

// Watch delivers every change after fromRevision to objects of kind in
// namespace ("" = all) matching sel. With fromRevision 0 it first delivers
// the objects in the kind's watch cache as ADDED, in key order, and a
// BOOKMARK carrying the cache's revision, then changes after it (changes
// still on their way from the store when the watch starts come after the
// bookmark). An object that starts or stops matching the selectors is ADDED
// or DELETED, as Kubernetes does, so a cache fed by the watch stays exact.
// A compacted revision is an api error with reason Expired (410): the
// client must list again.
func (r *Registry) Watch(ctx context.Context, kind *api.KindInfo, namespace string, fromRevision int64, sel Selectors) (*Watch, error) {
	ctx, cancel := context.WithCancel(ctx)
	src, err := r.watchSource(ctx, kind, namespace, fromRevision)
	if err != nil {
		cancel()
		return nil, watchError(err, fromRevision)
	}
	w := &Watch{ctx: ctx, kind: kind, namespace: namespace, sel: sel, src: src, rev: src.from,
		initial: src.initial, bookmark: fromRevision == 0,
		cancel: cancel, done: make(chan struct{})}
	// Whoever reads the watch, it ends with its context.
	context.AfterFunc(ctx, func() { w.end(nil) })
	return w, nil
}

// watchSource subscribes to the kind's watch cache, or watches the store
// directly when the cache cannot serve the revision (too old, or it cannot
// be filled now).
func (r *Registry) watchSource(ctx context.Context, kind *api.KindInfo, namespace string, from int64) (source, error) {
	h := r.hubFor(kind)
	sub, err := h.subscribe(ctx, from, namespace)
	switch {
	case err == nil:
		return source{changes: sub.ch, from: sub.from, initial: sub.initial, turn: h.initialTurn,
			err: func() error { return nil }, stop: func() { h.unsubscribe(sub) }}, nil
	case from == 0, errors.Is(err, store.ErrFuture), ctx.Err() != nil:
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
	return source{changes: ch, from: from, err: func() error { return srcErr }, stop: sw.Stop}, nil
}

func (r *Registry) hubFor(kind *api.KindInfo) *hub {
	r.hubsMu.Lock()
	defer r.hubsMu.Unlock()
	h, ok := r.hubs[kind.Kind]
	if !ok {
		if r.initialTurns == nil {
			r.initialTurns = make(chan struct{}, initialStreams())
		}
		h = newHub(kind, r.store, r.hubQueueSize, r.initialTurns)
		r.hubs[kind.Kind] = h
	}
	return h
}

// Next waits for the watch's next event; false means the watch has ended
// (Err says why).
func (w *Watch) Next() (Event, bool) {
	if w.bookmark {
		return w.nextInitial()
	}
	return w.poll(true)
}

// poll returns the next event this watch sees, waiting for one if wait is
// set; without wait, false means none is queued or the watch has ended.
func (w *Watch) poll(wait bool) (Event, bool) {
	if ev := w.ahead; ev != nil {
		w.ahead = nil
		return *ev, true
	}
	for {
		var c *change
		var ok bool
		select {
		case <-w.done:
			return Event{}, false
		case <-w.ctx.Done():
			w.end(nil)
			return Event{}, false
		case c, ok = <-w.src.changes:
		default:
			if !wait {
				return Event{}, false
			}
			select {
			case <-w.ctx.Done():
				w.end(nil)
				return Event{}, false
			case c, ok = <-w.src.changes:
			}
		}
		if !ok {
			var err error
			if err = w.src.err(); err != nil && w.ctx.Err() == nil {
				err = watchError(err, w.rev)
			}
			w.end(err)
			return Event{}, false
		}
		ev, visible, err := c.seenBy(w.namespace, w.sel)
		if err != nil {
			w.end(err)
			return Event{}, false
		}
		w.rev = c.rev
		if visible {
			return ev, true
		}
	}
}

// nextInitial delivers the initial objects that match the selectors, with
// their shared encodings, then the bookmark. It waits first for a turn to
// stream them (see hub.initialTurn).
func (w *Watch) nextInitial() (Event, bool) {
	if w.src.turn != nil {
		release, err := w.src.turn(w.ctx)
		if err != nil {
			w.end(nil)
			return Event{}, false
		}
		w.release, w.src.turn = release, nil
	}
	for len(w.initial) > 0 {
		o := w.initial[0]
		w.initial = w.initial[1:]
		if w.sel.Matches(o.obj) {
			return Event{Type: api.WatchAdded, Object: o.obj, Revision: w.rev, encoded: o.json}, true
		}
	}
	if w.release != nil {
		w.release()
	}
	w.bookmark = false
	// Marks the end of the initial objects: a client resuming after this
	// point continues from rev.
	bookmark := w.kind.New()
	bookmark.GetObjectMeta().ResourceVersion = w.rev
	api.SetTypeMeta(bookmark)
	return Event{Type: api.WatchBookmark, Object: bookmark, Revision: w.rev}, true
}

// Pending reports whether Next has an event without waiting, so a writer
// can gather a burst into one write and flush before Next waits. Queued
// changes this watch does not see do not count. Use it only from Next's
// goroutine.
func (w *Watch) Pending() bool {
	if w.bookmark || w.ahead != nil {
		return true
	}
	if ev, ok := w.poll(false); ok {
		w.ahead = &ev
		return true
	}
	return false
}

// Events delivers the watch's events on a channel, closed when the watch
// ends; Err then says why.
func (w *Watch) Events() <-chan Event {
	w.eventsOnce.Do(func() {
		w.events = make(chan Event, 64)
		go func() {
			defer close(w.events)
			for {
				ev, ok := w.Next()
				if !ok {
					return
				}
				select {
				case w.events <- ev:
				case <-w.ctx.Done():
					return
				}
			}
		}()
	})
	return w.events
}

// Err is the reason the watch ended (nil when stopped, when its context
// ended, or when it fell behind or its watch cache failed: then the client
// resumes from its last event). It waits for the end.
func (w *Watch) Err() error {
	<-w.done
	return w.err
}

// Stop ends the watch.
func (w *Watch) Stop() {
	w.cancel()
	w.end(nil)
}

// end releases what the watch holds, once.
func (w *Watch) end(err error) {
	w.endOnce.Do(func() {
		w.err = err
		w.cancel()
		w.src.stop()
		close(w.done)
	})
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
