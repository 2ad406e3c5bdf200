package registry

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

var nsKind = api.MustKind("Namespace")

// namespaceGuards remembers the revision of each namespace as last read,
// so a create needs no read of its namespace: the create transaction
// requires the namespace key to still be at that revision. Any change to
// the namespace (its deletion starting, say) fails the precondition and
// the create reads the namespace again.
type namespaceGuards struct {
	mu    sync.Mutex
	known map[string]namespaceState
}

type namespaceState struct {
	rev         int64
	terminating bool
}

// guard checks that namespace exists and accepts new objects of kind, and
// returns the precondition the create must carry. fresh skips the memory.
func (r *Registry) guard(ctx context.Context, kind *api.KindInfo, namespace string, fresh bool) (store.Precondition, error) {
	g := &r.namespaces
	g.mu.Lock()
	st, ok := g.known[namespace]
	g.mu.Unlock()
	// A namespace remembered as terminating may be gone or re-created
	// since: only an active one is trusted from memory.
	if !ok || fresh || st.terminating {
		obj, err := r.Get(ctx, nsKind, "", namespace)
		if api.IsNotFound(err) {
			return store.Precondition{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound,
				"namespace %q not found: create it before creating %s in it", namespace, kind.Plural)
		}
		if err != nil {
			return store.Precondition{}, err
		}
		meta := obj.GetObjectMeta()
		st = namespaceState{rev: meta.ResourceVersion, terminating: meta.DeletionTimestamp != nil}
		g.mu.Lock()
		g.known[namespace] = st
		g.mu.Unlock()
	}
	// Events still record what happens while a namespace is emptied.
	if st.terminating && kind.Kind != "Event" {
		return store.Precondition{}, api.NewForbidden("namespace %q is being deleted: no new %s may be created in it", namespace, kind.Plural)
	}
	return store.Precondition{Key: Key(nsKind, "", namespace), ModRevision: st.rev}, nil
}

// createGuarded stores a new namespaced object while its namespace exists
// and is active (and its leader fence, if any, holds), re-reading the
// namespace when it changed.
func (r *Registry) createGuarded(ctx context.Context, kind *api.KindInfo, key, namespace string, val []byte, pre store.Precondition, fence *api.LeaderFence) (int64, error) {
	for attempt := 0; ; attempt++ {
		rev, err := r.store.Create(ctx, key, val, append([]store.Precondition{pre}, fencing(fence)...)...)
		var pe *store.PreconditionError
		if !errors.As(err, &pe) || pe.Precondition.Key != pre.Key || attempt == 3 {
			return rev, err
		}
		if pre, err = r.guard(ctx, kind, namespace, true); err != nil {
			return 0, err
		}
	}
}
