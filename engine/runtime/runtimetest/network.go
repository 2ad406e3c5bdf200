package runtimetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// NewPodNetwork sets up a pod network of the test's own on this host: a
// bridge named after runID and a random /24 of 10.248.0.0/14 (so test runs
// side by side rarely meet), removed with its rules when t ends. It needs
// root (testreq.Root).
func NewPodNetwork(t testing.TB, runID string) *network.Node {
	t.Helper()
	testreq.Root(t, "the pod network (bridge, veth pairs, nftables)")
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 248 + b[0]%4, b[1], 0}), 24)
	removeLeftoverNetworks(t)
	clusterID := fmt.Sprintf("test-%d-%s", os.Getpid(), runID)
	n, err := network.Setup(context.Background(), network.Config{NodeName: "node-1", ClusterID: clusterID,
		PodCIDR: cidr, ClusterCIDR: netip.MustParsePrefix("10.248.0.0/14"), StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("setting up the test's pod network: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Remove(ctx); err != nil {
			t.Errorf("removing the test's pod network: %v", err)
		}
	})
	return n
}

// removeLeftoverNetworks removes the pod networks of test processes that
// died without cleaning up (killed runs): their bridges are marked with the
// test's cluster id "test-<pid>-<run>".
func removeLeftoverNetworks(t testing.TB) {
	bridges, err := network.Bridges("test-")
	if err != nil {
		t.Logf("looking for leftover test pod networks: %v", err)
		return
	}
	for name, alias := range bridges {
		rest := alias[strings.Index(alias, "cluster=test-")+len("cluster=test-"):]
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its test still runs
		}
		if err := network.RemoveBridge(context.Background(), name); err != nil {
			t.Logf("removing the leftover test pod network %s (%s): %v", name, alias, err)
		} else {
			t.Logf("removed the leftover pod network %s of a test run that died (%s)", name, alias)
		}
	}
}
