package network

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// testNode is a node whose rule writes go to a recorder instead of the
// host (no root needed); fail makes the next writes fail.
func testNode(t *testing.T) (*Node, *[]natRules, *bool) {
	t.Helper()
	n, err := newNode(Config{NodeName: "n1", PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), StateDir: t.TempDir(),
		Firewall: FirewallIPTables})
	if err != nil {
		t.Fatal(err)
	}
	var writes []natRules
	fail := false
	n.applyNAT = func(_ context.Context, _ string, r natRules) error {
		if fail {
			return errors.New("iptables: resource temporarily unavailable")
		}
		writes = append(writes, r)
		return nil
	}
	return n, &writes, &fail
}

// A host port change whose rules fail to be written is saved all the
// same: the retry (the agent's next sync) and Reconcile must write the
// rules although the saved ports no longer change, or a stale DNAT to a
// freed pod address stays.
func TestHostPortRulesRetriedAfterFailure(t *testing.T) {
	ctx := context.Background()
	hp := []HostPort{{HostIP: netip.MustParseAddr("192.0.2.1"), Port: 8080, PodPort: 80, Protocol: "tcp",
		PodIP: netip.MustParseAddr("10.244.1.2")}}
	n, writes, fail := testNode(t)
	if err := n.SetHostPorts(ctx, "sb1", hp); err != nil || len(*writes) != 1 {
		t.Fatalf("SetHostPorts = %v after %d writes, want one write", err, len(*writes))
	}
	if err := n.SetHostPorts(ctx, "sb1", hp); err != nil || len(*writes) != 1 {
		t.Fatalf("unchanged SetHostPorts = %v after %d writes, want no new write", err, len(*writes))
	}
	*fail = true
	if err := n.SetHostPorts(ctx, "sb1", nil); err == nil {
		t.Fatal("SetHostPorts with failing rules succeeded")
	}
	*fail = false
	if err := n.SetHostPorts(ctx, "sb1", nil); err != nil || len(*writes) != 2 || len((*writes)[1].HostPorts) != 0 {
		t.Fatalf("retried SetHostPorts = %v, writes %+v; want the rules rewritten without the port", err, *writes)
	}

	n, writes, fail = testNode(t)
	*fail = true
	_ = n.SetHostPorts(ctx, "sb1", hp)
	*fail = false
	if err := n.Retain(ctx, map[string]bool{}); err != nil || len(*writes) != 1 || len((*writes)[0].HostPorts) != 1 {
		t.Fatalf("Retain after a failed write = %v, writes %+v; want the rules rewritten with the port", err, *writes)
	}
	if err := n.Retain(ctx, map[string]bool{}); err != nil || len(*writes) != 1 {
		t.Errorf("Retain with current rules = %v after %d writes, want no new write", err, len(*writes))
	}
}

// Host ports are kept over agent restarts, but not over a change of the
// node's pod CIDR: their pods' addresses are void, and a DNAT to them would
// reach whichever pod gets the address next.
func TestHostPortsDroppedWithTheirCIDR(t *testing.T) {
	dir := t.TempDir()
	open := func(cidr string) *Node {
		t.Helper()
		n, err := newNode(Config{NodeName: "n1", PodCIDR: netip.MustParsePrefix(cidr), StateDir: dir, Firewall: FirewallIPTables})
		if err != nil {
			t.Fatal(err)
		}
		n.applyNAT = func(context.Context, string, natRules) error { return nil }
		return n
	}
	n := open("10.244.1.0/24")
	hp := []HostPort{{HostIP: netip.MustParseAddr("192.0.2.1"), Port: 8080, PodPort: 80, Protocol: "tcp",
		PodIP: netip.MustParseAddr("10.244.1.2")}}
	if err := n.SetHostPorts(context.Background(), "sb1", hp); err != nil {
		t.Fatal(err)
	}
	if got := open("10.244.1.0/24").ports.all(); len(got) != 1 {
		t.Errorf("host ports after a restart with the same CIDR = %v, want the one kept", got)
	}
	if got := open("10.244.7.0/24").ports.all(); len(got) != 0 {
		t.Errorf("host ports after the CIDR changed = %v, want none", got)
	}
}

// A node keeps its pod CIDR when the server's --pod-cidr changes (the
// control plane does not take it back): the agent must still set it up.
func TestNodeCIDROutsideTheClusterRange(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		ok      bool
	}{{"10.244.0.0/16", true}, {"10.32.0.0/16", true}, {"10.244.1.0/25", true}, {"fd00::/64", false}} {
		_, err := newNode(Config{NodeName: "n1", PodCIDR: netip.MustParsePrefix("10.244.1.0/24"),
			ClusterCIDR: netip.MustParsePrefix(tc.cluster), StateDir: t.TempDir(), Firewall: FirewallIPTables})
		if (err == nil) != tc.ok {
			t.Errorf("cluster range %s: newNode = %v, want ok %v", tc.cluster, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--pod-cidr") {
			t.Errorf("cluster range %s: error %q does not name --pod-cidr", tc.cluster, err)
		}
	}
}
