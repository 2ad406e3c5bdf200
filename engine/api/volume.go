package api

// PersistentVolume (kind Volume) is a named, node-local store of data that
// outlives pods: the object pods name in volumes[].persistent.name. Its
// data lives on one node, recorded in status.nodeName once it is placed,
// and pods using it run only there (the scheduler places them nowhere
// else and the node's agent refuses to start them anywhere else).
//
// A Volume is declared ahead (`maestro create -f`, Terraform's
// maestro_volume) or created by the scheduler when it first places a pod
// that names it, on that pod's node.
type PersistentVolume struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       PersistentVolumeSpec   `json:"spec,omitzero"`
	Status     PersistentVolumeStatus `json:"status,omitzero"`
}

// Reclaim policies: what happens to a volume's data when the Volume
// object is deleted (as Kubernetes' persistentVolumeReclaimPolicy).
// Pods coming and going never touch the data under either policy.
const (
	// ReclaimRetain keeps the data on the node; a Volume of the same
	// name pinned to that node later finds it again.
	ReclaimRetain = "Retain"
	// ReclaimDelete has the node's agent remove the data.
	ReclaimDelete = "Delete"
)

// PersistentVolumeSpec is what the user asks of a volume.
type PersistentVolumeSpec struct {
	// ReclaimPolicy is Retain (default) or Delete.
	ReclaimPolicy string `json:"reclaimPolicy,omitempty"`
	// NodeName pins the volume to a node before any pod uses it. Once
	// set it cannot change: the data is on that node. The scheduler sets
	// it on the Volumes it creates.
	NodeName string `json:"nodeName,omitempty"`
}

// Volume phases.
const (
	// VolumePending: on no node yet; the first pod to use it decides.
	VolumePending = "Pending"
	// VolumeAvailable: on a node, used by no pod.
	VolumeAvailable = "Available"
	// VolumeBound: on a node, used by pods (status.usedBy).
	VolumeBound = "Bound"
	// VolumeLost: its node is gone; pods using it wait for the node.
	VolumeLost = "Lost"
)

// PersistentVolumeStatus is what the cluster knows of a volume.
type PersistentVolumeStatus struct {
	Phase string `json:"phase,omitempty"`
	// NodeName is the node the data lives on; set once, never changed.
	NodeName string `json:"nodeName,omitempty"`
	// UsedBy names the pods of the namespace that use the volume (not
	// yet finished), sorted.
	UsedBy []string `json:"usedBy,omitempty"`
}

// Finalizers every Volume carries from its creation (Kubernetes'
// kubernetes.io/pv-protection and the external provisioner's finalizer):
const (
	// FinalizerVolumeProtection holds a deleted Volume while pods use it;
	// the volume controller removes it once none does.
	FinalizerVolumeProtection = "maestro.dev/volume-protection"
	// FinalizerVolumeData holds a deleted Volume until its data is dealt
	// with: the agent of its node removes it after removing the data
	// (reclaim policy Delete); the volume controller removes it when there
	// is nothing to remove (Retain, never placed, node gone).
	FinalizerVolumeData = "maestro.dev/volume-data"
)

// Node returns the node a volume's data lives on ("" when not placed).
func (v *PersistentVolume) Node() string {
	if v.Status.NodeName != "" {
		return v.Status.NodeName
	}
	return v.Spec.NodeName
}

// PersistentVolumeNames lists the Volumes a pod spec uses, in order,
// without repeats.
func PersistentVolumeNames(spec *PodSpec) []string {
	var names []string
	for _, v := range spec.Volumes {
		if v.Persistent == nil {
			continue
		}
		dup := false
		for _, n := range names {
			dup = dup || n == v.Persistent.Name
		}
		if !dup {
			names = append(names, v.Persistent.Name)
		}
	}
	return names
}

func defaultPersistentVolume(v *PersistentVolume) {
	if v.Spec.ReclaimPolicy == "" {
		v.Spec.ReclaimPolicy = ReclaimRetain
	}
}

func validatePersistentVolume(v *PersistentVolume) ErrorList {
	var errs ErrorList
	spec, status := NewPath("spec"), NewPath("status")
	switch v.Spec.ReclaimPolicy {
	case ReclaimRetain, ReclaimDelete:
	default:
		errs = append(errs, NotSupported(spec.Child("reclaimPolicy"), v.Spec.ReclaimPolicy, ReclaimRetain, ReclaimDelete))
	}
	errs = append(errs, validateNodeNameRef(v.Spec.NodeName, spec.Child("nodeName"))...)
	errs = append(errs, validateNodeNameRef(v.Status.NodeName, status.Child("nodeName"))...)
	if v.Spec.NodeName != "" && v.Status.NodeName != "" && v.Spec.NodeName != v.Status.NodeName {
		errs = append(errs, Invalid(spec.Child("nodeName"), v.Spec.NodeName,
			"the volume's data lives on node "+v.Status.NodeName+"; it cannot be pinned elsewhere (delete the volume to start over)"))
	}
	switch v.Status.Phase {
	case "", VolumePending, VolumeAvailable, VolumeBound, VolumeLost:
	default:
		errs = append(errs, NotSupported(status.Child("phase"), v.Status.Phase, VolumePending, VolumeAvailable, VolumeBound, VolumeLost))
	}
	for i, p := range v.Status.UsedBy {
		if msg := IsDNS1123Subdomain(p); msg != "" {
			errs = append(errs, Invalid(status.Child("usedBy").Index(i), p, msg))
		}
	}
	return errs
}

// validateNodeNameRef checks an optional node name.
func validateNodeNameRef(name string, p Path) ErrorList {
	if name == "" {
		return nil
	}
	if msg := IsDNS1123Subdomain(name); msg != "" {
		return ErrorList{Invalid(p, name, msg)}
	}
	return nil
}

// validatePersistentVolumeUpdate: a volume's data never moves. The node it
// lives on is set once; a pin, once set, stays.
func validatePersistentVolumeUpdate(old, v *PersistentVolume) ErrorList {
	var errs ErrorList
	if old.Status.NodeName != "" && v.Status.NodeName != old.Status.NodeName {
		errs = append(errs, Forbidden(NewPath("status").Child("nodeName"),
			"the volume's data lives on node "+old.Status.NodeName+" and cannot move; delete the volume to start over elsewhere"))
	}
	if old.Spec.NodeName != "" && v.Spec.NodeName != old.Spec.NodeName {
		errs = append(errs, Forbidden(NewPath("spec").Child("nodeName"),
			"is immutable once set: the volume's data lives on node "+old.Spec.NodeName))
	}
	return errs
}
