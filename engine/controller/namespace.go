package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// nsRecheckInterval is how often a terminating namespace is looked at again
// while objects in it are still going (pods held by their agents, owners
// held by finalizers).
const nsRecheckInterval = 500 * time.Millisecond

// NamespaceController empties namespaces being deleted: it deletes every
// namespaced object in one (events last, since deleting the rest records
// events), and when nothing is left removes the maestro.dev/namespace
// finalizer so the API deletes the namespace itself.
type NamespaceController struct {
	d          Deps
	namespaces *client.Informer[*api.Namespace]
	runner     *Runner
}

// NewNamespaceController registers the controller's informer handlers.
func NewNamespaceController(d Deps) *NamespaceController {
	d = d.withDefaults()
	c := &NamespaceController{d: d, namespaces: d.Informers.Namespaces()}
	c.runner = NewRunner("namespace", d.Config.Workers, d.Log, c.reconcile)
	c.namespaces.AddHandler(client.Handler[*api.Namespace]{
		OnAdd:    c.enqueueTerminating,
		OnUpdate: func(_, ns *api.Namespace) { c.enqueueTerminating(ns) },
	})
	return c
}

// Run reconciles until ctx ends.
func (c *NamespaceController) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	c.runner.Run(ctx)
}

func (c *NamespaceController) enqueueTerminating(ns *api.Namespace) {
	if ns.DeletionTimestamp != nil {
		c.runner.Enqueue(ns)
	}
}

func (c *NamespaceController) reconcile(ctx context.Context, name string) error {
	ns, ok := c.namespaces.Get(name)
	if !ok || ns.DeletionTimestamp == nil || !slices.Contains(ns.Finalizers, api.FinalizerNamespace) {
		return nil
	}
	remaining, err := c.deleteContents(ctx, name)
	if err != nil {
		return err
	}
	if remaining > 0 {
		c.d.Log.Debug("namespace not empty yet", "namespace", name, "remaining", remaining)
		c.runner.EnqueueAfter(name, nsRecheckInterval)
		return nil
	}
	up := *ns
	up.Finalizers = slices.DeleteFunc(slices.Clone(ns.Finalizers), func(f string) bool { return f == api.FinalizerNamespace })
	if _, err := c.d.Client.Namespaces().Update(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("finalizing namespace %s: %w", name, err)
	}
	return nil
}

// deleteContents deletes what is in the namespace and reports how many
// objects it found (0 means the namespace is empty). Events are deleted
// only once everything else is gone.
func (c *NamespaceController) deleteContents(ctx context.Context, ns string) (int, error) {
	remaining := 0
	for _, kind := range nsDeletionOrder() {
		if kind.Kind == "Event" && remaining > 0 {
			break
		}
		n, err := c.deleteAll(ctx, kind, ns)
		if err != nil {
			return 0, err
		}
		remaining += n
	}
	return remaining, nil
}

// deleteAll deletes every object of one kind in the namespace (objects
// already being deleted are left to finish) and reports how many it saw.
func (c *NamespaceController) deleteAll(ctx context.Context, kind *api.KindInfo, ns string) (int, error) {
	res := client.Dynamic(c.d.Client, kind, ns)
	objs, _, err := res.List(ctx, client.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("listing %s in namespace %s: %w", kind.Plural, ns, err)
	}
	for _, o := range objs {
		if o.GetObjectMeta().DeletionTimestamp != nil {
			continue
		}
		if err := res.Delete(ctx, o.GetObjectMeta().Name); err != nil && !api.IsNotFound(err) {
			return 0, fmt.Errorf("deleting %s %s/%s: %w", kind.Kind, ns, o.GetObjectMeta().Name, err)
		}
	}
	return len(objs), nil
}

// nsDeletionOrder lists the namespaced kinds, events last.
func nsDeletionOrder() []*api.KindInfo {
	var kinds, events []*api.KindInfo
	for i := range api.Kinds {
		switch k := &api.Kinds[i]; {
		case !k.Namespaced:
		case k.Kind == "Event":
			events = append(events, k)
		default:
			kinds = append(kinds, k)
		}
	}
	return append(kinds, events...)
}
