package registry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// errEtcdDown stands for any store failure.
var errEtcdDown = errors.New("etcd is down")

// flakyStore wraps a real store: it counts reads, can fail lists, and can
// break the watches it started, as an etcd outage would.
type flakyStore struct {
	store.Store
	lists, gets atomic.Int64
	down        atomic.Bool // List fails while set

	mu      sync.Mutex
	watches []*flakyWatcher
}

// newFlakyRegistry is newTestRegistry over a flakyStore.
func newFlakyRegistry(t *testing.T) (*Registry, *flakyStore) {
	t.Helper()
	fs := &flakyStore{Store: newTestRegistry(t).store}
	r := New(Options{Store: fs})
	return r, fs
}

func (s *flakyStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	s.lists.Add(1)
	if s.down.Load() {
		return nil, 0, errEtcdDown
	}
	return s.Store.List(ctx, prefix)
}

func (s *flakyStore) Get(ctx context.Context, key string) (store.KV, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) Watch(ctx context.Context, prefix string, from int64) (store.Watcher, error) {
	w, err := s.Store.Watch(ctx, prefix, from)
	if err != nil {
		return nil, err
	}
	fw := &flakyWatcher{inner: w, events: make(chan store.Event), broken: make(chan struct{})}
	go fw.run()
	s.mu.Lock()
	s.watches = append(s.watches, fw)
	s.mu.Unlock()
	return fw, nil
}

// breakWatches ends every watch started so far with err.
func (s *flakyStore) breakWatches(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.watches {
		w.fail(err)
	}
	s.watches = nil
}

type flakyWatcher struct {
	inner  store.Watcher
	events chan store.Event
	broken chan struct{}
	once   sync.Once

	mu  sync.Mutex
	err error
}

func (w *flakyWatcher) run() {
	defer close(w.events)
	defer w.inner.Stop()
	for {
		select {
		case <-w.broken:
			return
		case ev, ok := <-w.inner.Events():
			if !ok {
				w.mu.Lock()
				w.err = w.inner.Err()
				w.mu.Unlock()
				return
			}
			select {
			case w.events <- ev:
			case <-w.broken:
				return
			}
		}
	}
}

func (w *flakyWatcher) fail(err error) {
	w.once.Do(func() {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.broken)
	})
}

func (w *flakyWatcher) Events() <-chan store.Event { return w.events }

func (w *flakyWatcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *flakyWatcher) Stop() { w.fail(nil) }

// drain reads events until the watch has delivered revision rev, and
// returns them.
func drain(t *testing.T, w *Watch, rev int64) []Event {
	t.Helper()
	var got []Event
	for {
		ev := recv(t, w)
		got = append(got, ev)
		if ev.Revision >= rev {
			return got
		}
	}
}

// names lists the objects' names.
func names(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type+" "+ev.Object.GetObjectMeta().Name)
	}
	return out
}

// createCMIn creates a config map in a namespace, creating the namespace
// first if needed.
func createCMIn(t *testing.T, r *Registry, ns, name string, lbls map[string]string) api.Object {
	t.Helper()
	ctx := context.Background()
	if _, err := r.Get(ctx, nsKind, "", ns); api.IsNotFound(err) {
		if _, err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns, Labels: lbls}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}
