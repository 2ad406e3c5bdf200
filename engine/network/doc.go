// Package network is the agent's side of the pod network on one node, in
// the model of CNI's bridge plugin with host-local IPAM:
//
//   - IPAM hands out addresses of the node's pod CIDR (Node.Spec.PodCIDR),
//     kept in a file of the agent's data directory, so a restarted agent
//     keeps the addresses of running pods; Reconcile frees those of
//     sandboxes that are gone (level-based, against the runtime's list).
//   - Node owns the node's bridge (name derived from the node name, so
//     several agents on one host do not collide) with the gateway address
//     (the CIDR's first address), a veth pair per pod (one end moved into
//     the pod's network namespace as eth0, the other on the bridge), the
//     masquerade rule for traffic leaving the cluster pod CIDR, and
//     forwarding.
//   - Runtime wraps a runtime.Runtime so sandboxes get their address from
//     Node: the runtime only makes the namespace (Sandbox.NetNS), the
//     wrapper attaches it and reports the IPAM address as Sandbox.IP.
//
// Routes between nodes (host-gw, WireGuard) live in network/mesh; they only
// need Node's Bridge, PodCIDR and Gateway. The arithmetic of carving node
// pod CIDRs out of the cluster range, for the control plane's allocator,
// needs no host access and lives here too (cidr.go), used by the control
// plane's allocator (engine/controller/nodeipam) and its flag validation.
package network
