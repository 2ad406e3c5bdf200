//go:build linux

package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An iptables command waits a bounded time for the xtables lock (-w 5)
// and is killed when it hangs, so a stuck iptables cannot hold the node's
// rules lock, and with it every pod start, for ever.
func TestIptablesIsBounded(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	old := iptTimeout
	iptTimeout = 300 * time.Millisecond
	t.Cleanup(func() { iptTimeout = old })

	start := time.Now()
	err := ipt(t.Context(), "-t", "nat", "-F", "MSTPOST-x")
	if err == nil {
		t.Fatal("a hung iptables returned no error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung iptables returned after %v, want about %v", d, iptTimeout)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(args), "-w 5 -t nat -F MSTPOST-x") {
		t.Errorf("iptables args %q, want a bounded lock wait (-w 5) first", args)
	}
}

// A node whose pod CIDR is outside the cluster's range (the server's
// --pod-cidr changed) keeps its pods' sources to its own CIDR too: the
// iptables backend returns before the masquerade for it.
func TestIptablesKeepsANodeCIDROutsideTheRange(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(dir, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	for _, tc := range []struct {
		cluster    string
		wantReturn bool
	}{{"10.244.0.0/16", false}, {"10.32.0.0/16", true}} {
		_ = os.Remove(log)
		r := natRules{Bridge: "mst0000abcd", PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), ClusterCIDR: netip.MustParsePrefix(tc.cluster)}
		if err := applyIPT(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		calls := string(b)
		ret := strings.Index(calls, "-s 10.244.1.0/24 -d 10.244.1.0/24 -j RETURN")
		masq := strings.Index(calls, "-s 10.244.1.0/24 ! -d "+tc.cluster+" -j MASQUERADE")
		if masq < 0 || (ret >= 0) != tc.wantReturn || ret > masq {
			t.Errorf("cluster %s: iptables calls\n%s\nwant a masquerade, with a RETURN for the node's CIDR before it: %v", tc.cluster, calls, tc.wantReturn)
		}
	}
}
