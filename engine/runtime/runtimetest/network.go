package runtimetest

import (
	"context"
	"crypto/rand"
	"net/netip"
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
	n, err := network.Setup(context.Background(), network.Config{NodeName: "node-1", ClusterID: "test-" + runID,
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
