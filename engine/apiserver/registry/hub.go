package registry

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Watch cache sizing: changes kept for watchers that (re)start from a
// recent revision (at most this many, and about this many stored bytes),
// and changes queued for one slow watcher before it is cut off (its client
// resumes from the last event it got).
const (
	hubBufferSize  = 2048
	hubBufferBytes = 64 << 20
	hubQueueSize   = 4096
	// hubLoadTimeout bounds the list and the start of the store watch
	// that (re)fill a cache.
	hubLoadTimeout = time.Minute
	// A watch streaming its initial objects holds its turn (see
	// initialTurn) for at most hubInitialTurn: a client that reads slowly
	// holds the others up only that long.
	hubInitialTurn = time.Second
)

// initialStreams is how many watches stream their initial objects at once,
// across kinds: half the CPUs, so the other half always serves the rest.
func initialStreams() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// errNotBuffered sends a watcher whose start revision the cache no longer
// holds to a watch of its own on the store.
var errNotBuffered = errors.New("registry: revision not in the watch cache")

// hub is the watch cache of one kind, like the Kubernetes API server's
// cacher. On first use it lists the kind at a revision R and watches the
// store from R, keeping the current state of every object (decoded once,
// with its stored bytes and, on first need, its wire encoding) and a ring
// of recent changes. Every API watch of the kind shares its one store
// watch: a watch from revision 0 starts from a snapshot of the state, a
// watch from a recent revision from the ring. When the store watch fails
// (etcd outage, compaction, an undecodable value) the state is dropped and
// every subscription ends, so clients resume where they were; the next use
// lists again. Stale state is never served as current.
type hub struct {
	kind      *api.KindInfo
	store     store.Store
	queueSize int

	mu      sync.Mutex
	running bool
	loading *hubLoad // the list in progress, if any
	rev     int64    // the state is exact at rev: the list's or the newest change's revision
	oldest  int64    // every change after oldest is in ring
	ring    ring
	objects map[string]*object
	sorted  []*object // objects in key order; nil after a change until the next snapshot
	subs    map[*hubSub]struct{}

	turns    chan struct{} // turns to stream initial objects, shared by all hubs
	turnHold time.Duration
}

// hubLoad is one filling of the cache; waiters read err once done is closed.
type hubLoad struct {
	done chan struct{}
	err  error
}

// hubSub is one subscription: every change after from comes on ch, which is
// closed when the subscription ends (stopped, too slow, or the cache
// failed). A subscription from revision 0 also carries the objects at from.
type hubSub struct {
	ch      chan *change
	from    int64
	initial []*object // in key order; shared, never modify
}

func newHub(kind *api.KindInfo, s store.Store, queueSize int, turns chan struct{}) *hub {
	return &hub{kind: kind, store: s, queueSize: queueSize, subs: map[*hubSub]struct{}{},
		ring: newRing(hubBufferSize, hubBufferBytes), turns: turns, turnHold: hubInitialTurn}
}

// initialTurn waits for a turn to stream a snapshot. Streaming the initial
// objects is the costly part of a watch from revision 0: every object is
// written out, through a chain of goroutines per connection that keeps a
// CPU busy. When hundreds start at once, taking turns gets them done about
// as fast while the other CPUs still answer every other request, as API
// Priority and Fairness charges watch initialization in Kubernetes. The
// turn ends with release, with ctx, or after turnHold.
func (h *hub) initialTurn(ctx context.Context) (release func(), err error) {
	select {
	case h.turns <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	free := func() { once.Do(func() { <-h.turns }) }
	stopAfter := context.AfterFunc(ctx, free)
	timer := time.AfterFunc(h.turnHold, free)
	return func() {
		stopAfter()
		timer.Stop()
		free()
	}, nil
}

// subscribe delivers every change after from, or with from 0 the objects
// in namespace ("" = all) and every change after them: snapshot and
// subscription are taken under one lock, so no change is lost or repeated
// between them. It fills the cache first if needed. Revisions are global,
// so a watcher usually starts after the last change of this kind the cache
// has seen: it joins and skips what comes before its revision.
func (h *hub) subscribe(ctx context.Context, from int64, namespace string) (*hubSub, error) {
	if err := h.lockRunning(ctx); err != nil {
		return nil, err
	}
	if from > h.rev {
		h.mu.Unlock()
		cur, err := h.store.CurrentRevision(ctx)
		if err != nil {
			return nil, err
		}
		if from > cur {
			return nil, store.ErrFuture
		}
		if err := h.lockRunning(ctx); err != nil {
			return nil, err
		}
	}
	defer h.mu.Unlock()
	sub := &hubSub{from: from}
	var replay []*change
	switch {
	case from == 0:
		sub.from, sub.initial = h.rev, h.snapshotLocked(namespace)
	case from < h.oldest:
		return nil, errNotBuffered
	default:
		if replay = h.ring.after(from); len(replay) > h.queueSize {
			return nil, errNotBuffered
		}
	}
	sub.ch = make(chan *change, h.queueSize)
	for _, c := range replay {
		sub.ch <- c
	}
	h.subs[sub] = struct{}{}
	return sub, nil
}

func (h *hub) unsubscribe(sub *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// snapshotLocked returns the objects under namespace's prefix in key
// order. The slice is shared by every snapshot until the next change.
func (h *hub) snapshotLocked(namespace string) []*object {
	if h.sorted == nil {
		s := make([]*object, 0, len(h.objects))
		for _, o := range h.objects {
			s = append(s, o)
		}
		slices.SortFunc(s, func(a, b *object) int { return strings.Compare(a.key, b.key) })
		h.sorted = s
	}
	prefix := Prefix(h.kind, namespace)
	lo := sort.Search(len(h.sorted), func(i int) bool { return h.sorted[i].key >= prefix })
	n := sort.Search(len(h.sorted)-lo, func(i int) bool { return !strings.HasPrefix(h.sorted[lo+i].key, prefix) })
	return h.sorted[lo : lo+n : lo+n]
}

// cached returns the object stored under key if the cache holds it at
// exactly revision rev. The object is shared: never modify it.
func (h *hub) cached(key string, rev int64) (api.Object, []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.objects[key]; ok && h.running && o.rev() == rev {
		return o.obj, o.raw, true
	}
	return nil, nil, false
}

// lockRunning returns with h.mu held and the cache running, filling it
// first if needed (one list, however many callers wait for it).
func (h *hub) lockRunning(ctx context.Context) error {
	h.mu.Lock()
	for !h.running {
		l := h.loading
		if l == nil {
			l = &hubLoad{done: make(chan struct{})}
			h.loading = l
			go h.load(l)
		}
		h.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if l.err != nil {
			return l.err
		}
		h.mu.Lock()
	}
	return nil
}

// load lists the kind and starts the store watch after the list.
func (h *hub) load(l *hubLoad) {
	defer close(l.done)
	objects, rev, w, err := h.list()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loading = nil
	if err != nil {
		l.err = fmt.Errorf("filling the %s watch cache: %w", h.kind.Plural, err)
		return
	}
	h.running, h.rev, h.oldest, h.objects, h.sorted = true, rev, rev, objects, nil
	h.ring.reset()
	go h.run(w)
}

func (h *hub) list() (map[string]*object, int64, *hubWatch, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hubLoadTimeout)
	defer cancel()
	kvs, rev, err := h.store.List(ctx, Prefix(h.kind, ""))
	if err != nil {
		return nil, 0, nil, err
	}
	objects := make(map[string]*object, len(kvs))
	for _, kv := range kvs {
		o, err := newObject(h.kind, kv)
		if err != nil {
			return nil, 0, nil, err
		}
		objects[kv.Key] = o
	}
	// The watch outlives this call: its context ends only if starting it
	// takes too long.
	wctx, stop := context.WithCancel(context.Background())
	timer := time.AfterFunc(hubLoadTimeout, stop)
	w, err := h.store.Watch(wctx, Prefix(h.kind, ""), rev)
	if !timer.Stop() && err == nil {
		w.Stop()
		err = context.DeadlineExceeded
	}
	if err != nil {
		stop()
		return nil, 0, nil, err
	}
	return objects, rev, &hubWatch{w, stop}, nil
}

// hubWatch is the cache's store watch and the end of its context.
type hubWatch struct {
	store.Watcher
	stop context.CancelFunc
}

func (h *hub) run(w *hubWatch) {
	defer w.stop()
	defer w.Stop()
	for se := range w.Events() {
		c, err := newChange(h.kind, se)
		if err != nil {
			break
		}
		h.dispatch(c)
	}
	h.fail()
}

func (h *hub) dispatch(c *change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if dropped := h.ring.push(c); dropped != 0 {
		h.oldest = dropped
	}
	h.rev = c.rev
	if c.typ == store.EventDeleted {
		delete(h.objects, c.obj.key)
	} else {
		h.objects[c.obj.key] = c.obj
	}
	h.sorted = nil
	for sub := range h.subs {
		if c.rev <= sub.from {
			continue
		}
		select {
		case sub.ch <- c:
		default:
			// Never let one slow reader hold up the others: end its
			// stream; it resumes from what it has seen.
			delete(h.subs, sub)
			close(sub.ch)
		}
	}
}

// fail drops the state and ends every subscription: the clients resume
// from their last revision, and the next use lists again.
func (h *hub) fail() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	h.objects, h.sorted = nil, nil
	h.ring.reset()
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
	}
}
