package network

import (
	"errors"
	"fmt"
	"net/netip"
)

// Defaults of `maestro server`.
var (
	// DefaultPodCIDR is the cluster's pod range.
	DefaultPodCIDR = netip.MustParsePrefix("10.244.0.0/16")
	// DefaultNodeCIDRMaskSize is the prefix length of each node's share: a
	// /24 per node (254 pod addresses), 256 nodes in the default range.
	DefaultNodeCIDRMaskSize = 24
	// LargePodCIDR is a pod range for clusters of many simulated nodes
	// (test clusters, `maestro simnodes`): 32,768 node CIDRs of /24, clear
	// of the default service range 10.96.0.0/16.
	LargePodCIDR = netip.MustParsePrefix("10.128.0.0/9")
)

// MaxNodeCIDRBits bounds how many node CIDRs a range is cut into (2^16 =
// 65,536, as Kubernetes' range allocator), so the allocator's
// bookkeeping stays small.
const MaxNodeCIDRBits = 16

// Errors of NewCIDRSet, wrapped with the values at fault.
var (
	ErrInvalidPodCIDR  = errors.New("network: invalid pod CIDR")
	ErrInvalidMaskSize = errors.New("network: invalid node CIDR mask size")
)

// CIDRSet is a cluster pod range cut into equal node CIDRs, numbered
// from 0 in address order. It holds no state: which ones are taken is the
// caller's (derived from the Nodes), so one CIDRSet serves any number of
// goroutines.
type CIDRSet struct {
	cluster netip.Prefix
	mask    int
	size    uint64
}

// NewCIDRSet checks the range and mask size and cuts the range. The mask
// must be longer than the range's prefix, leave at least 2 host bits (a
// gateway and one pod), and make at most 2^MaxNodeCIDRBits node CIDRs.
func NewCIDRSet(cluster netip.Prefix, maskSize int) (*CIDRSet, error) {
	if err := validateRange(cluster); err != nil {
		return nil, err
	}
	bits := cluster.Addr().BitLen()
	switch {
	case maskSize <= cluster.Bits():
		return nil, fmt.Errorf("%w: /%d is not longer than the pod CIDR %s's prefix /%d, so each node would get the whole range or more; use a mask between /%d and /%d",
			ErrInvalidMaskSize, maskSize, cluster, cluster.Bits(), cluster.Bits()+1, min(cluster.Bits()+MaxNodeCIDRBits, bits-2))
	case maskSize > bits-2:
		return nil, fmt.Errorf("%w: /%d leaves fewer than 2 host bits per node (a gateway and one pod); use /%d or shorter",
			ErrInvalidMaskSize, maskSize, bits-2)
	case maskSize-cluster.Bits() > MaxNodeCIDRBits:
		return nil, fmt.Errorf("%w: /%d cuts the pod CIDR %s into 2^%d node CIDRs; at most 2^%d: use /%d or shorter, or a smaller pod CIDR",
			ErrInvalidMaskSize, maskSize, cluster, maskSize-cluster.Bits(), MaxNodeCIDRBits, cluster.Bits()+MaxNodeCIDRBits)
	}
	return &CIDRSet{cluster: cluster, mask: maskSize, size: 1 << (maskSize - cluster.Bits())}, nil
}

// ValidatePodCIDR checks that p can be a cluster pod range: an IPv4
// network address (no host bits set). The agents' pod network (bridge
// gateway, masquerade, routes) is IPv4 only.
func ValidatePodCIDR(p netip.Prefix) error {
	if err := validateRange(p); err != nil {
		return err
	}
	if !p.Addr().Is4() {
		return fmt.Errorf("%w: %s is not IPv4: the pod network is IPv4 only (e.g. %s)", ErrInvalidPodCIDR, p, DefaultPodCIDR)
	}
	return nil
}

// validateRange checks that p is a network address (no host bits set), of
// either family: the arithmetic of CIDRSet does not care.
func validateRange(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("%w: %s is not a CIDR (e.g. %s)", ErrInvalidPodCIDR, p, DefaultPodCIDR)
	}
	if m := p.Masked(); m != p {
		return fmt.Errorf("%w: %s has host bits set; did you mean %s?", ErrInvalidPodCIDR, p, m)
	}
	return nil
}

// Cluster is the whole pod range.
func (s *CIDRSet) Cluster() netip.Prefix { return s.cluster }

// MaskSize is the prefix length of every node CIDR.
func (s *CIDRSet) MaskSize() int { return s.mask }

// Size is how many node CIDRs the range holds.
func (s *CIDRSet) Size() uint64 { return s.size }

// String describes the set for messages: "10.244.0.0/16 (256 node CIDRs of /24)".
func (s *CIDRSet) String() string {
	return fmt.Sprintf("%s (%d node CIDRs of /%d)", s.cluster, s.size, s.mask)
}

// Subnet is node CIDR number i (i < Size).
func (s *CIDRSet) Subnet(i uint64) netip.Prefix {
	b := s.cluster.Addr().AsSlice()
	for bit := s.mask - 1; bit >= s.cluster.Bits(); bit-- {
		if i&1 == 1 {
			b[bit/8] |= 0x80 >> (bit % 8)
		}
		i >>= 1
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, s.mask)
}

// Index is the number of the node CIDR p, false when p is not exactly
// one of the set's node CIDRs (outside the range, another size, host bits
// set).
func (s *CIDRSet) Index(p netip.Prefix) (uint64, bool) {
	if !p.IsValid() || p.Bits() != s.mask || p.Masked() != p || !s.cluster.Contains(p.Addr()) {
		return 0, false
	}
	b := p.Addr().AsSlice()
	var i uint64
	for bit := s.cluster.Bits(); bit < s.mask; bit++ {
		i = i<<1 | uint64(b[bit/8]>>(7-bit%8)&1)
	}
	return i, true
}

// Next returns the first node CIDR number at or after start (wrapping
// around) for which taken is false; false when every one is taken.
// Starting past the last allocation, as the allocator does, keeps a just
// released CIDR unused for as long as possible, so peers' stale routes to
// it have time to go.
func (s *CIDRSet) Next(start uint64, taken func(uint64) bool) (uint64, bool) {
	for i := range s.size {
		idx := (start + i) % s.size
		if !taken(idx) {
			return idx, true
		}
	}
	return 0, false
}
