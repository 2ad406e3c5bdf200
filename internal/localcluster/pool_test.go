package localcluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestUpIsALocalPool: what `maestro up` runs is a control plane plus a
// local node pool whose machines are emulated hosts running `maestro
// agent`: the nodes join Ready with their own addresses, follow the pool's
// size, and stopping removes every machine, namespace and the bridge.
func TestUpIsALocalPool(t *testing.T) {
	testreq.Root(t, "local machines are network namespaces")
	if _, err := exec.LookPath("ip"); err != nil {
		testreq.Missing(t, "iproute2 (ip): %v", err)
	}
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n := local.Network{Bridge: "mlbu" + hex.EncodeToString(b[:2]), Prefix: netip.MustParsePrefix(fmt.Sprintf("10.215.%d.0/24", b[2]))}
	dataDir := t.TempDir()
	cfg := localcluster.Config{DataDir: dataDir, Nodes: 2, Listen: "127.0.0.1:0", ClientConfigPath: "-", UnsafeNoFsync: true,
		Runtime: localcluster.RuntimeProcess, ServiceCIDR: testenv.ServiceCIDR(), PodCIDR: testenv.PodCIDR()}
	ctx := t.Context()
	c, err := localcluster.StartPool(ctx, cfg, localcluster.PoolOptions{
		Network:   n,
		AgentArgs: []string{"--runtime=process"}, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop(context.Background())
		}
	})
	if got := c.CP.ClientConfig().Server; !strings.Contains(got, n.Gateway().String()) {
		t.Errorf("API at %s, want it on the machines' gateway %s", got, n.Gateway())
	}
	wantNodes(t, c, 2, n)
	if err := c.Scale(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	wantNodes(t, c, 3, n)

	stopped = true
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if out, _ := exec.Command("pgrep", "-f", dataDir).Output(); len(out) > 0 {
		t.Errorf("processes left after Stop: %s", out)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), "mlm-") {
		for _, l := range strings.Split(string(out), "\n") {
			if ns, _, _ := strings.Cut(l, " "); strings.HasPrefix(ns, "mlm-") {
				if _, err := os.Stat(dataDir); err == nil && nsOwnedBy(ns, dataDir) {
					t.Errorf("namespace %s left after Stop", ns)
				}
			}
		}
	}
	if _, err := os.Stat("/sys/class/net/" + n.Bridge); err == nil {
		t.Errorf("bridge %s left after Stop", n.Bridge)
	}
}

// nsOwnedBy reports whether a machine namespace still has a process of
// this test's data dir (namespaces of other tests' machines are theirs).
func nsOwnedBy(ns, dataDir string) bool {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, pid := range strings.Fields(string(out)) {
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		if strings.Contains(string(cmd), dataDir) {
			return true
		}
	}
	return false
}

// wantNodes checks the cluster has n Ready nodes of the local pool, each
// with its own address on the machines' network.
func wantNodes(t *testing.T, c *localcluster.PoolCluster, want int, n local.Network) {
	t.Helper()
	nodes, _, err := c.Client.Nodes().List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, node := range nodes {
		addr, err := netip.ParseAddr(api.NodeAddressOf(node, api.NodeInternalIP))
		if err != nil || !n.Prefix.Contains(addr) || seen[addr.String()] {
			t.Errorf("node %s address %v: want its own address in %s", node.Name, addr, n.Prefix)
		}
		seen[addr.String()] = true
		if node.Labels[api.LabelNodePool] != localcluster.PoolName || !api.IsNodeReady(node) {
			t.Errorf("node %s: pool %q, ready %v; want pool %q and Ready", node.Name, node.Labels[api.LabelNodePool], api.IsNodeReady(node), localcluster.PoolName)
		}
	}
	if len(nodes) != want {
		t.Errorf("%d nodes, want %d", len(nodes), want)
	}
}
