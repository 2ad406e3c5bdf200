package network

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestRemoveNode: what a killed agent left (bridge, table or chains,
// FORWARD accepts) is gone after RemoveNode, found from the cluster id and
// node name alone; another cluster's node on the same host keeps its own.
func TestRemoveNode(t *testing.T) {
	for _, fw := range []string{FirewallNFTables, FirewallIPTables} {
		t.Run(fw, func(t *testing.T) {
			run := netnsPrereqs(t)
			if _, err := exec.LookPath("iptables"); err != nil {
				testreq.Missing(t, "the iptables command (FORWARD accepts)")
			}
			if _, err := exec.LookPath("nft"); err != nil {
				testreq.Missing(t, "the nft command (to see the tables)")
			}
			host := newNS(t, run, "rm")
			dead := Config{NodeName: "n1", ClusterID: run + "-dead", PodCIDR: netip.MustParsePrefix("10.244.1.0/24"),
				ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), StateDir: t.TempDir(), Firewall: fw}
			other := dead
			other.ClusterID, other.StateDir = run+"-other", t.TempDir()
			var deadBr, otherBr string
			host.in(t, func() {
				for _, c := range []Config{dead, other} {
					n, err := Setup(t.Context(), c)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := n.Attach(t.Context(), "sb-"+c.ClusterID, newNS(t, run, c.ClusterID[len(run)+1:]).path); err != nil {
						t.Fatal(err)
					}
				}
				deadBr, otherBr = BridgeName(dead.ClusterID, "n1"), BridgeName(other.ClusterID, "n1")
			})
			for _, br := range []string{deadBr, otherBr} {
				if l := leftovers(t, host, br); len(l) != 3 {
					t.Fatalf("after Setup, bridge %s: found %v; want bridge, rules and FORWARD accepts", br, l)
				}
			}
			host.in(t, func() {
				if err := RemoveNode(t.Context(), dead.ClusterID, "n1"); err != nil {
					t.Fatal(err)
				}
				// Again: nothing left is no error.
				if err := RemoveNode(t.Context(), dead.ClusterID, "n1"); err != nil {
					t.Fatalf("second RemoveNode: %v", err)
				}
			})
			if l := leftovers(t, host, deadBr); len(l) != 0 {
				t.Errorf("after RemoveNode, the dead node's %v are still there", l)
			}
			if l := leftovers(t, host, otherBr); len(l) != 3 {
				t.Errorf("after RemoveNode of another cluster's node, bridge %s has only %v; want bridge, rules and FORWARD accepts", otherBr, l)
			}
		})
	}
}

// leftovers lists which of a node's pieces are in ns: "bridge", "rules"
// (the nftables table or the iptables chains), "forward" (accepts).
func leftovers(t *testing.T, ns testNS, bridge string) []string {
	t.Helper()
	var out []string
	if exec.Command("ip", "netns", "exec", ns.name, "ip", "link", "show", bridge).Run() == nil {
		out = append(out, "bridge")
	}
	nft := exec.Command("ip", "netns", "exec", ns.name, "nft", "list", "table", "ip", tableName(bridge)).Run() == nil
	ipt, _ := exec.Command("ip", "netns", "exec", ns.name, "iptables", "-w", "-t", "nat", "-S").CombinedOutput()
	if nft || strings.Contains(string(ipt), iptChains(bridge)[0].name) {
		out = append(out, "rules")
	}
	fwd := ns.exec(t, "iptables", "-w", "-S", "FORWARD")
	if strings.Contains(fwd, bridge) {
		out = append(out, "forward")
	}
	return out
}
