package api

import "github.com/maestro-dev/maestro/engine/api/labels"

// Kubernetes' well-known node labels. Every node carries them beside
// maestro's own (meta.go), so configurations written for Kubernetes
// (anti-affinity on kubernetes.io/hostname, spread over
// topology.kubernetes.io/zone) schedule as they mean to.
const (
	LabelKubernetesHostname = "kubernetes.io/hostname"
	LabelKubernetesOS       = "kubernetes.io/os"
	LabelKubernetesArch     = "kubernetes.io/arch"
	LabelKubernetesZone     = "topology.kubernetes.io/zone"
	LabelKubernetesRegion   = "topology.kubernetes.io/region"
)

// kubernetesMirrors pairs maestro's placement labels with Kubernetes'.
var kubernetesMirrors = [][2]string{
	{LabelZone, LabelKubernetesZone},
	{LabelRegion, LabelKubernetesRegion},
}

// defaultNodeLabels fills in Kubernetes' well-known labels from what the
// node says: the hostname label is the node's name unless set, os and
// arch come from its system info, and zone and region mirror maestro's
// labels. Maestro's zone and region win where both are set and differ:
// they are the labels a node cannot change on itself once registered
// (engine/apiserver/noderestriction), so Kubernetes' follow them on every
// write; a node registered with only Kubernetes' gets maestro's too.
func defaultNodeLabels(n *Node) {
	set := func(k, v string) {
		// A value that is no label value (a node name over 63 characters)
		// is left out rather than making the node invalid.
		if v == "" || labels.ValidateValue(v) != nil {
			return
		}
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[k] = v
	}
	if n.Labels[LabelKubernetesHostname] == "" {
		set(LabelKubernetesHostname, n.Name)
	}
	if n.Labels[LabelKubernetesOS] == "" {
		set(LabelKubernetesOS, n.Status.NodeInfo.OperatingSystem)
	}
	if n.Labels[LabelKubernetesArch] == "" {
		set(LabelKubernetesArch, n.Status.NodeInfo.Architecture)
	}
	for _, m := range kubernetesMirrors {
		ours, theirs := m[0], m[1]
		switch {
		case n.Labels[ours] != "":
			set(theirs, n.Labels[ours])
		case n.Labels[theirs] != "":
			set(ours, n.Labels[theirs])
		}
	}
}
