package registry

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/maestro-dev/maestro/engine/api"
)

// prepareNew applies the server's rules to an object being created (the
// metadata the server owns, a name from generateName, defaults, the kind's
// create rules) and validates it; generated says the name was made up.
// It is pure but for the UID and name suffix it draws, so the fuzz tests
// run exactly what a create runs.
func prepareNew(obj api.Object, now time.Time) (generated bool, errs api.ErrorList) {
	meta := obj.GetObjectMeta()
	meta.UID = uuid.NewString()
	meta.ResourceVersion = 0
	meta.Generation = 1
	meta.CreationTimestamp = now
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	generated = meta.Name == "" && meta.GenerateName != ""
	if generated {
		meta.Name = meta.GenerateName + randomSuffix()
	}
	api.Default(obj)
	prepareForCreate(obj, now)
	return generated, api.Validate(obj)
}

// prepareWrite applies the server's rules to next, the object about to
// replace current (defaults, the kind's update rules), and validates it
// and the change.
func prepareWrite(current, next api.Object, now time.Time) api.ErrorList {
	api.Default(next)
	prepareForUpdate(current, next, now)
	errs := api.Validate(next)
	return append(errs, api.ValidateUpdate(current, next)...)
}

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
	case *api.PersistentVolume:
		o.Status = api.PersistentVolumeStatus{}
		placeVolume(o)
		// In-use protection and data reclaim (see api.FinalizerVolumeProtection).
		for _, f := range []string{api.FinalizerVolumeProtection, api.FinalizerVolumeData} {
			if !slices.Contains(o.Finalizers, f) {
				o.Finalizers = append(o.Finalizers, f)
			}
		}
	default:
		api.CopyStatus(obj, api.KindOf(obj).New())
	}
}

// prepareForUpdate applies kind rules to an update of old into new.
func prepareForUpdate(old, new api.Object, now time.Time) {
	switch n := new.(type) {
	case *api.Pod:
		o := old.(*api.Pod)
		if o.Spec.NodeName == "" && n.Spec.NodeName != "" {
			// The conditions may share their array with the stored object.
			n.Status.Conditions = slices.Clone(n.Status.Conditions)
			api.SetCondition(&n.Status.Conditions, api.Condition{Type: api.PodScheduled, Status: api.ConditionTrue}, now)
		}
	case *api.Service:
		keepAllocations(old.(*api.Service), n)
	case *api.PersistentVolume:
		placeVolume(n)
	case *api.Node:
		// The control plane assigns the pod CIDR; a writer that does
		// not know it (an agent built before it existed) keeps it.
		if n.Spec.PodCIDR == "" {
			n.Spec.PodCIDR = old.(*api.Node).Spec.PodCIDR
		}
	}
}

// placeVolume records a pinned volume as living on its pin, so the node
// a volume lives on is always status.nodeName.
func placeVolume(v *api.PersistentVolume) {
	if v.Status.NodeName == "" && v.Spec.NodeName != "" {
		v.Status.NodeName = v.Spec.NodeName
	}
	if v.Status.Phase == "" || v.Status.Phase == api.VolumePending {
		v.Status.Phase = api.VolumePending
		if v.Status.NodeName != "" {
			v.Status.Phase = api.VolumeAvailable
		}
	}
}

// keepAllocations carries a service's allocated values over an update
// that omits them (a client re-sending its manifest), before validation:
// the cluster IP when none is given, and each port's node port when the
// port (same number and protocol) is still there without one and the
// type still has node ports. Everything else is the allocator's to
// decide at admission.
func keepAllocations(old, svc *api.Service) {
	if svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIP = old.Spec.ClusterIP
	}
	if svc.Spec.Type != api.ServiceTypeNodePort && svc.Spec.Type != api.ServiceTypeLoadBalancer {
		return
	}
	for i, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			continue
		}
		for _, op := range old.Spec.Ports {
			if op.Port == p.Port && op.Protocol == p.Protocol {
				svc.Spec.Ports[i].NodePort = op.NodePort
				break
			}
		}
	}
}

// protectedNamespaces cannot be deleted: the cluster's own components live there.
var protectedNamespaces = map[string]bool{api.NamespaceDefault: true, api.NamespaceSystem: true}

var nodeKind = api.MustKind("Node")

// holdPodForShutdown applies graceful deletion to a pod: a pod running on a
// node gets its grace period to stop (deletionTimestamp = now + grace,
// deletionGracePeriodSeconds = grace), and the node's agent deletes it
// once its containers have stopped. A pod that runs nowhere (unbound,
// finished, or on a node that no longer exists) or a zero grace period is
// deleted at once. A later delete may shorten the grace period, never
// lengthen it. It reports whether the pod must be kept for now.
func (r *Registry) holdPodForShutdown(ctx context.Context, pod *api.Pod, opts DeleteOptions) bool {
	grace := api.Deref(pod.Spec.TerminationGracePeriodSeconds, api.DefaultTerminationGracePeriodSeconds)
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || api.IsPodTerminal(pod) {
		grace = 0
	} else if _, err := r.Get(ctx, nodeKind, "", pod.Spec.NodeName); api.IsNotFound(err) {
		grace = 0
	}
	meta := &pod.ObjectMeta
	if grace <= 0 {
		if meta.DeletionTimestamp != nil {
			meta.DeletionGracePeriodSeconds = api.Ptr[int64](0)
		}
		return false
	}
	if meta.DeletionGracePeriodSeconds == nil || grace < *meta.DeletionGracePeriodSeconds {
		deadline := r.now().UTC().Truncate(time.Second).Add(time.Duration(grace) * time.Second)
		meta.DeletionTimestamp = &deadline
		meta.DeletionGracePeriodSeconds = &grace
	}
	return true
}
