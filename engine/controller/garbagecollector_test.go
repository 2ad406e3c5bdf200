package controller

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func TestGarbageCollectorPlan(t *testing.T) {
	ref := func(uid string, block bool) api.OwnerReference {
		return api.OwnerReference{Kind: "ConfigMap", Name: uid, UID: uid, BlockOwnerDeletion: &block}
	}
	const (
		alive    = gcOwnerAlive
		gone     = gcOwnerGone
		deleting = gcOwnerDeleting
	)
	tests := []struct {
		name               string
		refs               []api.OwnerReference
		states             map[string]gcOwnerState
		blockingDependents bool
		want               gcPlan
	}{
		{"no owners: never touched", nil, nil, false, gcPlan{}},
		{"owner alive", []api.OwnerReference{ref("a", true)}, map[string]gcOwnerState{"a": alive}, false, gcPlan{}},
		{"owner gone", []api.OwnerReference{ref("a", false)}, map[string]gcOwnerState{"a": gone}, true, gcPlan{Delete: true}},
		{"all owners gone", []api.OwnerReference{ref("a", false), ref("b", true)},
			map[string]gcOwnerState{"a": gone, "b": gone}, false, gcPlan{Delete: true}},
		{"one of two owners gone: kept as is", []api.OwnerReference{ref("a", true), ref("b", true)},
			map[string]gcOwnerState{"a": gone, "b": alive}, false, gcPlan{}},
		{"owner deleting in the foreground", []api.OwnerReference{ref("a", true)},
			map[string]gcOwnerState{"a": deleting}, false, gcPlan{Delete: true}},
		{"foreground owner, dependent with blocking dependents: foreground too", []api.OwnerReference{ref("a", true)},
			map[string]gcOwnerState{"a": deleting}, true, gcPlan{Delete: true, Foreground: true}},
		{"gone owner, dependent with blocking dependents: background", []api.OwnerReference{ref("a", true)},
			map[string]gcOwnerState{"a": gone}, true, gcPlan{Delete: true}},
		{"another owner alive: blocking reference to the deleting one removed", []api.OwnerReference{ref("a", true), ref("b", false)},
			map[string]gcOwnerState{"a": deleting, "b": alive}, true, gcPlan{Unlink: []string{"a"}}},
		{"another owner alive: non-blocking reference left", []api.OwnerReference{ref("a", false), ref("b", false)},
			map[string]gcOwnerState{"a": deleting, "b": alive}, false, gcPlan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gcPlanFor(tt.refs, tt.states, tt.blockingDependents); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("plan %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The collector must know every kind an owner or dependent can be.
func TestGarbageCollectorWatchesEveryKind(t *testing.T) {
	gc := NewGarbageCollector(Deps{})
	var want []string
	for _, k := range api.Kinds {
		if k.Kind != "Event" {
			want = append(want, k.Kind)
		}
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(gc.kinds)); !slices.Equal(got, want) {
		t.Fatalf("watched kinds %v, want %v", got, want)
	}
}

// gcRef is an owner reference to obj.
func gcRef(obj api.Object, block bool) api.OwnerReference {
	m := obj.GetObjectMeta()
	return api.OwnerReference{APIVersion: api.APIVersion, Kind: api.KindOf(obj).Kind, Name: m.Name, UID: m.UID, BlockOwnerDeletion: api.Ptr(block)}
}

// gcFixture creates objects in the default namespace.
type gcFixture struct {
	t  *testing.T
	cl *ctlCluster
}

func (f gcFixture) configMap(name string, owners ...api.OwnerReference) *api.ConfigMap {
	f.t.Helper()
	return ctlMust(f.cl.c.ConfigMaps(api.NamespaceDefault).Create(f.cl.ctx, &api.ConfigMap{
		ObjectMeta: api.ObjectMeta{Name: name, OwnerReferences: owners}, Data: map[string]string{"k": "v"}}))(f.t)
}

func (f gcFixture) secret(name string, owners ...api.OwnerReference) *api.Secret {
	f.t.Helper()
	return ctlMust(f.cl.c.Secrets(api.NamespaceDefault).Create(f.cl.ctx, &api.Secret{
		ObjectMeta: api.ObjectMeta{Name: name, OwnerReferences: owners}, StringData: map[string]string{"k": "v"}}))(f.t)
}

func (f gcFixture) pod(name string, owners ...api.OwnerReference) *api.Pod {
	f.t.Helper()
	return ctlMust(f.cl.c.Pods(api.NamespaceDefault).Create(f.cl.ctx, ctlPod(api.NamespaceDefault, name, "", nil,
		func(p *api.Pod) { p.OwnerReferences = owners })))(f.t)
}

// get reads an object of the default namespace; nil when it is gone.
func (f gcFixture) get(obj api.Object) api.Object {
	f.t.Helper()
	kind := api.KindOf(obj)
	got, err := client.Dynamic(f.cl.c, kind, api.NamespaceDefault).Get(f.cl.ctx, obj.GetObjectMeta().Name)
	if ctlGone(f.t, err) {
		return nil
	}
	return got
}

// waitGone waits until every object is gone.
func (f gcFixture) waitGone(what string, objs ...api.Object) {
	f.t.Helper()
	ctlWait(f.t, 5*time.Second, what, func() (bool, string) {
		var left []string
		for _, o := range objs {
			if f.get(o) != nil {
				left = append(left, o.GetObjectMeta().Name)
			}
		}
		return len(left) == 0, fmt.Sprint("left: ", left)
	})
}

func (f gcFixture) delete(obj api.Object, policy string) {
	f.t.Helper()
	err := client.Dynamic(f.cl.c, api.KindOf(obj), api.NamespaceDefault).Delete(f.cl.ctx, obj.GetObjectMeta().Name,
		client.DeleteOptions{PropagationPolicy: policy})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestGarbageCollectorIntegration(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t)
	d := cl.deps(Config{})
	cl.run(t, d, NewGarbageCollector(d))

	t.Run("background", func(t *testing.T) {
		f := gcFixture{t, cl}
		owner := f.configMap("bg-owner")
		deps := []api.Object{f.configMap("bg-cm", gcRef(owner, false)), f.secret("bg-secret", gcRef(owner, false)), f.pod("bg-pod", gcRef(owner, false))}
		grand := f.configMap("bg-grandchild", gcRef(deps[0], false))
		bystander := f.configMap("bg-bystander")
		f.delete(owner, "")
		f.waitGone("dependents and their dependents", append(deps, grand)...)
		if f.get(bystander) == nil {
			t.Fatal("an object without owners was deleted")
		}
	})

	t.Run("foreground", func(t *testing.T) {
		f := gcFixture{t, cl}
		owner := f.configMap("fg-owner")
		dep := f.configMap("fg-cm", gcRef(owner, true))
		pod := f.pod("fg-pod", gcRef(owner, true))
		grand := f.configMap("fg-grandchild", gcRef(dep, true))
		// A dependent held by a finalizer of its own holds the owner.
		held := ctlMust(cl.c.ConfigMaps(api.NamespaceDefault).Create(cl.ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{
			Name: "fg-held", OwnerReferences: []api.OwnerReference{gcRef(owner, true)}, Finalizers: []string{"test.maestro.dev/hold"}}}))(t)
		f.delete(owner, "Foreground")
		f.waitGone("unheld dependents", dep, pod, grand)
		ctlWait(t, 5*time.Second, "held dependent being deleted", func() (bool, string) {
			h := f.get(held)
			return h != nil && h.GetObjectMeta().DeletionTimestamp != nil, fmt.Sprint(h)
		})
		time.Sleep(300 * time.Millisecond) // give a wrong collector time to drop the owner
		o := f.get(owner)
		if o == nil || o.GetObjectMeta().DeletionTimestamp == nil || !slices.Contains(o.GetObjectMeta().Finalizers, api.FinalizerForeground) {
			t.Fatalf("owner not kept while a dependent remains: %+v", o)
		}
		h := f.get(held).(*api.ConfigMap)
		h.Finalizers = nil // the dependent's holder lets go
		ctlMust(cl.c.ConfigMaps(api.NamespaceDefault).Update(cl.ctx, h))(t)
		f.waitGone("owner", owner, held)
	})

	t.Run("orphan", func(t *testing.T) {
		f := gcFixture{t, cl}
		owner := f.configMap("or-owner")
		other := f.configMap("or-other-owner")
		deps := []api.Object{f.configMap("or-cm", gcRef(owner, true)), f.secret("or-secret", gcRef(owner, false), gcRef(other, false))}
		f.delete(owner, "Orphan")
		f.waitGone("owner", owner)
		time.Sleep(300 * time.Millisecond) // give a wrong collector time to delete dependents
		for _, dep := range deps {
			got := f.get(dep)
			if got == nil {
				t.Fatalf("orphaned %s was deleted", dep.GetObjectMeta().Name)
			}
			for _, r := range got.GetObjectMeta().OwnerReferences {
				if r.UID == owner.UID {
					t.Fatalf("%s still references the orphaning owner", dep.GetObjectMeta().Name)
				}
			}
		}
		if refs := f.get(deps[1]).GetObjectMeta().OwnerReferences; len(refs) != 1 || refs[0].UID != other.UID {
			t.Fatalf("references to other owners must stay: %+v", refs)
		}
	})

	t.Run("two owners", func(t *testing.T) {
		f := gcFixture{t, cl}
		first, second := f.configMap("two-first"), f.secret("two-second")
		shared := f.configMap("two-shared", gcRef(first, false), gcRef(second, false))
		only := f.configMap("two-only-first", gcRef(first, false))
		f.delete(first, "")
		f.waitGone("dependent of the first owner only", only)
		time.Sleep(300 * time.Millisecond)
		if f.get(shared) == nil {
			t.Fatal("a dependent with a remaining owner was deleted")
		}
		f.delete(second, "")
		f.waitGone("dependent of both, once both are gone", shared)
	})

	t.Run("owner of another kind, cluster-scoped", func(t *testing.T) {
		f := gcFixture{t, cl}
		ns := ctlMust(cl.c.Namespaces().Create(cl.ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "gc-owner-ns"}}))(t)
		dep := f.configMap("owned-by-namespace", gcRef(ns, false))
		// The namespace controller does not run here: finish its deletion by hand.
		if err := cl.c.Namespaces().Delete(cl.ctx, ns.Name); err != nil {
			t.Fatal(err)
		}
		live := ctlMust(cl.c.Namespaces().Get(cl.ctx, ns.Name))(t)
		live.Finalizers = nil
		ctlMust(cl.c.Namespaces().Update(cl.ctx, live))(t)
		f.waitGone("dependent of a deleted namespace", dep)
	})
}

// Dependents orphaned while no collector ran are collected when one starts.
func TestGarbageCollectorCollectsAtStart(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t)
	f := gcFixture{t, cl}
	owner, alive := f.configMap("start-owner"), f.configMap("start-alive-owner")
	orphan := f.configMap("start-orphan", gcRef(owner, false))
	orphanPod := f.pod("start-orphan-pod", gcRef(owner, false))
	kept := f.secret("start-kept", gcRef(alive, false))
	plain := f.configMap("start-plain")
	f.delete(owner, "")

	d := cl.deps(Config{})
	cl.run(t, d, NewGarbageCollector(d))
	f.waitGone("dependents of an owner deleted before the collector started", orphan, orphanPod)
	time.Sleep(300 * time.Millisecond)
	if f.get(kept) == nil || f.get(plain) == nil || f.get(alive) == nil {
		t.Fatal("the collector deleted an object whose owner exists, or one without owners")
	}
}
