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
}
