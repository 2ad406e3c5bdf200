package client

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Handler receives an informer's changes. Handlers run one at a time on the
// informer's goroutine and must be quick (controllers only enqueue a key).
// Objects are shared with the cache: never modify them; copy first.
type Handler[T api.Object] struct {
	OnAdd    func(obj T)
	OnUpdate func(old, new T)
	OnDelete func(obj T)
}

// IndexFunc maps an object to the index values it is filed under.
type IndexFunc[T api.Object] func(obj T) []string

// Informer keeps a local copy of the objects a list+watch selects and tells
// handlers about every change. After a compaction it lists again and reports
// the difference, so handlers see every object's final state.
type Informer[T api.Object] struct {
	res    Resource[T]
	opts   ListOptions
	resync time.Duration
	log    *slog.Logger

	mu       sync.RWMutex
	items    map[string]T
	indexers map[string]IndexFunc[T]
	indices  map[string]map[string]map[string]struct{} // index -> value -> keys
	handlers []Handler[T]
	synced   atomic.Bool
	syncCh   chan struct{}
	rev      atomic.Int64
}

// InformerOption adjusts an informer.
type InformerOption func(*informerOptions)

type informerOptions struct {
	resync time.Duration
	log    *slog.Logger
}

// WithResync re-delivers every cached object as an update at this period,
// so level-based controllers re-check state that changes with time alone.
func WithResync(d time.Duration) InformerOption { return func(o *informerOptions) { o.resync = d } }

// WithLogger sets the informer's logger.
func WithLogger(l *slog.Logger) InformerOption { return func(o *informerOptions) { o.log = l } }

// NewInformer builds an informer over a resource and its selectors.
func NewInformer[T api.Object](res Resource[T], opts ListOptions, options ...InformerOption) *Informer[T] {
	var o informerOptions
	for _, f := range options {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return &Informer[T]{
		res: res, opts: opts, resync: o.resync, log: o.log.With("informer", res.kind.Plural),
		items: map[string]T{}, indexers: map[string]IndexFunc[T]{},
		indices: map[string]map[string]map[string]struct{}{}, syncCh: make(chan struct{}),
	}
}

// AddHandler registers handlers; objects already cached are delivered as adds.
func (i *Informer[T]) AddHandler(h Handler[T]) {
	i.mu.Lock()
	i.handlers = append(i.handlers, h)
	existing := make([]T, 0, len(i.items))
	for _, obj := range i.items {
		existing = append(existing, obj)
	}
	i.mu.Unlock()
	if h.OnAdd != nil {
		for _, obj := range existing {
			h.OnAdd(obj)
		}
	}
}

// AddIndex files objects under extra keys (pods by node name, say). Add
// indexes before Run.
func (i *Informer[T]) AddIndex(name string, fn IndexFunc[T]) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.indexers[name] = fn
	i.indices[name] = map[string]map[string]struct{}{}
	for key, obj := range i.items {
		i.indexLocked(name, fn, key, obj)
	}
}

// Run lists and watches until ctx ends.
func (i *Informer[T]) Run(ctx context.Context) {
	if i.resync > 0 {
		go i.resyncLoop(ctx)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := i.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if api.IsExpired(err) {
			i.log.Debug("watch expired; relisting")
			continue
		}
		if err != nil {
			i.log.Warn("list/watch failed; retrying", "err", err, "backoff", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (i *Informer[T]) listAndWatch(ctx context.Context) error {
	objs, rev, err := i.res.List(ctx, i.opts)
	if err != nil {
		return err
	}
	i.replace(objs)
	i.rev.Store(rev)
	if i.synced.CompareAndSwap(false, true) {
		close(i.syncCh)
	}
	opts := i.opts
	opts.ResourceVersion = rev
	w, err := i.res.Watch(ctx, opts)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		i.apply(ev)
		i.rev.Store(ev.Object.GetObjectMeta().ResourceVersion)
	}
	return w.Err()
}

// replace installs a fresh list, reporting the difference to handlers.
func (i *Informer[T]) replace(objs []T) {
	type change struct {
		old, new T
		kind     int // 0 add, 1 update, 2 delete
	}
	var changes []change
	i.mu.Lock()
	seen := make(map[string]bool, len(objs))
	for _, obj := range objs {
		key := obj.GetObjectMeta().Key()
		seen[key] = true
		old, ok := i.items[key]
		switch {
		case !ok:
			changes = append(changes, change{new: obj, kind: 0})
		case old.GetObjectMeta().ResourceVersion != obj.GetObjectMeta().ResourceVersion:
			changes = append(changes, change{old: old, new: obj, kind: 1})
		}
		i.storeLocked(key, obj)
	}
	for key, old := range i.items {
		if !seen[key] {
			changes = append(changes, change{old: old, kind: 2})
			i.deleteLocked(key)
		}
	}
	handlers := i.handlers
	i.mu.Unlock()
	for _, c := range changes {
		for _, h := range handlers {
			switch {
			case c.kind == 0 && h.OnAdd != nil:
				h.OnAdd(c.new)
			case c.kind == 1 && h.OnUpdate != nil:
				h.OnUpdate(c.old, c.new)
			case c.kind == 2 && h.OnDelete != nil:
				h.OnDelete(c.old)
			}
		}
	}
}

func (i *Informer[T]) apply(ev Event[T]) {
	key := ev.Object.GetObjectMeta().Key()
	i.mu.Lock()
	old, existed := i.items[key]
	if ev.Type == api.WatchDeleted {
		i.deleteLocked(key)
	} else {
		i.storeLocked(key, ev.Object)
	}
	handlers := i.handlers
	i.mu.Unlock()
	for _, h := range handlers {
		switch {
		case ev.Type == api.WatchDeleted:
			if h.OnDelete != nil {
				h.OnDelete(ev.Object)
			}
		case existed:
			if h.OnUpdate != nil {
				h.OnUpdate(old, ev.Object)
			}
		default:
			if h.OnAdd != nil {
				h.OnAdd(ev.Object)
			}
		}
	}
}

func (i *Informer[T]) resyncLoop(ctx context.Context) {
	t := time.NewTicker(i.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			i.mu.RLock()
			objs := make([]T, 0, len(i.items))
			for _, obj := range i.items {
				objs = append(objs, obj)
			}
			handlers := i.handlers
			i.mu.RUnlock()
			for _, obj := range objs {
				for _, h := range handlers {
					if h.OnUpdate != nil {
						h.OnUpdate(obj, obj)
					}
				}
			}
		}
	}
}

func (i *Informer[T]) storeLocked(key string, obj T) {
	if old, ok := i.items[key]; ok {
		i.unindexLocked(key, old)
	}
	i.items[key] = obj
	for name, fn := range i.indexers {
		i.indexLocked(name, fn, key, obj)
	}
}

func (i *Informer[T]) deleteLocked(key string) {
	if old, ok := i.items[key]; ok {
		i.unindexLocked(key, old)
		delete(i.items, key)
	}
}

func (i *Informer[T]) indexLocked(name string, fn IndexFunc[T], key string, obj T) {
	for _, v := range fn(obj) {
		set := i.indices[name][v]
		if set == nil {
			set = map[string]struct{}{}
			i.indices[name][v] = set
		}
		set[key] = struct{}{}
	}
}

func (i *Informer[T]) unindexLocked(key string, obj T) {
	for name, fn := range i.indexers {
		for _, v := range fn(obj) {
			if set := i.indices[name][v]; set != nil {
				delete(set, key)
				if len(set) == 0 {
					delete(i.indices[name], v)
				}
			}
		}
	}
}

// HasSynced reports whether the first list has been loaded.
func (i *Informer[T]) HasSynced() bool { return i.synced.Load() }

// WaitForSync blocks until the first list is loaded or ctx ends.
func (i *Informer[T]) WaitForSync(ctx context.Context) bool {
	select {
	case <-i.syncCh:
		return true
	case <-ctx.Done():
		return false
	}
}

// LastRevision is the newest revision the cache reflects.
func (i *Informer[T]) LastRevision() int64 { return i.rev.Load() }

// Get returns a cached object by "namespace/name" (or "name").
func (i *Informer[T]) Get(key string) (T, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	obj, ok := i.items[key]
	return obj, ok
}

// List returns every cached object.
func (i *Informer[T]) List() []T {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make([]T, 0, len(i.items))
	for _, obj := range i.items {
		out = append(out, obj)
	}
	return out
}

// ByIndex returns the cached objects filed under value in the named index.
func (i *Informer[T]) ByIndex(name, value string) []T {
	i.mu.RLock()
	defer i.mu.RUnlock()
	keys := i.indices[name][value]
	out := make([]T, 0, len(keys))
	for key := range keys {
		out = append(out, i.items[key])
	}
	return out
}
