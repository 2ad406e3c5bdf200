package api

// DefaultClusterDomain is the DNS domain of in-cluster names
// (<service>.<namespace>.svc.cluster.local).
const DefaultClusterDomain = "cluster.local"

// ClusterInfo is what nodes and clients need to know about the cluster's
// service network (GET /v1/cluster-info, any authenticated role).
type ClusterInfo struct {
	// ServiceCIDR is the range cluster IPs are allocated from ("10.96.0.0/16").
	ServiceCIDR string `json:"serviceCIDR"`
	// ClusterDNS is the cluster IP reserved for the DNS service (the
	// tenth address of ServiceCIDR).
	ClusterDNS string `json:"clusterDNS"`
	// ClusterDomain is the DNS suffix of services ("cluster.local").
	ClusterDomain string `json:"clusterDomain"`
	// NodePortRange is the range node ports are allocated from ("30000-32767").
	NodePortRange string `json:"nodePortRange"`
	// ClusterID identifies the cluster (stable across restarts): agents
	// label every container they make with it and touch no other.
	ClusterID string `json:"clusterID,omitempty"`
	// PodCIDR is the range node pod CIDRs are carved from ("10.244.0.0/16").
	PodCIDR string `json:"podCIDR,omitempty"`
	// NodeCIDRMaskSize is the prefix length of each node's pod CIDR (24).
	NodeCIDRMaskSize int `json:"nodeCIDRMaskSize,omitempty"`
	// PodNetworkMode is how nodes route each other's pods: "auto" (host-gw
	// to peers on a shared link, WireGuard to the others), "host-gw" or
	// "wireguard".
	PodNetworkMode string `json:"podNetworkMode,omitempty"`
}

// Pod network modes (maestro server --pod-network).
const (
	PodNetworkAuto      = "auto"
	PodNetworkHostGW    = "host-gw"
	PodNetworkWireGuard = "wireguard"
)
