package testenv

import (
	"crypto/rand"
	"net/netip"
)

// PodCIDR is a pod range for a local cluster of a test: a random /20 of
// 10.252.0.0/14 (room for 15 nodes with a /24 each), so clusters of tests
// running side by side (and `maestro up` on 10.244.0.0/16) rarely meet;
// their bridges would otherwise claim the same routes.
// (engine/runtime/runtimetest takes its pod networks from 10.248.0.0/14.)
func PodCIDR() netip.Prefix {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 252 + b[0]%4, b[1] & 0xf0, 0}), 20)
}
