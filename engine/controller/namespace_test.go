package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
)

func TestNamespaceDeletionOrder(t *testing.T) {
	order := nsDeletionOrder()
	var names []string
	for _, k := range order {
		if !k.Namespaced {
			t.Fatalf("cluster-scoped kind %s in the deletion order", k.Kind)
		}
		names = append(names, k.Kind)
	}
	if names[len(names)-1] != "Event" {
		t.Fatalf("events must go last: %v", names)
	}
	for _, k := range api.Kinds {
		if k.Namespaced && !slices.Contains(names, k.Kind) {
			t.Fatalf("namespaced kind %s is never deleted: %v", k.Kind, names)
		}
	}
}

// nsContents lists what is left in a namespace, by kind.
func nsContents(t *testing.T, cl *ctlCluster, ns string) []string {
	t.Helper()
	var left []string
	for _, k := range nsDeletionOrder() {
		objs, _, err := client.Dynamic(cl.c, k, ns).List(cl.ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			left = append(left, k.Kind+"/"+o.GetObjectMeta().Name)
		}
	}
	return left
}

func TestNamespaceControllerDeletesContents(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t, simnode.NodeSpec{Name: "ns-node", Zone: "a"})
	d := cl.deps(Config{})
	cl.run(t, d, NewNamespaceController(d), NewGarbageCollector(d), NewEndpointsController(d))

	const ns = "doomed"
	ctlMust(cl.c.Namespaces().Create(cl.ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: ns}}))(t)
	keep := ctlMust(cl.c.ConfigMaps(api.NamespaceDefault).Create(cl.ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "survivor"}}))(t)
	app := map[string]string{"app": "web"}
	for i := range 3 {
		ctlMust(cl.c.ConfigMaps(ns).Create(cl.ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprint("cm-", i)}}))(t)
		ctlMust(cl.c.Secrets(ns).Create(cl.ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: fmt.Sprint("secret-", i)},
			StringData: map[string]string{"password": "hunter2"}}))(t)
		ctlMust(cl.c.Pods(ns).Create(cl.ctx, ctlPod(ns, fmt.Sprint("web-", i), "ns-node", app)))(t)
	}
	ctlMust(cl.c.Services(ns).Create(cl.ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ServiceSpec{Selector: app, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromString("http")}}}}))(t)
	// An owner held by a foreground deletion of its own, and an event.
	owner := ctlMust(cl.c.ConfigMaps(ns).Create(cl.ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "owner"}}))(t)
	ctlMust(cl.c.ConfigMaps(ns).Create(cl.ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "dependent",
		OwnerReferences: []api.OwnerReference{gcRef(owner, true)}}}))(t)
	ctlMust(cl.c.Events(ns).Create(cl.ctx, &api.Event{ObjectMeta: api.ObjectMeta{Name: "something.happened"},
		InvolvedObject: api.ObjectReference{Kind: "ConfigMap", Namespace: ns, Name: "owner"}, Reason: "Testing"}))(t)
	ctlWait(t, 10*time.Second, "service endpoints with running pods", func() (bool, string) {
		ready, notReady, _ := epAddresses(cl, ns, "web")
		return len(ready) == 3, fmt.Sprint(ready, notReady)
	})

	if err := cl.c.ConfigMaps(ns).Delete(cl.ctx, "owner", client.DeleteOptions{PropagationPolicy: "Foreground"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.c.Namespaces().Delete(cl.ctx, ns); err != nil {
		t.Fatal(err)
	}
	got := ctlMust(cl.c.Namespaces().Get(cl.ctx, ns))(t)
	if got.Status.Phase != api.NamespaceTerminating {
		t.Fatalf("phase %q, want Terminating", got.Status.Phase)
	}
	ctlWait(t, 10*time.Second, "namespace emptied", func() (bool, string) {
		left := nsContents(t, cl, ns)
		return len(left) == 0, fmt.Sprint(left)
	})
	ctlWait(t, 5*time.Second, "namespace gone", func() (bool, string) {
		n, err := cl.c.Namespaces().Get(cl.ctx, ns)
		return ctlGone(t, err), fmt.Sprintf("%+v", n)
	})
	if _, err := cl.c.ConfigMaps(api.NamespaceDefault).Get(cl.ctx, keep.Name); err != nil {
		t.Fatalf("an object of another namespace: %v", err)
	}
}
