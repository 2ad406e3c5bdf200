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

// Err is the reason the watch ended (nil when stopped or its context ended).
func (w *Watch) Err() error {
	<-w.done
	return w.err
}

// Stop ends the watch.
func (w *Watch) Stop() { w.cancel() }

// Watch delivers every change after fromRevision to objects of kind in
// namespace ("" = all) matching sel. With fromRevision 0 it first delivers
// the current objects as ADDED and a BOOKMARK carrying the list revision,
// then changes after it. An object that
// starts or stops matching the selectors is ADDED or DELETED, as Kubernetes
// does, so a cache fed by the watch stays exact. A compacted revision is an
// api error with reason Expired (410): the client must list again.
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
	sw, err := r.store.Watch(ctx, Prefix(kind, namespace), fromRevision)
	if err != nil {
		cancel()
		return nil, watchError(err, fromRevision)
	}
	w := &Watch{events: make(chan Event, 64), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, kind, sw, initial, fromRevision, sel)
	return w, nil
}

func (w *Watch) run(ctx context.Context, kind *api.KindInfo, sw store.Watcher, initial []api.Object, rev int64, sel Selectors) {
	defer close(w.done)
	defer close(w.events)
	defer sw.Stop()
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
	for se := range sw.Events() {
		ev, ok, err := translate(kind, se, sel)
		if err != nil {
			w.err = err
			return
		}
		if ok && !w.send(ctx, ev) {
			return
		}
	}
	if err := sw.Err(); err != nil && ctx.Err() == nil {
		w.err = watchError(err, rev)
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

// translate turns a store event into an API event seen through selectors.
func translate(kind *api.KindInfo, se store.Event, sel Selectors) (Event, bool, error) {
	rev := se.KV.ModRevision
	cur, err := decode(kind, se.KV)
	if err != nil {
		return Event{}, false, err
	}
	if se.Type == store.EventDeleted {
		return Event{Type: api.WatchDeleted, Object: cur, Revision: rev}, sel.Matches(cur), nil
	}
	nowMatches := sel.Matches(cur)
	wasMatching := false
	if se.Type == store.EventUpdated && se.PrevValue != nil {
		prev, err := decode(kind, store.KV{Key: se.KV.Key, Value: se.PrevValue})
		if err != nil {
			return Event{}, false, err
		}
		wasMatching = sel.Matches(prev)
	}
	switch {
	case nowMatches && wasMatching:
		return Event{Type: api.WatchModified, Object: cur, Revision: rev}, true, nil
	case nowMatches:
		return Event{Type: api.WatchAdded, Object: cur, Revision: rev}, true, nil
	case wasMatching:
		return Event{Type: api.WatchDeleted, Object: cur, Revision: rev}, true, nil
	}
	return Event{}, false, nil
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
