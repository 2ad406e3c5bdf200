package testenv

import (
	"net/netip"
	"os"
	"sync/atomic"
)

var serviceRanges atomic.Uint32

// ServiceCIDR is a service range of its own for a test cluster whose
// proxy and DNS take addresses on this host: a /28 of 10.95.0.0/16,
// distinct from the other ranges this test process hands out (16 of them
// before they repeat) and, by the process id, from other test processes',
// outside every range `maestro up` clusters use (services 10.96.0.0/16 to
// 10.127.0.0/16, pods above), so tests run beside a local cluster, and
// outside the pod range of Start's clusters (network.LargePodCIDR).
func ServiceCIDR() netip.Prefix {
	n := serviceRanges.Add(1)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 95, byte(os.Getpid()), byte(n * 16)}), 28)
}
