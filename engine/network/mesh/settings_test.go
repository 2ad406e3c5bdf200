package mesh

import (
	"net/netip"
	"testing"
)

func TestInterfaceName(t *testing.T) {
	a, b := InterfaceName("3f1c9a0e-cluster-a"), InterfaceName("3f1c9a0e-cluster-b")
	for _, n := range []string{a, b} {
		if err := CheckInterface(n); err != nil || len(n) != 12 || n[:4] != "mwg-" {
			t.Errorf("InterfaceName: %q (%v); want mwg- and 8 hex digits, a valid interface name", n, err)
		}
	}
	if a == b || a != InterfaceName("3f1c9a0e-cluster-a") {
		t.Errorf("InterfaceName: %q and %q; want one stable name per cluster, different between clusters", a, b)
	}
	if got := InterfaceName(""); got != DefaultInterface {
		t.Errorf("InterfaceName without a cluster id: %q, want %q", got, DefaultInterface)
	}
}

func TestCheckInterface(t *testing.T) {
	for name, ok := range map[string]bool{"wg0": true, "maestro-wg": true, "abcdefghijklmno": true,
		"": false, "abcdefghijklmnop": false, ".": false, "..": false, "a/b": false, "a:b": false, "a b": false, "a\tb": false} {
		if err := CheckInterface(name); (err == nil) != ok {
			t.Errorf("CheckInterface(%q): %v; want ok %v", name, err, ok)
		}
	}
}

// TestOwns: only routes inside the cluster's pod range are the
// reconciler's to delete; with no known range, none is.
func TestOwns(t *testing.T) {
	r := &Reconciler{clusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	for dst, want := range map[string]bool{"10.244.3.0/24": true, "10.244.0.0/16": true, "10.245.3.0/24": false,
		"10.0.0.0/8": false, "192.168.1.0/24": false} {
		if got := r.owns(netip.MustParsePrefix(dst)); got != want {
			t.Errorf("owns(%s) in 10.244.0.0/16: %v, want %v", dst, got, want)
		}
	}
	if (&Reconciler{}).owns(netip.MustParsePrefix("10.244.3.0/24")) {
		t.Error("owns with no known pod range: true, want false")
	}
}
