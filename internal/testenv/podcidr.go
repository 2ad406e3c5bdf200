package testenv

import (
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
)

// podRanges counts the pod ranges this process handed out, from a random
// start so test processes running side by side rarely meet.
var podRanges atomic.Uint32

func init() { podRanges.Store(rand.Uint32N(64)) }

// PodCIDR is a pod range for a local cluster of a test: a /20 of
// 10.252.0.0/14 (room for 15 nodes with a /24 each), never the same twice in
// one process and from a random start across processes, so clusters of
// tests running side by side (and `maestro up`, whose slots use
// 10.244.0.0/16 and 10.128-159.0.0/16) rarely meet: their bridges would
// otherwise claim the same routes. (engine/runtime/runtimetest takes its
// pod networks from 10.248.0.0/14.)
func PodCIDR() netip.Prefix {
	n := podRanges.Add(1) % 64
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(252 + n/16), byte(n%16) << 4, 0}), 20)
}
