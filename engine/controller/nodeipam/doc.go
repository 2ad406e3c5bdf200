// Package nodeipam gives every Node a pod CIDR, like Kubernetes' node IPAM
// controller with its range allocator:
//
//	cluster-info (podCIDR, nodeCIDRMaskSize) -> network.CIDRSet
//	node informer --handler--> key (nodes without a CIDR, or with the
//	    exhausted condition to clear) --> reconcile:
//	  has spec.podCIDR  -> mark it taken; clear NetworkUnavailable/PodCIDRExhausted
//	  none              -> reserve the next free CIDR after the last one given
//	                       -> Update the Node (compare-and-swap on its
//	                          resourceVersion; the leader's fence rides along)
//	  none left         -> NetworkUnavailable=True, reason PodCIDRExhausted,
//	                       naming the range and its size
//	node deleted      -> its CIDR is free again; waiting nodes are enqueued
//
// Which CIDRs are taken is derived from the stored Nodes: the informer's
// list when the controller starts (a restart or a new leader rebuilds the
// same picture), then every Node change. Reservations made here and not
// yet seen back on the watch are kept under a lock, so several workers
// never hand out one CIDR twice. Only the elected leader runs the
// controller and every write it makes is fenced by its term, so an old
// leader cannot land an assignment after a new one has read the Nodes.
// Assignments are never taken back: spec.podCIDR is immutable once set,
// and a node cannot set it (engine/apiserver/noderestriction).
package nodeipam
