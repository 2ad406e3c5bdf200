package scheduler

import (
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// NodeInfo is a node and what is allocated on it, in the form the filters
// read: plain integers and slices, no quantities or conditions to parse.
//
// The cache owns one NodeInfo per node and changes it in place under its
// lock; a Snapshot holds clones, taken only of nodes that changed since the
// previous snapshot (generation), so a scheduling cycle reads a stable view
// without locking.
type NodeInfo struct {
	// The fields every filter reads come first, so that checking a node
	// touches as few cache lines as possible.
	ready         bool
	unschedulable bool
	// noNetwork: NetworkUnavailable=True (no pod CIDR, or the agent's
	// pod network is down); only hostNetwork pods can run there.
	noNetwork bool
	slot      int // position in the snapshot's node list

	allocCPU, allocMemory, allocPods int64
	// Sums over pods: requests for fitting, non-zero requests for scoring.
	reqCPU, reqMemory         int64
	nonZeroCPU, nonZeroMemory int64

	// taints are the NoSchedule and NoExecute taints (filtered on);
	// preferTaints the PreferNoSchedule ones (scored on).
	taints       []api.Taint
	preferTaints []api.Taint
	pods         []*PodInfo
	ports        []HostPort
	labels       map[string]string

	Name string
	node *api.Node // nil for a placeholder holding pods of a node not seen yet
	// generation is the cache generation of the last change.
	generation int64
}

// Node returns the API object (nil for a placeholder).
func (n *NodeInfo) Node() *api.Node { return n.node }

// Pods returns the pods counted on the node, assumed ones included. The
// slice is shared: do not modify it. A PodInfo may describe an earlier
// version of its pod that differed only in what scheduling ignores
// (status, annotations).
func (n *NodeInfo) Pods() []*PodInfo { return n.pods }

// Labels returns the node's labels (shared: do not modify).
func (n *NodeInfo) Labels() map[string]string { return n.labels }

// Allocatable returns cpu (millicores), memory (bytes) and pod capacity.
func (n *NodeInfo) Allocatable() (cpu, memory, pods int64) {
	return n.allocCPU, n.allocMemory, n.allocPods
}

// Requested returns the cpu (millicores) and memory (bytes) requested by
// the pods on the node.
func (n *NodeInfo) Requested() (cpu, memory int64) { return n.reqCPU, n.reqMemory }

// defaultMaxPods is the pod capacity of a node that reports none (the
// agent's and Kubernetes' kubelet default), rather than zero, which would
// make a node registered without it refuse every pod.
const defaultMaxPods = 110

func newNodeInfo(name string) *NodeInfo { return &NodeInfo{Name: name} }

// setNode copies what the filters need from the API object. It reports
// whether anything that identifies the node's topology (labels) changed.
func (n *NodeInfo) setNode(node *api.Node) (labelsChanged bool) {
	labelsChanged = n.node == nil || !mapsEqual(n.labels, node.Labels)
	n.node = node
	n.labels = node.Labels
	n.ready = api.IsNodeReady(node)
	n.unschedulable = node.Spec.Unschedulable
	n.noNetwork = networkUnavailable(node)
	n.taints, n.preferTaints = nil, nil
	for _, t := range node.Spec.Taints {
		if t.Effect == api.TaintPreferNoSchedule {
			n.preferTaints = append(n.preferTaints, t)
		} else {
			n.taints = append(n.taints, t)
		}
	}
	alloc := node.Status.Allocatable
	if len(alloc) == 0 {
		alloc = node.Status.Capacity
	}
	n.allocCPU, n.allocMemory, n.allocPods = 0, 0, 0
	if q, ok := alloc[api.ResourceCPU]; ok {
		n.allocCPU = q.MilliValue()
	}
	if q, ok := alloc[api.ResourceMemory]; ok {
		n.allocMemory = q.MilliValue() / 1000 // round down: never promise a byte we don't have
	}
	n.allocPods = defaultMaxPods
	if q, ok := alloc[api.ResourcePods]; ok {
		n.allocPods = q.MilliValue() / 1000
	}
	return labelsChanged
}

// networkUnavailable reports whether the node says it has no pod network.
func networkUnavailable(n *api.Node) bool {
	c := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
	return c != nil && c.Status == api.ConditionTrue
}

// addPod counts a pod on the node.
func (n *NodeInfo) addPod(pi *PodInfo) {
	n.pods = append(n.pods, pi)
	n.reqCPU += pi.CPU
	n.reqMemory += pi.Memory
	n.nonZeroCPU += pi.NonZeroCPU
	n.nonZeroMemory += pi.NonZeroMemory
	n.ports = append(n.ports, pi.HostPorts...)
}

// removePod stops counting a pod (by key) and returns it, or nil.
func (n *NodeInfo) removePod(key string) *PodInfo {
	i := slices.IndexFunc(n.pods, func(p *PodInfo) bool { return p.Key == key })
	if i < 0 {
		return nil
	}
	pi := n.pods[i]
	// Swap-remove: order of pods on a node carries no meaning. The slice
	// may be shared with a snapshot clone only until the first change,
	// because clone copies it, so in-place edits are safe here.
	last := len(n.pods) - 1
	n.pods[i] = n.pods[last]
	n.pods[last] = nil
	n.pods = n.pods[:last]
	n.reqCPU -= pi.CPU
	n.reqMemory -= pi.Memory
	n.nonZeroCPU -= pi.NonZeroCPU
	n.nonZeroMemory -= pi.NonZeroMemory
	if len(pi.HostPorts) > 0 {
		n.ports = n.ports[:0]
		for _, p := range n.pods {
			n.ports = append(n.ports, p.HostPorts...)
		}
	}
	return pi
}

// clone copies the node for a snapshot: the slices are copied because the
// cache keeps changing its own; PodInfos and the API object are immutable
// and shared.
func (n *NodeInfo) clone() *NodeInfo {
	c := *n
	c.pods = slices.Clone(n.pods)
	c.ports = slices.Clone(n.ports)
	return &c
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
