package registry

import (
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// prepareForCreate applies the server-side rules for a new object of each
// kind after defaulting: statuses start from what the server knows.
func prepareForCreate(obj api.Object, now time.Time) {
	switch o := obj.(type) {
	case *api.Node, *api.Event:
		// Agents register nodes with their observed status in one write;
		// events are all "status".
	case *api.Namespace:
		o.Status = api.NamespaceStatus{Phase: api.NamespaceActive}
		// The namespace controller removes this once everything in the
		// namespace is gone, so deleting a namespace deletes its contents.
		if !slices.Contains(o.Finalizers, api.FinalizerNamespace) {
			o.Finalizers = append(o.Finalizers, api.FinalizerNamespace)
		}
	case *api.Pod:
		o.Status = api.PodStatus{Phase: api.PodPending}
		if o.Spec.NodeName != "" {
			api.SetCondition(&o.Status.Conditions, api.Condition{Type: api.PodScheduled, Status: api.ConditionTrue}, now)
		}
	default:
		api.CopyStatus(obj, api.KindOf(obj).New())
	}
}

// prepareForUpdate applies kind rules to an update of old into new.
func prepareForUpdate(old, new api.Object, now time.Time) {
	if p, ok := new.(*api.Pod); ok {
		o := old.(*api.Pod)
		if o.Spec.NodeName == "" && p.Spec.NodeName != "" {
			// The conditions may share their array with the stored object.
			p.Status.Conditions = slices.Clone(p.Status.Conditions)
			api.SetCondition(&p.Status.Conditions, api.Condition{Type: api.PodScheduled, Status: api.ConditionTrue}, now)
		}
	}
}

// protectedNamespaces cannot be deleted: the cluster's own components live there.
var protectedNamespaces = map[string]bool{api.NamespaceDefault: true, api.NamespaceSystem: true}
