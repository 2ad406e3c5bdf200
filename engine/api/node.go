package api

import "time"

// Node is a machine that runs pods; its agent registers it and reports its status.
type Node struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       NodeSpec   `json:"spec,omitzero"`
	Status     NodeStatus `json:"status,omitzero"`
}

// NodeSpec is what operators and controllers set on a node.
type NodeSpec struct {
	// Unschedulable cordons the node: no new pods are placed on it.
	Unschedulable bool    `json:"unschedulable,omitempty"`
	Taints        []Taint `json:"taints,omitempty"`
	// ProviderID is the cloud's identifier of the machine behind the node.
	ProviderID string `json:"providerID,omitempty"`
	// PodCIDR is the range this node's pods take their addresses from. The
	// control plane assigns it when the node registers (from `maestro server
	// --pod-cidr`) and releases it when the Node is deleted; a node cannot
	// set or change it.
	PodCIDR string `json:"podCIDR,omitempty"`
}

// Node condition types.
const (
	NodeReady = "Ready"
	// NodeNetworkUnavailable is True while the node has no pod network:
	// no pod CIDR could be given (reason PodCIDRExhausted), or the agent
	// could not set its network up.
	NodeNetworkUnavailable = "NetworkUnavailable"
)

// Taints the node lifecycle controller manages.
const (
	TaintNodeNotReady      = "node.maestro.dev/not-ready"
	TaintNodeUnreachable   = "node.maestro.dev/unreachable"
	TaintNodeUnschedulable = "node.maestro.dev/unschedulable"
)

// NodeStatus is what the agent reports about its node.
type NodeStatus struct {
	Capacity    ResourceList   `json:"capacity,omitempty"`
	Allocatable ResourceList   `json:"allocatable,omitempty"`
	Conditions  []Condition    `json:"conditions,omitempty"`
	Addresses   []NodeAddress  `json:"addresses,omitempty"`
	NodeInfo    NodeSystemInfo `json:"nodeInfo,omitzero"`
	// DaemonEndpoint is where the API server reaches the agent for logs.
	DaemonEndpoint string `json:"daemonEndpoint,omitempty"`
	// Network is what other nodes need to route this node's pods.
	Network *NodeNetworkStatus `json:"network,omitempty"`
}

// NodeNetworkStatus is published by a node's agent so its peers can route
// to its pod CIDR.
type NodeNetworkStatus struct {
	// PublicKey is the node's WireGuard public key (base64); empty when
	// the node takes part only in host-gw routing.
	PublicKey string `json:"publicKey,omitempty"`
	// Endpoint is the UDP host:port peers send WireGuard traffic to.
	Endpoint string `json:"endpoint,omitempty"`
}

// Node address types.
const (
	NodeInternalIP = "InternalIP"
	NodeExternalIP = "ExternalIP"
	NodeHostName   = "Hostname"
)

// NodeAddress is one address of a node.
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	AgentVersion    string `json:"agentVersion,omitempty"`
	Runtime         string `json:"runtime,omitempty"`
	OperatingSystem string `json:"operatingSystem,omitempty"`
	Architecture    string `json:"architecture,omitempty"`
	KernelVersion   string `json:"kernelVersion,omitempty"`
}

// IsNodeReady reports whether the node's Ready condition is true.
func IsNodeReady(n *Node) bool {
	c := FindCondition(n.Status.Conditions, NodeReady)
	return c != nil && c.Status == ConditionTrue
}

// NodeHeartbeat is the last time the agent renewed the node's Ready condition.
func NodeHeartbeat(n *Node) time.Time {
	if c := FindCondition(n.Status.Conditions, NodeReady); c != nil {
		return c.LastHeartbeatTime
	}
	return time.Time{}
}

// NodeAddressOf returns the first address of the given type, or "".
func NodeAddressOf(n *Node, typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}
