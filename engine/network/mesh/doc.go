// Package mesh routes a node's traffic to the other nodes' pod CIDRs:
// directly through the peer's node address when it sits on a subnet this
// host is connected to (host-gw), or through an encrypted WireGuard mesh
// otherwise. It is the agent side of issue 11's "between hosts".
//
// Data flow (level-based, like a controller):
//
//	Node list (informer) + mode (cluster-info) + this host's addresses
//	   --> Compute (pure: plan.go) --> Plan{Routes, Peers, Skipped}
//	   --> WireGuard device: create when the plan has peers (kernel via
//	       wgctrl when the module exists, wireguard-go over TUN otherwise),
//	       peers added, updated and removed to match (wireguard.go)
//	   --> routes in the main table marked with RouteProtocol: missing ones
//	       added, changed ones replaced, stale ones (deleted Nodes, a run
//	       before a restart) removed (routes.go)
//	   --> Publisher: the node's public key and endpoint on
//	       Node.Status.Network, and the NetworkUnavailable condition
//
// A Reconciler runs the loop on every Node change (Trigger) and
// periodically. The node's WireGuard private key is generated once and
// kept in the agent's data directory (0600, keys.go); it is never logged.
package mesh
