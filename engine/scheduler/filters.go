package scheduler

import (
	"github.com/maestro-dev/maestro/engine/api"
)

// The filters. Each is a stateless type with one method; what it needs
// about the pod was computed in PreFilter, and it returns a Status whose
// reasons are package constants.

// Compile-time checks.
var (
	_ Filter = nodeReadyFilter{}
	_ Filter = nodeNetworkFilter{}
	_ Filter = taintFilter{}
	_ Filter = nodeAffinityFilter{}
	_ Filter = resourceFitFilter{}
	_ Filter = hostPortFilter{}
	_ Filter = podAffinityFilter{}
	_ Filter = topologySpreadFilter{}
)

// unschedulableTaint is the taint a cordoned node behaves as if it had: a
// pod that tolerates it may still go there, as in Kubernetes.
var unschedulableTaint = api.Taint{Key: api.TaintNodeUnschedulable, Effect: api.TaintNoSchedule}

// nodeReadyFilter rejects nodes whose agent does not report Ready and
// cordoned nodes.
type nodeReadyFilter struct{}

func (nodeReadyFilter) Filter(s *CycleState, n *NodeInfo) Status {
	if !n.ready {
		return Reject(ReasonNodeNotReady)
	}
	if n.unschedulable && !tolerates(s.pod.Pod.Spec.Tolerations, &unschedulableTaint) {
		return Reject(ReasonNodeUnschedulable)
	}
	return 0
}

// nodeNetworkFilter rejects nodes without a pod network (no pod CIDR
// given, or the agent could not set it up) for pods that need one: every
// pod but those on the host's network.
type nodeNetworkFilter struct{}

func (nodeNetworkFilter) Filter(_ *CycleState, n *NodeInfo) Status {
	if n.noNetwork {
		return Reject(ReasonNetworkUnavailable)
	}
	return 0
}

// taintFilter rejects nodes with a NoSchedule or NoExecute taint the pod
// does not tolerate. PreferNoSchedule taints only lower the score.
type taintFilter struct{}

func (taintFilter) Filter(s *CycleState, n *NodeInfo) Status {
	for i := range n.taints {
		if !tolerates(s.pod.Pod.Spec.Tolerations, &n.taints[i]) {
			return Reject(ReasonTaints)
		}
	}
	return 0
}

// nodeAffinityFilter applies the nodeSelector and required node affinity.
type nodeAffinityFilter struct{}

func (nodeAffinityFilter) Filter(s *CycleState, n *NodeInfo) Status {
	if !s.pod.NodeAffinity.Matches(n) {
		return Reject(ReasonNodeAffinity)
	}
	return 0
}

// resourceFitFilter checks requests against what is left of allocatable,
// reporting every resource that is short.
type resourceFitFilter struct{}

func (resourceFitFilter) Filter(s *CycleState, n *NodeInfo) Status {
	pi := s.pod
	var st Status
	if int64(len(n.pods))+1 > n.allocPods {
		st = st.With(ReasonTooManyPods)
	}
	if pi.CPU > 0 && n.reqCPU+pi.CPU > n.allocCPU {
		st = st.With(ReasonInsufficientCPU)
	}
	if pi.Memory > 0 && n.reqMemory+pi.Memory > n.allocMemory {
		st = st.With(ReasonInsufficientMemory)
	}
	return st
}

// hostPortFilter rejects nodes where a requested host port is taken.
type hostPortFilter struct{}

func (hostPortFilter) Filter(s *CycleState, n *NodeInfo) Status {
	for _, want := range s.pod.HostPorts {
		for _, used := range n.ports {
			if want.conflicts(used) {
				return Reject(ReasonHostPorts)
			}
		}
	}
	return 0
}

// podAffinityFilter enforces required pod affinity and anti-affinity, the
// pod's own and (symmetrically) that of pods already running.
type podAffinityFilter struct{}

func (podAffinityFilter) Filter(s *CycleState, n *NodeInfo) Status {
	// Anti-affinity first: it is the common case (replicas kept apart). A
	// node without the topology key is in no domain, so no pod repels it.
	for i := range s.reqAnti {
		if c, ok := s.reqAnti[i].at(n); ok && c > 0 {
			return Reject(ReasonPodAntiAffinity)
		}
	}
	for i := range s.symAnti {
		t := &s.symAnti[i]
		if id := t.table.domain(n); id >= 0 && t.counts[id] > 0 {
			return Reject(ReasonPodAntiAffinity)
		}
	}
	for i := range s.reqAffinity {
		c, ok := s.reqAffinity[i].at(n)
		if !ok {
			// Every topology key of a required affinity term must exist.
			return Reject(ReasonPodAffinity)
		}
		if c == 0 && !s.affinitySelf {
			return Reject(ReasonPodAffinity)
		}
	}
	return 0
}

// topologySpreadFilter enforces DoNotSchedule spread constraints: placing
// the pod must not raise its domain more than maxSkew above the emptiest
// eligible domain.
type topologySpreadFilter struct{}

func (topologySpreadFilter) Filter(s *CycleState, n *NodeInfo) Status {
	for i := range s.hardSpread {
		c := &s.hardSpread[i]
		id := c.table.domain(n)
		if id < 0 || c.counts[id]+c.selfMatch-c.minCount > c.maxSkew {
			return Reject(ReasonTopologySpread)
		}
	}
	return 0
}
