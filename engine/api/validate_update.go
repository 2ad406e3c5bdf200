package api

import (
	"reflect"
)

// ValidateUpdate checks what may not change between the stored object and
// its replacement (both defaulted), in addition to Validate(new).
func ValidateUpdate(old, new Object) ErrorList {
	var errs ErrorList
	switch n := new.(type) {
	case *Pod:
		errs = append(errs, validatePodUpdate(old.(*Pod), n)...)
	case *ReplicaSet:
		if !reflect.DeepEqual(old.(*ReplicaSet).Spec.Selector, n.Spec.Selector) {
			errs = append(errs, Forbidden(NewPath("spec").Child("selector"), "is immutable; delete and re-create the replica set to change it"))
		}
	case *Deployment:
		if !reflect.DeepEqual(old.(*Deployment).Spec.Selector, n.Spec.Selector) {
			errs = append(errs, Forbidden(NewPath("spec").Child("selector"), "is immutable; delete and re-create the deployment to change it"))
		}
	case *Service:
		o := old.(*Service)
		if o.Spec.ClusterIP != "" && n.Spec.ClusterIP != o.Spec.ClusterIP {
			errs = append(errs, Forbidden(NewPath("spec").Child("clusterIP"), "is immutable once allocated"))
		}
	case *ConfigMap:
		o := old.(*ConfigMap)
		if Deref(o.Immutable, false) && (!reflect.DeepEqual(o.Data, n.Data) || !reflect.DeepEqual(o.BinaryData, n.BinaryData) || !Deref(n.Immutable, false)) {
			errs = append(errs, Forbidden(NewPath("data"), "the config map is immutable"))
		}
	case *Secret:
		o := old.(*Secret)
		if Deref(o.Immutable, false) && (!reflect.DeepEqual(o.Data, n.Data) || !Deref(n.Immutable, false)) {
			errs = append(errs, Forbidden(NewPath("data"), "the secret is immutable"))
		}
		if o.Type != n.Type {
			errs = append(errs, Forbidden(NewPath("type"), "is immutable"))
		}
	case *PersistentVolume:
		errs = append(errs, validatePersistentVolumeUpdate(old.(*PersistentVolume), n)...)
	case *Node:
		if o := old.(*Node); o.Spec.PodCIDR != "" && n.Spec.PodCIDR != o.Spec.PodCIDR {
			errs = append(errs, Forbidden(NewPath("spec").Child("podCIDR"), "is immutable once assigned; delete the node to give it another"))
		}
	case *Machine:
		if !reflect.DeepEqual(old.(*Machine).Spec, n.Spec) {
			errs = append(errs, Forbidden(NewPath("spec"), "is immutable; delete the machine to replace it"))
		}
	case *NodePool:
		if old.(*NodePool).Spec.Provider != n.Spec.Provider {
			errs = append(errs, Forbidden(NewPath("spec").Child("provider"), "is immutable"))
		}
	}
	return errs
}

// validatePodUpdate allows what a running pod can absorb: container images
// (the agent restarts the container), and binding to a node once.
func validatePodUpdate(old, new *Pod) ErrorList {
	var errs ErrorList
	p := NewPath("spec")
	if old.Spec.NodeName != "" && new.Spec.NodeName != old.Spec.NodeName {
		errs = append(errs, Forbidden(p.Child("nodeName"), "a pod bound to a node cannot move; delete it and let its controller re-create it"))
	}
	if len(old.Spec.Containers) != len(new.Spec.Containers) {
		return append(errs, Forbidden(p.Child("containers"), "containers cannot be added or removed; re-create the pod"))
	}
	mutable := new.Spec
	mutable.NodeName = old.Spec.NodeName
	mutable.Containers = make([]Container, len(new.Spec.Containers))
	for i := range new.Spec.Containers {
		mutable.Containers[i] = new.Spec.Containers[i]
		mutable.Containers[i].Image = old.Spec.Containers[i].Image
	}
	if !reflect.DeepEqual(mutable, old.Spec) {
		errs = append(errs, Forbidden(p, "pod updates may only change spec.containers[*].image or set spec.nodeName; re-create the pod to change anything else"))
	}
	return errs
}
