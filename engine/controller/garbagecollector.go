package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// GarbageCollector deletes objects whose owners are gone, following
// ownerReferences across every kind but Event:
//
//   - background: a dependent all of whose owners no longer exist is
//     deleted (after a live read confirms the owners are gone, so a stale
//     cache never deletes anything);
//   - foreground: an owner deleted with the foregroundDeletion finalizer
//     has its dependents deleted first and goes once no dependent with
//     blockOwnerDeletion remains;
//   - orphan: an owner deleted with the orphan finalizer has its
//     references removed from its dependents, which stay.
//
// Work items are "Kind/namespace/name" keys ("Kind/name" for
// cluster-scoped objects); one item handles both roles of an object: as
// an owner being deleted and as a dependent that may have lost its owners.
type GarbageCollector struct {
	d      Deps
	kinds  map[string]*gcKind
	runner *Runner
}

// gcKind is one kind's shared informer seen through api.Object.
type gcKind struct {
	info    *api.KindInfo
	get     func(key string) (api.Object, bool)
	list    func() []api.Object
	byOwner func(uid string) []api.Object
	// watch registers the collector's handlers on the informer.
	watch func()
}

// NewGarbageCollector registers handlers on an informer of every kind.
func NewGarbageCollector(d Deps) *GarbageCollector {
	d = d.withDefaults()
	gc := &GarbageCollector{d: d, kinds: map[string]*gcKind{}}
	gc.runner = NewRunner("garbagecollector", d.Config.Workers, d.Log, gc.reconcile)
	for _, k := range []*gcKind{
		gcKindFor[*api.Namespace](gc), gcKindFor[*api.Node](gc), gcKindFor[*api.NodePool](gc),
		gcKindFor[*api.Machine](gc), gcKindFor[*api.Pod](gc), gcKindFor[*api.ReplicaSet](gc),
		gcKindFor[*api.Deployment](gc), gcKindFor[*api.Service](gc), gcKindFor[*api.Endpoints](gc),
		gcKindFor[*api.ConfigMap](gc), gcKindFor[*api.Secret](gc), gcKindFor[*api.Autoscaler](gc),
		gcKindFor[*api.PersistentVolume](gc),
	} {
		gc.kinds[k.info.Kind] = k
	}
	for _, k := range api.Kinds {
		if _, ok := gc.kinds[k.Kind]; !ok && k.Kind != "Event" {
			d.Log.Warn("garbage collector does not watch a kind; its objects are never collected", "kind", k.Kind)
		}
	}
	// Handlers read gc.kinds, so they go on once it is complete.
	for _, k := range gc.kinds {
		k.watch()
	}
	return gc
}

// gcKindFor builds T's view; its handlers enqueue the objects a change concerns.
func gcKindFor[T api.Object](gc *GarbageCollector) *gcKind {
	inf := InformerFor[T](gc.d.Informers)
	return &gcKind{
		info: api.KindOf(*new(T)),
		get:  func(key string) (api.Object, bool) { return inf.Get(key) },
		list: func() []api.Object { return gcObjects(inf.List()) },
		byOwner: func(uid string) []api.Object {
			return gcObjects(inf.ByIndex(IndexOwnerUID, uid))
		},
		watch: func() {
			inf.AddHandler(client.Handler[T]{
				OnAdd: func(o T) { gc.onChange(o) },
				OnUpdate: func(old, o T) {
					gc.onChange(o)
					gc.enqueueOwners(old) // a removed reference may unblock a foreground owner
				},
				OnDelete: func(o T) {
					gc.enqueueOwners(o)
					for _, dep := range gc.dependents(o.GetObjectMeta().UID) {
						gc.enqueue(dep)
					}
				},
			})
		},
	}
}

func gcObjects[T api.Object](objs []T) []api.Object {
	out := make([]api.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// Run collects garbage until ctx ends.
func (gc *GarbageCollector) Run(ctx context.Context) {
	if !gc.d.Informers.WaitForSync(ctx) {
		return
	}
	// Everything with owners once, now that every cache is loaded:
	// dependents orphaned while no collector ran are collected.
	for _, k := range gc.kinds {
		for _, o := range k.list() {
			if gcInteresting(o) {
				gc.enqueue(o)
			}
		}
	}
	gc.runner.Run(ctx)
}

func (gc *GarbageCollector) onChange(o api.Object) {
	if gcInteresting(o) {
		gc.enqueue(o)
		gc.enqueueOwners(o)
	}
}

// gcInteresting: objects with owners, and owners the collector must finalize.
func gcInteresting(o api.Object) bool {
	m := o.GetObjectMeta()
	return len(m.OwnerReferences) > 0 || m.DeletionTimestamp != nil &&
		(slices.Contains(m.Finalizers, api.FinalizerForeground) || slices.Contains(m.Finalizers, api.FinalizerOrphan))
}

func (gc *GarbageCollector) enqueue(o api.Object) {
	gc.runner.Queue.Add(api.KindOf(o).Kind + "/" + o.GetObjectMeta().Key())
}

func (gc *GarbageCollector) enqueueOwners(o api.Object) {
	m := o.GetObjectMeta()
	for _, ref := range m.OwnerReferences {
		if k := gc.kindOf(ref); k != nil {
			gc.runner.Queue.Add(k.info.Kind + "/" + api.Key(gcOwnerNamespace(k.info, m.Namespace), ref.Name))
		}
	}
}

// dependents lists the cached objects of every kind that name uid as an owner.
func (gc *GarbageCollector) dependents(uid string) []api.Object {
	var out []api.Object
	for _, k := range gc.kinds {
		out = append(out, k.byOwner(uid)...)
	}
	return out
}

func (gc *GarbageCollector) reconcile(ctx context.Context, key string) error {
	kindName, objKey, _ := strings.Cut(key, "/")
	k := gc.kinds[kindName]
	if k == nil {
		return nil
	}
	obj, ok := k.get(objKey)
	if !ok {
		return nil
	}
	m := obj.GetObjectMeta()
	if m.DeletionTimestamp != nil {
		switch {
		case slices.Contains(m.Finalizers, api.FinalizerOrphan):
			return gc.orphanDependents(ctx, obj)
		case slices.Contains(m.Finalizers, api.FinalizerForeground):
			return gc.deleteDependents(ctx, obj)
		}
		return nil // on its way out already
	}
	if len(m.OwnerReferences) == 0 {
		return nil // objects without owners are never touched
	}
	return gc.collect(ctx, obj)
}

// gcOwnerState is what a dependent knows of one of its owners.
type gcOwnerState int

const (
	// gcOwnerAlive: the owner exists (or cannot be resolved, which is
	// treated the same way: the collector never deletes on doubt).
	gcOwnerAlive gcOwnerState = iota
	// gcOwnerGone: no object with the owner's UID exists (confirmed live).
	gcOwnerGone
	// gcOwnerDeleting: the owner is being deleted in the foreground and
	// waits for its dependents.
	gcOwnerDeleting
)

// gcPlan is what to do with a dependent.
type gcPlan struct {
	Delete bool
	// Foreground deletes with foreground propagation, so the dependent's
	// own blocking dependents go before it does.
	Foreground bool
	// Unlink lists owner UIDs whose references must be removed.
	Unlink []string
}

// gcPlanFor decides a dependent's fate from the state of its owners
// (by UID). With an owner alive it stays, dropping only the blocking
// references to owners deleted in the foreground (so they can finish).
// With every owner gone or being deleted it is deleted, in the foreground
// when an owner waits for it and it has blocking dependents of its own.
func gcPlanFor(refs []api.OwnerReference, states map[string]gcOwnerState, hasBlockingDependents bool) gcPlan {
	if len(refs) == 0 {
		return gcPlan{}
	}
	alive, deleting := false, false
	var unlink []string
	for _, ref := range refs {
		switch states[ref.UID] {
		case gcOwnerAlive:
			alive = true
		case gcOwnerDeleting:
			deleting = true
			if api.Deref(ref.BlockOwnerDeletion, false) {
				unlink = append(unlink, ref.UID)
			}
		}
	}
	if alive {
		return gcPlan{Unlink: unlink}
	}
	return gcPlan{Delete: true, Foreground: deleting && hasBlockingDependents}
}

// collect deletes (or unlinks) a dependent whose owners are going away.
func (gc *GarbageCollector) collect(ctx context.Context, obj api.Object) error {
	m := obj.GetObjectMeta()
	states := make(map[string]gcOwnerState, len(m.OwnerReferences))
	for _, ref := range m.OwnerReferences {
		st, err := gc.ownerState(ctx, m.Namespace, ref)
		if err != nil {
			return err
		}
		states[ref.UID] = st
	}
	plan := gcPlanFor(m.OwnerReferences, states, gc.hasBlockingDependents(m.UID))
	switch {
	case plan.Delete:
		return gc.delete(ctx, obj, plan.Foreground)
	case len(plan.Unlink) > 0:
		return gc.unlink(ctx, obj, plan.Unlink)
	}
	return nil
}

// ownerState looks an owner up in the caches and, when they do not have
// it, reads it live: only the API server may say an owner is gone.
func (gc *GarbageCollector) ownerState(ctx context.Context, depNamespace string, ref api.OwnerReference) (gcOwnerState, error) {
	k := gc.kindOf(ref)
	if k == nil || k.info.Namespaced && depNamespace == "" {
		return gcOwnerAlive, nil // unresolvable: leave the dependent alone
	}
	ns := gcOwnerNamespace(k.info, depNamespace)
	owner, ok := k.get(api.Key(ns, ref.Name))
	if !ok || owner.GetObjectMeta().UID != ref.UID {
		live, err := client.Dynamic(gc.d.Client, k.info, ns).Get(ctx, ref.Name)
		if api.IsNotFound(err) {
			return gcOwnerGone, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading owner %s %s: %w", k.info.Kind, api.Key(ns, ref.Name), err)
		}
		if live.GetObjectMeta().UID != ref.UID {
			return gcOwnerGone, nil // same name, another incarnation
		}
		owner = live
	}
	if om := owner.GetObjectMeta(); om.DeletionTimestamp != nil && slices.Contains(om.Finalizers, api.FinalizerForeground) {
		return gcOwnerDeleting, nil
	}
	return gcOwnerAlive, nil
}

// deleteDependents drives an owner's foreground deletion: each dependent's
// own work item deletes it (or unlinks it when another owner keeps it);
// once no dependent blocks, the finalizer goes and the owner with it.
func (gc *GarbageCollector) deleteDependents(ctx context.Context, owner api.Object) error {
	uid := owner.GetObjectMeta().UID
	blocked := false
	for _, dep := range gc.dependents(uid) {
		if dep.GetObjectMeta().DeletionTimestamp == nil {
			gc.enqueue(dep)
		}
		blocked = blocked || gcBlocks(dep, uid)
	}
	if blocked {
		return nil // each dependent's deletion enqueues the owner again
	}
	return gc.removeFinalizer(ctx, owner, api.FinalizerForeground)
}

// orphanDependents removes the owner's references from its dependents,
// then the orphan finalizer, letting the owner go and the dependents stay.
func (gc *GarbageCollector) orphanDependents(ctx context.Context, owner api.Object) error {
	uid := owner.GetObjectMeta().UID
	for _, dep := range gc.dependents(uid) {
		if err := gc.unlink(ctx, dep, []string{uid}); err != nil {
			return err
		}
	}
	return gc.removeFinalizer(ctx, owner, api.FinalizerOrphan)
}

func (gc *GarbageCollector) hasBlockingDependents(uid string) bool {
	return slices.ContainsFunc(gc.dependents(uid), func(dep api.Object) bool { return gcBlocks(dep, uid) })
}

// gcBlocks reports whether dep holds back the foreground deletion of owner uid.
func gcBlocks(dep api.Object, uid string) bool {
	return slices.ContainsFunc(dep.GetObjectMeta().OwnerReferences, func(r api.OwnerReference) bool {
		return r.UID == uid && api.Deref(r.BlockOwnerDeletion, false)
	})
}

// delete deletes obj if it is still the version the decision was made on.
func (gc *GarbageCollector) delete(ctx context.Context, obj api.Object, foreground bool) error {
	m := obj.GetObjectMeta()
	opts := client.DeleteOptions{ResourceVersion: m.ResourceVersion}
	if foreground {
		opts.PropagationPolicy = "Foreground"
	}
	kind := api.KindOf(obj)
	err := client.Dynamic(gc.d.Client, kind, m.Namespace).Delete(ctx, m.Name, opts)
	if api.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s %s: %w", kind.Kind, m.Key(), err)
	}
	gc.d.Log.Info("deleted object whose owners are gone", "kind", kind.Kind, "object", m.Key(), "foreground", foreground)
	return nil
}

// unlink removes the references to the given owners from obj.
func (gc *GarbageCollector) unlink(ctx context.Context, obj api.Object, uids []string) error {
	return gc.rewrite(ctx, obj, func(m *api.ObjectMeta) {
		m.OwnerReferences = slices.DeleteFunc(m.OwnerReferences, func(r api.OwnerReference) bool { return slices.Contains(uids, r.UID) })
	})
}

func (gc *GarbageCollector) removeFinalizer(ctx context.Context, obj api.Object, finalizer string) error {
	return gc.rewrite(ctx, obj, func(m *api.ObjectMeta) {
		m.Finalizers = slices.DeleteFunc(m.Finalizers, func(f string) bool { return f == finalizer })
	})
}

// rewrite updates a copy of obj's metadata (compare-and-swap on its
// resourceVersion). A gone object needs nothing.
func (gc *GarbageCollector) rewrite(ctx context.Context, obj api.Object, edit func(*api.ObjectMeta)) error {
	up, err := gcCopy(obj)
	if err != nil {
		return err
	}
	m := up.GetObjectMeta()
	before := len(m.OwnerReferences) + len(m.Finalizers)
	edit(m)
	if len(m.OwnerReferences)+len(m.Finalizers) == before {
		return nil
	}
	kind := api.KindOf(obj)
	_, err = client.Dynamic(gc.d.Client, kind, m.Namespace).Update(ctx, up)
	if err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("updating %s %s: %w", kind.Kind, m.Key(), err)
	}
	return nil
}

// gcCopy deep-copies an object (cached objects are shared and read-only).
func gcCopy(obj api.Object) (api.Object, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", obj.GetObjectMeta().Key(), err)
	}
	out := api.KindOf(obj).New()
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("copying %s: %w", obj.GetObjectMeta().Key(), err)
	}
	return out, nil
}

// kindOf resolves an owner reference's kind to a watched kind, or nil.
func (gc *GarbageCollector) kindOf(ref api.OwnerReference) *gcKind {
	info, err := api.LookupKind(ref.Kind)
	if err != nil {
		return nil
	}
	return gc.kinds[info.Kind]
}

// gcOwnerNamespace is where an owner of this kind lives for a dependent in
// namespace ns: its namespace, or none for a cluster-scoped owner.
func gcOwnerNamespace(owner *api.KindInfo, ns string) string {
	if owner.Namespaced {
		return ns
	}
	return ""
}
