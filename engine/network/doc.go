// Package network is the pod network's building blocks that need no
// cluster access: the arithmetic of carving node pod CIDRs out of the
// cluster's pod range (cidr.go), used by the control plane's allocator
// (engine/controller/nodeipam) and its flag validation.
package network
