package registry

import (
	"context"
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

var podKind = api.MustKind("Pod")

// Bind sets a pod's node, once: it fails with Conflict if the pod is bound
// already, is being deleted, or (with a non-zero precondition) changed since
// the caller saw it. It returns the pod's new resourceVersion. opts.Subresource
// is ignored.
func (r *Registry) Bind(ctx context.Context, namespace, name, node string, precondition int64, opts WriteOptions) (int64, error) {
	if msg := api.IsDNS1123Subdomain(node); node == "" || msg != "" {
		return 0, api.NewInvalid("Binding", name, api.ErrorList{api.Invalid(api.NewPath("target").Child("name"), node, msg+"(a node name)")})
	}
	current, stored, err := r.getAt(ctx, podKind, namespace, name, precondition)
	if err != nil {
		return 0, err
	}
	cur := current.(*api.Pod)
	switch {
	case precondition != 0 && precondition != cur.ResourceVersion:
		return 0, api.NewConflict("Pod", name, fmt.Sprintf("binding precondition resourceVersion %d, stored %d", precondition, cur.ResourceVersion))
	case cur.Spec.NodeName != "":
		return 0, api.NewConflict("Pod", name, fmt.Sprintf("already bound to node %q", cur.Spec.NodeName))
	case cur.DeletionTimestamp != nil:
		return 0, api.NewConflict("Pod", name, "being deleted")
	}
	next, err := decode(podKind, store.KV{Value: stored, ModRevision: cur.ResourceVersion})
	if err != nil {
		return 0, err
	}
	next.(*api.Pod).Spec.NodeName = node
	out, err := r.write(ctx, podKind, current, stored, next, WriteOptions{DryRun: opts.DryRun, Fence: opts.Fence})
	if err != nil {
		return 0, err
	}
	return out.GetObjectMeta().ResourceVersion, nil
}
