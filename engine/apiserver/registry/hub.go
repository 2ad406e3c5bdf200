package registry

import (
	"context"
	"errors"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Hub sizing: events kept for watchers that (re)start from a recent
// revision, and events queued for one slow watcher before it is cut off
// (its client resumes from the last event it got).
const (
	hubBufferSize = 2048
	hubQueueSize  = 4096
)

// errNotBuffered sends a watcher whose start revision the hub no longer
// (or not yet) holds to a watch of its own on the store.
var errNotBuffered = errors.New("registry: revision not in the watch buffer")

// hub shares one store watch per kind among all API watches of that kind,
// like Kubernetes' watch cache: each event is decoded and encoded once,
// and kept in a ring so watchers resuming from a recent revision are served
// from memory.
type hub struct {
	kind      *api.KindInfo
	store     store.Store
	queueSize int

	mu      sync.Mutex
	running bool
	oldest  int64 // every event after oldest is in ring or still to come
	last    int64 // the newest revision dispatched
	ring    []*change
	subs    map[*hubSub]struct{}
	// latest is the newest change of every key changed since the hub
	// started: writes whose caller read the same revision skip the store
	// read (the compare-and-swap still guards against staleness).
	latest map[string]*change
}

type hubSub struct {
	ch   chan *change
	from int64
	err  error // why ch was closed (nil: stopped, or too slow)
}

func newHub(kind *api.KindInfo, s store.Store, queueSize int) *hub {
	return &hub{kind: kind, store: s, queueSize: queueSize, subs: map[*hubSub]struct{}{}, latest: map[string]*change{}}
}

// subscribe delivers every change after from. It starts the hub's store
// watch on first use (from the first subscriber's revision). Revisions are
// global, so a watcher usually starts after the last event of this kind the
// hub has seen: it joins and skips what comes before its revision.
func (h *hub) subscribe(ctx context.Context, from int64) (*hubSub, error) {
	h.mu.Lock()
	if h.running && from > h.last {
		h.mu.Unlock()
		cur, err := h.store.CurrentRevision(ctx)
		if err != nil {
			return nil, err
		}
		if from > cur {
			return nil, store.ErrFuture
		}
		h.mu.Lock()
	}
	defer h.mu.Unlock()
	if !h.running {
		w, err := h.store.Watch(context.Background(), Prefix(h.kind, ""), from)
		if err != nil {
			return nil, err
		}
		h.running, h.oldest, h.last, h.ring = true, from, from, h.ring[:0]
		clear(h.latest)
		go h.run(w)
	}
	if from < h.oldest {
		return nil, errNotBuffered
	}
	sub := &hubSub{ch: make(chan *change, h.queueSize), from: from}
	for _, c := range h.ring {
		if c.rev > from {
			sub.ch <- c
		}
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

func (h *hub) run(w store.Watcher) {
	defer w.Stop()
	for se := range w.Events() {
		c, err := newChange(h.kind, se)
		if err != nil {
			h.fail(err)
			return
		}
		h.dispatch(c)
	}
	h.fail(w.Err())
}

func (h *hub) dispatch(c *change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) == hubBufferSize {
		h.oldest = h.ring[0].rev
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:len(h.ring)-1]
	}
	h.ring = append(h.ring, c)
	h.last = c.rev
	if c.typ == store.EventDeleted {
		delete(h.latest, c.key)
	} else {
		h.latest[c.key] = c
	}
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

// cached returns the object stored under key if the hub's newest change of
// it has exactly revision rev. The object is shared: never modify it.
func (h *hub) cached(key string, rev int64) (api.Object, []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.latest[key]; ok && c.rev == rev && h.running {
		return c.cur, c.raw, true
	}
	return nil, nil, false
}

// fail ends every subscription; the next subscriber restarts the hub.
func (h *hub) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	clear(h.latest)
	for sub := range h.subs {
		sub.err = err
		delete(h.subs, sub)
		close(sub.ch)
	}
}
