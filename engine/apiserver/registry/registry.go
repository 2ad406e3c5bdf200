package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Registry reads and writes API objects.
type Registry struct {
	store     store.Store
	now       Clock
	admitters []Admitter

	hubsMu       sync.Mutex
	hubs         map[string]*hub
	hubQueueSize int
	initialTurns chan struct{} // shared by every hub: see hub.initialTurn

	namespaces namespaceGuards

	maxObjectBytes int
}

// Options configure a Registry.
type Options struct {
	Store     store.Store
	Clock     Clock
	Admitters []Admitter
	// MaxObjectBytes bounds an object's stored encoding (413 beyond);
	// 0 means DefaultMaxObjectBytes.
	MaxObjectBytes int
}

// New builds a registry. Namespaced objects are only created in an
// existing, active namespace (see guard), before any admitter runs.
func New(opts Options) *Registry {
	r := &Registry{store: opts.Store, now: opts.Clock, hubs: map[string]*hub{}, hubQueueSize: hubQueueSize,
		admitters: opts.Admitters, namespaces: namespaceGuards{known: map[string]namespaceState{}}}
	if r.now == nil {
		r.now = time.Now
	}
	r.maxObjectBytes = opts.MaxObjectBytes
	if r.maxObjectBytes <= 0 {
		r.maxObjectBytes = DefaultMaxObjectBytes
	}
	return r
}

// Store is the underlying store.
func (r *Registry) Store() store.Store { return r.store }

// maxUnconditionalRetries bounds retries of updates and deletes that did not
// pin a resourceVersion and lost a race.
const maxUnconditionalRetries = 8

// Get reads one object.
func (r *Registry) Get(ctx context.Context, kind *api.KindInfo, namespace, name string) (api.Object, error) {
	obj, _, err := r.get(ctx, kind, namespace, name)
	return obj, err
}

// getAt reads one object and its stored encoding, from the kind's watch hub
// when it holds exactly the revision the caller expects (a write then
// needs no store read; its compare-and-swap catches a stale hub), else from
// the store. The object may be shared: never modify it.
func (r *Registry) getAt(ctx context.Context, kind *api.KindInfo, namespace, name string, expected int64) (api.Object, []byte, error) {
	if expected != 0 {
		r.hubsMu.Lock()
		h := r.hubs[kind.Kind]
		r.hubsMu.Unlock()
		if h != nil {
			if obj, raw, ok := h.cached(Key(kind, namespace, name), expected); ok {
				return obj, raw, nil
			}
		}
	}
	return r.get(ctx, kind, namespace, name)
}

// get reads one object and its stored encoding.
func (r *Registry) get(ctx context.Context, kind *api.KindInfo, namespace, name string) (api.Object, []byte, error) {
	kv, err := r.store.Get(ctx, Key(kind, namespace, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, api.NewNotFound(kind.Kind, name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s %q: %w", kind.Kind, name, err)
	}
	obj, err := decode(kind, kv)
	return obj, kv.Value, err
}

// List reads every object of a kind in a namespace ("" = all) that matches
// the selectors, and the revision the list was read at.
func (r *Registry) List(ctx context.Context, kind *api.KindInfo, namespace string, sel Selectors) ([]api.Object, int64, error) {
	kvs, rev, err := r.store.List(ctx, Prefix(kind, namespace))
	if err != nil {
		return nil, 0, fmt.Errorf("listing %s: %w", kind.Plural, err)
	}
	out := make([]api.Object, 0, len(kvs))
	for _, kv := range kvs {
		obj, err := decode(kind, kv)
		if err != nil {
			return nil, 0, err
		}
		if sel.Matches(obj) {
			out = append(out, obj)
		}
	}
	return out, rev, nil
}

// Create stores a new object.
func (r *Registry) Create(ctx context.Context, obj api.Object, opts WriteOptions) (api.Object, error) {
	kind := api.KindOf(obj)
	meta := obj.GetObjectMeta()
	generated, errs := prepareNew(obj, r.now().UTC().Truncate(time.Second))
	if len(errs) > 0 {
		return nil, api.NewInvalid(kind.Kind, meta.Name, errs)
	}
	var pre store.Precondition
	if kind.Namespaced {
		var err error
		if pre, err = r.guard(ctx, kind, meta.Namespace, false); err != nil && !(opts.DryRun && opts.NamespaceMayBeNew && api.IsNotFound(err)) {
			return nil, err
		}
	}
	if err := r.admit(ctx, Attributes{Op: OpCreate, Kind: kind, Object: obj, DryRun: opts.DryRun}); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		val, err := encode(obj)
		if err != nil {
			return nil, err
		}
		if err := r.checkSize(kind, meta.Name, val); err != nil {
			return nil, err
		}
		key := Key(kind, meta.Namespace, meta.Name)
		if opts.DryRun {
			if !generated {
				if err := r.checkAbsent(ctx, kind, key, meta.Name); err != nil {
					return nil, err
				}
			}
			return obj, nil
		}
		var rev int64
		if kind.Namespaced {
			rev, err = r.createGuarded(ctx, kind, key, meta.Namespace, val, pre, opts.Fence)
		} else {
			rev, err = r.store.Create(ctx, key, val, fencing(opts.Fence)...)
		}
		if errors.Is(err, store.ErrExists) && generated && attempt < 5 {
			meta.Name = meta.GenerateName + randomSuffix()
			continue
		}
		if errors.Is(err, store.ErrExists) {
			return nil, api.NewAlreadyExists(kind.Kind, meta.Name)
		}
		if err != nil {
			return nil, r.writeError(kind, meta.Name, err)
		}
		meta.ResourceVersion = rev
		return obj, nil
	}
}

// Update replaces an object (or only its status). A non-zero
// resourceVersion must match the stored one; zero means "whatever is stored".
func (r *Registry) Update(ctx context.Context, obj api.Object, opts WriteOptions) (api.Object, error) {
	kind := api.KindOf(obj)
	meta := obj.GetObjectMeta()
	if opts.Subresource != "" && (opts.Subresource != "status" || !kind.HasStatus) {
		return nil, api.NewBadRequest("%s has no %q subresource", kind.Plural, opts.Subresource)
	}
	expected := meta.ResourceVersion
	for attempt := 0; ; attempt++ {
		current, stored, err := r.getAt(ctx, kind, meta.Namespace, meta.Name, expected)
		if err != nil {
			return nil, err
		}
		cur := current.GetObjectMeta()
		if expected != 0 && expected != cur.ResourceVersion {
			return nil, api.NewConflict(kind.Kind, meta.Name,
				fmt.Sprintf("your resourceVersion %d, stored %d", expected, cur.ResourceVersion))
		}
		next, err := r.merge(kind, current, stored, obj, opts.Subresource)
		if err != nil {
			return nil, err
		}
		out, err := r.write(ctx, kind, current, stored, next, opts)
		if api.IsConflict(err) && expected == 0 && attempt < maxUnconditionalRetries {
			continue
		}
		return out, err
	}
}

// merge builds the object to store from the stored one and the request.
//
// current may be shared with watchers (see getAt), so it is never modified:
// a status update starts from a fresh decode of the stored bytes, and a
// plain update takes current's status by value (its slices stay shared, so
// prepareForUpdate copies any it changes).
func (r *Registry) merge(kind *api.KindInfo, current api.Object, stored []byte, req api.Object, subresource string) (api.Object, error) {
	var next api.Object
	if subresource == "status" {
		c, err := decode(kind, store.KV{Value: stored, ModRevision: current.GetObjectMeta().ResourceVersion})
		if err != nil {
			return nil, err
		}
		api.CopyStatus(c, req)
		next = c
	} else {
		next = req
		api.CopyStatus(next, current)
	}
	cur, m := current.GetObjectMeta(), next.GetObjectMeta()
	m.UID = cur.UID
	m.CreationTimestamp = cur.CreationTimestamp
	m.DeletionTimestamp = cur.DeletionTimestamp
	m.DeletionGracePeriodSeconds = cur.DeletionGracePeriodSeconds
	m.GenerateName = cur.GenerateName
	m.ResourceVersion = cur.ResourceVersion
	m.Generation = cur.Generation
	return next, nil
}

// write validates, admits and stores next over current (stored is
// current's stored encoding).
func (r *Registry) write(ctx context.Context, kind *api.KindInfo, current api.Object, stored []byte, next api.Object, opts WriteOptions) (api.Object, error) {
	meta := next.GetObjectMeta()
	if errs := prepareWrite(current, next, r.now().UTC().Truncate(time.Second)); len(errs) > 0 {
		return nil, api.NewInvalid(kind.Kind, meta.Name, errs)
	}
	if err := r.admit(ctx, Attributes{Op: OpUpdate, Kind: kind, Object: next, Old: current,
		Subresource: opts.Subresource, DryRun: opts.DryRun}); err != nil {
		return nil, err
	}
	if !api.DesiredStateEqual(current, next) {
		meta.Generation++
	}
	val, err := encode(next)
	if err != nil {
		return nil, err
	}
	if err := r.checkSize(kind, meta.Name, val); err != nil {
		return nil, err
	}
	if string(val) == string(stored) || opts.DryRun {
		// Nothing changed: no new revision, no watch event.
		return next, nil
	}
	key := Key(kind, meta.Namespace, meta.Name)
	if meta.DeletionTimestamp != nil && len(meta.Finalizers) == 0 {
		// The last finalizer is gone: the pending delete completes now.
		if _, err := r.store.Delete(ctx, key, meta.ResourceVersion, fencing(opts.Fence)...); err != nil {
			return nil, r.writeError(kind, meta.Name, err)
		}
		r.released(ctx, next)
		return next, nil
	}
	rev, err := r.store.Update(ctx, key, val, meta.ResourceVersion, fencing(opts.Fence)...)
	if err != nil {
		return nil, r.writeError(kind, meta.Name, err)
	}
	meta.ResourceVersion = rev
	return next, nil
}

// Delete removes an object, or marks it for deletion when finalizers or a
// graceful shutdown hold it. It returns the object and whether it is gone.
func (r *Registry) Delete(ctx context.Context, kind *api.KindInfo, namespace, name string, opts DeleteOptions) (api.Object, bool, error) {
	if !kind.Namespaced && kind.Kind == "Namespace" && protectedNamespaces[name] {
		return nil, false, api.NewForbidden("namespace %q is required by the cluster and cannot be deleted", name)
	}
	for attempt := 0; ; attempt++ {
		current, err := r.Get(ctx, kind, namespace, name)
		if err != nil {
			return nil, false, err
		}
		meta := current.GetObjectMeta()
		if opts.Precondition != 0 && opts.Precondition != meta.ResourceVersion {
			return nil, false, api.NewConflict(kind.Kind, name,
				fmt.Sprintf("precondition resourceVersion %d, stored %d", opts.Precondition, meta.ResourceVersion))
		}
		if err := r.admit(ctx, Attributes{Op: OpDelete, Kind: kind, Old: current, DryRun: opts.DryRun}); err != nil {
			return nil, false, err
		}
		obj, gone, err := r.deleteOnce(ctx, kind, current, opts)
		if api.IsConflict(err) && opts.Precondition == 0 && attempt < maxUnconditionalRetries {
			continue
		}
		return obj, gone, err
	}
}

func (r *Registry) deleteOnce(ctx context.Context, kind *api.KindInfo, current api.Object, opts DeleteOptions) (api.Object, bool, error) {
	meta := current.GetObjectMeta()
	key := Key(kind, meta.Namespace, meta.Name)
	hold := len(meta.Finalizers) > 0
	// Foreground: the garbage collector deletes dependents first; orphan:
	// it strips their owner references first. Either way the owner waits.
	policyFinalizer := map[string]string{PropagationForeground: api.FinalizerForeground, PropagationOrphan: api.FinalizerOrphan}[opts.PropagationPolicy]
	if policyFinalizer != "" && !containsString(meta.Finalizers, policyFinalizer) {
		meta.Finalizers = append(meta.Finalizers, policyFinalizer)
		hold = true
	}
	if pod, ok := current.(*api.Pod); ok && r.holdPodForShutdown(ctx, pod, opts) {
		hold = true
	}
	if !hold {
		if opts.DryRun {
			return current, true, nil
		}
		if _, err := r.store.Delete(ctx, key, meta.ResourceVersion, fencing(opts.Fence)...); err != nil {
			return nil, false, r.writeError(kind, meta.Name, err)
		}
		r.released(ctx, current)
		return current, true, nil
	}
	if meta.DeletionTimestamp == nil {
		now := r.now().UTC().Truncate(time.Second)
		meta.DeletionTimestamp = &now
		if ns, ok := current.(*api.Namespace); ok {
			ns.Status.Phase = api.NamespaceTerminating
		}
	}
	if opts.DryRun {
		return current, false, nil
	}
	val, err := encode(current)
	if err != nil {
		return nil, false, err
	}
	rev, err := r.store.Update(ctx, key, val, meta.ResourceVersion, fencing(opts.Fence)...)
	if err != nil {
		return nil, false, r.writeError(kind, meta.Name, err)
	}
	meta.ResourceVersion = rev
	return current, false, nil
}

// writeError turns store sentinels into API errors.
func (r *Registry) writeError(kind *api.KindInfo, name string, err error) error {
	var pe *store.PreconditionError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Precondition.Key, "/leader/") {
		return api.NewStatusError(http.StatusPreconditionFailed, api.ReasonLeaderFenced,
			"write of %s %q refused: the leader term %s@%d it was made in has ended (its lease expired or was given up); "+
				"the new leader decides again", kind.Kind, name, pe.Precondition.Key, pe.Precondition.CreateRevision)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return api.NewConflict(kind.Kind, name, "changed while this request was being processed")
	case errors.Is(err, store.ErrNotFound):
		return api.NewNotFound(kind.Kind, name)
	case errors.Is(err, store.ErrExists):
		return api.NewAlreadyExists(kind.Kind, name)
	}
	return fmt.Errorf("writing %s %q: %w", kind.Kind, name, err)
}

func (r *Registry) admit(ctx context.Context, a Attributes) error {
	a.Requester = RequesterFrom(ctx)
	for _, ad := range r.admitters {
		if err := ad.Admit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (r *Registry) released(ctx context.Context, obj api.Object) {
	for _, ad := range r.admitters {
		if rel, ok := ad.(Releaser); ok {
			rel.Released(ctx, obj)
		}
	}
}

// randomSuffix is 5 characters without vowels or look-alikes, like
// Kubernetes' generated names, so names never spell words.
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// fencing is the store precondition of a leader fence (none for nil).
func fencing(f *api.LeaderFence) []store.Precondition {
	if f == nil {
		return nil
	}
	return []store.Precondition{{Key: f.Key, CreateRevision: f.Revision}}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
