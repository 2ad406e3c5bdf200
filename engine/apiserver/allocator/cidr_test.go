package allocator

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDNSAddress(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"10.96.0.0/16", "10.96.0.10"},
		{"10.0.0.0/28", "10.0.0.10"},
		{"192.168.255.0/24", "192.168.255.10"},
		{"fd00:10:96::/112", "fd00:10:96::a"},
	} {
		if got := DNSAddress(netip.MustParsePrefix(tc.prefix)).String(); got != tc.want {
			t.Errorf("DNSAddress(%s) = %s, want %s", tc.prefix, got, tc.want)
		}
	}
}

func TestValidateServiceCIDR(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		err    string // "" = valid
	}{
		{"10.96.0.0/16", ""},
		{"10.0.0.0/28", ""},
		{"10.0.0.0/8", ""},
		{"fd00::/112", ""},
		{"fd00::/96", ""},
		{"10.96.0.1/16", "did you mean 10.96.0.0/16"},
		{"10.0.0.0/29", "too small"},
		{"fd00::/64", "too large"},
	} {
		err := ValidateServiceCIDR(netip.MustParsePrefix(tc.prefix))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ValidateServiceCIDR(%s) = %v, want %q", tc.prefix, err, tc.err)
		}
	}
	if err := ValidateServiceCIDR(netip.Prefix{}); err == nil {
		t.Error("the zero prefix is valid")
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PortRange
		err  string
	}{
		{"30000-32767", PortRange{30000, 32767}, ""},
		{" 8000 - 8000 ", PortRange{8000, 8000}, ""},
		{"30000", PortRange{}, "want MIN-MAX"},
		{"a-b", PortRange{}, "with numbers"},
		{"32767-30000", PortRange{}, "1 <= MIN <= MAX <= 65535"},
		{"0-100", PortRange{}, "1 <= MIN"},
		{"30000-70000", PortRange{}, "<= 65535"},
	} {
		got, err := ParsePortRange(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParsePortRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParsePortRange(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
	if s := DefaultNodePortRange.String(); s != "30000-32767" {
		t.Errorf("default range prints as %q", s)
	}
}

// TestIPPool pins which offsets of a range are handed out and how values
// map to offsets.
func TestIPPool(t *testing.T) {
	p := newIPPool(netip.MustParsePrefix("10.0.0.0/28"))
	var allocatable []string
	for off := range p.size {
		if !p.reserved(off) && !p.unusable(off) {
			allocatable = append(allocatable, p.format(off))
		}
	}
	want := "10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.11 10.0.0.12 10.0.0.13 10.0.0.14"
	if got := strings.Join(allocatable, " "); got != want {
		t.Errorf("allocatable:\n got %s\nwant %s", got, want)
	}
	if n := p.allocatable(); n != 12 {
		t.Errorf("allocatable() = %d, want 12", n)
	}
	for _, tc := range []struct {
		v   string
		off uint64
		ok  bool
	}{
		{"10.0.0.0", 0, true}, {"10.0.0.15", 15, true}, {"10.0.0.16", 0, false},
		{"9.255.255.255", 0, false}, {"::ffff:10.0.0.3", 0, false}, {"fd00::3", 0, false}, {"nonsense", 0, false},
	} {
		off, ok := p.parse(tc.v)
		if off != tc.off || ok != tc.ok {
			t.Errorf("parse(%s) = %d, %v; want %d, %v", tc.v, off, ok, tc.off, tc.ok)
		}
	}

	v6 := newIPPool(netip.MustParsePrefix("fd00::/112"))
	if v6.unusable(v6.size-1) || !v6.unusable(0) {
		t.Error("IPv6 ranges have no broadcast address, but a network address")
	}
	if off, ok := v6.parse("FD00::AB"); !ok || off != 0xab || v6.format(off) != "fd00::ab" {
		t.Errorf("parse(FD00::AB) = %x, %v; format %s", off, ok, v6.format(off))
	}
}
