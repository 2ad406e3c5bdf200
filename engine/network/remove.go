package network

import "context"

// RemoveNode removes what a node's pod network leaves on this host when
// its agent dies without cleaning up (a killed `maestro up`): the node's
// bridge (and with it the pods' host veths), its nftables table or
// iptables chains (both backends are tried) and its iptables FORWARD
// accepts. It finds them by name from the cluster id and node name alone,
// so it needs no state of the dead agent; what is missing already is no
// error, and another node's or cluster's are never touched. Needs
// CAP_NET_ADMIN, like Setup.
func RemoveNode(ctx context.Context, clusterID, nodeName string) error {
	return RemoveBridge(ctx, BridgeName(clusterID, nodeName))
}
