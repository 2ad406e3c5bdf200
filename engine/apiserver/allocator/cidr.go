package allocator

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// dnsOffset is where the cluster DNS address sits in the service range.
const dnsOffset = 10

// maxHostBits bounds the service range to 2^32 addresses (an IPv6 /96 or
// longer), so offsets and sizes stay small integers.
const maxHostBits = 32

// DNSAddress is the cluster IP reserved for the cluster DNS service: the
// range's base address + 10 (10.96.0.10 in 10.96.0.0/16). Allocation
// skips it; the DNS service requests it explicitly.
func DNSAddress(prefix netip.Prefix) netip.Addr {
	return addOffset(prefix.Masked().Addr(), dnsOffset)
}

// ValidateServiceCIDR checks that a prefix can be a service range: a
// network address (no host bits set), large enough to hold the DNS
// address and at most 2^32 addresses.
func ValidateServiceCIDR(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("service CIDR %s: not a valid CIDR (e.g. 10.96.0.0/16)", p)
	}
	if m := p.Masked(); m != p {
		return fmt.Errorf("service CIDR %s: host bits are set; did you mean %s?", p, m)
	}
	host := p.Addr().BitLen() - p.Bits()
	if host > maxHostBits {
		return fmt.Errorf("service CIDR %s: too large (%d host bits); at most %d (for IPv6 a /96 or longer)", p, host, maxHostBits)
	}
	if uint64(1)<<host <= dnsOffset+1 {
		return fmt.Errorf("service CIDR %s: too small to hold the DNS address (base + %d); use a /%d or larger",
			p, dnsOffset, p.Addr().BitLen()-4)
	}
	return nil
}

// newIPPool maps a validated service range to offsets.
func newIPPool(prefix netip.Prefix) *pool {
	base := prefix.Addr()
	size := uint64(1) << (base.BitLen() - prefix.Bits())
	v4 := base.Is4()
	return &pool{
		what:     "cluster IP",
		describe: "the service IP range " + prefix.String(),
		prefix:   ServiceIPsPrefix,
		size:     size,
		format:   func(off uint64) string { return addOffset(base, off).String() },
		parse: func(v string) (uint64, bool) {
			a, err := netip.ParseAddr(v)
			if err != nil || a.Zone() != "" || a.Is4() != v4 || !prefix.Contains(a) {
				return 0, false
			}
			return offsetOf(base, a), true
		},
		// The first host address is kept for a future "kubernetes"
		// service, the DNS address for the DNS service.
		reserved: func(off uint64) bool { return off == 1 || off == dnsOffset },
		unusable: func(off uint64) bool { return off == 0 || v4 && off == size-1 },
	}
}

// addOffset adds off to an address (no overflow past the range: callers
// keep off below the range size).
func addOffset(a netip.Addr, off uint64) netip.Addr {
	b := a.As16()
	lo := binary.BigEndian.Uint64(b[8:]) + off
	if lo < off { // carry
		hi := binary.BigEndian.Uint64(b[:8]) + 1
		binary.BigEndian.PutUint64(b[:8], hi)
	}
	binary.BigEndian.PutUint64(b[8:], lo)
	out := netip.AddrFrom16(b)
	if a.Is4() {
		out = out.Unmap()
	}
	return out
}

// offsetOf is a - base for an address inside base's range (at most 32
// host bits, so the low 64 bits hold the whole difference).
func offsetOf(base, a netip.Addr) uint64 {
	b, x := base.As16(), a.As16()
	return binary.BigEndian.Uint64(x[8:]) - binary.BigEndian.Uint64(b[8:])
}
