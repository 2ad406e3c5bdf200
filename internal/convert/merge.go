package convert

import (
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// ForUpdate is the object an apply writes over live: desired (as ToObject
// built it) with live's identity and resourceVersion (the write is a
// compare-and-swap on it), the label and annotation keys desired does not
// name kept, and what desired leaves to the server kept as live has it:
// replicas left out or owned by an autoscaler (autoscaled), an allocated
// cluster IP and node ports, a volume's node. The keys the last apply
// wrote (applied) and desired no longer names are removed. A pod takes
// only new images in place, as the provider's update does; any other
// change replaces it.
func ForUpdate(kind string, desired, live api.Object, autoscaled bool, applied Applied) (api.Object, error) {
	if kind == "pod" {
		return podForUpdate(desired, live, applied)
	}
	out, err := Copy(desired)
	if err != nil {
		return nil, err
	}
	keepIdentity(out.GetObjectMeta(), live.GetObjectMeta(), applied)
	switch o := out.(type) {
	case *api.Deployment:
		l := live.(*api.Deployment)
		if o.Spec.Replicas == nil || autoscaled {
			o.Spec.Replicas = l.Spec.Replicas
		}
	case *api.Service:
		l := live.(*api.Service)
		if o.Spec.ClusterIP == "" {
			o.Spec.ClusterIP = l.Spec.ClusterIP
		}
		for i := range o.Spec.Ports {
			if o.Spec.Ports[i].NodePort != 0 || o.Spec.Type == api.ServiceTypeClusterIP {
				continue
			}
			want := o.Spec.Ports[i]
			for _, lp := range l.Spec.Ports {
				if lp.Port == want.Port && protocol(lp.Protocol) == protocol(want.Protocol) || lp.Name != "" && lp.Name == want.Name {
					o.Spec.Ports[i].NodePort = lp.NodePort
					break
				}
			}
		}
	case *api.PersistentVolume:
		if o.Spec.NodeName == "" {
			o.Spec.NodeName = live.(*api.PersistentVolume).Spec.NodeName
		}
	}
	return out, nil
}

// keepIdentity gives out live's identity and the labels and annotations
// others set.
func keepIdentity(out, live *api.ObjectMeta, applied Applied) {
	out.UID, out.ResourceVersion, out.Generation = live.UID, live.ResourceVersion, live.Generation
	out.CreationTimestamp, out.OwnerReferences, out.Finalizers = live.CreationTimestamp, live.OwnerReferences, live.Finalizers
	out.Labels = mergeKeys(live.Labels, out.Labels, applied.Labels)
	out.Annotations = mergeKeys(live.Annotations, out.Annotations, applied.Annotations)
}

// mergeKeys sets want's keys over live's, leaving out the keys of live
// that the last apply wrote (applied) and want no longer has.
func mergeKeys(live, want map[string]string, applied []string) map[string]string {
	if len(live)+len(want) == 0 {
		return nil
	}
	out := make(map[string]string, len(live)+len(want))
	for k, v := range live {
		if _, still := want[k]; !still && slices.Contains(applied, k) {
			continue
		}
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}

func podForUpdate(desired, live api.Object, applied Applied) (api.Object, error) {
	d, ok := desired.(*api.Pod)
	if !ok {
		return nil, fmt.Errorf("convert: pod update of a %T", desired)
	}
	out, err := Copy(live)
	if err != nil {
		return nil, err
	}
	p := out.(*api.Pod)
	p.Labels = mergeKeys(p.Labels, d.Labels, applied.Labels)
	p.Annotations = mergeKeys(p.Annotations, d.Annotations, applied.Annotations)
	for i, c := range d.Spec.Containers {
		if i < len(p.Spec.Containers) && p.Spec.Containers[i].Name == c.Name {
			p.Spec.Containers[i].Image = c.Image
		}
	}
	return p, nil
}

// protocol is a port's protocol, TCP when unset (the API's default).
func protocol(p api.Protocol) api.Protocol {
	if p == "" {
		return api.ProtocolTCP
	}
	return p
}
