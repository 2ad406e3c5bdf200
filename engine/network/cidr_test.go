package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestNewCIDRSet(t *testing.T) {
	tests := []struct {
		name    string
		cluster string
		mask    int
		size    uint64
		wantErr error
		msg     string // part of the error
	}{
		{"default", "10.244.0.0/16", 24, 256, nil, ""},
		{"two per /23", "10.244.0.0/23", 24, 2, nil, ""},
		{"large test range", "10.128.0.0/9", 24, 32768, nil, ""},
		{"smallest node CIDR", "10.0.0.0/24", 30, 64, nil, ""},
		{"ipv6", "fd00:10:244::/56", 64, 256, nil, ""},
		{"ipv6 wide", "fd00::/48", 64, 65536, nil, ""},
		{"mask equal to prefix", "10.244.0.0/16", 16, 0, ErrInvalidMaskSize, "/16 is not longer than the pod CIDR 10.244.0.0/16's prefix /16"},
		{"mask shorter than prefix", "10.244.0.0/16", 8, 0, ErrInvalidMaskSize, "not longer"},
		{"no room for pods", "10.244.0.0/16", 31, 0, ErrInvalidMaskSize, "fewer than 2 host bits"},
		{"too many node CIDRs", "10.0.0.0/8", 26, 0, ErrInvalidMaskSize, "2^18 node CIDRs"},
		{"host bits set", "10.244.1.0/16", 24, 0, ErrInvalidPodCIDR, "did you mean 10.244.0.0/16"},
		{"invalid", "", 24, 0, ErrInvalidPodCIDR, "not a CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p netip.Prefix
			if tt.cluster != "" {
				p = netip.MustParsePrefix(tt.cluster)
			}
			s, err := NewCIDRSet(p, tt.mask)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Size() != tt.size {
				t.Fatalf("Size = %d, want %d", s.Size(), tt.size)
			}
		})
	}
}

func TestSubnetAndIndex(t *testing.T) {
	tests := []struct {
		cluster string
		mask    int
		i       uint64
		want    string
	}{
		{"10.244.0.0/16", 24, 0, "10.244.0.0/24"},
		{"10.244.0.0/16", 24, 1, "10.244.1.0/24"},
		{"10.244.0.0/16", 24, 255, "10.244.255.0/24"},
		{"10.128.0.0/9", 24, 32767, "10.255.255.0/24"},
		{"10.128.0.0/9", 24, 300, "10.129.44.0/24"},
		{"10.0.0.0/24", 30, 5, "10.0.0.20/30"},
		{"10.244.0.0/16", 26, 5, "10.244.1.64/26"},
		{"fd00:10:244::/56", 64, 1, "fd00:10:244:1::/64"},
		{"fd00::/48", 64, 65535, "fd00:0:0:ffff::/64"},
		{"fd00::/112", 120, 3, "fd00::300/120"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s, err := NewCIDRSet(netip.MustParsePrefix(tt.cluster), tt.mask)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Subnet(tt.i)
			if got.String() != tt.want {
				t.Fatalf("Subnet(%d) = %s, want %s", tt.i, got, tt.want)
			}
			if i, ok := s.Index(got); !ok || i != tt.i {
				t.Fatalf("Index(%s) = %d, %v; want %d", got, i, ok, tt.i)
			}
		})
	}
}

func TestIndexRejects(t *testing.T) {
	s, err := NewCIDRSet(netip.MustParsePrefix("10.244.0.0/16"), 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"10.245.0.0/24",   // outside the range
		"10.244.1.0/25",   // another size
		"10.244.0.0/16",   // the whole range
		"10.244.1.5/24",   // host bits set
		"fd00::/24",       // another family
		"10.243.255.0/24", // just below
	} {
		if i, ok := s.Index(netip.MustParsePrefix(p)); ok {
			t.Errorf("Index(%s) = %d, true; want false", p, i)
		}
	}
	if _, ok := s.Index(netip.Prefix{}); ok {
		t.Error("Index(invalid) = true")
	}
}

func TestNext(t *testing.T) {
	s, err := NewCIDRSet(netip.MustParsePrefix("10.244.0.0/22"), 24) // 4 node CIDRs
	if err != nil {
		t.Fatal(err)
	}
	set := func(idx ...uint64) func(uint64) bool {
		m := map[uint64]bool{}
		for _, i := range idx {
			m[i] = true
		}
		return func(i uint64) bool { return m[i] }
	}
	tests := []struct {
		name  string
		start uint64
		taken func(uint64) bool
		want  uint64
		ok    bool
	}{
		{"empty", 0, set(), 0, true},
		{"skips taken", 0, set(0, 1), 2, true},
		{"from start", 2, set(), 2, true},
		{"wraps around", 3, set(3), 0, true},
		{"wraps past taken", 2, set(2, 3, 0), 1, true},
		{"full", 1, set(0, 1, 2, 3), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Next(tt.start, tt.taken)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Next(%d) = %d, %v; want %d, %v", tt.start, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSubnetsCoverRangeWithoutOverlap(t *testing.T) {
	for _, c := range []struct {
		cluster string
		mask    int
	}{{"10.244.0.0/16", 24}, {"10.244.0.0/20", 27}, {"fd00:1::/60", 64}} {
		s, err := NewCIDRSet(netip.MustParsePrefix(c.cluster), c.mask)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[netip.Prefix]bool{}
		for i := range s.Size() {
			p := s.Subnet(i)
			if seen[p] || !s.Cluster().Contains(p.Addr()) || p.Bits() != c.mask {
				t.Fatalf("%s: Subnet(%d) = %s: repeated, outside the range or of the wrong size", c.cluster, i, p)
			}
			if i > 0 && s.Subnet(i-1).Overlaps(p) {
				t.Fatalf("%s: Subnet(%d) overlaps its predecessor", c.cluster, i)
			}
			seen[p] = true
		}
	}
}

// The server's --pod-cidr must be an IPv4 network address: the agents'
// pod network is IPv4 only, so an IPv6 range would be accepted by the
// server and then fail on every node.
func TestValidatePodCIDR(t *testing.T) {
	for _, tc := range []struct {
		cidr, want string
	}{
		{"10.244.0.0/16", ""},
		{"10.244.1.0/16", "did you mean 10.244.0.0/16"},
		{"fd00:10:244::/56", "not IPv4"},
		{"::ffff:10.244.0.0/112", "not IPv4"},
	} {
		err := ValidatePodCIDR(netip.MustParsePrefix(tc.cidr))
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ValidatePodCIDR(%s) = %v, want %q", tc.cidr, err, tc.want)
		}
	}
}
